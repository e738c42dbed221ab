//! Reporters: everything a run shows or records is derived from its [`RunEvent`]s.
//!
//! The run loop never prints. It hands each event to one [`Reporter`] (in practice a [`FanOut`]),
//! and each sink decides what to do with it: the terminal reporter draws live rows and prints the
//! milestones and the final summary, the JSON-lines reporter appends the event log. Keeping the
//! loop to "emit an event" means it can be tested without a terminal, and a new sink (Discord) is
//! one more `Box<dyn Reporter>` rather than a change to the loop (style example 7).
//!
//! [`RunEvent`]: crate::run::RunEvent

pub mod discord;
mod fan_out;
mod jsonl;
pub mod terminal;
#[cfg(test)]
mod test_events;

pub use fan_out::{FanOut, Reporter};
pub use jsonl::{JSONL_VERSION, JsonLinesReporter};
pub use terminal::{TerminalMode, TerminalReporter, use_progress};
