//! Agents: the backends that know each coding-agent CLI, their output parsers and failure classes.

pub mod event;
pub mod outcome;
pub mod parser;
pub mod spec;

pub use event::{AgentEvent, FailureClass, FinalReport, Usage};
pub use outcome::{ProcessOutcome, TimeoutKind};
pub use parser::OutputParser;
pub use spec::{CommandSpec, StdinInput};
