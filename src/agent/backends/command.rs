//! The `command` backend: any program, from an argv template in `teams.toml`.
//!
//! ```toml
//! [backends.mycli]
//! command = ["mycli", "--yes", "--prompt-file", "{prompt_file}"]
//! output = "text"            # or "claude-stream-json"
//! ```
//!
//! Placeholders, replaced anywhere inside an argument: `{prompt_file}`, `{worktree}`, `{role}`,
//! `{model}` and `{reasoning}` (empty when the role sets none). When no argument mentions
//! `{prompt_file}`, the prompt goes to stdin (then EOF), so filters like `llm -m x` work as they
//! are; the prompt file is always named in `TEAMS_PROMPT_FILE` too. Interactive sessions (`init`,
//! `plan`, `discuss`) run `interactive_command` when the table sets one, else the same `command`,
//! attached to the terminal.

use std::ffi::OsString;
use std::path::Path;

use super::{claude, codex, copilot, gemini, opencode};
use crate::agent::backend::{Backend, PromptMode, agent_spec};
use crate::agent::classify::{Evidence, detect_setup_failure};
use crate::agent::event::FailureClass;
use crate::agent::invocation::Invocation;
use crate::agent::outcome::ProcessOutcome;
use crate::agent::parser::OutputParser;
use crate::agent::parsers::{ClaudeStreamParser, PlainTextParser};
use crate::agent::spec::{CommandSpec, StdinInput};

/// What a `command` backend prints on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// Plain text; all of stdout is the final message.
    #[default]
    Text,
    /// Claude Code's stream-json (also amp's `--stream-json`).
    ClaudeStreamJson,
}

/// One `[backends.<name>]` table of `teams.toml`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandBackendConfig {
    /// The argv template; the first element is the program.
    pub command: Vec<String>,
    #[serde(default)]
    pub output: Output,
    /// The argv template of interactive sessions; `None`: `command` attached to the terminal.
    #[serde(default)]
    pub interactive_command: Option<Vec<String>>,
}

/// A `command` backend built from its config. Construct with
/// [`resolve_backend`](crate::agent::resolve_backend) or [`CommandBackend::new`].
#[derive(Debug, Clone)]
pub struct CommandBackend {
    name: String,
    /// The template, non-empty (checked by [`CommandBackend::new`]).
    template: Vec<String>,
    output: Output,
    /// The interactive template, non-empty when set.
    interactive: Option<Vec<String>>,
}

const PROMPT_FILE: &str = "{prompt_file}";

impl CommandBackend {
    /// A backend named `name` from `config`; `None` when the command is empty.
    pub fn new(name: impl Into<String>, config: CommandBackendConfig) -> Option<Self> {
        let first = config.command.first()?;
        if first.trim().is_empty() {
            return None;
        }
        Some(CommandBackend {
            name: name.into(),
            template: config.command,
            output: config.output,
            interactive: config
                .interactive_command
                .filter(|argv| argv.first().is_some_and(|p| !p.trim().is_empty())),
        })
    }

    fn substitute(&self, arg: &str, inv: &Invocation) -> OsString {
        if !arg.contains('{') {
            return arg.into();
        }
        arg.replace(PROMPT_FILE, &inv.prompt_file.to_string_lossy())
            .replace("{worktree}", &inv.worktree.to_string_lossy())
            .replace("{role}", inv.role.as_str())
            .replace("{model}", inv.model.as_deref().unwrap_or(""))
            .replace("{reasoning}", inv.reasoning.as_deref().unwrap_or(""))
            .into()
    }

    fn spec(&self, template: &[String], inv: &Invocation, stdin: StdinInput) -> CommandSpec {
        let args = template[1..]
            .iter()
            .map(|arg| self.substitute(arg, inv))
            .collect();
        let program = self.substitute(&template[0], inv);
        let mut spec = agent_spec("", args, inv, stdin);
        spec.program = program;
        spec
    }
}

impl Backend for CommandBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn program(&self) -> &str {
        &self.template[0]
    }

    fn prompt_mode(&self) -> PromptMode {
        if self.template.iter().any(|arg| arg.contains(PROMPT_FILE)) {
            PromptMode::File
        } else {
            PromptMode::Stdin
        }
    }

    fn command(&self, inv: &Invocation) -> CommandSpec {
        let stdin = match self.prompt_mode() {
            PromptMode::Stdin => StdinInput::Bytes(inv.prompt.clone().into_bytes()),
            PromptMode::File | PromptMode::Argument => StdinInput::Null,
        };
        self.spec(&self.template, inv, stdin)
    }

    fn interactive_command(&self, inv: &Invocation) -> CommandSpec {
        let template = self.interactive.as_ref().unwrap_or(&self.template);
        self.spec(template, inv, StdinInput::Null)
    }

    fn parser(&self) -> Box<dyn OutputParser> {
        match self.output {
            Output::Text => Box::new(PlainTextParser::new()),
            Output::ClaudeStreamJson => Box::new(ClaudeStreamParser::new()),
        }
    }

    fn version_command(&self, _cwd: &Path) -> Option<CommandSpec> {
        None
    }

    fn login_hint(&self) -> String {
        format!(
            "make sure `{}` is set up and logged in (see its documentation)",
            self.program()
        )
    }

    fn install_hint(&self) -> Option<String> {
        None
    }

    /// A command is often a wrapper around one of the known CLIs, so every known "not logged in"
    /// phrase is recognised.
    fn classify(&self, outcome: &ProcessOutcome) -> Option<FailureClass> {
        let auth: Vec<&str> = [
            claude::AUTH_PATTERNS,
            codex::AUTH_PATTERNS,
            copilot::AUTH_PATTERNS,
            gemini::AUTH_PATTERNS,
            opencode::AUTH_PATTERNS,
        ]
        .concat();
        detect_setup_failure(
            outcome,
            Evidence {
                auth: &auth,
                stdout_is_text: self.output == Output::Text,
            },
        )
    }
}
