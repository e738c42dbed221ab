//! `Checkout`: git commands that act on one working tree (a unit's worktree, a validator's
//! read-only view, the integration worktree): what is checked out, whether it is clean, and the
//! resets the loop uses to put a worktree back where a story or attempt started.
//!
//! `HEAD`, the branch checked out and branch tips are read from the ref files when the repository
//! uses the plain files backend (`refs.rs` says when that is certain), because the loop asks them
//! several times per attempt and each git process costs more than the question; git answers
//! whenever the files cannot.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::refs::{RefFiles, RefValue, is_object_id};
use super::repo::Sha;
use super::runner::{GitError, GitRunner};

/// One working tree of the repository.
#[derive(Debug, Clone)]
pub struct Checkout {
    git: GitRunner,
    /// The ref store and this working tree's git directory, found on first use (the worktree may
    /// not exist yet when the value is made); `None` inside when git must answer.
    refs: OnceLock<Option<(RefFiles, PathBuf)>>,
}

impl Checkout {
    /// The working tree at `path`, with the repository's settings (identity, environment).
    pub fn new(repo_git: &GitRunner, path: impl Into<PathBuf>) -> Checkout {
        Checkout {
            git: repo_git.in_dir(path),
            refs: OnceLock::new(),
        }
    }

    fn refs(&self) -> Option<&(RefFiles, PathBuf)> {
        self.refs
            .get_or_init(|| RefFiles::for_worktree(self.git.dir(), |key| self.git.env_var(key)))
            .as_ref()
    }

    /// `HEAD` from the files: `Some(Some(sha))` or, for a branch not born yet or a ref the files
    /// cannot settle, `None` (ask git).
    fn head_from_files(&self) -> Option<Sha> {
        let (refs, git_dir) = self.refs()?;
        match refs.head(git_dir)? {
            RefValue::Direct(sha) => Some(sha),
            RefValue::Symbolic(name) => refs.resolve(&name),
        }
    }

    pub fn path(&self) -> &Path {
        self.git.dir()
    }

    pub fn git(&self) -> &GitRunner {
        &self.git
    }

    /// The commit checked out; `None` on an unborn branch.
    pub fn head(&self) -> Result<Option<Sha>, GitError> {
        if let Some(sha) = self.head_from_files() {
            return Ok(Some(sha));
        }
        let out = self
            .git
            .output(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(Sha::new(
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )))
    }

    /// The commit checked out and the commit `branch` points at (each `None` when it does not
    /// exist), as [`head`](Self::head) and [`Repo::resolve`](super::Repo::resolve) of
    /// `refs/heads/<branch>` give them, but in one git process when both exist.
    pub fn head_and_branch_tip(
        &self,
        branch: &str,
    ) -> Result<(Option<Sha>, Option<Sha>), GitError> {
        let tip_ref = format!("refs/heads/{branch}");
        if let Some((refs, _)) = self.refs()
            && let Some(head) = self.head_from_files()
            && let Some(tip) = refs.resolve(&tip_ref)
        {
            return Ok((Some(head), Some(tip)));
        }
        let tip_spec = format!("{tip_ref}^{{commit}}");
        let out = self.git.output(["rev-parse", "HEAD^{commit}", &tip_spec])?;
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut lines = text.lines();
            if let (Some(head), Some(tip), None) = (lines.next(), lines.next(), lines.next())
                && is_object_id(head)
                && is_object_id(tip)
            {
                return Ok((Some(Sha::new(head)), Some(Sha::new(tip))));
            }
        }
        // One of them is missing (or git printed something unexpected): ask one at a time.
        let head = self.head()?;
        let out = self.git.output([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &tip_spec,
        ])?;
        let tip = out
            .status
            .success()
            .then(|| Sha::new(String::from_utf8_lossy(&out.stdout).trim().to_owned()));
        Ok((head, tip))
    }

    /// The branch checked out (`refs/heads/` stripped); `None` when HEAD is detached.
    pub fn branch(&self) -> Result<Option<String>, GitError> {
        if let Some((refs, git_dir)) = self.refs()
            && let Some(value) = refs.head(git_dir)
        {
            return Ok(match value {
                RefValue::Direct(_) => None,
                RefValue::Symbolic(name) => {
                    Some(name.strip_prefix("refs/heads/").unwrap_or(&name).to_owned())
                }
            });
        }
        let out = self
            .git
            .output(["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// Uncommitted and untracked paths (`git status --porcelain`), ignored files excluded.
    ///
    /// `--no-optional-locks`: status does not write back the index it refreshed (a lock, a write
    /// and a rename per call, on the path between a builder's end and its validator's start);
    /// the answer is the same, git compares contents where the recorded stat data is stale.
    pub fn dirty_files(&self) -> Result<Vec<String>, GitError> {
        let out = self.git.run([
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "--untracked-files=all",
        ])?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.get(3..).unwrap_or(l).to_owned())
            .collect())
    }

    /// Commits every change and untracked file (`git add -A`) with `message`; returns the new
    /// commit. For `auto_commit`, which the user opted into.
    pub fn commit_all(&self, message: &str) -> Result<Sha, GitError> {
        self.git.run(["add", "-A"])?;
        self.git
            .run(["commit", "--quiet", "--no-verify", "-m", message])?;
        self.head()?.ok_or_else(|| GitError::Failed {
            args: "rev-parse HEAD".into(),
            dir: self.path().to_path_buf(),
            code: None,
            stderr: "no commit after `git commit`".into(),
        })
    }

    /// Puts the working tree and index back to `commit` exactly: tracked changes reverted,
    /// untracked files removed (ignored ones kept, so build caches survive).
    pub fn reset_hard(&self, commit: &Sha) -> Result<(), GitError> {
        self.git
            .run(["reset", "--quiet", "--hard", commit.as_str()])?;
        self.git.run(["clean", "--quiet", "-fd"])?;
        Ok(())
    }

    /// Checks out `branch` (forcing away local changes) and resets it to `commit`. Used when an
    /// agent left the worktree on another branch or rewrote the unit branch.
    pub fn force_branch_to(&self, branch: &str, commit: &Sha) -> Result<(), GitError> {
        self.git.run([
            "checkout",
            "--quiet",
            "--force",
            "-B",
            branch,
            commit.as_str(),
        ])?;
        self.git.run(["clean", "--quiet", "-fd"])?;
        Ok(())
    }
}
