//! Merging a finished unit into the integration branch (spec §4.1), and landing the integration
//! branch on the base at the end of a run.
//!
//! Merges happen in a worktree of the integration branch that only `teams` uses, one at a time
//! (the dispatcher calls these functions itself, so there is never a second merge in flight), so
//! the user's checkout is never touched by a merge.

use crate::git::{Checkout, GitError, Repo, Sha, WorktreeManager};

use super::setup::RunGit;

/// How merging a unit branch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// A merge commit was made.
    Merged(Sha),
    /// The integration branch already had everything (nothing new on the unit branch).
    UpToDate,
    /// git stopped with conflicts in these files; the merge was aborted.
    Conflict(Vec<String>),
    /// The merge could not be made for another reason.
    Failed(String),
}

/// The integration worktree of a run, created on first use.
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

/// Merges `branch` into the integration branch with `--no-ff` and `message`.
pub fn merge_branch(
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
    let head = integration.head()?;
    if let Some(head) = &head
        && repo.is_ancestor(&tip, head)?
    {
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
    Ok(MergeOutcome::Conflict(files))
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
