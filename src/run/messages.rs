//! What unit workers tell the dispatcher. Workers never touch `prd.json`, the progress file or the
//! reporters themselves: they send these messages, and a result that must be durable before the
//! worker goes on carries an `ack` the dispatcher answers once it is written (the handshake the
//! state store will extend to every transition).

use tokio::sync::oneshot;

use crate::error::TeamsError;
use crate::prd::{StoryId, StoryResult};
use crate::store::AgentEnd;

use super::events::EventKind;
use super::unit::UnitId;

/// A message from a unit worker.
pub enum WorkerMsg {
    /// Something for the reporters.
    Event(EventKind),
    /// Writing `prd.json` failed (`prd_writer.rs`); the file on disk is the previous version.
    PrdWriteFailed { error: crate::prd::SaveError },
    /// The planner wrote the unit's plan file: set `"planned": true`.
    Planned { unit: UnitId },
    /// A story starts at `start_sha` (the base of its validator diff): record, then `ack`.
    StoryStarted {
        story: StoryId,
        start_sha: String,
        ack: oneshot::Sender<()>,
    },
    /// An agent is about to start: record it, then answer with the attempt's id in the store.
    AttemptStarted {
        attempt: AttemptInfo,
        ack: oneshot::Sender<i64>,
    },
    /// The agent's process exists (not acknowledged: it comes from the agent's output loop).
    AgentSpawned { attempt_id: i64, pid: u32 },
    /// The agent ended: record how, then `ack`.
    AgentEnded {
        attempt_id: i64,
        role: crate::agent::Role,
        end: AgentEnd,
        /// Cut short by a stop or a usage limit: it does not count.
        discard: bool,
        ack: oneshot::Sender<()>,
    },
    /// Verification found the build's commit: record it, then `ack`.
    CommitSeen {
        attempt_id: i64,
        commit: String,
        ack: oneshot::Sender<()>,
    },
    /// A story's result (final or an attempt count on the way): write it, then answer `ack`.
    StoryRecord {
        unit: UnitId,
        story: StoryId,
        result: StoryResult,
        /// The decided build attempt (store id) and its feedback when it failed.
        decided: Option<(i64, Option<String>)>,
        /// Where the unit branch is once this is recorded.
        tip: String,
        /// For `.teams/progress.md`, on a final result.
        entry: Option<ProgressEntry>,
        /// On disk before the ack, unless the worker's next step is a synced attempt start.
        synced: bool,
        ack: oneshot::Sender<()>,
    },
    /// The worker is done with its unit.
    Finished {
        unit: UnitId,
        end: WorkerEnd,
        /// The unit's validator checkout, for the dispatcher to remove.
        validator_checkout: Option<std::path::PathBuf>,
    },
    /// The merge job is done with a unit's merge (`merger.rs`).
    MergeFinished {
        unit: UnitId,
        result: super::merger::MergeResult,
    },
}

/// An agent call as the store records it.
pub struct AttemptInfo {
    pub unit: UnitId,
    pub story: Option<StoryId>,
    pub role: crate::agent::Role,
    pub attempt: u32,
    pub reask: bool,
    pub backend: String,
    pub model: Option<String>,
    /// HEAD of the worktree the agent starts in.
    pub start_sha: Option<String>,
}

/// How a worker's time on a unit ended.
pub enum WorkerEnd {
    /// Every pending story was worked on (passed or failed).
    Done,
    /// `teams` is stopping; the attempt in progress was discarded.
    Interrupted,
    /// Something no story can fix (an agent CLI missing or logged out): the run stops.
    Fatal(TeamsError),
}

/// One entry of `.teams/progress.md`.
#[derive(Debug, Clone)]
pub struct ProgressEntry {
    pub story: StoryId,
    pub title: String,
    pub passed: bool,
    pub attempts: u32,
    pub commit: Option<String>,
    /// Files the story's commits changed.
    pub files: Vec<String>,
    /// The validator's verdict summary or the failure reason.
    pub verdict: String,
    /// The builder's handoff line (its learnings), if it gave one.
    pub handoff: Option<String>,
}
