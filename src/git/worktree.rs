//! `WorktreeManager`: creates, lists and removes the linked worktrees units run in.
//!
//! Why the `git` binary and not libgit2 (measured on this machine kind, see the team's
//! `research/agent-clis.md` §2): `git worktree add` took a median of about 210 ms per worktree
//! against about 810 ms for git2 on the VM disk (1.1–1.9× faster on tmpfs) even counting the process
//! spawn; git2's `prune(valid, working_tree)` silently deletes a worktree holding uncommitted work,
//! where `git worktree remove` refuses; and git2 runs no smudge filters, so LFS files would arrive
//! as pointer files. The test `removing_a_dirty_worktree_is_refused` pins the safety property we
//! rely on. Every mutation goes through this one type so the choice can change in one place.
//!
//! A validator's checkout is reused across the stories of a unit ([`WorktreeManager::
//! reuse_detached`]) instead of being added and removed for every attempt: `worktree add` fills a
//! whole new tree (git runs a `reset --hard` inside it) and `worktree remove` runs `status`, which
//! together were about half of teams' time in git per attempt (`docs/PERFORMANCE.md`). A forced
//! detached checkout of the next commit followed by `clean -ffdx` gives the same view (exactly the
//! commit's tracked files, nothing the last validator changed, made or ignored, no nested
//! repository) while writing only the files that differ. Any doubt about the old checkout (it is
//! gone, no longer a worktree, or git fails on it) falls back to removing it and adding a fresh one.

use std::path::{Path, PathBuf};

use super::refs::{RefFiles, RefValue};
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
    #[error("failed to remove the stale checkout directory {path}")]
    RemoveDir {
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
        let path_arg = free_path(path)?;
        self.git.run([
            std::ffi::OsStr::new("worktree"),
            "add".as_ref(),
            "--quiet".as_ref(),
            path_arg.as_os_str(),
            branch.as_ref(),
        ])?;
        Ok(())
    }

    /// Creates `branch` at `start` and checks it out at `path`, in one git process (`worktree add
    /// -b`). Refused, with nothing created, when the branch exists: an existing branch is never
    /// moved.
    pub fn add_new_branch(
        &self,
        path: &Path,
        branch: &str,
        start: &Sha,
    ) -> Result<(), WorktreeError> {
        let path_arg = free_path(path)?;
        self.git.run([
            std::ffi::OsStr::new("worktree"),
            "add".as_ref(),
            "--quiet".as_ref(),
            "--no-track".as_ref(),
            "-b".as_ref(),
            branch.as_ref(),
            path_arg.as_os_str(),
            start.as_str().as_ref(),
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

    /// [`WorktreeManager::reuse_detached`] for a checkout known to be pristine: nothing in it was
    /// touched since a successful `reuse_detached` (or `add`) put it exactly on some commit. Moving
    /// it to `commit` then leaves exactly `commit`'s files, with nothing to clean, so it is one git
    /// process instead of two. The caller is responsible for the premise; the run loop restores
    /// the checkout right after each validation (in the background, while the next builder works)
    /// and only then calls this.
    pub fn reuse_pristine_detached(&self, path: &Path, commit: &Sha) -> Result<(), WorktreeError> {
        if self.move_pristine(path, commit) {
            return Ok(());
        }
        self.reuse_detached(path, commit)
    }

    /// The one process of [`WorktreeManager::reuse_pristine_detached`] alone; `false` when it does
    /// not apply (not a linked worktree of this repository, or HEAD not detached) or failed, and
    /// the checkout must be restored in full.
    ///
    /// On a detached HEAD `reset --hard` does what a forced checkout does (HEAD, index and
    /// tracked files to `commit`; untracked files are left, and a pristine checkout has none) in
    /// about 1 ms less, as it skips the checkout's extra ref work. On a branch it would move that
    /// branch, so only a HEAD read as detached gets it. It touches no other worktree's files, so
    /// it needs no worktree lock.
    pub fn move_pristine(&self, path: &Path, commit: &Sha) -> bool {
        if !is_linked_worktree(path) || !self.head_is_detached(path) {
            return false;
        }
        self.git
            .in_dir(path)
            .run(["reset", "--hard", "--quiet", commit.as_str()])
            .is_ok()
    }

    /// Puts the validator checkout at `path` on `commit`, detached, with exactly the commit's
    /// tracked files: an existing linked worktree there is forced onto the commit and cleaned of
    /// everything untracked or ignored (what a previous validator left); otherwise, or if that
    /// fails, whatever is at `path` is removed (as a worktree if git still knows it as one, else
    /// as a directory) and a fresh worktree is added.
    ///
    /// `path` must be a checkout only `teams` uses: whatever was changed in it is discarded.
    pub fn reuse_detached(&self, path: &Path, commit: &Sha) -> Result<(), WorktreeError> {
        // Only a linked worktree that git itself records at `path` is reused: anything else (no
        // `.git` file, or one a validator rewrote) could make git in `path` act on another
        // checkout, such as the user's around it, which must never be reset or cleaned.
        if is_linked_worktree(path) {
            let checkout = self.git.in_dir(path);
            let reused = checkout
                .run([
                    "checkout",
                    "--quiet",
                    "--force",
                    "--detach",
                    commit.as_str(),
                ])
                .and_then(|_| checkout.run(["clean", "--quiet", "-ffdx"]));
            if reused.is_ok() {
                return Ok(());
            }
        }
        if path.exists() {
            let _ = self.remove(path, true);
            if path.exists() {
                // git no longer knows it as a worktree (its `.git` file is gone or rewritten): it
                // is still only a validator's scratch directory, discarded like one.
                std::fs::remove_dir_all(path).map_err(|source| WorktreeError::RemoveDir {
                    path: path.to_path_buf(),
                    source,
                })?;
            }
            self.prune()?;
        }
        match self.add_detached(path, commit) {
            Ok(()) => Ok(()),
            // Deleted without git knowing: git still has it registered until a prune.
            Err(WorktreeError::Git(_)) if !path.exists() => {
                self.prune()?;
                self.add_detached(path, commit)
            }
            Err(err) => Err(err),
        }
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
    ///
    /// git's own `worktree remove` makes the refusal (it runs `status` itself); the dirty files
    /// are listed for the error only when it refused, so a clean removal costs one git process.
    pub fn remove(&self, path: &Path, force: bool) -> Result<(), WorktreeError> {
        let path_arg = path.as_os_str().to_owned();
        let mut args = vec![std::ffi::OsString::from("worktree"), "remove".into()];
        if force {
            args.push("--force".into());
        }
        args.push(path_arg);
        let refused = match self.git.run(&args) {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        if !force && path.exists() {
            let dirty = self.dirty_files(path)?;
            if !dirty.is_empty() {
                return Err(WorktreeError::Dirty {
                    path: path.to_path_buf(),
                    files: dirty.join(", "),
                });
            }
        }
        Err(refused.into())
    }

    /// Removes the worktree at `path` whatever is in it and even when it is locked (`remove
    /// --force --force`): for teams' own worktrees of an interrupted run only, where a lock is
    /// what a `git worktree add` cut short by the crash left ("initializing").
    pub fn remove_even_locked(&self, path: &Path) -> Result<(), WorktreeError> {
        let args: [&std::ffi::OsStr; 5] = [
            "worktree".as_ref(),
            "remove".as_ref(),
            "--force".as_ref(),
            "--force".as_ref(),
            path.as_os_str(),
        ];
        self.git.run(args)?;
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

/// Whether `path` is a linked worktree whose administrative directory (`.git/worktrees/<id>`,
/// named by `path/.git`) points back at `path/.git`, as git records every linked worktree.
impl WorktreeManager {
    /// Whether the checkout at `path` has a detached HEAD, read from its files; `false` when
    /// they cannot tell.
    fn head_is_detached(&self, path: &Path) -> bool {
        RefFiles::for_worktree(path, |key| self.git.env_var(key))
            .and_then(|(refs, git_dir)| refs.head(&git_dir))
            .is_some_and(|head| matches!(head, RefValue::Direct(_)))
    }
}

fn is_linked_worktree(path: &Path) -> bool {
    let dot_git = path.join(".git");
    let Ok(text) = std::fs::read_to_string(&dot_git) else {
        return false;
    };
    let Some(admin) = text.strip_prefix("gitdir: ").map(str::trim_end) else {
        return false;
    };
    let admin = path.join(admin);
    if !admin.join("commondir").is_file() {
        return false;
    }
    let Ok(back) = std::fs::read_to_string(admin.join("gitdir")) else {
        return false;
    };
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same(&admin.join(back.trim_end()), &dot_git)
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

/// `path` as an argument for a new worktree: refused when it exists, its parent made.
fn free_path(path: &Path) -> Result<std::ffi::OsString, WorktreeError> {
    if path.exists() {
        return Err(WorktreeError::PathExists(path.to_path_buf()));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| WorktreeError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    Ok(path.as_os_str().to_owned())
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
