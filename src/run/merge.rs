//! Merging a finished unit into the integration branch (spec §4.1), and landing the integration
//! branch on the base at the end of a run.
//!
//! A merge is made without a checkout of the integration branch: `git merge-tree --write-tree`
//! merges in memory, `git commit-tree` makes the `--no-ff` merge commit with the message of spec
//! §4.1, and the branch moves by a compare-and-swap of its ref, only while no worktree has it
//! checked out (moving a checked-out branch would change that checkout under its owner). No
//! worktree of the integration branch has to be created, kept up to date or removed, which on a
//! large repository is most of the cost of a merge. The dispatcher hands one merge at a time to a
//! merge job (`merger.rs`), so there is never a second merge in flight.
//!
//! With a git older than 2.42 (no `merge-tree --write-tree` or no `--attr-source`, see
//! `merge_tree.rs`) the merges happen as before in a worktree of the integration branch that only
//! `teams` uses ([`Integration::Worktree`]).

use std::sync::Mutex;

use crate::git::{Checkout, GitError, Repo, Sha, TreeMerge, WorktreeManager};

use super::setup::RunGit;

/// How merging a unit branch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// A merge commit was made.
    Merged(Sha),
    /// The integration branch already had everything (nothing new on the unit branch).
    UpToDate,
    /// The merge conflicts in these files; nothing moved. `base` is the integration tip it was
    /// tried on.
    Conflict { files: Vec<String>, base: Sha },
    /// The merge could not be made for another reason.
    Failed(String),
}

/// Where merges into the integration branch are made.
pub enum Integration {
    /// In memory; the branch's ref moves by compare-and-swap.
    Ref,
    /// In a worktree of the integration branch (git before 2.42).
    Worktree(Checkout),
}

impl Integration {
    /// Moves the integration branch from `old` to `new`, a commit that contains it.
    /// `worktree_lock` is the run's lock on worktree operations: listing the worktrees while
    /// another thread adds one can catch git's files half-written.
    pub fn fast_forward(
        &self,
        git: &RunGit,
        worktree_lock: &Mutex<()>,
        new: &Sha,
        old: &Sha,
    ) -> Result<(), String> {
        match self {
            Integration::Ref => {
                // The worktrees' HEAD files usually settle it without a process or the lock.
                if git.repo.branch_checked_out(&git.integration_branch) != Some(false) {
                    let _lock = worktree_lock.lock();
                    refuse_if_checked_out(git)?;
                }
                git.repo
                    .move_branch(&git.integration_branch, new, old)
                    .map_err(|err| err.to_string())
            }
            Integration::Worktree(checkout) => {
                let out = checkout
                    .git()
                    .output(["merge", "--ff-only", "--quiet", new.as_str()])
                    .map_err(|err| err.to_string())?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
                }
            }
        }
    }
}

/// The integration worktree of a run (git before 2.42 only), created on first use.
pub fn integration_checkout(git: &RunGit) -> Result<Checkout, String> {
    let path = git.layout.integration_worktree(&git.run_id);
    if !path.exists() {
        WorktreeManager::new(git.repo.git().clone())
            .add(&path, &git.integration_branch)
            .map_err(|err| {
                format!(
                    "could not check out `{}` for merging: {err}",
                    git.integration_branch
                )
            })?;
    }
    Ok(Checkout::new(git.repo.git(), path))
}

/// Merges `branch` into the integration branch with `--no-ff` and `message`, in memory; `None`
/// when this git cannot (older than 2.42: merge in a worktree with [`merge_in_worktree`]).
pub fn merge_branch(
    git: &RunGit,
    worktree_lock: &Mutex<()>,
    branch: &str,
    message: &str,
) -> Result<Option<MergeOutcome>, GitError> {
    let repo = &git.repo;
    let Some(tip) = repo.resolve(&format!("refs/heads/{branch}"))? else {
        return Ok(Some(MergeOutcome::Failed(format!(
            "branch `{branch}` does not exist"
        ))));
    };
    let Some(head) = repo.resolve(&format!("refs/heads/{}", git.integration_branch))? else {
        return Ok(Some(MergeOutcome::Failed(format!(
            "the integration branch `{}` is gone",
            git.integration_branch
        ))));
    };
    if repo.is_ancestor(&tip, &head)? {
        return Ok(Some(MergeOutcome::UpToDate));
    }
    let tree = match repo.merge_trees(&head, &tip)? {
        TreeMerge::Clean(tree) => tree,
        TreeMerge::Conflicts(files) => {
            return Ok(Some(MergeOutcome::Conflict { files, base: head }));
        }
        TreeMerge::Unsupported => return Ok(None),
    };
    let merge = repo.commit_tree(&tree, &[&head, &tip], message)?;
    Ok(Some(
        match Integration::Ref.fast_forward(git, worktree_lock, &merge, &head) {
            Ok(()) => MergeOutcome::Merged(merge),
            Err(why) => MergeOutcome::Failed(why),
        },
    ))
}

/// A branch checked out in some worktree is not moved under it.
fn refuse_if_checked_out(git: &RunGit) -> Result<(), String> {
    let worktrees = git.worktrees().list().map_err(|err| err.to_string())?;
    match worktrees
        .iter()
        .find(|w| w.branch.as_deref() == Some(git.integration_branch.as_str()))
    {
        Some(w) => Err(format!(
            "`{}` is checked out at {}, so teams does not move it (switch that checkout to another branch, then `teams resume` or run again)",
            git.integration_branch,
            w.path.display()
        )),
        None => Ok(()),
    }
}

/// Merges `branch` into the integration branch with `--no-ff` and `message` in the integration
/// worktree `integration` (git before 2.42).
pub fn merge_in_worktree(
    repo: &Repo,
    integration: &Checkout,
    branch: &str,
    message: &str,
) -> Result<MergeOutcome, GitError> {
    let Some(tip) = repo.resolve(&format!("refs/heads/{branch}"))? else {
        return Ok(MergeOutcome::Failed(format!(
            "branch `{branch}` does not exist"
        )));
    };
    let Some(head) = integration.head()? else {
        return Ok(MergeOutcome::Failed(
            "the integration branch has no commit".to_owned(),
        ));
    };
    if repo.is_ancestor(&tip, &head)? {
        return Ok(MergeOutcome::UpToDate);
    }
    let out = integration.git().output([
        "merge",
        "--no-ff",
        "--no-edit",
        "--no-verify",
        "-m",
        message,
        branch,
    ])?;
    if out.status.success() {
        return Ok(match integration.head()? {
            Some(sha) => MergeOutcome::Merged(sha),
            None => MergeOutcome::Failed("no commit after the merge".to_owned()),
        });
    }
    let unmerged = integration
        .git()
        .run(["diff", "--name-only", "--diff-filter=U"])?;
    let files: Vec<String> = unmerged
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let _ = integration.git().output(["merge", "--abort"]);
    if files.is_empty() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        return Ok(MergeOutcome::Failed(if stderr.is_empty() {
            stdout
        } else {
            stderr
        }));
    }
    Ok(MergeOutcome::Conflict { files, base: head })
}

/// How landing went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LandOutcome {
    Landed,
    /// Not landed; the reason, for the summary.
    Skipped(String),
}

/// Fast-forwards the base branch to the integration branch (`--land`). Where the base is checked
/// out, git's own `merge --ff-only` updates that checkout (refusing if local changes are in the
/// way); elsewhere the ref is moved only if it still points where it did.
pub fn land(git: &RunGit) -> Result<LandOutcome, GitError> {
    let repo = &git.repo;
    let Some(integration) = repo.resolve(&format!("refs/heads/{}", git.integration_branch))? else {
        return Ok(LandOutcome::Skipped(
            "the integration branch is gone".into(),
        ));
    };
    let Some(base) = repo.resolve(&format!("refs/heads/{}", git.base))? else {
        return Ok(LandOutcome::Skipped(format!("`{}` is gone", git.base)));
    };
    if base == integration {
        return Ok(LandOutcome::Landed);
    }
    if !repo.is_ancestor(&base, &integration)? {
        return Ok(LandOutcome::Skipped(format!(
            "`{}` moved during the run, so it cannot be fast-forwarded",
            git.base
        )));
    }
    let worktrees = WorktreeManager::new(repo.git().clone()).list()?;
    match worktrees
        .iter()
        .find(|w| w.branch.as_deref() == Some(git.base.as_str()))
    {
        Some(checked_out) => {
            let out = repo.git().in_dir(&checked_out.path).output([
                "merge",
                "--ff-only",
                "--quiet",
                &git.integration_branch,
            ])?;
            if out.status.success() {
                Ok(LandOutcome::Landed)
            } else {
                Ok(LandOutcome::Skipped(format!(
                    "git refused to fast-forward {}: {}",
                    checked_out.path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )))
            }
        }
        None => {
            repo.move_branch(&git.base, &integration, &base)?;
            Ok(LandOutcome::Landed)
        }
    }
}
