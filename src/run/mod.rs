//! The run loop (spec §4): units in their own worktrees, one story at a time through the pushback
//! rule, every claim checked against git, results written back to `prd.json`, finished units
//! merged into the integration branch.
//!
//! `execute` sets a run up and hands it to the `dispatcher`, the single owner of the run's
//! state; `worker` runs one unit on its own thread and `story` holds the pushback rule. The loop
//! never prints: it emits [`RunEvent`]s to an [`EventSink`].

mod ahead;
mod backend_pause;
mod dispatcher;
mod driver;
pub mod events;
mod execute;
pub mod failpoint;
mod journal;
pub mod layout;
mod leftovers;
pub mod lock;
mod merge;
mod merge_queue;
mod merger;
mod messages;
pub mod planning;
mod prd_writer;
pub mod progress_md;
mod records;
mod resume;
mod settings;
pub mod setup;
mod story;
pub mod unit;
mod unit_branch;
mod validator_checkout;
pub mod verify;
mod worker;

pub use driver::{AgentCall, AgentReply, AgentSet, RoleAgent, SimWork};
pub use events::{EventKind, RunEvent, RunOutcome, RunSummary, StorySummary, UnitSummary};
pub use execute::{RunMode, RunRequest, execute};
pub use layout::Layout;
pub use settings::RunSettings;
pub use unit::{Unit, UnitId, UnitKind, story_is_pending};

/// Where a run's events go (the reporters). Called from the dispatcher only, in order.
pub trait EventSink {
    fn event(&mut self, event: &RunEvent);
    /// Called a few times a second, for elapsed-time displays.
    fn tick(&mut self) {}
}
