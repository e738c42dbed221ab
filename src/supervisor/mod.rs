//! The process layer: runs one agent CLI as a supervised child process (its own process group,
//! streamed output, timeouts, graceful stop with escalation) and reports the facts as a
//! [`ProcessOutcome`](crate::agent::ProcessOutcome).

mod cancel;
mod collect;
mod group;
mod lines;
mod process;
mod transcript;

pub use cancel::{CancelHandle, StopRequest};
pub use process::{GiveUp, SuperviseOptions, supervise};
