//! Which agent plays a role for a unit, and running it: a real CLI through
//! [`run_agent`](crate::agent::run_agent), or the in-process `sim` agent (spec §5.4). The loop
//! calls one function for both, so the pushback rule cannot tell them apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::agent::{
    AgentEvent, AgentLimits, Backend, BackendError, CommandBackendConfig, FailureClass, Invocation,
    Role, command_backends, resolve_backend,
};
use crate::config::{BackendName, BuiltinBackend, Config};
use crate::git::Checkout;
use crate::prd::Story;

use super::unit::Unit;

/// The four roles that have settings in `teams.toml`.
fn settings_role(role: Role) -> crate::config::Role {
    match role {
        Role::Planner => crate::config::Role::Planner,
        Role::Validator => crate::config::Role::Validator,
        Role::Merger => crate::config::Role::Merger,
        Role::Builder | Role::Init | Role::Discuss => crate::config::Role::Builder,
    }
}

/// The agents of a run, resolved from the config per role and unit.
#[derive(Debug, Clone)]
pub struct AgentSet {
    config: Config,
    commands: BTreeMap<String, CommandBackendConfig>,
}

/// The agent that plays one role for one unit.
pub struct RoleAgent {
    pub backend: String,
    pub model: Option<String>,
    pub reasoning: Option<String>,
    pub limits: AgentLimits,
    kind: AgentKind,
}

enum AgentKind {
    Process(Box<dyn Backend>),
    Sim,
}

impl AgentSet {
    pub fn new(config: &Config) -> AgentSet {
        AgentSet {
            config: config.clone(),
            commands: command_backends(config),
        }
    }

    /// The backend names a run of `units` uses, each once (for the pre-flight checks).
    pub fn backend_names(&self, units: &[Unit]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let roles = [Role::Planner, Role::Builder, Role::Validator, Role::Merger];
        for role in roles {
            names.push(
                self.config
                    .role(settings_role(role))
                    .backend
                    .value
                    .to_string(),
            );
        }
        names.extend(units.iter().filter_map(|u| u.backend.clone()));
        names.sort();
        names.dedup();
        names
    }

    /// Whether every role of every unit runs on `sim` (the run is a simulation).
    pub fn all_simulated(&self, units: &[Unit]) -> bool {
        self.backend_names(units)
            .iter()
            .all(|n| n == BuiltinBackend::Sim.as_str())
    }

    /// The agent for `role` in `unit`. A unit's `backend`/`model` override the builder's and
    /// planner's; the validator and merger keep their own, so a unit cannot mark its own work.
    pub fn resolve(&self, role: Role, unit: &Unit) -> Result<RoleAgent, BackendError> {
        let settings = self.config.role(settings_role(role));
        let overrides = matches!(role, Role::Builder | Role::Planner);
        let backend_name = match unit.backend.as_deref().filter(|_| overrides) {
            Some(name) => name.to_owned(),
            None => match &settings.backend.value {
                BackendName::Builtin(b) => b.as_str().to_owned(),
                BackendName::Command(name) => name.clone(),
            },
        };
        let model = unit
            .model
            .clone()
            .filter(|_| overrides)
            .or_else(|| settings.model.as_ref().map(|m| m.value.clone()));
        let limits = AgentLimits {
            timeout: Some(settings.timeout.value.as_std()).filter(|d| !d.is_zero()),
            idle_timeout: Some(settings.idle_timeout.value.as_std()).filter(|d| !d.is_zero()),
            grace: self.config.grace_period.value.as_std(),
        };
        let kind = if backend_name == BuiltinBackend::Sim.as_str() {
            AgentKind::Sim
        } else {
            AgentKind::Process(resolve_backend(&backend_name, &self.commands)?)
        };
        Ok(RoleAgent {
            backend: backend_name,
            model,
            reasoning: settings.reasoning.as_ref().map(|r| r.value.clone()),
            limits,
            kind,
        })
    }
}

/// What the `sim` agent should do; ignored by real agents, which read the prompt.
pub enum SimWork<'a> {
    Plan {
        title: &'a str,
        stories: &'a [Story],
    },
    /// `checkout` carries the repository's git settings (the commit identity).
    Build {
        story: &'a Story,
        attempt: u32,
        checkout: &'a Checkout,
    },
    Validate {
        story: &'a Story,
    },
    /// The merger: the `sim` agent resolves no conflicts, so a conflicted merge fails.
    Merge,
}

/// One agent call.
pub struct AgentCall<'a> {
    pub invocation: Invocation,
    pub transcript: PathBuf,
    pub sim: SimWork<'a>,
    /// How long the `sim` agent pretends to work (the demo slows it so the display can be seen).
    pub sim_delay: Duration,
}

/// What an agent call produced.
#[derive(Debug, Clone)]
pub struct AgentReply {
    pub final_text: Option<String>,
    pub cost_usd: Option<f64>,
    pub failure: Option<FailureClass>,
    pub duration: Duration,
    /// What the run store keeps of the process (none for the in-process `sim`).
    pub exit_code: Option<i32>,
    pub usage: Option<crate::agent::Usage>,
    pub session_id: Option<String>,
}

impl RoleAgent {
    /// What to do about a setup failure of this agent's CLI (install it, log in).
    pub fn setup_hint(&self, failure: &FailureClass) -> Option<String> {
        let AgentKind::Process(backend) = &self.kind else {
            return None;
        };
        match failure {
            FailureClass::NotLoggedIn { .. } => Some(backend.login_hint()),
            FailureClass::NotInstalled { .. } => backend
                .install_hint()
                .map(|hint| format!("install it: {hint}")),
            _ => None,
        }
    }

    /// Runs the call to its end. `on_event` sees every normalised event of a real agent.
    pub async fn run(
        &self,
        call: &AgentCall<'_>,
        cancel: crate::supervisor::CancelHandle,
        on_event: impl FnMut(&AgentEvent),
    ) -> AgentReply {
        let started = Instant::now();
        match &self.kind {
            AgentKind::Process(backend) => {
                let run = crate::agent::run_agent(
                    backend.as_ref(),
                    &call.invocation,
                    self.limits,
                    Some(call.transcript.clone()),
                    cancel,
                    on_event,
                )
                .await;
                AgentReply {
                    final_text: run.final_text,
                    cost_usd: run.cost_usd,
                    failure: run.failure,
                    duration: started.elapsed(),
                    exit_code: run.outcome.exit_code,
                    usage: run.usage,
                    session_id: run.session_id,
                }
            }
            AgentKind::Sim => {
                // The simulated agent is under way at once (what a CLI's first event says).
                let mut on_event = on_event;
                on_event(&AgentEvent::SessionStarted {
                    session_id: "sim".to_owned(),
                    model: None,
                });
                if !call.sim_delay.is_zero() {
                    tokio::time::sleep(call.sim_delay).await;
                }
                let reply = run_sim(call);
                let text = match &reply {
                    Ok(text) => text.clone(),
                    Err(err) => format!("simulation failed: {err}"),
                };
                write_sim_transcript(call, &text);
                match reply {
                    Ok(text) => AgentReply {
                        final_text: Some(text),
                        cost_usd: None,
                        failure: None,
                        duration: started.elapsed(),
                        exit_code: None,
                        usage: None,
                        session_id: None,
                    },
                    Err(err) => AgentReply {
                        final_text: None,
                        cost_usd: None,
                        failure: Some(FailureClass::Crashed {
                            exit_code: None,
                            signal: None,
                            stderr_tail: err,
                        }),
                        duration: started.elapsed(),
                        exit_code: None,
                        usage: None,
                        session_id: None,
                    },
                }
            }
        }
    }
}

fn run_sim(call: &AgentCall<'_>) -> Result<String, String> {
    let worktree: &Path = &call.invocation.worktree;
    match call.sim {
        SimWork::Plan { title, stories } => Ok(crate::sim::plan(title, stories)),
        SimWork::Build {
            story,
            attempt,
            checkout,
        } => crate::sim::build(checkout, story, attempt).map_err(|e| e.to_string()),
        SimWork::Validate { story } => Ok(crate::sim::validate(worktree, story)),
        SimWork::Merge => Err("the sim agent does not resolve merge conflicts".to_owned()),
    }
}

/// The sim leaves the same files a real agent does: the prompt (written by the caller's
/// invocation) and a transcript, so `teams logs` and the docs hold for the demo too.
fn write_sim_transcript(call: &AgentCall<'_>, text: &str) {
    let inv = &call.invocation;
    for (path, body) in [
        (&inv.prompt_file, inv.prompt.as_str()),
        (&call.transcript, text),
    ] {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, body);
    }
}
