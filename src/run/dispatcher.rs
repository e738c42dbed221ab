//! The dispatcher: the one owner of a run's state (spec §4, style example 3).
//!
//! It decides which unit starts when, creates unit branches and worktrees, is the only writer of
//! `prd.json` and `.teams/progress.md`, merges finished units one at a time, blocks the
//! dependents of units that did not complete, and hands every event to the reporters. Workers run
//! units on their own threads and talk to it only through [`WorkerMsg`]s, so there is no shared
//! mutable state to race on, whether one unit runs or several.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::error::{Result, TeamsError};
use crate::plan::ready::{self, Action, Dependency, Progress};
use crate::prd::{EpicId, EpicStatus, StoryId};
use crate::store::Store;

use super::ahead::Ahead;
use super::events::{EventKind, RunEvent, RunOutcome, RunSummary, StorySummary, UnitSummary};
use super::failpoint;
use super::leftovers::Leftover;
use super::merge::{LandOutcome, land};
use super::merge_queue::MergeQueue;
use super::messages::{WorkerEnd, WorkerMsg};
use super::prd_writer::PrdWriter;
use super::records::RunRecords;
use super::resume::StoryResume;
use super::unit::{Unit, UnitId};
use super::unit_branch::prepare_unit_worktree;
use super::worker::{RunShared, UnitWorker};
use super::{EventSink, progress_md};

/// How often the reporters get a tick (for elapsed times in the live view).
const TICK: Duration = Duration::from_millis(200);

/// Where a unit is in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Slot {
    Waiting,
    Running,
    /// Its worker is done; waiting in the merge queue or being merged.
    Merging,
    /// Finished with this status (completed units are merged).
    Done(EpicStatus),
    /// Stopped by an interruption; neither done nor blocking.
    Stopped,
}

/// Runs `units` (in file order) to the end.
pub(super) struct Dispatcher<'a> {
    pub shared: Arc<RunShared>,
    /// `prd.json`, and `backlog.json` for sprint todos (see `records.rs`).
    pub doc: RunRecords,
    pub units: Vec<Unit>,
    pub sink: &'a mut dyn EventSink,
    pub started: Instant,
    pub simulated: bool,
    /// The run store: every transition is committed here before the step after it starts.
    pub(super) store: Store,
    /// Where `teams resume` found the stories of units that were running.
    resume: BTreeMap<UnitId, BTreeMap<StoryId, StoryResume>>,
    /// Units that were running when the run stopped: their branches are taken as they are.
    pub(super) continuing: std::collections::BTreeSet<UnitId>,
    pub(super) slots: BTreeMap<UnitId, Slot>,
    /// Each unit's dependencies, for the scheduling policy (`plan::ready`).
    pub(super) deps: Vec<Vec<Dependency>>,
    /// Finished units wait here for their merge, one merge at a time.
    pub(super) merges: MergeQueue,
    costs: BTreeMap<UnitId, f64>,
    /// Spend per story (builders and validators; planners and mergers count for the unit only).
    story_costs: BTreeMap<StoryId, f64>,
    pub(super) interrupted: bool,
    budget_reached: bool,
    pub(super) fatal: Option<TeamsError>,
    landed: bool,
    /// The workers' threads, and the removals of finished units' worktrees and validator
    /// checkouts (`remove_finished_worktrees`): the run waits for them before it ends.
    pub(super) workers: Vec<tokio::task::JoinHandle<()>>,
    /// Puts `prd.json` on disk while the loop runs (`prd_writer.rs`); `None` before and after.
    pub(super) prd_writer: Option<PrdWriter>,
    /// Worktrees and validator checkouts of units that finished, removed once the next unit
    /// has started.
    pub(super) finished_worktrees: Vec<Leftover>,
    /// The next unit's branch and worktree, made while the running one finishes (`ahead.rs`).
    pub(super) ahead: Option<Ahead>,
    /// When a unit started that has not yet started its first agent: merges and the removal of
    /// finished worktrees wait (their git processes would compete for the CPU with the agent's
    /// start), usually a few milliseconds, as a worker's first step is an agent or its end; at
    /// most [`super::leftovers::HOLD_AT_MOST`] (a backend paused by a usage limit delays that agent).
    pub(super) unit_starting: Option<Instant>,
}

/// What a resumed run starts from besides `prd.json`.
#[derive(Default)]
pub(super) struct Continuation {
    /// Units that already ended in the interrupted run, with their status.
    pub finished: BTreeMap<UnitId, EpicStatus>,
    pub stories: BTreeMap<UnitId, BTreeMap<StoryId, StoryResume>>,
    /// Units that had started (their branch is recorded) and not finished.
    pub started: std::collections::BTreeSet<UnitId>,
    /// Spend recorded so far, per unit.
    pub costs: BTreeMap<UnitId, f64>,
    /// Spend recorded so far, per story.
    pub story_costs: BTreeMap<StoryId, f64>,
}

impl<'a> Dispatcher<'a> {
    pub fn new(
        shared: Arc<RunShared>,
        doc: RunRecords,
        units: Vec<Unit>,
        sink: &'a mut dyn EventSink,
        simulated: bool,
        store: Store,
        continuation: Continuation,
    ) -> Self {
        let slots = units
            .iter()
            .map(|u| {
                let slot = if let Some(status) = continuation.finished.get(&u.id) {
                    Slot::Done(*status)
                } else if u.status == EpicStatus::Completed {
                    Slot::Done(EpicStatus::Completed)
                } else {
                    Slot::Waiting
                };
                (u.id.clone(), slot)
            })
            .collect();
        let deps = dependencies(&units, &doc);
        Dispatcher {
            shared,
            doc,
            units,
            deps,
            merges: MergeQueue::default(),
            sink,
            started: Instant::now(),
            simulated,
            store,
            resume: continuation.stories,
            continuing: continuation.started,
            slots,
            costs: continuation.costs,
            story_costs: continuation.story_costs,
            interrupted: false,
            budget_reached: false,
            fatal: None,
            landed: false,
            workers: Vec::new(),
            prd_writer: None,
            finished_worktrees: Vec::new(),
            ahead: None,
            unit_starting: None,
        }
    }

    pub fn emit(&mut self, kind: EventKind) {
        let event = RunEvent {
            elapsed: self.started.elapsed(),
            kind,
        };
        self.journal(&event);
        self.sink.event(&event);
    }

    /// The loop: start ready units, handle worker messages, signals and ticks, until nothing is
    /// running and nothing more can start.
    pub async fn run(mut self) -> Result<RunSummary> {
        let (tx, mut rx) = mpsc::unbounded_channel::<WorkerMsg>();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        // Installed once, before any agent starts, so no Ctrl-C between two polls is lost and the
        // default "die at once" never applies while agents run.
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind| {
            signal(kind).map_err(|err| {
                TeamsError::internal("failed to install the signal handlers").with_source(err)
            })
        };
        // Ctrl-C, `kill`, and a closed terminal all stop the run the same resumable way (spec §6).
        let mut interrupts = install(SignalKind::interrupt())?;
        let mut terminates = install(SignalKind::terminate())?;
        let mut hangups = install(SignalKind::hangup())?;
        let mut ctrl_c_count = 0u32;
        self.prd_writer = Some(PrdWriter::start(tx.clone()).map_err(|err| {
            TeamsError::internal("failed to start the prd.json writer").with_source(err)
        })?);
        loop {
            self.start_ready(&tx);
            self.start_merge(&tx);
            self.remove_finished_worktrees(&tx);
            if self.running() == 0 && self.merges.is_idle() {
                break;
            }
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(msg) => self.handle(msg),
                    None => break,
                },
                _ = interrupts.recv() => {
                    ctrl_c_count += 1;
                    self.begin_interrupt(ctrl_c_count);
                }
                _ = terminates.recv() => {
                    ctrl_c_count += 1;
                    self.begin_interrupt(ctrl_c_count);
                }
                _ = hangups.recv() => {
                    ctrl_c_count += 1;
                    self.begin_interrupt(ctrl_c_count);
                }
                _ = tick.tick() => self.sink.tick(),
            }
        }
        for worker in std::mem::take(&mut self.workers) {
            let _ = worker.await;
        }
        self.discard_ahead();
        // `prd.json` is complete before the run records its end.
        if let Some(writer) = self.prd_writer.take() {
            writer.flush();
        }
        // What arrived after the loop: a failed write, a worktree kept.
        while let Ok(msg) = rx.try_recv() {
            if let msg @ (WorkerMsg::PrdWriteFailed { .. } | WorkerMsg::Event(_)) = msg {
                self.handle(msg);
            }
        }
        self.finish()
    }

    /// Starts every unit that is ready, up to the parallel limit, and blocks the ones whose
    /// dependencies did not complete (the policy is `plan::ready`, shared with the benchmark).
    fn start_ready(&mut self, tx: &mpsc::UnboundedSender<WorkerMsg>) {
        // Sprint hooks: a `sprint stop`/`restart` from another terminal, and what the records
        // reported (a todo's commit-form warning, a closed sprint).
        self.doc.poll_requests();
        self.flush_record_notices();
        let free = if self.may_start() {
            self.shared.settings.parallel as usize - self.running()
        } else {
            0
        };
        let progress = self.progress();
        for action in ready::next_actions(&self.deps, &progress, free) {
            match action {
                Action::Block { unit, dependency } => {
                    let id = self.units[unit].id.clone();
                    let dep = &self.units[unit].depends_on[dependency];
                    let status = match self.slots.get(dep) {
                        Some(Slot::Done(status)) => *status,
                        // Not part of this run (`--epic`): its recorded status.
                        _ => self
                            .doc
                            .prd()
                            .epic(dep.as_str())
                            .map_or(EpicStatus::Pending, |e| e.status),
                    };
                    let reason = format!("blocked: dependency {dep} is {}", status.as_str());
                    self.set_status(&id, EpicStatus::Blocked, Some(reason.clone()));
                    self.slots
                        .insert(id.clone(), Slot::Done(EpicStatus::Blocked));
                    self.emit(EventKind::UnitFinished {
                        unit: id,
                        status: EpicStatus::Blocked,
                        reason: Some(reason),
                    });
                }
                // A start that failed stops the run: no further unit starts.
                Action::Start(unit) if self.may_start() => {
                    if let Err(err) = self.start(unit, tx) {
                        // Units already running are stopped, not abandoned: the loop waits
                        // for their workers before reporting the error.
                        self.fatal = Some(err);
                        self.shared.cancel.interrupt();
                    }
                }
                Action::Start(_) => {}
            }
        }
    }

    /// Where each unit is, for the scheduling policy.
    pub(super) fn progress(&self) -> Vec<Progress> {
        self.units
            .iter()
            .map(|u| match &self.slots[&u.id] {
                // Held back (a todo of a stopped sprint, or one whose lower-ranked todos have
                // not ended): it neither starts nor is blocked yet, and its dependents wait.
                Slot::Waiting if self.held_back(u) => Progress::Stopped,
                Slot::Waiting => Progress::Waiting,
                Slot::Running => Progress::Running,
                Slot::Merging => Progress::Merging,
                Slot::Done(EpicStatus::Completed) => Progress::Completed,
                Slot::Done(_) => Progress::NotCompleted,
                Slot::Stopped => Progress::Stopped,
            })
            .collect()
    }

    fn running(&self) -> usize {
        self.slots.values().filter(|s| **s == Slot::Running).count()
    }

    /// Whether a unit could start now.
    pub(super) fn may_start(&self) -> bool {
        !self.interrupted
            && !self.budget_reached
            && self.fatal.is_none()
            && self.running() < self.shared.settings.parallel as usize
    }

    /// A todo waits while its sprint is stopped or a lower-ranked todo has not ended.
    fn held_back(&self, unit: &Unit) -> bool {
        self.doc.held_back(&unit.id)
            || unit.after.iter().any(|u| {
                matches!(
                    self.slots.get(u),
                    Some(Slot::Waiting | Slot::Running | Slot::Merging)
                )
            })
    }

    fn start(&mut self, index: usize, tx: &mpsc::UnboundedSender<WorkerMsg>) -> Result<()> {
        let unit = self.units[index].clone();
        let branch = self.shared.git.unit_branch(&unit.id);
        let worktree = self
            .shared
            .git
            .layout
            .unit_worktree(&self.shared.git.run_id, &unit.id);
        if !self.take_ahead(&unit.id)? {
            let _lock = self.shared.worktree_lock.lock();
            let continuing = self.continuing.contains(&unit.id);
            prepare_unit_worktree(&self.shared.git, &branch, &worktree, continuing)?;
        }
        let git = &self.shared.git;
        failpoint::hit("worktree-created");
        let tip = git
            .repo
            .resolve(&format!("refs/heads/{branch}"))
            .map_err(super::setup::git_error)?
            .map(|sha| sha.to_string())
            .unwrap_or_default();
        let recorded = self
            .store
            .unit_started(&git.run_id, unit.id.as_str(), &branch, &tip);
        self.durable(recorded);
        failpoint::hit("unit-started");
        self.set_status(&unit.id, EpicStatus::Running, None);
        self.emit(EventKind::UnitStarted {
            unit: unit.id.clone(),
            title: unit.title.clone(),
            branch: branch.clone(),
            worktree: worktree.clone(),
        });
        self.slots.insert(unit.id.clone(), Slot::Running);
        self.unit_starting = Some(Instant::now());
        let resume = self.resume.remove(&unit.id).unwrap_or_default();
        let worker = UnitWorker::new(
            self.shared.clone(),
            unit,
            branch,
            &worktree,
            tx.clone(),
            tokio::runtime::Handle::current(),
            resume,
        );
        self.workers
            .push(tokio::task::spawn_blocking(move || worker.run()));
        Ok(())
    }

    fn handle(&mut self, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Event(kind) => {
                // An agent that never reports a process (the `sim` backend) ends the wait here.
                if matches!(kind, EventKind::AgentFinished { .. }) {
                    self.agent_under_way();
                }
                if let EventKind::AgentFinished {
                    unit,
                    story,
                    cost_usd: Some(cost),
                    ..
                } = &kind
                {
                    *self.costs.entry(unit.clone()).or_default() += cost;
                    if let Some(story) = story {
                        *self.story_costs.entry(story.clone()).or_default() += cost;
                    }
                    self.check_budget();
                }
                self.emit(kind);
            }
            WorkerMsg::Planned { unit } => {
                let recorded = self
                    .store
                    .unit_planned(&self.shared.git.run_id, unit.as_str());
                self.durable(recorded);
                failpoint::hit("planner-finished");
                let id = EpicId::new(unit.as_str());
                if self.doc.set_epic_planned(&id, true).is_ok() {
                    self.save();
                }
            }
            WorkerMsg::StoryRecord {
                unit,
                story,
                result,
                decided,
                tip,
                entry,
                synced,
                ack,
            } => {
                self.record_story(&unit, &story, &result, decided, &tip, synced);
                failpoint::hit("story-recorded");
                if self.doc.set_story_result(&story, result).is_ok() {
                    self.save();
                }
                match &self.prd_writer {
                    Some(writer) => writer.kill_point("prd-written"),
                    None => failpoint::hit("prd-written"),
                }
                if let Some(entry) = entry {
                    let git = &self.shared.git;
                    let path = git.layout.progress();
                    if let Err(err) = progress_md::append(&path, &git.run_id, &unit, &entry) {
                        self.emit(EventKind::Warning {
                            message: format!("failed to append to {}: {err}", path.display()),
                        });
                    }
                }
                let _ = ack.send(());
            }
            WorkerMsg::AttemptStarted { attempt, ack } => {
                let builds = (attempt.role == crate::agent::Role::Builder && attempt.attempt == 1)
                    .then(|| (attempt.unit.clone(), attempt.story.clone()));
                self.record_transition(WorkerMsg::AttemptStarted { attempt, ack });
                if let Some((unit, story)) = builds {
                    self.build_started(&unit, story.as_ref().map(|s| s.as_str()));
                }
            }
            msg @ WorkerMsg::AgentSpawned { .. } => {
                self.agent_under_way();
                self.record_transition(msg);
            }
            msg @ (WorkerMsg::StoryStarted { .. }
            | WorkerMsg::AgentEnded { .. }
            | WorkerMsg::CommitSeen { .. }) => self.record_transition(msg),
            WorkerMsg::MergeFinished { unit, result } => self.merge_finished(&unit, result),
            WorkerMsg::PrdWriteFailed { error } => self.save_failed(error),
            WorkerMsg::Finished {
                unit,
                end,
                validator_checkout,
            } => {
                self.unit_starting = None;
                if let Some(path) = validator_checkout {
                    self.remove_validator_checkout_soon(&unit, path);
                }
                match end {
                    WorkerEnd::Done => self.unit_done(&unit),
                    WorkerEnd::Interrupted => {
                        self.remove_unit_worktree(&unit);
                        self.set_status(&unit, EpicStatus::Pending, None);
                        self.slots.insert(unit, Slot::Stopped);
                    }
                    WorkerEnd::Fatal(err) => {
                        self.set_status(&unit, EpicStatus::Pending, None);
                        self.slots.insert(unit, Slot::Stopped);
                        if self.fatal.is_none() {
                            self.fatal = Some(err);
                            // Nothing else can succeed either: stop the other units' agents.
                            self.shared.cancel.interrupt();
                        }
                    }
                }
            }
        }
    }

    fn check_budget(&mut self) {
        let Some(cap) = self.shared.settings.budget_usd else {
            return;
        };
        let spent = self.costs.values().fold(0.0, |a, b| a + b);
        if spent >= cap && !self.budget_reached {
            self.budget_reached = true;
            self.shared.budget_stop.store(true, Ordering::SeqCst);
            self.emit(EventKind::Warning {
                message: format!(
                    "the budget of ${cap:.2} is reached (${spent:.2} spent); no new attempts start"
                ),
            });
        }
    }

    /// First Ctrl-C: agents get SIGINT and the run stops after them; second: SIGKILL.
    fn begin_interrupt(&mut self, count: u32) {
        self.interrupted = true;
        if count == 1 {
            self.shared.cancel.interrupt();
            self.emit(EventKind::Warning {
                message: "interrupted: stopping the agents (press Ctrl-C again to kill them)"
                    .to_owned(),
            });
        } else {
            self.shared.cancel.kill();
        }
    }

    /// Emits what the records reported since the last call.
    fn flush_record_notices(&mut self) {
        for kind in self.doc.take_notices() {
            self.emit(kind);
        }
    }

    pub(super) fn set_status(&mut self, id: &UnitId, status: EpicStatus, reason: Option<String>) {
        let recorded = self.store.set_unit_status(
            &self.shared.git.run_id,
            id.as_str(),
            status.as_str(),
            reason.as_deref(),
        );
        self.durable(recorded);
        let epic = EpicId::new(id.as_str());
        self.doc
            .note_cost(id, self.costs.get(id).copied().unwrap_or(0.0));
        if self.doc.set_epic_status(&epic, status, reason).is_ok() {
            self.save();
        }
    }

    /// Writes `prd.json` (atomically). A failure to save is a failure of the run's record, so
    /// the run stops.
    /// While the loop runs, `prd.json` goes to the writer thread (the store already holds what
    /// it records) and `backlog.json` is written here.
    fn save(&mut self) {
        if !self.doc.is_modified() {
            return;
        }
        let saved = match &self.prd_writer {
            Some(writer) => self.doc.save_deferring_prd().map(|prd| {
                if let Some((path, bytes)) = prd {
                    writer.replace(path, bytes);
                }
            }),
            None => self.doc.save(),
        };
        if let Err(err) = saved {
            self.save_failed(err);
        }
    }

    fn save_failed(&mut self, err: crate::prd::SaveError) {
        {
            let message = err.to_string();
            self.emit(EventKind::Warning {
                message: message.clone(),
            });
            if self.fatal.is_none() {
                self.fatal = Some(TeamsError::environment(message).with_source(err).with_hint(
                    "check the disk and the file's permissions; `teams run` again continues",
                ));
                self.shared.cancel.interrupt();
            }
        }
    }

    /// After the loop: remove the integration worktree (git before 2.42), land if asked, and build
    /// the summary.
    fn finish(mut self) -> Result<RunSummary> {
        let git = &self.shared.git;
        let integration = git.layout.integration_worktree(&git.run_id);
        if integration.exists() {
            let _ = git.worktrees().remove(&integration, false);
        }
        let _ = std::fs::remove_dir(git.layout.run_worktrees(&git.run_id));
        if let Some(err) = self.fatal.take() {
            // Whatever stopped the run (a logged-out CLI, a full disk), it can be resumed.
            let _ = self.store.set_run_status(&git.run_id, "interrupted", None);
            return Err(err);
        }
        self.flush_record_notices();
        let outcome = self.outcome();
        if outcome == RunOutcome::Succeeded && self.shared.settings.land {
            match land(&self.shared.git) {
                Ok(LandOutcome::Landed) => self.landed = true,
                Ok(LandOutcome::Skipped(why)) => self.emit(EventKind::Warning {
                    message: format!("not landed: {why}"),
                }),
                Err(err) => self.emit(EventKind::Warning {
                    message: format!("not landed: {err}"),
                }),
            }
        }
        let summary = self.summary(outcome);
        // A run stopped by Ctrl-C or the budget is continued by `teams resume`.
        let status = match outcome {
            RunOutcome::Interrupted | RunOutcome::BudgetReached => "interrupted",
            RunOutcome::Succeeded | RunOutcome::SomeFailed => "finished",
        };
        let recorded =
            self.store
                .set_run_status(&self.shared.git.run_id, status, Some(outcome.as_str()));
        if let Err(err) = recorded {
            return Err(err.into());
        }
        self.emit(EventKind::RunFinished {
            summary: summary.clone(),
        });
        Ok(summary)
    }

    fn outcome(&self) -> RunOutcome {
        if self.interrupted {
            return RunOutcome::Interrupted;
        }
        if self.budget_reached {
            return RunOutcome::BudgetReached;
        }
        let all_done = self.units.iter().all(|u| {
            self.doc.prd().epic(u.id.as_str()).is_some_and(|e| {
                e.status == EpicStatus::Completed && e.stories.iter().all(|s| s.passes)
            })
        });
        if all_done {
            RunOutcome::Succeeded
        } else {
            RunOutcome::SomeFailed
        }
    }

    fn summary(&self, outcome: RunOutcome) -> RunSummary {
        let git = &self.shared.git;
        let units = self
            .units
            .iter()
            .filter_map(|u| self.doc.prd().epic(u.id.as_str()))
            .map(|epic| UnitSummary {
                id: UnitId::new(epic.id.as_str()),
                title: epic.title.clone(),
                status: epic.status,
                reason: epic.failure_reason.clone(),
                stories: epic
                    .stories_in_run_order()
                    .into_iter()
                    .map(|s| StorySummary {
                        id: s.id.clone(),
                        title: s.title.clone(),
                        passed: s.passes,
                        attempts: s.attempts,
                        commit: s.commit_sha.clone(),
                        reason: s.failure_reason.clone(),
                        cost_usd: self.story_costs.get(&s.id).copied().unwrap_or(0.0),
                    })
                    .collect(),
                cost_usd: self
                    .costs
                    .get(&UnitId::new(epic.id.as_str()))
                    .copied()
                    .unwrap_or(0.0),
            })
            .collect();
        RunSummary {
            run_id: git.run_id.clone(),
            base: git.base.clone(),
            integration_branch: git.integration_branch.clone(),
            units,
            duration: self.started.elapsed(),
            cost_usd: self.costs.values().fold(0.0, |a, b| a + b),
            simulated: self.simulated,
            outcome,
            landed: self.landed,
        }
    }
}

/// Each unit's dependencies for the scheduling policy: units of this run by index, others by
/// their recorded status.
fn dependencies(units: &[Unit], doc: &RunRecords) -> Vec<Vec<Dependency>> {
    units
        .iter()
        .map(|unit| {
            unit.depends_on
                .iter()
                .map(|dep| match units.iter().position(|u| &u.id == dep) {
                    Some(index) => Dependency::Unit(index),
                    None => Dependency::Outside {
                        completed: doc
                            .prd()
                            .epic(dep.as_str())
                            .is_some_and(|e| e.status == EpicStatus::Completed),
                    },
                })
                .collect()
        })
        .collect()
}
