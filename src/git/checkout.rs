//! `Checkout`: git commands that act on one working tree (a unit's worktree, a validator's
//! read-only view, the integration worktree): what is checked out, whether it is clean, and the
//! resets the loop uses to put a worktree back where a story or attempt started.

use std::path::{Path, PathBuf};

use super::repo::Sha;
use super::runner::{GitError, GitRunner};

/// One working tree of the repository.
#[derive(Debug, Clone)]
pub struct Checkout {
    git: GitRunner,
}

impl Checkout {
    /// The working tree at `path`, with the repository's settings (identity, environment).
    pub fn new(repo_git: &GitRunner, path: impl Into<PathBuf>) -> Checkout {
        Checkout {
            git: repo_git.in_dir(path),
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

    /// The branch checked out (`refs/heads/` stripped); `None` when HEAD is detached.
    pub fn branch(&self) -> Result<Option<String>, GitError> {
        let out = self
            .git
            .output(["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// Uncommitted and untracked paths (`git status --porcelain`), ignored files excluded.
    pub fn dirty_files(&self) -> Result<Vec<String>, GitError> {
        let out = self
            .git
            .run(["status", "--porcelain=v1", "--untracked-files=all"])?;
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
