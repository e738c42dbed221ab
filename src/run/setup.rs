//! Getting a repository ready for a run (spec §4.1): open it, resolve the base branch, create or
//! reuse the integration branch, pick a run ID, and prepare `.teams/`. Every refusal here is a
//! setup error with a hint, raised before any agent starts, and nothing here moves a branch that
//! holds work the integration branch does not already contain.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Result, TeamsError};
use crate::git::{GitError, GitRunner, Identity, Repo, RepoError, Sha, WorktreeManager};
use crate::prd::Prd;

use super::layout::Layout;
use super::unit::UnitId;

/// The git side of a run, resolved once before it starts.
#[derive(Debug, Clone)]
pub struct RunGit {
    pub repo: Repo,
    /// The base branch and its commit when the run started.
    pub base: String,
    pub base_sha: Sha,
    /// `teams/<project-slug>`.
    pub prefix: String,
    /// `teams/<project-slug>/main`.
    pub integration_branch: String,
    pub run_id: String,
    pub layout: Layout,
    /// Paths (relative to the repository root) an agent's commit must not touch (spec §3).
    pub protected: Vec<String>,
}

impl RunGit {
    /// `teams/<project-slug>/unit/<unit-id>`.
    pub fn unit_branch(&self, unit: &UnitId) -> String {
        format!("{}/unit/{unit}", self.prefix)
    }

    pub fn worktrees(&self) -> WorktreeManager {
        WorktreeManager::new(self.repo.git().clone())
    }
}

/// A run `teams resume` continues: its id and the base it started from.
pub struct Continued<'a> {
    pub run_id: &'a str,
    pub base: &'a str,
}

/// Prepares a run of `prd`, read from `prd_path`, in `repo` (opened once by the caller, through
/// a runner tests can give a controlled environment).
pub fn prepare(
    repo: Repo,
    prd: &Prd,
    prd_path: &Path,
    continued: Option<Continued<'_>>,
    run_id_taken: &dyn Fn(&str) -> bool,
) -> Result<(RunGit, Vec<String>)> {
    let mut warnings = Vec::new();
    if *repo.identity() == Identity::Fallback {
        warnings.push(
            "no git identity is configured; commits teams makes use `teams <teams@localhost>` \
             (set one with `git config user.name` and `git config user.email`)"
                .to_owned(),
        );
    }
    let named_base = match &continued {
        Some(c) => Some(c.base),
        None => prd.branch_name.as_deref(),
    };
    let (base, base_sha) = resolve_base(&repo, named_base)?;
    let prefix = format!("teams/{}", project_slug(&prd.project));
    // Always a valid branch name: the slug is lowercase letters, digits and inner dashes.
    let integration_branch = format!("{prefix}/main");
    let layout = Layout::new(repo.root());
    release_integration_checkout(&repo, &layout, &integration_branch, &base)?;
    ensure_integration_branch(&repo, &integration_branch, &base, &base_sha)?;
    layout.ensure().map_err(|err| {
        TeamsError::environment(format!("failed to create {}", layout.dir().display()))
            .with_source(err)
    })?;
    let run_id = match &continued {
        Some(c) => c.run_id.to_owned(),
        None => new_run_id(&layout, run_id_taken),
    };
    let mut protected = vec![
        "backlog.json".to_owned(),
        "teams.toml".to_owned(),
        ".teams/".to_owned(),
    ];
    if let Some(rel) = relative_to(prd_path, repo.root()) {
        protected.insert(0, rel);
    }
    Ok((
        RunGit {
            repo,
            base,
            base_sha,
            prefix,
            integration_branch,
            run_id,
            layout,
            protected,
        },
        warnings,
    ))
}

pub fn open_repo(git: GitRunner) -> Result<Repo> {
    let dir = git.dir().to_path_buf();
    let repo = Repo::open_with(git).map_err(|err| match err {
        RepoError::NotARepository(_) => TeamsError::environment(format!(
            "{} is not inside a git repository",
            dir.display()
        ))
        .with_hint("teams works in a git repository: `git init && git commit --allow-empty -m init`, or `-C DIR` to point at one"),
        RepoError::Bare(_) => TeamsError::environment(format!(
            "{} is a bare repository; teams needs a working tree",
            dir.display()
        ))
        .with_hint("clone it (`git clone <bare> <dir>`) and run teams in the clone"),
        RepoError::Git(err) => git_error(err),
    })?;
    if !repo.has_commits().map_err(git_error)? {
        return Err(TeamsError::environment(format!(
            "the repository at {} has no commits yet",
            repo.root().display()
        ))
        .with_hint(
            "make a first commit (`git commit --allow-empty -m init`); worktrees start from it",
        ));
    }
    Ok(repo)
}

/// The base is the PRD's `branchName`, or the branch checked out now.
fn resolve_base(repo: &Repo, named: Option<&str>) -> Result<(String, Sha)> {
    if let Some(name) = named.filter(|n| !n.trim().is_empty()) {
        let sha = if repo.branch_exists(name).map_err(git_error)? {
            repo.resolve(&format!("refs/heads/{name}"))
                .map_err(git_error)?
        } else {
            None
        };
        return match sha {
            Some(sha) => Ok((name.to_owned(), sha)),
            None => Err(TeamsError::environment(format!(
                "the base branch `{name}` named by `branchName` in the PRD does not exist"
            ))
            .with_hint(format!(
                "create it (`git branch {name}`) or change `branchName` in the PRD to an existing branch"
            ))),
        };
    }
    match repo.current_branch().map_err(git_error)? {
        Some(name) => {
            let sha = repo
                .resolve(&format!("refs/heads/{name}"))
                .map_err(git_error)?
                .ok_or_else(|| TeamsError::internal(format!("branch `{name}` vanished")))?;
            Ok((name, sha))
        }
        None => Err(TeamsError::environment(
            "HEAD is detached, so there is no base branch to build on",
        )
        .with_hint("switch to a branch (`git switch <branch>`) or set `branchName` in the PRD")),
    }
}

/// Merges check the integration branch out in a worktree of teams' own, which git refuses while
/// another worktree has it checked out; and moving a branch that is checked out would change that
/// checkout under the user's feet. A clean leftover from an earlier run's merges is removed; any
/// other checkout of the branch (the user's own, or one with uncommitted work) is refused.
fn release_integration_checkout(
    repo: &Repo,
    layout: &Layout,
    name: &str,
    base: &str,
) -> Result<()> {
    if repo.branch_checked_out(name) == Some(false) {
        return Ok(());
    }
    let manager = WorktreeManager::new(repo.git().clone());
    let list = manager.list().map_err(git_error)?;
    let Some(old) = list.iter().find(|w| w.branch.as_deref() == Some(name)) else {
        return Ok(());
    };
    if old.prunable || !old.path.exists() {
        return manager.prune().map_err(git_error);
    }
    let ours = old.path.starts_with(layout.dir().join("worktrees"));
    if ours && manager.remove(&old.path, false).is_ok() {
        return Ok(());
    }
    let path = old.path.display();
    let error = TeamsError::environment(format!(
        "the integration branch `{name}` is checked out at {path}"
    ));
    let is_main = old.path.canonicalize().ok() == repo.root().canonicalize().ok();
    Err(if is_main {
        let target = if base == name { "<branch>" } else { base };
        error.with_hint(format!(
            "teams merges into it in a worktree of its own: switch to another branch first (`git switch {target}`), then run again"
        ))
    } else {
        error.with_hint(format!(
            "teams merges into it in a worktree of its own: commit or discard the work there and remove it (`git worktree remove {path}`), then run again"
        ))
    })
}

/// Creates `teams/<slug>/main` from the base, or reuses it when it already contains the base. An
/// integration branch that was landed and then left behind by the base is fast-forwarded (nothing
/// on it is lost); one that diverged from the base is left alone and reported.
fn ensure_integration_branch(repo: &Repo, name: &str, base: &str, base_sha: &Sha) -> Result<()> {
    let existing = if repo.branch_exists(name).map_err(git_error)? {
        repo.resolve(&format!("refs/heads/{name}"))
            .map_err(git_error)?
    } else {
        None
    };
    let Some(tip) = existing else {
        return repo.create_branch(name, base_sha).map_err(|err| {
            if let Some(other) = blocking_branch(repo, name) {
                return TeamsError::environment(format!(
                    "the integration branch `{name}` cannot be created: the branch `{other}` exists"
                ))
                .with_hint(format!(
                    "git cannot hold both; rename that branch (`git branch -m {other} <new-name>`) or change `project` in the PRD"
                ));
            }
            TeamsError::environment(format!("failed to create the integration branch `{name}`"))
                .with_source(err)
                .with_hint(format!(
                    "a branch named `{}` or `{name}/…` may exist; rename it or change `project` in the PRD",
                    name.trim_end_matches("/main")
                ))
        });
    };
    if repo.is_ancestor(base_sha, &tip).map_err(git_error)? {
        return Ok(());
    }
    if repo.is_ancestor(&tip, base_sha).map_err(git_error)? {
        return repo.move_branch(name, base_sha, &tip).map_err(git_error);
    }
    Err(TeamsError::environment(format!(
        "the integration branch `{name}` and the base `{base}` have diverged"
    ))
    .with_hint(format!(
        "bring them together first, e.g. `git switch {name} && git merge {base}`, then run again"
    )))
}

/// The existing branch that keeps `name` from being created, if that is why it cannot be: git
/// cannot hold a branch `a/b` beside a branch `a/b/c`, in either direction.
pub(crate) fn blocking_branch(repo: &Repo, name: &str) -> Option<String> {
    let parents = name
        .match_indices('/')
        .map(|(i, _)| &name[..i])
        .find(|parent| repo.branch_exists(parent).unwrap_or(false));
    if let Some(parent) = parents {
        return Some(parent.to_owned());
    }
    let prefix = format!("refs/heads/{name}/");
    repo.git()
        .run([
            "for-each-ref",
            "--count=1",
            "--format=%(refname:short)",
            prefix.as_str(),
        ])
        .ok()
        .filter(|child| !child.is_empty())
}

/// The project name as a branch-name component: lowercase letters, digits and single dashes.
pub fn project_slug(project: &str) -> String {
    let mut slug = String::new();
    for c in project.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "project".to_owned()
    } else {
        slug.to_owned()
    }
}

/// A run ID from the UTC time (`20261121-143012`), made unique against existing run directories.
/// `__TEAMS_RUN_ID` fixes it, for tests that need to know the paths in advance.
fn new_run_id(layout: &Layout, in_store: &dyn Fn(&str) -> bool) -> String {
    if let Some(id) = std::env::var("__TEAMS_RUN_ID")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return id;
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = utc_stamp(secs);
    let taken = |id: &str| {
        layout.run_worktrees(id).exists() || layout.run_logs(id).exists() || in_store(id)
    };
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or(base)
}

/// `YYYYMMDD-HHMMSS` for a Unix time, in UTC.
fn utc_stamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = crate::agent::reset_time::civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `path` relative to `root` with `/` separators, when it lies inside it.
fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let rel: PathBuf = path.strip_prefix(&root).ok()?.to_path_buf();
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// A git command that failed where it should not: the environment is broken (or git is
/// missing).
pub(crate) fn git_error(err: GitError) -> TeamsError {
    let missing = err.is_missing_git();
    let error = TeamsError::environment("a git command failed").with_source(err);
    if missing {
        error.with_hint("install git 2.20 or newer; `teams doctor` checks it")
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_branch_friendly() {
        assert_eq!(project_slug("MyApp"), "myapp");
        assert_eq!(project_slug("  Todo list: v2!! "), "todo-list-v2");
        assert_eq!(project_slug("日本"), "project");
        assert_eq!(project_slug(&"a".repeat(60)).len(), 40);
    }

    /// `prepare` no longer asks git whether the integration branch's name is valid: every slug
    /// makes one. Checked against git itself for awkward project names.
    #[test]
    fn every_slug_makes_a_branch_name_git_accepts() {
        for project in [
            "MyApp",
            "-lead",
            "trail-",
            "a..b",
            "x.lock",
            "@{u}",
            "HEAD",
            "a/b",
            ".hidden",
            "",
            " ",
            "日本",
            "--",
            "a b\tc",
            "main~1^2",
            "name:with?glob*[chars]",
        ] {
            let branch = format!("teams/{}/main", project_slug(project));
            let ok = std::process::Command::new("git")
                .args(["check-ref-format", "--branch", &branch])
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "{project:?} gave {branch:?}");
        }
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        // 2026-11-21 14:30:12 UTC.
        assert_eq!(utc_stamp(1_795_271_412), "20261121-143012");
        // A leap day.
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
    }
}
