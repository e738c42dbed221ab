//! opencode (`opencode`).
//!
//! Print mode: `opencode run --format json --auto [-m provider/model] [--variant R] <prompt>`,
//! stdin `/dev/null`. `--auto` ("auto-approve permissions that are not explicitly denied") is not
//! in the spec's table but is added like every other backend's auto-approve flag: a permission
//! that would ask has nobody to answer it in a run. `--variant` is opencode's provider-specific
//! reasoning effort. opencode has no login gate (without credentials it falls back to its hosted
//! free model and fails on the network), so there is no pre-flight check. Flags checked against
//! `opencode run --help` 1.18.33.

use std::ffi::OsString;

use crate::agent::backend::{Backend, PromptMode, agent_spec, prompt_arg, push_opt};
use crate::agent::classify::{Evidence, detect_setup_failure};
use crate::agent::event::FailureClass;
use crate::agent::invocation::Invocation;
use crate::agent::outcome::ProcessOutcome;
use crate::agent::parser::OutputParser;
use crate::agent::parsers::OpencodeJsonParser;
use crate::agent::spec::{CommandSpec, StdinInput};

/// How opencode says a provider refused its credentials (lowercase).
pub(crate) const AUTH_PATTERNS: &[&str] = &[
    "providerautherror",
    "status 401",
    "401 unauthorized",
    "invalid api key",
];

/// The `opencode` backend.
#[derive(Debug, Clone, Default)]
pub struct Opencode;

impl Opencode {
    pub fn new() -> Self {
        Opencode
    }
}

impl Backend for Opencode {
    fn name(&self) -> &str {
        "opencode"
    }

    fn program(&self) -> &str {
        "opencode"
    }

    fn prompt_mode(&self) -> PromptMode {
        PromptMode::Argument
    }

    fn command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = ["run", "--format", "json", "--auto"]
            .map(OsString::from)
            .to_vec();
        push_opt(&mut args, "-m", inv.model.as_deref());
        push_opt(&mut args, "--variant", inv.reasoning.as_deref());
        args.push(prompt_arg(inv));
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn interactive_command(&self, inv: &Invocation) -> CommandSpec {
        let mut args = Vec::new();
        push_opt(&mut args, "-m", inv.model.as_deref());
        args.push("--prompt".into());
        args.push(prompt_arg(inv));
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn parser(&self) -> Box<dyn OutputParser> {
        Box::new(OpencodeJsonParser::new())
    }

    fn login_hint(&self) -> String {
        "run `opencode auth login` to add a provider, or set that provider's API key variable"
            .to_owned()
    }

    fn install_hint(&self) -> Option<String> {
        Some("npm install -g opencode-ai".to_owned())
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
