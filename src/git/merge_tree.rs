//! Merging two commits without a working tree: `git merge-tree --write-tree` computes the merged
//! tree (the same "ort" merge `git merge` makes), `git commit-tree` makes the merge commit.
//!
//! Merging into the integration branch this way needs no checkout of it: no worktree to create
//! for the run, none to keep up to date with every merge, none to remove (on a large repository
//! each of those writes the whole tree). A conflict is only reported here; the files are merged
//! with conflict markers in a worktree of the merger's own (`run/merger.rs`).
//!
//! Without a working tree of its own, git would read `.gitattributes` (merge drivers such as
//! `merge=union`, `text`/`eol` settings) from wherever it runs, here the user's own checkout of
//! whatever branch; `git merge` in a checkout of `ours` reads them from `ours`' files. So the
//! attributes come from `ours` (`git --attr-source`), as they would for `git merge`.
//!
//! `merge-tree --write-tree` exists since git 2.38 and `--attr-source` since 2.42. An older git
//! answers either with a usage error, which [`Repo::merge_trees`] reports as
//! [`TreeMerge::Unsupported`] so the caller merges in a worktree instead.

use super::repo::{Repo, Sha};
use super::runner::GitError;

/// What merging two commits gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeMerge {
    /// The merged tree.
    Clean(Sha),
    /// The paths that conflicted (sorted, without repeats).
    Conflicts(Vec<String>),
    /// This git has no `merge-tree --write-tree` or no `--attr-source` (older than 2.42).
    Unsupported,
}

impl Repo {
    /// Merges `theirs` into `ours` in memory (git's merge machinery, no working tree touched);
    /// new blobs and trees are written to the object database, no ref moves.
    pub fn merge_trees(&self, ours: &Sha, theirs: &Sha) -> Result<TreeMerge, GitError> {
        let attr_source = format!("--attr-source={ours}");
        let args = [
            attr_source.as_str(),
            "merge-tree",
            "--write-tree",
            "-z",
            "--name-only",
            "--no-messages",
            ours.as_str(),
            theirs.as_str(),
        ];
        let output = self.git().output(args)?;
        let failed = |stderr: String| GitError::Failed {
            args: args.join(" "),
            dir: self.git().dir().to_path_buf(),
            code: output.status.code(),
            stderr,
        };
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        match output.status.code() {
            Some(0) | Some(1) => {}
            // A usage error: this git knows neither `--write-tree` nor `--attr-source`.
            Some(129) => return Ok(TreeMerge::Unsupported),
            _ => return Err(failed(stderr)),
        }
        let mut fields = output.stdout.split(|b| *b == 0);
        let tree = fields
            .next()
            .map(|t| String::from_utf8_lossy(t).trim().to_owned())
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| failed("its output did not start with a tree id".to_owned()))?;
        if output.status.code() == Some(0) {
            return Ok(TreeMerge::Clean(Sha::new(tree)));
        }
        // `--name-only -z`: one NUL-terminated path per conflicted file, then an empty field.
        let mut paths: Vec<String> = fields
            .take_while(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        paths.sort();
        paths.dedup();
        if paths.is_empty() {
            return Err(failed(format!(
                "it reported a conflict without naming a file{}",
                if stderr.is_empty() {
                    String::new()
                } else {
                    format!(": {stderr}")
                }
            )));
        }
        Ok(TreeMerge::Conflicts(paths))
    }

    /// Makes a commit of `tree` with `parents` (in order) and `message`, with the repository's
    /// identity and signing settings (as `git merge` would), and returns it. No ref moves.
    pub fn commit_tree(
        &self,
        tree: &Sha,
        parents: &[&Sha],
        message: &str,
    ) -> Result<Sha, GitError> {
        let mut args: Vec<&str> = vec!["commit-tree", tree.as_str()];
        for parent in parents {
            args.push("-p");
            args.push(parent.as_str());
        }
        args.push("-m");
        args.push(message);
        let sha = self.git().run(args)?;
        Ok(Sha::new(sha.trim()))
    }
}
