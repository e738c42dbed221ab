//! Listing and deleting branches, for `teams clean`.

use super::repo::{Repo, Sha};
use super::runner::GitError;

impl Repo {
    /// Local branches whose names start with `prefix` (e.g. `teams/demo/unit/`), with their tips.
    pub fn branches_under(&self, prefix: &str) -> Result<Vec<(String, Sha)>, GitError> {
        let pattern = format!("refs/heads/{prefix}");
        let out = self.git().run([
            "for-each-ref",
            "--format=%(objectname) %(refname:strip=2)",
            &pattern,
        ])?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(sha, name)| (name.to_owned(), Sha::new(sha)))
            .collect())
    }

    /// Deletes a branch that is known to be merged (the caller checked).
    pub fn delete_branch(&self, name: &str) -> Result<(), GitError> {
        self.git().run(["branch", "-D", "--", name])?;
        Ok(())
    }
}
