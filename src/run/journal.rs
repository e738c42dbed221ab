//! The dispatcher's side of the run store: each worker transition is committed to
//! `.teams/state.db` before the worker is told to go on (spec §6), and every event is appended to
//! the store's event log. A transition the store cannot take stops the run: going on would do
//! work that a crash could then lose or repeat.

use crate::prd::{StoryId, StoryResult};
use crate::store::{AttemptDecision, AttemptStart, StoreError, StoryUpdate};

use super::dispatcher::Dispatcher;
use super::events::{EventKind, RunEvent};
use super::failpoint;
use super::messages::WorkerMsg;
use super::unit::UnitId;

impl Dispatcher<'_> {
    /// Appends an event to the store's log. Live-view chatter (tool uses) stays out: the
    /// transcripts hold it.
    pub(super) fn journal(&mut self, event: &RunEvent) {
        if matches!(event.kind, EventKind::AgentActivity { .. }) {
            return;
        }
        let Ok(value) = serde_json::to_value(event) else {
            return;
        };
        let kind = value
            .get("event")
            .and_then(|k| k.as_str())
            .unwrap_or("unknown")
            .to_owned();
        let elapsed = u64::try_from(event.elapsed.as_millis()).unwrap_or(u64::MAX);
        let appended =
            self.store
                .append_event(&self.shared.git.run_id, elapsed, &kind, &value.to_string());
        self.durable(appended);
    }

    /// A failed store write stops the run (once), with the store's own message and hint.
    pub(super) fn durable(&mut self, result: Result<(), StoreError>) {
        if let Err(err) = result
            && self.fatal.is_none()
        {
            self.fatal = Some(err.into());
            self.shared.cancel.interrupt();
        }
    }

    /// A story's result, with the decision on the build that led to it, in one transaction.
    pub(super) fn record_story(
        &mut self,
        unit: &UnitId,
        story: &StoryId,
        result: &StoryResult,
        decided: Option<(i64, Option<String>)>,
        tip: &str,
        synced: bool,
    ) {
        let status = if result.passes {
            "passed"
        } else if result.failure_reason.is_some() {
            "failed"
        } else {
            "running"
        };
        let decision = decided
            .as_ref()
            .map(|(attempt_id, feedback)| AttemptDecision {
                attempt_id: *attempt_id,
                result_sha: result.commit_sha.as_deref(),
                passed: result.passes,
                feedback: feedback.as_deref(),
            });
        let run_id = self.shared.git.run_id.clone();
        let stored = self.store.story_result(&StoryUpdate {
            run_id: &run_id,
            unit_id: unit.as_str(),
            story_id: story.as_str(),
            status,
            attempts: result.attempts,
            commit_sha: result.commit_sha.as_deref(),
            failure_reason: result.failure_reason.as_deref(),
            decision,
            tip,
            synced,
        });
        self.durable(stored);
    }

    /// The transitions of one agent call and of a story's start.
    pub(super) fn record_transition(&mut self, msg: WorkerMsg) {
        let run_id = self.shared.git.run_id.clone();
        match msg {
            WorkerMsg::StoryStarted {
                story,
                start_sha,
                ack,
                ..
            } => {
                let stored = self
                    .store
                    .story_started(&run_id, story.as_str(), &start_sha);
                self.durable(stored);
                failpoint::hit("story-started");
                let _ = ack.send(());
            }
            WorkerMsg::AttemptStarted { attempt, ack } => {
                let stored = self.store.attempt_started(&AttemptStart {
                    run_id: &run_id,
                    unit_id: attempt.unit.as_str(),
                    story_id: attempt.story.as_ref().map(|s| s.as_str()),
                    role: attempt.role.as_str(),
                    attempt: attempt.attempt,
                    reask: attempt.reask,
                    backend: &attempt.backend,
                    model: attempt.model.as_deref(),
                    start_sha: attempt.start_sha.as_deref(),
                });
                match stored {
                    Ok(id) => {
                        failpoint::hit("attempt-started");
                        let _ = ack.send(id);
                    }
                    // No answer: the worker stops without starting the agent.
                    Err(err) => self.durable(Err(err)),
                }
            }
            WorkerMsg::AgentSpawned { attempt_id, pid } => {
                let stored = self.store.attempt_spawned(attempt_id, pid);
                self.durable(stored);
                failpoint::hit("agent-spawned");
            }
            WorkerMsg::AgentEnded {
                attempt_id,
                role,
                end,
                discard,
                ack,
            } => {
                // A builder's or validator's end always has a synced commit after it (the
                // validator's start, the re-ask's, or the story's record) before anything
                // depends on it (docs/design/durable.md).
                let mut stored = match role {
                    crate::agent::Role::Builder | crate::agent::Role::Validator => {
                        self.store.attempt_finished_unsynced(attempt_id, &end)
                    }
                    _ => self.store.attempt_finished(attempt_id, &end),
                };
                if discard && stored.is_ok() {
                    stored = self.store.attempt_discarded(attempt_id);
                }
                self.durable(stored);
                match role {
                    crate::agent::Role::Builder => failpoint::hit("builder-finished"),
                    crate::agent::Role::Validator => failpoint::hit("validator-finished"),
                    crate::agent::Role::Merger => failpoint::hit("merger-finished"),
                    _ => {}
                }
                let _ = ack.send(());
            }
            WorkerMsg::CommitSeen {
                attempt_id,
                commit,
                ack,
            } => {
                let stored = self.store.attempt_commit(attempt_id, &commit);
                self.durable(stored);
                failpoint::hit("commit-seen");
                let _ = ack.send(());
            }
            _ => {}
        }
    }
}
