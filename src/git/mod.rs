//! git, through the `git` binary: the repository, branches and refs, history questions, working
//! trees and worktrees. The few questions the loop asks most (`HEAD`, branch tips, ancestry) are
//! read from the repository's files when that is certain (`refs.rs`, `ancestry.rs`); every write
//! goes through the binary.

mod ancestry;
mod branches;
mod checkout;
mod history;
mod merge_tree;
mod refs;
mod repo;
mod runner;
mod worktree;

pub use checkout::Checkout;
pub use history::Review;
pub use merge_tree::TreeMerge;
pub use repo::{Identity, Repo, RepoError, Sha};
pub use runner::{GitError, GitRunner};
pub use worktree::{WorktreeError, WorktreeInfo, WorktreeManager};
