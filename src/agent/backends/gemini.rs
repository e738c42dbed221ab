//! Google Gemini CLI (`gemini`).
//!
//! Print mode: `gemini -p <prompt> --yolo --skip-trust --output-format json [-m M]`, stdin
//! `/dev/null`. Without `--skip-trust`, `--yolo` is silently downgraded to the default approval
//! mode in an untrusted folder (every new worktree is one). Gemini has no reasoning flag, so the
//! role's `reasoning` is not passed. Flags checked against `gemini --help` 0.61.0.

use std::ffi::OsString;
use std::path::Path;

use crate::agent::backend::{
    Backend, LoginCheck, PromptMode, agent_spec, first_nonempty, prompt_arg, push_opt,
};
use crate::agent::classify::{Evidence, detect_setup_failure};
use crate::agent::event::FailureClass;
use crate::agent::invocation::Invocation;
use crate::agent::outcome::ProcessOutcome;
use crate::agent::parser::OutputParser;
use crate::agent::parsers::GeminiJsonParser;
use crate::agent::spec::{CommandSpec, StdinInput};

/// Gemini's exit code when no auth method is configured (observed with 0.61.0, research §3.4).
pub(crate) const EXIT_AUTH: i32 = 41;

/// How Gemini says it has no usable credentials (lowercase).
pub(crate) const AUTH_PATTERNS: &[&str] = &[
    "please set an auth method",
    "invalid auth method",
    "api key not valid",
    "gemini_api_key environment variable not found",
    "status 401",
];

/// The `gemini` backend.
#[derive(Debug, Clone, Default)]
pub struct Gemini;

impl Gemini {
    pub fn new() -> Self {
        Gemini
    }
}

impl Backend for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }

    fn program(&self) -> &str {
        "gemini"
    }

    fn prompt_mode(&self) -> PromptMode {
        PromptMode::Argument
    }

    fn command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = vec!["-p".into(), prompt_arg(inv)];
        args.extend(["--yolo", "--skip-trust", "--output-format", "json"].map(OsString::from));
        push_opt(&mut args, "-m", inv.model.as_deref());
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn interactive_command(&self, inv: &Invocation) -> CommandSpec {
        let mut args = Vec::new();
        push_opt(&mut args, "-m", inv.model.as_deref());
        args.push("-i".into());
        args.push(prompt_arg(inv));
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn parser(&self) -> Box<dyn OutputParser> {
        Box::new(GeminiJsonParser::new())
    }

    /// Gemini authenticates from an API-key variable, Vertex/GCA switches, or its settings
    /// (`settings.json` selects the method; OAuth credentials and `.env` live beside it). With
    /// none of them it always exits 41, so finding none is definitive.
    fn login_check(&self, _cwd: &Path, home: Option<&Path>) -> Option<LoginCheck> {
        let files = home
            .map(|home| {
                ["settings.json", "oauth_creds.json", ".env"]
                    .iter()
                    .map(|name| home.join(".gemini").join(name))
                    .collect()
            })
            .unwrap_or_default();
        Some(LoginCheck::Credentials {
            env_vars: vec![
                "GEMINI_API_KEY",
                "GOOGLE_API_KEY",
                "GOOGLE_GENAI_USE_VERTEXAI",
                "GOOGLE_GENAI_USE_GCA",
            ],
            files,
            definitive: true,
        })
    }

    fn login_hint(&self) -> String {
        "run `gemini` once and choose a sign-in method, or set GEMINI_API_KEY".to_owned()
    }

    fn install_hint(&self) -> Option<String> {
        Some("npm install -g @google/gemini-cli".to_owned())
    }

    fn classify(&self, outcome: &ProcessOutcome) -> Option<FailureClass> {
        if outcome.exit_code == Some(EXIT_AUTH) {
            return Some(FailureClass::NotLoggedIn {
                evidence: first_nonempty(&[
                    outcome
                        .stream_errors
                        .last()
                        .map(String::as_str)
                        .unwrap_or(""),
                    &outcome.stderr_tail,
                    "gemini exited with code 41 (no auth method)",
                ]),
            });
        }
        detect_setup_failure(
            outcome,
            Evidence {
                auth: AUTH_PATTERNS,
                stdout_is_text: false,
            },
        )
    }
}
