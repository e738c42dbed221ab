//! git, through the `git` binary: the repository, branches and refs, and worktrees.

mod repo;
mod runner;
mod worktree;

pub use repo::{Identity, Repo, RepoError, Sha};
pub use runner::{GitError, GitRunner};
pub use worktree::{WorktreeError, WorktreeInfo, WorktreeManager};
