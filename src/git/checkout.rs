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

    /// The commit checked out and the commit `branch` points at (each `None` when it does not
    /// exist), as [`head`](Self::head) and [`Repo::resolve`](super::Repo::resolve) of
    /// `refs/heads/<branch>` give them, but in one git process when both exist.
    pub fn head_and_branch_tip(
        &self,
        branch: &str,
    ) -> Result<(Option<Sha>, Option<Sha>), GitError> {
        let tip_spec = format!("refs/heads/{branch}^{{commit}}");
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

/// A full SHA-1 or SHA-256 object id in lowercase hex, as `rev-parse` prints one.
fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
