//! The terminal reporter: live rows while a run works, milestones that stay in the scrollback,
//! and the final summary.
//!
//! On a terminal it draws (indicatif rows redrawn on the loop's tick); in CI or through a pipe it
//! prints plain lines, so logs read top to bottom; with `--quiet` it prints only warnings. The
//! text itself comes from [`format`](mod@format), which is pure and snapshot-tested.

pub mod format;
mod progress;
mod reporter;

pub use progress::{LiveRow, LiveState, use_progress};
pub use reporter::{TerminalMode, TerminalReporter};
