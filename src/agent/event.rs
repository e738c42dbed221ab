//! The normalised events every backend's output parser produces, and the failure classes an agent
//! run ends in.
//!
//! This is the shared language between the backends (which turn each CLI's stream into these
//! events), the supervisor (which feeds output lines to a parser while it watches the process) and
//! the run loop (which decides from a [`FailureClass`] whether an attempt counts, spec §4.3).

use std::time::SystemTime;

/// Token counts reported by an agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The end-of-run report an agent printed (Claude's `result` event, Codex's `turn.completed` plus
/// its last agent message, Gemini's JSON object, …).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinalReport {
    /// The final message: the plan, the handoff line or the verdict block.
    pub text: String,
    /// Cost in USD as reported by the CLI (`None` when the CLI reports none, e.g. Codex).
    pub cost_usd: Option<f64>,
    pub usage: Option<Usage>,
    pub session_id: Option<String>,
    /// The CLI said the run failed (Claude's `is_error`, an error result, …).
    pub is_error: bool,
}

/// One normalised event read from an agent's output.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The process started (emitted by the supervisor, not parsed): its pid, which also leads
    /// its process group. The run store records it so a later `teams resume` can stop an agent
    /// that outlived a crashed `teams`.
    Spawned { pid: u32 },
    /// The CLI announced its session (and model, when it says).
    SessionStarted {
        session_id: String,
        model: Option<String>,
    },
    /// A piece of assistant text (a delta or a whole message).
    Text(String),
    /// The agent used a tool; only the name is kept.
    ToolUse { name: String },
    /// The CLI is retrying its API (Claude `api_retry`, Codex `Reconnecting…`, Gemini `Attempt N
    /// failed`). Many in a row mean the agent is stuck on the network.
    Retry { message: String },
    /// An error the CLI reported in its stream (not necessarily fatal).
    Error { message: String },
    /// The final report; a CLI prints at most one (the last one wins).
    Final(FinalReport),
}

/// Why an agent run did not produce a usable result. `None` of these means it finished normally.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum FailureClass {
    /// The program could not be started (not on `PATH`, not executable).
    NotInstalled { program: String, error: String },
    /// The CLI is not logged in or its credentials were refused: a setup error, not a failed story.
    NotLoggedIn { evidence: String },
    /// The CLI hit a usage or rate limit; the attempt does not count (spec §4.3).
    UsageLimit {
        evidence: String,
        /// When the CLI said the limit resets, if it said.
        #[serde(skip)]
        resets_at: Option<SystemTime>,
    },
    /// The wall-clock timeout expired.
    WallTimeout { after_secs: u64 },
    /// No output for the idle timeout.
    IdleTimeout { after_secs: u64 },
    /// The process exited non-zero or died from a signal.
    Crashed {
        exit_code: Option<i32>,
        signal: Option<i32>,
        stderr_tail: String,
    },
    /// The process exited 0 but printed no final message.
    EmptyOutput,
    /// `teams` stopped the agent itself (Ctrl-C, shutdown); the attempt does not count.
    Cancelled,
}

impl FailureClass {
    /// Whether an attempt that ended this way counts against the story's attempts (spec §4.3):
    /// crashes and timeouts count; limits, setup problems and our own interruptions do not.
    pub fn counts_as_attempt(&self) -> bool {
        matches!(
            self,
            FailureClass::WallTimeout { .. }
                | FailureClass::IdleTimeout { .. }
                | FailureClass::Crashed { .. }
                | FailureClass::EmptyOutput
        )
    }
}

impl FailureClass {
    /// One sentence for a person ("the builder crashed …"), naming the `agent` that failed.
    pub fn describe(&self, agent: &str) -> String {
        match self {
            FailureClass::NotInstalled { program, error } => {
                format!("the {agent} could not be started (`{program}`): {error}")
            }
            FailureClass::NotLoggedIn { evidence } => {
                format!("the {agent}'s CLI is not logged in: {evidence}")
            }
            FailureClass::UsageLimit { evidence, .. } => {
                format!("the {agent} hit a usage or rate limit: {evidence}")
            }
            FailureClass::WallTimeout { after_secs } => {
                format!("the {agent} timed out after {after_secs} s and was stopped")
            }
            FailureClass::IdleTimeout { after_secs } => {
                format!("the {agent} printed nothing for {after_secs} s and was stopped")
            }
            FailureClass::Crashed {
                exit_code,
                signal,
                stderr_tail,
            } => {
                let how = match (exit_code, signal) {
                    (Some(code), _) => format!("exit code {code}"),
                    (None, Some(sig)) => format!("signal {sig}"),
                    (None, None) => "no exit status".to_owned(),
                };
                let tail = stderr_tail.trim();
                if tail.is_empty() {
                    format!("the {agent} crashed ({how})")
                } else {
                    format!("the {agent} crashed ({how}): {tail}")
                }
            }
            FailureClass::EmptyOutput => format!("the {agent} exited without a final message"),
            FailureClass::Cancelled => format!("the {agent} was stopped by teams"),
        }
    }
}
