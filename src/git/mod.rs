//! git, through the `git` binary: the repository, branches and refs, history questions, working
//! trees and worktrees.

mod ancestry;
mod checkout;
mod history;
mod refs;
mod repo;
mod runner;
mod worktree;

pub use checkout::Checkout;
pub use history::Review;
pub use repo::{Identity, Repo, RepoError, Sha};
pub use runner::{GitError, GitRunner};
pub use worktree::{WorktreeError, WorktreeInfo, WorktreeManager};
