//! `WorktreeManager`: creates, lists and removes the linked worktrees units run in.
//!
//! Why the `git` binary and not libgit2 (measured on this machine kind, see the team's
//! `research/agent-clis.md` §2): `git worktree add` took a median of about 210 ms per worktree
//! against about 810 ms for git2 on the VM disk (1.1–1.9× faster on tmpfs) even counting the process
//! spawn; git2's `prune(valid, working_tree)` silently deletes a worktree holding uncommitted work,
//! where `git worktree remove` refuses; and git2 runs no smudge filters, so LFS files would arrive
//! as pointer files. The test `removing_a_dirty_worktree_is_refused` pins the safety property we
//! rely on. Every mutation goes through this one type so the choice can change in one place.

use std::path::{Path, PathBuf};

use super::repo::Sha;
use super::runner::{GitError, GitRunner};

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeInfo {
    pub path: PathBuf,
    pub head: Option<Sha>,
    /// The branch checked out (`refs/heads/…` stripped), `None` when detached.
    pub branch: Option<String>,
    pub locked: bool,
    pub prunable: bool,
}

/// Why a worktree operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("worktree path {0} already exists")]
    PathExists(PathBuf),
    #[error("failed to create the worktree directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("worktree {path} has uncommitted changes: {files}")]
    Dirty { path: PathBuf, files: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Creates and removes linked worktrees of one repository.
#[derive(Debug, Clone)]
pub struct WorktreeManager {
    git: GitRunner,
}

impl WorktreeManager {
    /// A manager for the repository `git` works in.
    pub fn new(git: GitRunner) -> Self {
        WorktreeManager { git }
    }

    /// Checks out the existing `branch` at `path` (which must not exist yet).
    pub fn add(&self, path: &Path, branch: &str) -> Result<(), WorktreeError> {
        if path.exists() {
            return Err(WorktreeError::PathExists(path.to_path_buf()));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| WorktreeError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let path_arg = path.as_os_str().to_owned();
        self.git.run([
            std::ffi::OsStr::new("worktree"),
            "add".as_ref(),
            "--quiet".as_ref(),
            path_arg.as_os_str(),
            branch.as_ref(),
        ])?;
        Ok(())
    }

    /// Checks out `commit` detached at `path`: the read-only view a validator gets.
    pub fn add_detached(&self, path: &Path, commit: &Sha) -> Result<(), WorktreeError> {
        if path.exists() {
            return Err(WorktreeError::PathExists(path.to_path_buf()));
        }
        let path_arg = path.as_os_str().to_owned();
        self.git.run([
            std::ffi::OsStr::new("worktree"),
            "add".as_ref(),
            "--quiet".as_ref(),
            "--detach".as_ref(),
            path_arg.as_os_str(),
            commit.as_str().as_ref(),
        ])?;
        Ok(())
    }

    /// The uncommitted and untracked files in a worktree (`git status --porcelain`), one per line.
    pub fn dirty_files(&self, path: &Path) -> Result<Vec<String>, GitError> {
        let out =
            self.git
                .in_dir(path)
                .run(["status", "--porcelain=v1", "--untracked-files=all"])?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.get(3..).unwrap_or(l).to_string())
            .collect())
    }

    /// Removes a worktree. Refuses one with uncommitted or untracked work unless `force`; the
    /// branch is always kept.
    pub fn remove(&self, path: &Path, force: bool) -> Result<(), WorktreeError> {
        if !force && path.exists() {
            let dirty = self.dirty_files(path)?;
            if !dirty.is_empty() {
                return Err(WorktreeError::Dirty {
                    path: path.to_path_buf(),
                    files: dirty.join(", "),
                });
            }
        }
        let path_arg = path.as_os_str().to_owned();
        let mut args = vec![std::ffi::OsString::from("worktree"), "remove".into()];
        if force {
            args.push("--force".into());
        }
        args.push(path_arg);
        self.git.run(&args)?;
        Ok(())
    }

    /// Lists the repository's worktrees (the main one first).
    pub fn list(&self) -> Result<Vec<WorktreeInfo>, GitError> {
        let out = self.git.run(["worktree", "list", "--porcelain"])?;
        Ok(parse_worktree_list(&out))
    }

    /// Forgets worktrees whose directories are gone (`git worktree prune`).
    pub fn prune(&self) -> Result<(), GitError> {
        self.git.run(["worktree", "prune"])?;
        Ok(())
    }
}

/// Parses `git worktree list --porcelain`: blank-line separated records of `key value` lines.
fn parse_worktree_list(text: &str) -> Vec<WorktreeInfo> {
    let mut out = Vec::new();
    let mut current: Option<WorktreeInfo> = None;
    for line in text.lines() {
        if line.is_empty() {
            out.extend(current.take());
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "worktree" {
            out.extend(current.take());
            current = Some(WorktreeInfo {
                path: PathBuf::from(value),
                head: None,
                branch: None,
                locked: false,
                prunable: false,
            });
            continue;
        }
        let Some(info) = current.as_mut() else {
            continue;
        };
        match key {
            "HEAD" => info.head = Some(Sha::new(value)),
            "branch" => {
                info.branch = Some(
                    value
                        .strip_prefix("refs/heads/")
                        .unwrap_or(value)
                        .to_string(),
                )
            }
            "locked" => info.locked = true,
            "prunable" => info.prunable = true,
            _ => {}
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_porcelain_worktree_list() {
        let text = "worktree /r\nHEAD 1111111111111111111111111111111111111111\nbranch refs/heads/main\n\n\
                    worktree /r/.teams/worktrees/run/E1\nHEAD 2222222222222222222222222222222222222222\n\
                    branch refs/heads/teams/app/unit/E1\nlocked agent running\n\n\
                    worktree /gone\nHEAD 3333333333333333333333333333333333333333\ndetached\nprunable gitdir file points to non-existent location\n";
        let list = parse_worktree_list(text);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].branch.as_deref(), Some("main"));
        assert_eq!(list[1].branch.as_deref(), Some("teams/app/unit/E1"));
        assert!(list[1].locked);
        assert_eq!(list[2].branch, None);
        assert!(list[2].prunable);
    }
}
