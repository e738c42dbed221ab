//! The events a run emits: the only language shared by the run loop, the reporters (terminal,
//! JSON log, Discord) and, later, the state journal.
//!
//! The loop never prints. It hands each [`RunEvent`] to a callback, and the reporters decide what
//! to show; that keeps the loop testable without a terminal and lets a slow sink (Discord) sit
//! behind its own channel without slowing the run (style example 7).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::agent::Role;
use crate::prd::{EpicStatus, StoryId};

use super::unit::UnitId;

/// One thing that happened during a run, stamped with the time since the run started.
#[derive(Debug, Clone, Serialize)]
pub struct RunEvent {
    /// Time since the run started.
    #[serde(serialize_with = "serialize_millis", rename = "elapsed_ms")]
    pub elapsed: Duration,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The run is set up: branches resolved, units known.
    RunStarted {
        run_id: String,
        /// The base branch the integration branch started from.
        base: String,
        integration_branch: String,
        /// Units this run will work on (pending ones; already completed units excluded).
        units: usize,
        /// Stories in those units that are still to do.
        stories: usize,
        parallel: u32,
        max_attempts: u32,
        /// The `sim` backend is in use: everything shown is a simulation (spec §5.4).
        simulated: bool,
    },
    /// A unit got its branch and worktree and starts working.
    UnitStarted {
        unit: UnitId,
        title: String,
        branch: String,
        worktree: PathBuf,
    },
    /// An agent process (or the in-process `sim` agent) started.
    AgentStarted {
        unit: UnitId,
        /// `None` for the planner and the merger, which work on the whole unit.
        story: Option<StoryId>,
        role: Role,
        attempt: u32,
        backend: String,
        model: Option<String>,
    },
    /// The agent did something worth showing (a tool use); for the live view.
    AgentActivity {
        unit: UnitId,
        story: Option<StoryId>,
        role: Role,
        /// A short description such as `Bash` or `Edit`.
        activity: String,
    },
    /// An agent ended.
    AgentFinished {
        unit: UnitId,
        story: Option<StoryId>,
        role: Role,
        attempt: u32,
        #[serde(serialize_with = "serialize_millis", rename = "duration_ms")]
        duration: Duration,
        cost_usd: Option<f64>,
        /// Why it did not produce a usable result (`None`: it finished normally).
        failure: Option<String>,
    },
    /// The builder's work did not pass the deterministic checks, or the validator failed it.
    AttemptFailed {
        unit: UnitId,
        story: StoryId,
        attempt: u32,
        /// The attempt counts against the story's attempts (crashes do; our own interruptions
        /// and usage limits do not).
        counted: bool,
        reason: String,
    },
    /// A story reached its final result for this run.
    StoryFinished {
        unit: UnitId,
        story: StoryId,
        title: String,
        passed: bool,
        attempts: u32,
        /// The validated commit (on a pass).
        commit: Option<String>,
        /// Why it failed (on a fail).
        reason: Option<String>,
    },
    /// The unit's stories are done and it waits in the merge queue; `ahead` merges come first
    /// (the one in flight included).
    MergeQueued { unit: UnitId, ahead: usize },
    /// The unit's branch was merged into the integration branch.
    UnitMerged { unit: UnitId, merge_commit: String },
    /// A unit ended; `status` is what `prd.json` now says.
    UnitFinished {
        unit: UnitId,
        status: EpicStatus,
        reason: Option<String>,
    },
    /// Something the user should know that does not stop the run.
    Warning { message: String },
    /// The open sprint closed: every todo ended, or it was stopped (spec §8). Its history file
    /// is written; this is the sprint report for the reporters and Discord.
    SprintClosed { report: crate::sprint::SprintReport },
    /// The run ended; the summary says how.
    RunFinished { summary: RunSummary },
}

/// How a run ended, for the final report and the exit code.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub base: String,
    pub integration_branch: String,
    /// Every unit of the PRD, in file order, including ones completed before this run.
    pub units: Vec<UnitSummary>,
    #[serde(serialize_with = "serialize_millis", rename = "duration_ms")]
    pub duration: Duration,
    /// Spend reported by the agents during this run, in US dollars.
    pub cost_usd: f64,
    /// The run used the `sim` backend.
    pub simulated: bool,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The base branch was moved to the integration branch (`--land`).
    pub landed: bool,
}

impl RunSummary {
    /// Stories that pass, over all stories of the PRD (`DONE: X/Y stories passed`).
    pub fn stories_passed(&self) -> (usize, usize) {
        let stories = self.units.iter().flat_map(|u| &u.stories);
        let total = stories.clone().count();
        let passed = stories.filter(|s| s.passed).count();
        (passed, total)
    }
}

/// Why the run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Every unit completed and merged.
    Succeeded,
    /// The run got through its units but some stories or units failed or were blocked.
    SomeFailed,
    /// The run was stopped by the user (Ctrl-C) and can be resumed.
    Interrupted,
    /// The spend reached `budget_usd`.
    BudgetReached,
}

impl RunOutcome {
    /// The name the JSON log and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::SomeFailed => "some-failed",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::BudgetReached => "budget-reached",
        }
    }
}

/// One unit at the end of the run.
#[derive(Debug, Clone, Serialize)]
pub struct UnitSummary {
    pub id: UnitId,
    pub title: String,
    pub status: EpicStatus,
    pub reason: Option<String>,
    pub stories: Vec<StorySummary>,
    /// Spend during this run.
    pub cost_usd: f64,
}

/// One story at the end of the run.
#[derive(Debug, Clone, Serialize)]
pub struct StorySummary {
    pub id: StoryId,
    pub title: String,
    pub passed: bool,
    pub attempts: u32,
    pub commit: Option<String>,
    pub reason: Option<String>,
    /// Spend of the story's agents (builders and validators) over the whole run, resumes included.
    pub cost_usd: f64,
}

fn serialize_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
