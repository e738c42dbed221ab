//! What unit workers tell the dispatcher. Workers never touch `prd.json`, the progress file or the
//! reporters themselves: they send these messages, and a result that must be durable before the
//! worker goes on carries an `ack` the dispatcher answers once it is written (the handshake the
//! state store will extend to every transition).

use tokio::sync::oneshot;

use crate::error::TeamsError;
use crate::prd::{StoryId, StoryResult};

use super::events::EventKind;
use super::unit::UnitId;

/// A message from a unit worker.
pub enum WorkerMsg {
    /// Something for the reporters.
    Event(EventKind),
    /// The planner wrote the unit's plan file: set `"planned": true`.
    Planned { unit: UnitId },
    /// A story's result (final or an attempt count on the way): write it, then answer `ack`.
    StoryRecord {
        unit: UnitId,
        story: StoryId,
        result: StoryResult,
        /// For `.teams/progress.md`, on a final result.
        entry: Option<ProgressEntry>,
        ack: oneshot::Sender<()>,
    },
    /// The worker is done with its unit.
    Finished { unit: UnitId, end: WorkerEnd },
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
