//! GitHub Copilot CLI (`copilot`).
//!
//! Print mode: `copilot -p <prompt> --allow-all-tools --no-ask-user --no-auto-update
//! --output-format json [--model M] [--reasoning-effort R]`, stdin `/dev/null`.
//! `--allow-all-tools` is "required for non-interactive mode"; `--no-ask-user` removes the tool
//! that would wait for an answer; `--no-auto-update` keeps the version `teams doctor` checked
//! from changing under a run. Flags checked against `copilot --help` 1.0.102.

use std::ffi::OsString;
use std::path::Path;

use crate::agent::backend::{Backend, LoginCheck, PromptMode, agent_spec, prompt_arg, push_opt};
use crate::agent::classify::{Evidence, detect_setup_failure};
use crate::agent::event::FailureClass;
use crate::agent::invocation::Invocation;
use crate::agent::outcome::ProcessOutcome;
use crate::agent::parser::OutputParser;
use crate::agent::parsers::CopilotJsonParser;
use crate::agent::spec::{CommandSpec, StdinInput};

/// How Copilot says it has no usable credentials (lowercase). "Authentication token found but
/// could not be validated" is left out: it is also what Copilot prints without a network.
pub(crate) const AUTH_PATTERNS: &[&str] = &[
    "no authentication information found",
    "classic personal access tokens",
    "not authenticated",
    "status 401",
];

/// The `copilot` backend.
#[derive(Debug, Clone, Default)]
pub struct Copilot;

impl Copilot {
    pub fn new() -> Self {
        Copilot
    }

    fn model_args(inv: &Invocation, args: &mut Vec<OsString>) {
        push_opt(args, "--model", inv.model.as_deref());
        push_opt(args, "--reasoning-effort", inv.reasoning.as_deref());
    }
}

impl Backend for Copilot {
    fn name(&self) -> &str {
        "copilot"
    }

    fn program(&self) -> &str {
        "copilot"
    }

    fn prompt_mode(&self) -> PromptMode {
        PromptMode::Argument
    }

    fn command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = vec!["-p".into(), prompt_arg(inv)];
        args.extend(
            [
                "--allow-all-tools",
                "--no-ask-user",
                "--no-auto-update",
                "--output-format",
                "json",
            ]
            .map(OsString::from),
        );
        Copilot::model_args(inv, &mut args);
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn interactive_command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = vec!["--no-auto-update".into()];
        Copilot::model_args(inv, &mut args);
        args.push("-i".into());
        args.push(prompt_arg(inv));
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn parser(&self) -> Box<dyn OutputParser> {
        Box::new(CopilotJsonParser::new())
    }

    /// Copilot has no status command; a token variable, a BYOK provider or a `gh` login is
    /// enough. Its own `/login` token may sit in the system keychain, so finding none is
    /// "unknown", not "not logged in".
    fn login_check(&self, _cwd: &Path, home: Option<&Path>) -> Option<LoginCheck> {
        Some(LoginCheck::Credentials {
            env_vars: vec![
                "COPILOT_GITHUB_TOKEN",
                "GH_TOKEN",
                "GITHUB_TOKEN",
                "COPILOT_PROVIDER_BASE_URL",
            ],
            files: home
                .map(|home| vec![home.join(".config/gh/hosts.yml")])
                .unwrap_or_default(),
            definitive: false,
        })
    }

    fn login_hint(&self) -> String {
        "run `copilot` and use `/login`, or set COPILOT_GITHUB_TOKEN (a fine-grained token with \
         the \"Copilot Requests\" permission), or run `gh auth login`"
            .to_owned()
    }

    fn install_hint(&self) -> Option<String> {
        Some("npm install -g @github/copilot".to_owned())
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
