//! Claude Code (`claude`).
//!
//! Print mode: `claude -p --output-format stream-json --verbose --permission-mode
//! bypassPermissions [--model M] [--effort R]`, prompt on stdin. `stream-json` needs `--verbose`
//! (else exit 1). Bypass mode is needed because under `-p` any tool call that would ask is denied
//! silently (exit 0, listed in `permission_denials`), and builders must write and commit. As root
//! Claude refuses bypass modes unless `IS_SANDBOX=1` is in its environment (checked with 2.1.330).

use std::ffi::OsString;
use std::path::Path;

use serde_json::Value;

use crate::agent::backend::{
    Backend, LoginCheck, LoginStatus, ProbeOutput, PromptMode, agent_spec, first_nonempty,
    plain_spec, prompt_arg, push_opt, running_as_root,
};
use crate::agent::classify::{Evidence, detect_setup_failure};
use crate::agent::event::FailureClass;
use crate::agent::invocation::Invocation;
use crate::agent::outcome::ProcessOutcome;
use crate::agent::parser::OutputParser;
use crate::agent::parsers::ClaudeStreamParser;
use crate::agent::spec::{CommandSpec, StdinInput};

/// How Claude says it is not logged in or its credentials were refused (lowercase).
pub(crate) const AUTH_PATTERNS: &[&str] = &[
    "not logged in",
    "please run /login",
    "authentication_failed",
    "authentication_error",
    "invalid api key",
    "oauth token has expired",
    "status 401",
    "api error: 401",
    "401 unauthorized",
];

/// The `claude` backend.
#[derive(Debug, Clone)]
pub struct Claude {
    as_root: bool,
}

impl Claude {
    /// The backend for this process (adds `IS_SANDBOX=1` when running as root).
    pub fn new() -> Self {
        Claude::with_root(running_as_root())
    }

    /// The backend as if running as root or not, for tests.
    pub fn with_root(as_root: bool) -> Self {
        Claude { as_root }
    }

    fn model_args(inv: &Invocation, args: &mut Vec<OsString>) {
        push_opt(args, "--model", inv.model.as_deref());
        push_opt(args, "--effort", inv.reasoning.as_deref());
    }
}

impl Default for Claude {
    fn default() -> Self {
        Claude::new()
    }
}

impl Backend for Claude {
    fn name(&self) -> &str {
        "claude"
    }

    fn program(&self) -> &str {
        "claude"
    }

    fn prompt_mode(&self) -> PromptMode {
        PromptMode::Stdin
    }

    fn command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions",
        ]
        .map(OsString::from)
        .to_vec();
        Claude::model_args(inv, &mut args);
        let stdin = StdinInput::Bytes(inv.prompt.clone().into_bytes());
        let mut spec = agent_spec(self.program(), args, inv, stdin);
        if self.as_root {
            spec.env.push(("IS_SANDBOX".into(), "1".into()));
        }
        spec
    }

    fn interactive_command(&self, inv: &Invocation) -> CommandSpec {
        let mut args = Vec::new();
        Claude::model_args(inv, &mut args);
        args.push(prompt_arg(inv));
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn parser(&self) -> Box<dyn OutputParser> {
        Box::new(ClaudeStreamParser::new())
    }

    fn login_check(&self, cwd: &Path, _home: Option<&Path>) -> Option<LoginCheck> {
        Some(LoginCheck::Command(plain_spec(
            self.program(),
            ["auth", "status"],
            cwd,
        )))
    }

    /// `claude auth status` prints JSON with `loggedIn` (and exits 1 when it is false).
    fn login_status(&self, probe: &ProbeOutput) -> LoginStatus {
        let Ok(status) = serde_json::from_str::<Value>(probe.stdout.trim()) else {
            return match probe.exit_code {
                Some(0) => LoginStatus::LoggedIn,
                _ => LoginStatus::NotLoggedIn {
                    evidence: first_nonempty(&[&probe.stderr, &probe.stdout]),
                },
            };
        };
        match status.get("loggedIn").and_then(Value::as_bool) {
            Some(true) => LoginStatus::LoggedIn,
            Some(false) => LoginStatus::NotLoggedIn {
                evidence: format!(
                    "`claude auth status` says loggedIn: false (authMethod: {})",
                    status
                        .get("authMethod")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                ),
            },
            None => LoginStatus::Unknown {
                reason: "`claude auth status` printed no `loggedIn` field".to_owned(),
            },
        }
    }

    fn login_hint(&self) -> String {
        "run `claude` once and log in (or `claude auth login`), or set ANTHROPIC_API_KEY".to_owned()
    }

    fn install_hint(&self) -> Option<String> {
        // `@latest` because npm on Node < 22 otherwise resolves an old release (research §3.1).
        Some("npm install -g @anthropic-ai/claude-code@latest".to_owned())
    }

    /// Claude Code retries a refused key ten times over about three minutes (`system/api_retry`
    /// with `error_status: 401`, `error: "authentication_failed"`; measured with 2.1.330).
    fn give_up(&self) -> Option<crate::supervisor::GiveUp> {
        Some(crate::supervisor::GiveUp {
            patterns: AUTH_PATTERNS,
            after: 3,
        })
    }

    fn classify(&self, outcome: &ProcessOutcome) -> Option<FailureClass> {
        detect_setup_failure(
            outcome,
            Evidence {
                auth: AUTH_PATTERNS,
                stdout_is_text: false,
            },
        )
    }
}
