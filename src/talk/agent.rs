//! The agent of a conversation command (`init`, `plan`, `discuss`): which backend and model it runs
//! on, where its prompt and transcript go, and running it either in print mode (the `--yes` and
//! `--auto` forms) or attached to the terminal.
//!
//! Which role's settings apply: `plan` uses the planner's, `init` and `discuss` the builder's
//! (they work on the same code a builder will; this matches the run loop's mapping of those
//! roles), and a `--backend` flag overrides the backend. `sim` cannot hold a conversation, so it is
//! refused with a hint instead of pretending.

use std::path::{Path, PathBuf};

use crate::agent::{
    AgentLimits, AgentRun, Backend, FailureClass, Invocation, Role, SessionEnd, SessionError,
    command_backends, resolve_backend, run_session,
};
use crate::config::{BackendName, BuiltinBackend, Config};
use crate::error::{ErrorKind, Result, TeamsError};
use crate::supervisor::CancelHandle;

/// A prompt file and a transcript for one conversation agent, under `.teams/talk/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkFiles {
    pub prompt: PathBuf,
    pub log: PathBuf,
}

/// `.teams/talk/<subject>.<role>.<n>.prompt.md` and `.log`, with `n` the first number not used
/// yet, so every agent of every session keeps its files (`init` may run the agent several times).
pub fn talk_files(repo_root: &Path, subject: &str, role: Role) -> TalkFiles {
    let dir = repo_root.join(".teams").join("talk");
    let stem = |n: u32| format!("{subject}.{role}.{n}");
    let n = (1..)
        .find(|n| !dir.join(format!("{}.prompt.md", stem(*n))).exists())
        .unwrap_or(1);
    TalkFiles {
        prompt: dir.join(format!("{}.prompt.md", stem(n))),
        log: dir.join(format!("{}.log", stem(n))),
    }
}

/// The agent a conversation command talks to.
#[derive(Debug)]
pub struct TalkAgent {
    /// The backend's name as configured (`claude`, a `[backends.NAME]`).
    pub backend_name: String,
    backend: Box<dyn Backend>,
    model: Option<String>,
    reasoning: Option<String>,
    limits: AgentLimits,
}

impl TalkAgent {
    /// The agent for `role` (`Init`, `Planner` or `Discuss`) from the config, with `backend` (a
    /// `--backend` flag or the user's choice) overriding the configured one.
    pub fn resolve(config: &Config, role: Role, backend: Option<&str>) -> Result<TalkAgent> {
        let settings = config.role(match role {
            Role::Planner => crate::config::Role::Planner,
            _ => crate::config::Role::Builder,
        });
        let name = match backend {
            Some(name) => name.to_owned(),
            None => match &settings.backend.value {
                BackendName::Builtin(b) => b.as_str().to_owned(),
                BackendName::Command(name) => name.clone(),
            },
        };
        if name == BuiltinBackend::Sim.as_str() {
            return Err(TeamsError::usage(format!(
                "the `sim` backend cannot hold a conversation (teams {role} needs a real agent CLI)"
            ))
            .with_hint("pass `--backend claude` (or codex, copilot, gemini, opencode)")
            .with_hint("`teams doctor` shows which agent CLIs are installed"));
        }
        let backend = resolve_backend(&name, &command_backends(config)).map_err(|err| {
            TeamsError::usage(err.to_string())
                .with_hint("define it as [backends.NAME] in teams.toml, or pick a built-in one")
        })?;
        Ok(TalkAgent {
            backend_name: name,
            backend,
            model: settings.model.as_ref().map(|m| m.value.clone()),
            reasoning: settings.reasoning.as_ref().map(|r| r.value.clone()),
            limits: AgentLimits {
                timeout: Some(settings.timeout.value.as_std()).filter(|d| !d.is_zero()),
                idle_timeout: Some(settings.idle_timeout.value.as_std()).filter(|d| !d.is_zero()),
                grace: config.grace_period.value.as_std(),
            },
        })
    }

    /// An invocation of this agent in `repo_root` (the user's checkout: a conversation works on
    /// the real files, `prd.json` and `.teams/`).
    pub fn invocation(
        &self,
        role: Role,
        prompt: String,
        files: &TalkFiles,
        repo_root: &Path,
    ) -> Invocation {
        let mut invocation = Invocation::new(role, prompt, &files.prompt, repo_root, repo_root);
        invocation.model = self.model.clone();
        invocation.reasoning = self.reasoning.clone();
        invocation
    }

    /// Runs the agent once in print mode, to its end; Ctrl-C stops it (SIGINT to its group, then
    /// SIGKILL after the grace period) and gives an interrupted error.
    pub fn run_print(&self, invocation: &Invocation, transcript: &Path) -> Result<AgentRun> {
        let run = run_until_done_or_ctrl_c(|cancel| {
            crate::agent::run_agent(
                self.backend.as_ref(),
                invocation,
                self.limits,
                Some(transcript.to_path_buf()),
                cancel,
                |_| {},
            )
        })?;
        match &run.failure {
            Some(FailureClass::Cancelled) => Err(interrupted(invocation.role)),
            Some(
                failure @ (FailureClass::NotLoggedIn { .. } | FailureClass::NotInstalled { .. }),
            ) => Err(self.setup_error(failure.describe(invocation.role.as_str()), failure)),
            _ => Ok(run),
        }
    }

    /// Hands the terminal to the agent's interactive form and waits until the user ends it.
    pub fn run_session(&self, invocation: &Invocation) -> Result<SessionEnd> {
        run_session(self.backend.as_ref(), invocation).map_err(|err| self.session_error(err))
    }

    fn session_error(&self, err: SessionError) -> TeamsError {
        if err.is_not_found() {
            let mut error = TeamsError::environment(format!(
                "`{}` is not installed or not on PATH ({} backend)",
                self.backend.program(),
                self.backend_name
            ));
            if let Some(hint) = self.backend.install_hint() {
                error = error.with_hint(format!("install it: {hint}"));
            }
            return error.with_hint("`teams doctor` shows which agent CLIs are installed");
        }
        TeamsError::environment(err.to_string()).with_source(err)
    }

    fn setup_error(&self, message: String, failure: &FailureClass) -> TeamsError {
        let mut error =
            TeamsError::environment(format!("{message} ({} backend)", self.backend_name));
        let hint = match failure {
            FailureClass::NotLoggedIn { .. } => Some(self.backend.login_hint()),
            _ => self
                .backend
                .install_hint()
                .map(|hint| format!("install it: {hint}")),
        };
        if let Some(hint) = hint {
            error = error.with_hint(hint);
        }
        error.with_hint("`teams doctor` checks every backend")
    }
}

/// Runs the future `start` makes on a fresh runtime; a Ctrl-C meanwhile asks it to stop through
/// its cancel handle (SIGINT to the agent's process group, SIGKILL after the grace period), so the
/// agent, which lives in a process group of its own, is never left running after `teams` ends.
pub fn run_until_done_or_ctrl_c<F, T>(start: impl FnOnce(CancelHandle) -> F) -> Result<T>
where
    F: std::future::Future<Output = T>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            TeamsError::internal("failed to start the async runtime").with_source(err)
        })?;
    let cancel = CancelHandle::new();
    runtime.block_on(async {
        // Registered before the agent starts, so no Ctrl-C can slip in between.
        let mut ctrl_c = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|err| TeamsError::internal("failed to watch for Ctrl-C").with_source(err))?;
        let on_ctrl_c = cancel.clone();
        let watcher = tokio::spawn(async move {
            if ctrl_c.recv().await.is_some() {
                on_ctrl_c.interrupt();
            }
        });
        let result = start(cancel).await;
        watcher.abort();
        Ok(result)
    })
}

/// The error for an agent run that Ctrl-C stopped.
pub fn interrupted(role: Role) -> TeamsError {
    TeamsError::new(
        ErrorKind::Interrupted,
        format!("interrupted; the {role} agent was stopped"),
    )
    .with_hint("run the same command again to start over")
}

/// The agent's failure as one line for a message ("crashed with exit code 3", …).
pub fn describe_failure(run: &AgentRun, role: Role) -> Option<String> {
    run.failure.as_ref().map(|f| f.describe(role.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn talk_files_never_reuse_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let first = talk_files(dir.path(), "prd", Role::Init);
        assert_eq!(
            first.prompt,
            dir.path().join(".teams/talk/prd.init.1.prompt.md")
        );
        assert_eq!(first.log, dir.path().join(".teams/talk/prd.init.1.log"));
        std::fs::create_dir_all(first.prompt.parent().unwrap()).unwrap();
        std::fs::write(&first.prompt, "p").unwrap();
        let second = talk_files(dir.path(), "prd", Role::Init);
        assert_eq!(second.log, dir.path().join(".teams/talk/prd.init.2.log"));
    }

    #[test]
    fn sim_and_unknown_backends_are_usage_errors() {
        let no_env: [(&str, &str); 0] = [];
        let config =
            Config::resolve(None, no_env, &crate::config::ConfigOverrides::default()).unwrap();
        let err = TalkAgent::resolve(&config, Role::Init, Some("sim")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().contains("cannot hold a conversation"));
        let err = TalkAgent::resolve(&config, Role::Discuss, Some("amp")).unwrap_err();
        assert!(
            err.message().contains("unknown agent backend `amp`"),
            "{err}"
        );
        let agent = TalkAgent::resolve(&config, Role::Planner, None).unwrap();
        assert_eq!(agent.backend_name, "claude");
    }
}
