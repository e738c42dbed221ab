//! Interactive sessions: handing the user's terminal to an agent CLI (`teams init`, `teams plan`
//! without `--auto`, `teams discuss`).
//!
//! A session is the opposite of a supervised run: the agent must own the terminal, so it is *not*
//! put in a process group of its own (a background group reading the terminal gets SIGTTIN and
//! stops), its stdin, stdout and stderr are the user's, and nothing is captured. While it runs,
//! `teams` ignores SIGINT and SIGQUIT, so a Ctrl-C meant for the agent (most CLIs use it to cancel
//! a turn) does not kill `teams` and leave the user's work half recorded; the child gets the
//! default actions back before it starts, because an ignored signal stays ignored across `exec`.
//! Afterwards the terminal modes saved before the session are put back, in case the CLI died in
//! raw mode, and so are the signal actions — also when the wait fails or panics (a guard).

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};

use super::backend::Backend;
use super::invocation::Invocation;

/// How an interactive session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    /// The exit code, when the agent exited by itself.
    pub exit_code: Option<i32>,
    /// The signal that ended it, otherwise.
    pub signal: Option<i32>,
}

impl SessionEnd {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `exit code 3` / `signal 9`, for messages.
    pub fn describe(&self) -> String {
        match (self.exit_code, self.signal) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            (None, None) => "an unknown status".to_owned(),
        }
    }
}

/// Why a session could not be held.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("failed to write the prompt file {path}")]
    PromptFile {
        path: String,
        #[source]
        source: io::Error,
    },
    /// The CLI could not be started (usually: not installed).
    #[error("failed to start `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("failed to wait for `{program}`")]
    Wait {
        program: String,
        #[source]
        source: io::Error,
    },
}

impl SessionError {
    /// Whether the program was not found (the CLI is not installed or not on `PATH`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SessionError::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// Runs `backend`'s interactive form for `invocation` attached to this process's terminal, and
/// waits for the user to end it. The prompt is written to `invocation.prompt_file` first (the CLI
/// gets it as its initial prompt, and `TEAMS_PROMPT_FILE` names the file).
pub fn run_session(
    backend: &dyn Backend,
    invocation: &Invocation,
) -> Result<SessionEnd, SessionError> {
    write_prompt(invocation).map_err(|source| SessionError::PromptFile {
        path: invocation.prompt_file.display().to_string(),
        source,
    })?;
    let spec = backend.interactive_command(invocation);
    let program = spec.program.to_string_lossy().into_owned();
    let mut command = Command::new(&spec.program);
    command.args(&spec.args).current_dir(&spec.cwd);
    for name in super::withheld() {
        command.env_remove(name);
    }
    for (key, value) in &spec.env {
        command.env(key, value);
    }
    // SAFETY: the closure runs in the child between fork and exec and only calls `sigaction`,
    // which is async-signal-safe; it allocates nothing and touches no lock.
    unsafe {
        command.pre_exec(|| {
            for signal in [Signal::SIGINT, Signal::SIGQUIT] {
                let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
                sigaction(signal, &default).map_err(io::Error::from)?;
            }
            Ok(())
        });
    }
    let guard = TerminalGuard::take();
    let mut child = command.spawn().map_err(|source| SessionError::Spawn {
        program: program.clone(),
        source,
    })?;
    let status = child
        .wait()
        .map_err(|source| SessionError::Wait { program, source })?;
    drop(guard);
    Ok(SessionEnd {
        exit_code: status.code(),
        signal: status.signal(),
    })
}

fn write_prompt(invocation: &Invocation) -> io::Result<()> {
    if let Some(dir) = invocation.prompt_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&invocation.prompt_file, &invocation.prompt)
}

/// While alive: SIGINT and SIGQUIT ignored, and the terminal modes of stdin remembered. Dropping
/// it restores both.
struct TerminalGuard {
    termios: Option<Termios>,
    previous: Vec<(Signal, SigAction)>,
}

impl TerminalGuard {
    fn take() -> TerminalGuard {
        // Not a terminal (a pipe, /dev/null): nothing to restore.
        let termios = tcgetattr(io::stdin()).ok();
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        let mut previous = Vec::new();
        for signal in [Signal::SIGINT, Signal::SIGQUIT] {
            // SAFETY: installing SIG_IGN runs no handler code, so it cannot break any invariant.
            if let Ok(old) = unsafe { sigaction(signal, &ignore) } {
                previous.push((signal, old));
            }
        }
        TerminalGuard { termios, previous }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some(termios) = &self.termios {
            let _ = tcsetattr(io::stdin(), SetArg::TCSADRAIN, termios);
        }
        for (signal, old) in self.previous.drain(..) {
            // SAFETY: puts back exactly the action that was installed before the session.
            let _ = unsafe { sigaction(signal, &old) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{CommandBackend, CommandBackendConfig, Output, Role};

    /// Sessions change process-wide signal actions: the tests that hold one take turns, so one
    /// test's check of the restored actions never sees another's session in progress.
    static SESSIONS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn backend(script: &str) -> CommandBackend {
        let config = CommandBackendConfig {
            command: vec!["sh".into(), "-c".into(), script.into()],
            output: Output::Text,
            interactive_command: None,
        };
        CommandBackend::new("sh", config).unwrap()
    }

    #[test]
    fn a_session_gets_the_prompt_file_and_the_teams_environment() {
        let _turn = SESSIONS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let inv = Invocation::new(
            Role::Discuss,
            "talk about US-001",
            dir.path().join("talk/discuss.1.prompt.md"),
            dir.path(),
            dir.path(),
        );
        let script = "test \"$TEAMS_ROLE\" = discuss && grep -q US-001 \"$TEAMS_PROMPT_FILE\" \
                      && echo ok > seen.txt";
        let end = run_session(&backend(script), &inv).unwrap();
        assert!(end.success(), "{end:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("seen.txt")).unwrap(),
            "ok\n"
        );
    }

    #[test]
    fn the_agent_gets_default_signal_actions_and_teams_gets_its_own_back() {
        let _turn = SESSIONS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let inv = Invocation::new(
            Role::Init,
            "p",
            dir.path().join("p.md"),
            dir.path(),
            dir.path(),
        );
        // The shell kills itself with SIGINT: with the action inherited as "ignore" it would live.
        let end = run_session(&backend("kill -INT $$; exit 7"), &inv).unwrap();
        assert_eq!(end.signal, Some(libc::SIGINT), "{end:?}");
        assert_eq!(end.describe(), "signal 2");
        // SAFETY: reading the current action by installing it again unchanged.
        let current = unsafe {
            let probe = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
            let old = sigaction(Signal::SIGQUIT, &probe).unwrap();
            sigaction(Signal::SIGQUIT, &old).unwrap();
            old
        };
        assert!(matches!(current.handler(), SigHandler::SigDfl));
    }

    #[test]
    fn a_missing_program_is_reported_as_not_found() {
        let _turn = SESSIONS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let config = CommandBackendConfig {
            command: vec!["teams-no-such-agent-cli".into()],
            output: Output::Text,
            interactive_command: None,
        };
        let missing = CommandBackend::new("x", config).unwrap();
        let inv = Invocation::new(
            Role::Init,
            "p",
            dir.path().join("p.md"),
            dir.path(),
            dir.path(),
        );
        let err = run_session(&missing, &inv).unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert_eq!(err.to_string(), "failed to start `teams-no-such-agent-cli`");
    }
}
