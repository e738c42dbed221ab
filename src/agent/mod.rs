//! Agents: the backends that know each coding-agent CLI, their output parsers and failure classes.

mod backend;
pub mod backends;
pub mod classify;
pub mod event;
mod invocation;
pub mod outcome;
pub mod parser;
pub mod parsers;
pub mod redact;
mod registry;
pub mod reset_time;
mod run;
mod session;
pub mod spec;
mod withheld;

pub use backend::{
    Backend, LoginCheck, LoginStatus, MAX_PROMPT_ARG_BYTES, ProbeOutput, PromptMode,
    credentials_status,
};
pub use backends::{CommandBackend, CommandBackendConfig, Output};
pub use classify::classify;
pub use event::{AgentEvent, FailureClass, FinalReport, Usage};
pub use invocation::{Invocation, Role, teams_env};
pub use outcome::{ProcessOutcome, TimeoutKind};
pub use parser::OutputParser;
pub use registry::{
    BUILTIN_BACKENDS, BackendError, builtin_backend, command_backends, resolve_backend,
};
pub use run::{AgentLimits, AgentRun, run_agent};
pub use session::{SessionEnd, SessionError, run_session};
pub use spec::{CommandSpec, StdinInput};
pub use withheld::{withheld, withhold_from_agents};
