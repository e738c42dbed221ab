//! A unit's branch and worktree at the moment the unit starts (spec §4.1): the branch starts from
//! the integration tip so it holds everything its dependencies merged. A branch left by an
//! earlier run is reused, never recreated: it is fast-forwarded when the integration branch
//! already holds all of it, kept as it is when it is ahead, and refused when it diverged (its
//! work would otherwise be lost or mixed). A unit that `teams resume` continues is the exception:
//! its branch started from the integration tip of its own start, and other units may have merged
//! since, so it is checked out as it is (the merge at its end joins them, as in a run that never
//! stopped).

use std::path::Path;

use crate::error::{Result, TeamsError};
use crate::git::WorktreeError;

use super::setup::{RunGit, blocking_branch, git_error};

/// Creates or updates `branch` and checks it out at `worktree`. `continuing`: the unit was running
/// when its run stopped, and its branch is taken as it is.
pub fn prepare_unit_worktree(
    git: &RunGit,
    branch: &str,
    worktree: &Path,
    continuing: bool,
) -> Result<()> {
    let repo = &git.repo;
    let integration = repo
        .resolve(&format!("refs/heads/{}", git.integration_branch))
        .map_err(git_error)?
        .ok_or_else(|| {
            TeamsError::environment(format!(
                "the integration branch `{}` disappeared during the run",
                git.integration_branch
            ))
        })?;
    let existing = if repo.branch_exists(branch).map_err(git_error)? {
        repo.resolve(&format!("refs/heads/{branch}"))
            .map_err(git_error)?
    } else {
        None
    };
    let manager = git.worktrees();
    // A branch that does not exist yet cannot be checked out anywhere.
    if existing.is_some() {
        release_old_checkout(git, branch)?;
    }
    match existing {
        Some(_) if continuing => {}
        // A new branch and its worktree come from one git process.
        None => {
            return manager
                .add_new_branch(worktree, branch, &integration)
                .map_err(|err| match err {
                    WorktreeError::PathExists(path) => path_exists(&path),
                    other => match blocking_branch(repo, branch) {
                        Some(other_branch) => TeamsError::environment(format!(
                            "the unit branch `{branch}` cannot be created: the branch `{other_branch}` exists"
                        ))
                        .with_hint(format!(
                            "git cannot hold both; rename that branch (`git branch -m {other_branch} <new-name>`) or delete it"
                        )),
                        None => TeamsError::environment(format!(
                            "failed to create the unit branch `{branch}` and its worktree"
                        ))
                        .with_source(other)
                        .with_hint(format!(
                            "a branch `{branch}` or one of its parents may be taken by another branch; rename or delete it"
                        )),
                    },
                });
        }
        Some(tip) if tip == integration => {}
        Some(tip) if repo.is_ancestor(&tip, &integration).map_err(git_error)? => {
            repo.move_branch(branch, &integration, &tip)
                .map_err(git_error)?;
        }
        Some(tip) if repo.is_ancestor(&integration, &tip).map_err(git_error)? => {}
        Some(_) => {
            return Err(TeamsError::environment(format!(
                "the unit branch `{branch}` from an earlier run has diverged from `{}`",
                git.integration_branch
            ))
            .with_hint(format!(
                "merge `{}` into `{branch}`, or delete `{branch}` if it holds nothing you need, then run again",
                git.integration_branch
            )));
        }
    }
    manager.add(worktree, branch).map_err(|err| match err {
        WorktreeError::PathExists(path) => path_exists(&path),
        other => TeamsError::environment(format!("failed to create the worktree for `{branch}`"))
            .with_source(other),
    })
}

fn path_exists(path: &Path) -> TeamsError {
    TeamsError::environment(format!(
        "the worktree path {} already exists",
        path.display()
    ))
    .with_hint("remove it (it is not a worktree teams knows), then run again")
}

/// A branch can be checked out in one worktree only. When an earlier run's worktree still has
/// the unit branch checked out, it is removed if it is clean (its work is on the branch); a
/// worktree with uncommitted work, or the user's own checkout, is never touched.
fn release_old_checkout(git: &RunGit, branch: &str) -> Result<()> {
    let manager = git.worktrees();
    let list = manager.list().map_err(git_error)?;
    let Some(old) = list.iter().find(|w| w.branch.as_deref() == Some(branch)) else {
        return Ok(());
    };
    if old.prunable || !old.path.exists() {
        return manager.prune().map_err(git_error);
    }
    let ours = old.path.starts_with(git.layout.dir().join("worktrees"));
    if ours && manager.remove(&old.path, false).is_ok() {
        return Ok(());
    }
    Err(TeamsError::environment(format!(
        "the unit branch `{branch}` is checked out at {}",
        old.path.display()
    ))
    .with_hint(format!(
        "commit or discard the work there and remove it: `git worktree remove {}`",
        old.path.display()
    )))
}
