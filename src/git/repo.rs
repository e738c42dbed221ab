//! Reading a repository's shape through git plumbing: where it is, whether it is usable for a run
//! (not bare, has commits), which branch is checked out, and the identity commits will carry.

use std::path::{Path, PathBuf};

use super::ancestry::LooseCommits;
use super::refs::{RefFiles, RefValue};
use super::runner::{GitError, GitRunner};

/// A full commit id as git prints it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Sha(String);

impl Sha {
    pub fn new(hex: impl Into<String>) -> Self {
        Sha(hex.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 characters, as shown to people.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(7)]
    }
}

impl std::fmt::Display for Sha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a directory cannot be used as the repository of a run.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{0} is not inside a git repository")]
    NotARepository(PathBuf),
    #[error("{0} is a bare repository; teams needs a working tree")]
    Bare(PathBuf),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// The identity used for commits `teams` makes itself (spec §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The repository (or the environment) has one configured.
    Configured,
    /// None is configured: `teams <teams@localhost>` is used, and the user is told once.
    Fallback,
}

/// An opened repository: its top-level directory and a runner working there.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
    git_common_dir: PathBuf,
    git: GitRunner,
    identity: Identity,
    /// Branch tips read from the ref files when the repository's layout allows (see `refs.rs`).
    refs: Option<RefFiles>,
    /// Ancestry answered from loose commits when certain (see `ancestry.rs`).
    loose: Option<LooseCommits>,
}

impl Repo {
    /// Opens the repository containing `dir`.
    pub fn open(dir: &Path) -> Result<Repo, RepoError> {
        Self::open_with(GitRunner::new(dir))
    }

    /// Opens the repository `probe` works in, keeping the runner's settings (tests use this to give
    /// git a controlled environment).
    pub fn open_with(probe: GitRunner) -> Result<Repo, RepoError> {
        let dir = probe.dir().to_path_buf();
        // One process answers the three questions for a usable repository; a bare one (where
        // `--show-toplevel` fails) or none at all is told apart only then.
        let output = probe.output([
            "rev-parse",
            "--is-bare-repository",
            "--show-toplevel",
            "--path-format=absolute",
            "--git-common-dir",
        ])?;
        let answers = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut lines = answers.lines();
        let (root, common) = match (
            output.status.success(),
            lines.next(),
            lines.next(),
            lines.next(),
        ) {
            (true, Some("false"), Some(root), Some(common)) => (root.to_owned(), common.to_owned()),
            _ => {
                let bare = probe.output(["rev-parse", "--is-bare-repository"])?;
                if !bare.status.success() {
                    return Err(RepoError::NotARepository(dir));
                }
                if String::from_utf8_lossy(&bare.stdout).trim() == "true" {
                    return Err(RepoError::Bare(dir));
                }
                let root = probe.run(["rev-parse", "--show-toplevel"])?;
                let common =
                    probe.run(["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
                (root, common)
            }
        };
        let root = PathBuf::from(root);
        // Commits and merges teams makes itself never start git's automatic maintenance (a
        // `git maintenance run --auto` process after each, and possibly a `gc` while agents work
        // in other worktrees of the same repository); the user's own git commands still do.
        let mut git = probe
            .in_dir(&root)
            .with_config("maintenance.auto", "false")
            .with_config("gc.auto", "0");
        let identity = if has_identity(&git)? {
            Identity::Configured
        } else {
            git = git
                .with_config("user.name", "teams")
                .with_config("user.email", "teams@localhost");
            Identity::Fallback
        };
        let git_common_dir = PathBuf::from(common);
        let refs = RefFiles::open(&git_common_dir, |key| git.env_var(key));
        let loose = LooseCommits::open(&git_common_dir, |key| git.env_var(key));
        Ok(Repo {
            root,
            git_common_dir,
            git,
            identity,
            refs,
            loose,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shared `.git` directory (the same for every linked worktree).
    pub fn git_common_dir(&self) -> &Path {
        &self.git_common_dir
    }

    pub fn git(&self) -> &GitRunner {
        &self.git
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The branch checked out in the main worktree; `None` when HEAD is detached or unborn.
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        let output = self
            .git
            .output(["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        if !output.status.success() {
            return Ok(None);
        }
        let name = String::from_utf8_lossy(&output.stdout).trim().to_string();
        // An unborn branch (no commits yet) has a name but nothing to build on.
        if self.resolve(&name)?.is_none() {
            return Ok(None);
        }
        Ok(Some(name))
    }

    /// Whether the repository has at least one commit.
    ///
    /// Read from the ref files when they settle it (`HEAD` of this working tree at a commit, or
    /// naming a branch that has one), else from git.
    pub fn has_commits(&self) -> Result<bool, GitError> {
        if let Some((refs, git_dir)) =
            RefFiles::for_worktree(&self.root, |key| self.git.env_var(key))
        {
            let head = match refs.head(&git_dir) {
                Some(RefValue::Direct(_)) => true,
                Some(RefValue::Symbolic(branch)) => refs.resolve(&branch).is_some(),
                None => false,
            };
            if head {
                return Ok(true);
            }
        }
        Ok(self.resolve("HEAD")?.is_some())
    }

    /// Whether some working tree of the repository has `branch` checked out, from the worktrees'
    /// `HEAD` files; `None` when they cannot settle it (ask `git worktree list` then). A linked
    /// worktree being created meanwhile leaves it unsettled rather than missed.
    pub fn branch_checked_out(&self, branch: &str) -> Option<bool> {
        let heads = self.refs.as_ref()?.worktree_heads()?;
        let full = format!("refs/heads/{branch}");
        Some(
            heads
                .iter()
                .any(|head| matches!(head, RefValue::Symbolic(name) if *name == full)),
        )
    }

    /// Resolves a revision to a commit; `None` when it does not exist.
    ///
    /// A full branch name (`refs/heads/…`) is read from the ref files when they hold it; anything
    /// else, and a name the files do not settle, goes to `git rev-parse`.
    pub fn resolve(&self, rev: &str) -> Result<Option<Sha>, GitError> {
        if rev.starts_with("refs/heads/")
            && let Some(sha) = self.refs.as_ref().and_then(|refs| refs.resolve(rev))
        {
            return Ok(Some(sha));
        }
        let spec = format!("{rev}^{{commit}}");
        let output = self.git.output([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ])?;
        if !output.status.success() {
            return Ok(None);
        }
        Ok(Some(Sha(String::from_utf8_lossy(&output.stdout)
            .trim()
            .to_string())))
    }

    pub fn branch_exists(&self, name: &str) -> Result<bool, GitError> {
        let full = format!("refs/heads/{name}");
        if let Some(exists) = self.refs.as_ref().and_then(|refs| refs.exists(&full)) {
            return Ok(exists);
        }
        self.git.succeeds([
            "show-ref",
            "--verify",
            "--quiet",
            &format!("refs/heads/{name}"),
        ])
    }

    /// Creates `name` at `start`. Never moves an existing branch: a branch that holds recorded work
    /// is never recreated (the invariant of spec §4 that ralph-teams broke).
    pub fn create_branch(&self, name: &str, start: &Sha) -> Result<(), GitError> {
        self.git
            .run(["branch", "--no-track", name, start.as_str()])?;
        Ok(())
    }

    /// Whether `ancestor` is reachable from `descendant`.
    ///
    /// Read from the loose commits a run makes when that gives a certain answer, else from git.
    pub fn is_ancestor(&self, ancestor: &Sha, descendant: &Sha) -> Result<bool, GitError> {
        if let Some(answer) = self
            .loose
            .as_ref()
            .and_then(|loose| loose.is_ancestor(ancestor, descendant))
        {
            return Ok(answer);
        }
        self.git.succeeds([
            "merge-base",
            "--is-ancestor",
            ancestor.as_str(),
            descendant.as_str(),
        ])
    }
}

/// Whether commits made in this repository would have an author: `user.name` and `user.email`
/// configured, or the `GIT_*` identity variables set.
fn has_identity(git: &GitRunner) -> Result<bool, GitError> {
    let env_ok = |a: &str, b: &str| git.env_var(a).is_some() && git.env_var(b).is_some();
    if env_ok("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL")
        && env_ok("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    {
        return Ok(true);
    }
    // One process for both keys: `--get-regexp` prints each set key (lower-cased) and its value.
    let out = git.output(["config", "--get-regexp", r"^user\.(name|email)$"])?;
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let has = |key: &str| {
        listed
            .lines()
            .any(|line| line.split_once(' ').map_or(line, |(k, _)| k) == key)
    };
    Ok(has("user.name") && has("user.email"))
}
