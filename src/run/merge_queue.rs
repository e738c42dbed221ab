//! The merge queue (spec §4.1): units whose worker is done wait here and are merged into the
//! integration branch one at a time, by a merge job on its own thread (`merger.rs`).
//!
//! A clean merge takes a moment, but a conflict starts the merger agent, which may work for
//! minutes; so the dispatcher never merges itself. It queues the unit, hands the front of the
//! queue to a job when none is in flight, and goes on serving signals, ticks and the other
//! units' messages; the job reports back with [`WorkerMsg::MergeFinished`]. The dispatcher stays
//! the only writer of the store and `prd.json`: the job's agent call goes through the same
//! acknowledged messages a unit worker's does, and the merge's outcome is recorded here.
//!
//! A queued or merging unit holds no slot of `--parallel` (its agents are done), and its
//! dependents wait until it is merged (`plan::ready`). On Ctrl-C the queue is dropped: those
//! units are left unfinished in the store, and `teams resume` queues them again.

use std::collections::VecDeque;

use tokio::sync::mpsc;

use crate::prd::{EpicStatus, StoryId};

use super::dispatcher::{Dispatcher, Slot};
use super::events::EventKind;
use super::failpoint;
use super::merger::{MergeJob, MergeRequest, MergeResult};
use super::messages::WorkerMsg;
use super::unit::UnitId;

/// Units waiting for their merge, and the one being merged.
#[derive(Default)]
pub(super) struct MergeQueue {
    waiting: VecDeque<MergeRequest>,
    in_flight: Option<MergeRequest>,
}

impl MergeQueue {
    /// Nothing queued and nothing being merged.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.in_flight.is_none()
    }

    /// Queues a merge; returns how many merges come before it.
    fn push(&mut self, request: MergeRequest) -> usize {
        let ahead = self.waiting.len() + usize::from(self.in_flight.is_some());
        self.waiting.push_back(request);
        ahead
    }

    /// The next merge to start, unless one is in flight.
    fn take_next(&mut self) -> Option<MergeRequest> {
        if self.in_flight.is_some() {
            return None;
        }
        let next = self.waiting.pop_front()?;
        self.in_flight = Some(next.clone());
        Some(next)
    }

    /// The merge of `unit` is over: its request.
    fn finished(&mut self, unit: &UnitId) -> Option<MergeRequest> {
        if self.in_flight.as_ref().is_some_and(|r| &r.unit.id == unit) {
            self.in_flight.take()
        } else {
            None
        }
    }

    fn drain_waiting(&mut self) -> Vec<MergeRequest> {
        self.waiting.drain(..).collect()
    }
}

impl Dispatcher<'_> {
    /// A unit's worker is done: decide its status from its stories and queue its merge when
    /// something passed (after checking every recorded commit is on its branch).
    pub(super) fn unit_done(&mut self, id: &UnitId) {
        let tally = self.story_tally(id);
        self.remove_unit_worktree_soon(id);
        if tally.passed == 0 {
            let reason = format!("no story passed ({} failed)", tally.failed.join(", "));
            self.finish_unit(id, EpicStatus::Failed, Some(reason));
            return;
        }
        let (status, reason) = if tally.passed == tally.total {
            (EpicStatus::Completed, None)
        } else {
            (
                EpicStatus::Partial,
                Some(format!(
                    "partial: {} of {} stories failed ({})",
                    tally.failed.len(),
                    tally.total,
                    tally.failed.join(", ")
                )),
            )
        };
        let branch = self.shared.git.unit_branch(id);
        if let Err(why) = commits_on(
            &self.shared.git.repo,
            &format!("refs/heads/{branch}"),
            &tally.recorded,
        ) {
            let reason = format!("{why}; nothing was merged");
            self.finish_unit(id, EpicStatus::MergeFailed, Some(reason));
            return;
        }
        let Some(unit) = self.units.iter().find(|u| &u.id == id).cloned() else {
            return;
        };
        let ahead = self.merges.push(MergeRequest {
            unit,
            branch,
            status,
            reason,
            recorded: tally.recorded,
        });
        self.slots.insert(id.clone(), Slot::Merging);
        self.emit(EventKind::MergeQueued {
            unit: id.clone(),
            ahead,
        });
    }

    /// Hands the next queued merge to a merge job when none is in flight. When the run is
    /// stopping, queued units are left unfinished instead (resume merges them).
    pub(super) fn start_merge(&mut self, tx: &mpsc::UnboundedSender<WorkerMsg>) {
        if self.interrupted || self.fatal.is_some() {
            for request in self.merges.drain_waiting() {
                self.stop_unit(&request.unit.id);
            }
            return;
        }
        if self.holding_for_a_start() {
            return;
        }
        let Some(request) = self.merges.take_next() else {
            return;
        };
        let job = MergeJob {
            shared: self.shared.clone(),
            request,
            tx: tx.clone(),
            rt: tokio::runtime::Handle::current(),
        };
        tokio::task::spawn_blocking(move || job.run());
    }

    /// The merge job is done: record the merge, check the recorded commits reached the
    /// integration branch, and finish the unit.
    pub(super) fn merge_finished(&mut self, id: &UnitId, result: MergeResult) {
        let Some(request) = self.merges.finished(id) else {
            return;
        };
        let commit = match result {
            MergeResult::Interrupted => {
                self.stop_unit(id);
                return;
            }
            MergeResult::Fatal(err) => {
                self.stop_unit(id);
                if self.fatal.is_none() {
                    self.fatal = Some(err);
                    self.shared.cancel.interrupt();
                }
                return;
            }
            MergeResult::Failed(why) => {
                self.finish_unit(id, EpicStatus::MergeFailed, Some(why));
                return;
            }
            MergeResult::UpToDate => None,
            MergeResult::Merged(commit) => {
                failpoint::hit("merge-done");
                let stored =
                    self.store
                        .unit_merged(&self.shared.git.run_id, id.as_str(), commit.as_str());
                self.durable(stored);
                Some(commit)
            }
        };
        let git = &self.shared.git;
        let integration = format!("refs/heads/{}", git.integration_branch);
        if let Err(why) = commits_on(&git.repo, &integration, &request.recorded) {
            self.finish_unit(id, EpicStatus::MergeFailed, Some(why));
            return;
        }
        if let Some(commit) = commit {
            self.emit(EventKind::UnitMerged {
                unit: id.clone(),
                merge_commit: commit.to_string(),
            });
        }
        self.finish_unit(id, request.status, request.reason);
    }

    /// The unit ends with `status`: recorded, then reported.
    fn finish_unit(&mut self, id: &UnitId, status: EpicStatus, reason: Option<String>) {
        self.set_status(id, status, reason.clone());
        failpoint::hit("unit-finished");
        self.slots.insert(id.clone(), Slot::Done(status));
        self.emit(EventKind::UnitFinished {
            unit: id.clone(),
            status,
            reason,
        });
    }

    /// The run is stopping before the unit ended: it stays unfinished, to be resumed.
    pub(super) fn stop_unit(&mut self, id: &UnitId) {
        self.set_status(id, EpicStatus::Pending, None);
        self.slots.insert(id.clone(), Slot::Stopped);
    }

    /// A unit's stories as `prd.json` has them now.
    fn story_tally(&self, id: &UnitId) -> Tally {
        let Some(epic) = self.doc.prd().epic(id.as_str()) else {
            return Tally::default();
        };
        Tally {
            passed: epic.stories.iter().filter(|s| s.passes).count(),
            total: epic.stories.len(),
            failed: epic
                .stories
                .iter()
                .filter(|s| !s.passes)
                .map(|s| s.id.to_string())
                .collect(),
            recorded: epic
                .stories
                .iter()
                .filter(|s| s.passes)
                .filter_map(|s| s.commit_sha.clone().map(|c| (s.id.clone(), c)))
                .collect(),
        }
    }
}

/// Passed and total stories of a unit, the failed ones' IDs, and the recorded commits.
#[derive(Default)]
struct Tally {
    passed: usize,
    total: usize,
    failed: Vec<String>,
    recorded: Vec<(StoryId, String)>,
}

/// Checks every recorded commit is on `tip` (a tool in this space once reported stories passed
/// whose code never reached its result branch).
fn commits_on(
    repo: &crate::git::Repo,
    tip: &str,
    recorded: &[(StoryId, String)],
) -> Result<(), String> {
    let Some(tip_sha) = repo.resolve(tip).map_err(|e| e.to_string())? else {
        return Err(format!("`{tip}` does not exist"));
    };
    for (story, commit) in recorded {
        let sha = crate::git::Sha::new(commit.as_str());
        if !repo.is_ancestor(&sha, &tip_sha).unwrap_or(false) {
            return Err(format!(
                "the recorded commit {} of {story} is not on `{}`",
                sha.short(),
                tip.trim_start_matches("refs/heads/")
            ));
        }
    }
    Ok(())
}
