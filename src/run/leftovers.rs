//! What a finished unit leaves behind (its worktree and its validator checkout) and the work held
//! back while the next unit starts: removing a checkout takes git processes, a merge three more,
//! and on a small machine each would compete for a core with the next agent's start. So they
//! wait until the next unit's first agent is under way (a few milliseconds), then run on
//! blocking threads that the run waits for before it ends.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use super::dispatcher::Dispatcher;
use super::events::EventKind;
use super::messages::WorkerMsg;
use super::unit::UnitId;

/// A finished unit's worktree or validator checkout, to remove.
pub(super) struct Leftover {
    unit: UnitId,
    path: std::path::PathBuf,
    /// A validator checkout (removed with `--force`), not the unit's worktree.
    validator: bool,
}

/// The longest merges and removals wait for a starting unit's first agent.
pub(super) const HOLD_AT_MOST: Duration = Duration::from_secs(1);

impl Dispatcher<'_> {
    /// Whether a unit is starting (and has not been for long): held-back work waits.
    pub(super) fn holding_for_a_start(&self) -> bool {
        self.unit_starting
            .is_some_and(|since| since.elapsed() < HOLD_AT_MOST)
    }

    /// A finished unit's validator checkout goes after the next unit has started, with
    /// `--force` (whatever a validator left in it is of no use).
    pub(super) fn remove_validator_checkout_soon(&mut self, unit: &UnitId, path: PathBuf) {
        self.finished_worktrees.push(Leftover {
            unit: unit.clone(),
            path,
            validator: true,
        });
    }

    /// A finished unit's worktree goes after the next unit has started (its branch holds the
    /// work): removing it takes a few git processes that need not delay the next builder.
    pub(super) fn remove_unit_worktree_soon(&mut self, id: &UnitId) {
        let git = &self.shared.git;
        let path = git.layout.unit_worktree(&git.run_id, id);
        self.finished_worktrees.push(Leftover {
            unit: id.clone(),
            path,
            validator: false,
        });
    }

    /// An agent was started (or a `sim` agent ended): work held back so as not to compete with
    /// its start can go now.
    pub(super) fn agent_under_way(&mut self) {
        self.unit_starting = None;
        if let Some(writer) = &self.prd_writer {
            writer.agent_under_way();
        }
    }

    /// Removes the worktrees set aside, each on a blocking thread (under the worktree lock),
    /// unless a unit is starting; the run waits for them before it ends.
    pub(super) fn remove_finished_worktrees(&mut self, tx: &mpsc::UnboundedSender<WorkerMsg>) {
        if self.holding_for_a_start() {
            return;
        }
        for leftover in std::mem::take(&mut self.finished_worktrees) {
            let shared = self.shared.clone();
            let tx = tx.clone();
            self.workers.push(tokio::task::spawn_blocking(move || {
                let Leftover {
                    unit,
                    path,
                    validator,
                } = leftover;
                // A validator checkout goes whatever a validator left in it; a unit's
                // worktree only when clean.
                let result = {
                    let _lock = shared.worktree_lock.lock();
                    shared.git.worktrees().remove(&path, validator)
                };
                if let Err(err) = result {
                    let message = if validator {
                        format!(
                            "failed to remove the validator checkout {}: {err}",
                            path.display()
                        )
                    } else {
                        format!("kept the worktree of {unit}: {err}")
                    };
                    let _ = tx.send(WorkerMsg::Event(EventKind::Warning { message }));
                }
            }));
        }
    }

    /// A finished unit's worktree goes (its branch stays); one with uncommitted work is kept.
    pub(super) fn remove_unit_worktree(&mut self, id: &UnitId) {
        let git = &self.shared.git;
        let path = git.layout.unit_worktree(&git.run_id, id);
        let result = {
            let _lock = self.shared.worktree_lock.lock();
            git.worktrees().remove(&path, false)
        };
        if let Err(err) = result {
            self.emit(EventKind::Warning {
                message: format!("kept the worktree of {id}: {err}"),
            });
        }
    }
}
