//! One call that runs any backend end to end: write the prompt file, build the command line,
//! supervise the process, and classify how it ended.
//!
//! Every caller (the run loop's roles, `init --yes`, `plan --auto`, `discuss --yes`) needs the same
//! four steps in the same order, and each has a trap when done by hand: the prompt file must exist
//! before the agent starts (it is named in `TEAMS_PROMPT_FILE`), and a timeout must be reported
//! with the limit that was configured, not with however long the process took to die. Keeping
//! them here means no caller can get them wrong.

use std::path::PathBuf;
use std::time::Duration;

use super::backend::Backend;
use super::classify::classify;
use super::event::{AgentEvent, FailureClass, Usage};
use super::invocation::Invocation;
use super::outcome::ProcessOutcome;
use crate::supervisor::{CancelHandle, SuperviseOptions, supervise};

/// The time limits of one agent run (from the role's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentLimits {
    /// Wall-clock limit from spawn; `None`: none.
    pub timeout: Option<Duration>,
    /// Limit on time without output; `None`: none.
    pub idle_timeout: Option<Duration>,
    /// How long a stop waits after SIGTERM before SIGKILL.
    pub grace: Duration,
}

impl Default for AgentLimits {
    fn default() -> Self {
        AgentLimits {
            timeout: None,
            idle_timeout: None,
            grace: SuperviseOptions::default().grace,
        }
    }
}

/// What one agent run produced, and how it ended.
#[derive(Debug, Clone)]
pub struct AgentRun {
    /// The agent's final message, when it printed one.
    pub final_text: Option<String>,
    /// Cost in USD as the CLI reported it.
    pub cost_usd: Option<f64>,
    pub usage: Option<Usage>,
    pub session_id: Option<String>,
    /// Why the run did not produce a usable result; `None`: it succeeded.
    pub failure: Option<FailureClass>,
    /// The raw facts the supervisor recorded.
    pub outcome: ProcessOutcome,
}

impl AgentRun {
    /// Whether the agent finished normally with a final message.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs `invocation` on `backend` to its end.
///
/// Writes `invocation.prompt` to `invocation.prompt_file` (creating its directory) before spawning.
/// When that fails the agent is not started, and the run ends as a spawn error
/// ([`FailureClass::NotInstalled`] whose `error` names the prompt file), so classification stays
/// in one place. `transcript` receives the raw output. Every parsed event goes to `on_event` as it
/// arrives.
pub async fn run_agent(
    backend: &dyn Backend,
    invocation: &Invocation,
    limits: AgentLimits,
    transcript: Option<PathBuf>,
    cancel: CancelHandle,
    on_event: impl FnMut(&AgentEvent),
) -> AgentRun {
    let outcome = match write_prompt(invocation) {
        Ok(()) => {
            let opts = SuperviseOptions {
                transcript_path: transcript,
                timeout: limits.timeout,
                idle_timeout: limits.idle_timeout,
                grace: limits.grace,
                give_up: backend.give_up(),
                ..SuperviseOptions::default()
            };
            supervise(
                backend.command(invocation),
                backend.parser(),
                opts,
                cancel,
                on_event,
            )
            .await
        }
        Err(error) => ProcessOutcome {
            spawn_error: Some(format!(
                "failed to write the prompt file {}: {error}",
                invocation.prompt_file.display()
            )),
            ..ProcessOutcome::default()
        },
    };
    let failure = classify(backend, &outcome).map(|class| with_configured_limit(class, limits));
    let report = outcome.final_report.as_ref();
    AgentRun {
        final_text: report
            .map(|r| r.text.clone())
            .filter(|text| !text.trim().is_empty()),
        cost_usd: report.and_then(|r| r.cost_usd),
        usage: report.and_then(|r| r.usage),
        session_id: report.and_then(|r| r.session_id.clone()),
        failure,
        outcome,
    }
}

fn write_prompt(invocation: &Invocation) -> std::io::Result<()> {
    if let Some(dir) = invocation.prompt_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&invocation.prompt_file, &invocation.prompt)
}

/// A timeout names the limit that was configured: the process's measured duration also holds the
/// grace period and draining, which would make "timed out after 3605 s" for a 3600 s limit.
fn with_configured_limit(class: FailureClass, limits: AgentLimits) -> FailureClass {
    match class {
        FailureClass::WallTimeout { after_secs } => FailureClass::WallTimeout {
            after_secs: limits.timeout.map_or(after_secs, |t| t.as_secs()),
        },
        FailureClass::IdleTimeout { after_secs } => FailureClass::IdleTimeout {
            after_secs: limits.idle_timeout.map_or(after_secs, |t| t.as_secs()),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_report_the_configured_limit() {
        let limits = AgentLimits {
            timeout: Some(Duration::from_secs(3600)),
            idle_timeout: Some(Duration::from_secs(600)),
            grace: Duration::from_secs(10),
        };
        assert_eq!(
            with_configured_limit(FailureClass::WallTimeout { after_secs: 3611 }, limits),
            FailureClass::WallTimeout { after_secs: 3600 }
        );
        assert_eq!(
            with_configured_limit(FailureClass::IdleTimeout { after_secs: 612 }, limits),
            FailureClass::IdleTimeout { after_secs: 600 }
        );
        assert_eq!(
            with_configured_limit(FailureClass::EmptyOutput, limits),
            FailureClass::EmptyOutput
        );
    }
}
