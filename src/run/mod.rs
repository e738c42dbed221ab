//! The run loop (spec §4): units in their own worktrees, one story at a time through the pushback
//! rule, every claim checked against git, results written back to `prd.json`, finished units
//! merged into the integration branch.

pub mod events;
pub mod unit;

pub use events::{EventKind, RunEvent, RunOutcome, RunSummary, StorySummary, UnitSummary};
pub use unit::{Unit, UnitId, UnitKind, story_is_pending};
