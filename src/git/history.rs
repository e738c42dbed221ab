//! Questions about history and refs that the loop asks to check an agent's claims: how many
//! commits a branch gained, which files they touched, the diff a validator sees, and moving refs
//! under `refs/teams/` to keep failed work.

use std::ffi::OsString;

use super::repo::{Repo, Sha};
use super::runner::GitError;

impl Repo {
    /// Commits reachable from `to` but not from `from` (oldest first).
    pub fn commits_between(&self, from: &Sha, to: &Sha) -> Result<Vec<Sha>, GitError> {
        let range = format!("{}..{}", from.as_str(), to.as_str());
        let out = self.git().run(["rev-list", "--reverse", &range])?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(Sha::new)
            .collect())
    }

    /// Paths changed between two commits (renames reported as delete + add, so both names show).
    pub fn changed_files(&self, from: &Sha, to: &Sha) -> Result<Vec<String>, GitError> {
        // Lossy: a file name in another encoding must not stop the run; protected names are ASCII.
        let out = self.git().run_lossy([
            "diff",
            "--name-only",
            "--no-renames",
            "-z",
            from.as_str(),
            to.as_str(),
        ])?;
        Ok(out
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// `git diff --stat` followed by the full patch from `from` to `to`, as a validator reads it:
    /// the stat, a blank line, the patch.
    ///
    /// One git process: `--stat --patch` prints exactly that (the stat, a blank line, the patch),
    /// except that it prints nothing at all for an empty diff, where the text has always been the
    /// empty stat and patch around the blank line.
    pub fn diff_for_review(&self, from: &Sha, to: &Sha) -> Result<String, GitError> {
        let text = self.git().run_lossy([
            "diff",
            "--stat",
            "--patch",
            "--no-color",
            "--no-ext-diff",
            from.as_str(),
            to.as_str(),
        ])?;
        if text.is_empty() {
            return Ok("\n\n".to_owned());
        }
        Ok(text)
    }

    /// Sets `name` (a full ref such as `refs/teams/failed/US-1/1`) to `commit`.
    pub fn set_ref(&self, name: &str, commit: &Sha) -> Result<(), GitError> {
        self.git().run(["update-ref", name, commit.as_str()])?;
        Ok(())
    }

    /// Moves branch `name` to `new` only if it still points at `old` (a compare-and-swap, so a
    /// concurrent change is never overwritten).
    pub fn move_branch(&self, name: &str, new: &Sha, old: &Sha) -> Result<(), GitError> {
        let full = format!("refs/heads/{name}");
        self.git()
            .run(["update-ref", &full, new.as_str(), old.as_str()])?;
        Ok(())
    }

    /// The subject line of a commit.
    pub fn subject(&self, commit: &Sha) -> Result<String, GitError> {
        self.git()
            .run(["log", "-1", "--format=%s", commit.as_str()])
    }

    /// Whether `name` is a valid branch name for git.
    pub fn is_valid_branch_name(&self, name: &str) -> Result<bool, GitError> {
        let args: [OsString; 3] = ["check-ref-format".into(), "--branch".into(), name.into()];
        self.git().succeeds(args)
    }
}
