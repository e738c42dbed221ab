//! One merge of the queue (spec §4.1), on its own thread: `--no-ff` into the integration
//! branch (in memory, `merge.rs`), and on a conflict the **merger** agent in a dedicated merge
//! worktree.
//!
//! The conflicted merge is made in `.teams/worktrees/<run>/<unit>@merge`, a detached checkout of
//! the integration tip. Its result counts only if git shows the merge concluded (no `MERGE_HEAD`, no unmerged
//! paths), the commit joins both sides, the tree is clean, no conflict marker is left in the
//! files that conflicted, and the run's and the unit's `checks` pass there. Only then is the
//! integration branch fast-forwarded to it; otherwise nothing moved, the unit is `merge-failed`
//! and its branch is kept. The merge worktree goes either way.
//!
//! The agent call is a unit worker's (`UnitWorker::call_agent`): the store records it as an
//! attempt with role `merger` before it starts, usage limits pause its backend, and a stop
//! discards it — so after a crash mid-merge, `teams resume` queues the unit again and the merger
//! starts afresh on a fresh merge worktree.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::agent::Role;
use crate::error::TeamsError;
use crate::git::{Checkout, Sha};
use crate::prd::{EpicStatus, StoryId};
use crate::roles::MergerContext;

use super::driver::SimWork;
use super::merge::{
    Integration, MergeOutcome, integration_checkout, merge_branch, merge_in_worktree,
};
use super::messages::WorkerMsg;
use super::unit::Unit;
use super::verify::run_checks;
use super::worker::{CallInfo, RunShared, Stop, UnitWorker};

/// A unit waiting for its merge.
#[derive(Clone)]
pub(super) struct MergeRequest {
    pub unit: Unit,
    pub branch: String,
    /// The unit's status once merged (completed or partial) and why.
    pub status: EpicStatus,
    pub reason: Option<String>,
    /// The passed stories' recorded commits, checked on the integration branch after the merge.
    pub recorded: Vec<(StoryId, String)>,
}

/// How a merge ended.
pub enum MergeResult {
    /// The integration branch moved to this merge commit (made by git or by the merger).
    Merged(Sha),
    /// The integration branch already held the unit's branch.
    UpToDate,
    /// `merge-failed`, with the reason; the integration branch did not move.
    Failed(String),
    /// `teams` is stopping; the merger's call was discarded.
    Interrupted,
    /// Something no merge can fix (the merger's CLI logged out, a git failure).
    Fatal(TeamsError),
}

/// One merge, run on a blocking thread.
pub(super) struct MergeJob {
    pub shared: Arc<RunShared>,
    pub request: MergeRequest,
    pub tx: mpsc::UnboundedSender<WorkerMsg>,
    pub rt: tokio::runtime::Handle,
}

impl MergeJob {
    pub fn run(self) {
        // The dispatcher waits for this report, so a panic becomes one (an internal error).
        let merged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.merge()));
        let result = merged.unwrap_or_else(|panic| {
            MergeResult::Fatal(TeamsError::internal(format!(
                "the merge of {} panicked: {}",
                self.request.unit.id,
                super::failpoint::panic_message(panic.as_ref())
            )))
        });
        let _ = self.tx.send(WorkerMsg::MergeFinished {
            unit: self.request.unit.id.clone(),
            result,
        });
    }

    fn merge(&self) -> MergeResult {
        super::failpoint::panic_point("merge-started");
        let git = &self.shared.git;
        let branch = &self.request.branch;
        let kept = |why: String| {
            MergeResult::Failed(format!(
                "merge-failed: {why}; the branch `{branch}` is kept"
            ))
        };
        let message = self.message();
        let (integration, merged) =
            match merge_branch(git, &self.shared.worktree_lock, branch, &message) {
                Ok(Some(outcome)) => (Integration::Ref, Ok(outcome)),
                Err(err) => (Integration::Ref, Err(err)),
                // An older git: in a worktree of the integration branch.
                Ok(None) => {
                    let checkout = {
                        let _lock = self.shared.worktree_lock.lock();
                        integration_checkout(git)
                    };
                    match checkout {
                        Ok(checkout) => {
                            let merged = merge_in_worktree(&git.repo, &checkout, branch, &message);
                            (Integration::Worktree(checkout), merged)
                        }
                        Err(why) => return kept(why),
                    }
                }
            };
        match merged {
            Err(err) => kept(format!("the merge failed: {err}")),
            Ok(MergeOutcome::Merged(sha)) => MergeResult::Merged(sha),
            Ok(MergeOutcome::UpToDate) => MergeResult::UpToDate,
            Ok(MergeOutcome::Failed(why)) => kept(format!(
                "could not merge into `{}`: {why}",
                git.integration_branch
            )),
            Ok(MergeOutcome::Conflict { files, base }) => {
                let conflict = format!(
                    "merging into `{}` conflicts in {}",
                    git.integration_branch,
                    files.join(", ")
                );
                match self.resolve(&integration, &base, &files) {
                    Ok(Ok(sha)) => MergeResult::Merged(sha),
                    Ok(Err(why)) => kept(format!("{conflict}; {why}")),
                    Err(Stop::Interrupted) => MergeResult::Interrupted,
                    Err(Stop::Fatal(err)) => MergeResult::Fatal(err),
                }
            }
        }
    }

    fn message(&self) -> String {
        let unit = &self.request.unit;
        format!("teams: merge {} {}", unit.id, unit.title)
            .trim_end()
            .to_owned()
    }

    /// The merger in its own worktree; `Ok(Err(why))` when its result is refused.
    fn resolve(
        &self,
        integration: &Integration,
        tip: &Sha,
        files: &[String],
    ) -> Result<Result<Sha, String>, Stop> {
        let git = &self.shared.git;
        let unit = &self.request.unit;
        let path = git
            .layout
            .run_worktrees(&git.run_id)
            .join(format!("{}@merge", unit.id));
        {
            let _lock = self.shared.worktree_lock.lock();
            let worktrees = git.worktrees();
            if path.exists() {
                let _ = worktrees.remove(&path, true);
            }
            if let Err(err) = worktrees.add_detached(&path, tip) {
                return Ok(Err(format!("could not create the merge worktree: {err}")));
            }
        }
        let checkout = Checkout::new(git.repo.git(), &path);
        let outcome = self.merge_with_merger(&checkout, tip, files);
        let removed = {
            let _lock = self.shared.worktree_lock.lock();
            git.worktrees().remove(&path, true)
        };
        if let Err(err) = removed {
            tracing::warn!(
                "failed to remove the merge worktree {}: {err}",
                path.display()
            );
        }
        let sha = match outcome? {
            Ok(sha) => sha,
            Err(why) => return Ok(Err(why)),
        };
        // Only now does the integration branch move, from the tip the merge was made on.
        if let Err(why) = integration.fast_forward(git, &self.shared.worktree_lock, &sha, tip) {
            return Ok(Err(format!(
                "the merger's commit could not be fast-forwarded onto `{}`: {why}",
                git.integration_branch
            )));
        }
        Ok(Ok(sha))
    }

    /// Makes the conflicted merge in `checkout`, runs the merger there and checks its result.
    fn merge_with_merger(
        &self,
        checkout: &Checkout,
        tip: &Sha,
        files: &[String],
    ) -> Result<Result<Sha, String>, Stop> {
        let git = &self.shared.git;
        let unit = &self.request.unit;
        let branch = &self.request.branch;
        let message = self.message();
        // Expected to stop on the same conflicts; the merger takes it from there.
        let _ = checkout.git().output([
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            "-m",
            message.as_str(),
            branch.as_str(),
        ]);
        let checks: Vec<String> = self
            .shared
            .settings
            .checks
            .iter()
            .chain(&unit.checks)
            .cloned()
            .collect();
        let prompt = self.shared.templates.merger(&MergerContext {
            unit_id: unit.id.as_str(),
            unit_title: &unit.title,
            unit_branch: branch,
            integration_branch: &git.integration_branch,
            conflicted_files: files,
            checks: &checks,
        });
        let mut worker = UnitWorker::new(
            self.shared.clone(),
            unit.clone(),
            branch.clone(),
            checkout.path(),
            self.tx.clone(),
            self.rt.clone(),
            Default::default(),
        );
        let info = CallInfo {
            role: Role::Merger,
            story: None,
            attempt: 1,
            reask: false,
            start: Some(tip),
            under_way: None,
        };
        let reply =
            worker.call_agent(&info, prompt, checkout.path().to_path_buf(), SimWork::Merge)?;
        if let Some(failure) = &reply.failure {
            return Ok(Err(format!(
                "the merger failed: {}",
                failure.describe(Role::Merger.as_str())
            )));
        }
        let unit_tip = git
            .repo
            .resolve(&format!("refs/heads/{branch}"))
            .map_err(|e| Stop::Fatal(super::setup::git_error(e)))?;
        let accepted = accept(checkout, tip, unit_tip.as_ref(), files)
            .map_err(|e| Stop::Fatal(super::setup::git_error(e)))?;
        let sha = match accepted {
            Ok(sha) => sha,
            Err(why) => return Ok(Err(format!("the merger's result was refused: {why}"))),
        };
        if !checks.is_empty() {
            let timeout = self.shared.settings.check_timeout;
            let dir = checkout.path().to_path_buf();
            if let Err(rejection) = self.rt.block_on(run_checks(&dir, &checks, timeout)) {
                return Ok(Err(format!(
                    "the merger's result was refused: {}",
                    rejection.reason()
                )));
            }
        }
        Ok(Ok(sha))
    }
}

/// What git must show after the merger for its merge to count; `Ok(Err(why))` when it does not.
fn accept(
    checkout: &Checkout,
    tip: &Sha,
    unit_tip: Option<&Sha>,
    files: &[String],
) -> Result<Result<Sha, String>, crate::git::GitError> {
    let git = checkout.git();
    if git.succeeds(["rev-parse", "-q", "--verify", "MERGE_HEAD"])? {
        return Ok(Err(
            "the merge was not concluded (no merge commit)".to_owned()
        ));
    }
    let unmerged = git.run(["diff", "--name-only", "--diff-filter=U"])?;
    let unmerged: Vec<&str> = unmerged.lines().filter(|l| !l.is_empty()).collect();
    if !unmerged.is_empty() {
        return Ok(Err(format!(
            "git shows unmerged paths: {}",
            unmerged.join(", ")
        )));
    }
    let Some(head) = checkout.head()? else {
        return Ok(Err("the merge worktree has no commit".to_owned()));
    };
    let repo_git = git;
    let joins = |ancestor: &Sha| -> Result<bool, crate::git::GitError> {
        repo_git.succeeds([
            "merge-base",
            "--is-ancestor",
            ancestor.as_str(),
            head.as_str(),
        ])
    };
    let holds_unit = match unit_tip {
        Some(unit_tip) => joins(unit_tip)?,
        None => false,
    };
    if &head == tip || !joins(tip)? || !holds_unit {
        return Ok(Err(
            "its commit does not join the integration branch and the unit branch".to_owned(),
        ));
    }
    let dirty = checkout.dirty_files()?;
    if !dirty.is_empty() {
        return Ok(Err(format!(
            "it left uncommitted changes: {}",
            dirty.join(", ")
        )));
    }
    let marked: Vec<&str> = files
        .iter()
        .filter(|f| has_conflict_markers(&checkout.path().join(f.as_str())))
        .map(String::as_str)
        .collect();
    if !marked.is_empty() {
        return Ok(Err(format!(
            "conflict markers remain in {}",
            marked.join(", ")
        )));
    }
    Ok(Ok(head))
}

/// Whether a file holds a line git writes around a conflict (`<<<<<<< `, `>>>>>>> `, or the
/// `|||||||` of the diff3 style). A lone `=======` is left alone: it is a valid line in many
/// formats, and never appears in a conflict without the other two.
fn has_conflict_markers(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false; // deleted by the resolution
    };
    String::from_utf8_lossy(&bytes).lines().any(|line| {
        ["<<<<<<<", ">>>>>>>", "|||||||"].iter().any(|marker| {
            line.strip_prefix(marker)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::has_conflict_markers;

    #[test]
    fn conflict_markers_are_found_and_separators_alone_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let check = |text: &str| {
            let path = dir.path().join("f");
            std::fs::write(&path, text).unwrap();
            has_conflict_markers(&path)
        };
        assert!(check("a\n<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> unit\n"));
        assert!(check("a\n>>>>>>> teams/p/unit/E-1\n"));
        assert!(check("|||||||\n"));
        assert!(!check("Title\n=======\n\nbody\n"));
        assert!(!check("<<<<<<<<<< not a marker\n"));
        assert!(!has_conflict_markers(&dir.path().join("missing")));
    }
}
