//! The resolved configuration as the rest of `teams` sees it: plain typed values, each paired with
//! the layer it came from so `teams config show` and error messages can say "set by
//! `TEAMS_PARALLEL`" instead of leaving the user to guess which of four layers won.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::duration::Duration;

/// Where a resolved value came from, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The built-in `default.toml`.
    Default,
    /// The project's `teams.toml`; `line` and `column` are 1-based and point at the key.
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// A `TEAMS_*` environment variable.
    Env { var: String },
    /// A command-line flag, spelled as the user types it (`--parallel`).
    Flag { flag: String },
}

impl fmt::Display for Source {
    /// Short form for `config show`: `default`, `teams.toml:3`, `env TEAMS_PARALLEL`,
    /// `flag --parallel`. Only the file name is shown because `teams.toml` always sits at the
    /// repository root, so the name is also its path relative to the project.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File { path, line, .. } => write!(f, "{}:{line}", short_path(path)),
            Source::Env { var } => write!(f, "env {var}"),
            Source::Flag { flag } => write!(f, "flag {flag}"),
        }
    }
}

/// The file name of `path`, or the whole path when it has none.
pub(crate) fn short_path(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// A resolved value and the layer that set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}

/// The four agent roles that have settings in `teams.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Planner,
    Builder,
    Validator,
    Merger,
}

impl Role {
    /// Every role, in the order `config show` and the docs list them.
    pub const ALL: [Role; 4] = [Role::Planner, Role::Builder, Role::Validator, Role::Merger];

    /// The name used in `teams.toml` (`[roles.builder]`) and in `TEAMS_ROLE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Planner => "planner",
            Role::Builder => "builder",
            Role::Validator => "validator",
            Role::Merger => "merger",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend compiled into `teams` (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinBackend {
    Claude,
    Codex,
    Copilot,
    Gemini,
    Opencode,
    /// The in-process demo agent (spec §5.4).
    Sim,
}

impl BuiltinBackend {
    pub const ALL: [BuiltinBackend; 6] = [
        BuiltinBackend::Claude,
        BuiltinBackend::Codex,
        BuiltinBackend::Copilot,
        BuiltinBackend::Gemini,
        BuiltinBackend::Opencode,
        BuiltinBackend::Sim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinBackend::Claude => "claude",
            BuiltinBackend::Codex => "codex",
            BuiltinBackend::Copilot => "copilot",
            BuiltinBackend::Gemini => "gemini",
            BuiltinBackend::Opencode => "opencode",
            BuiltinBackend::Sim => "sim",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

/// The backend a role runs on: a built-in one, or a `[backends.<name>]` table of `teams.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum BackendName {
    Builtin(BuiltinBackend),
    /// The name of an entry in [`Config::backends`]; resolution guarantees it exists.
    Command(String),
}

impl BackendName {
    pub fn as_str(&self) -> &str {
        match self {
            BackendName::Builtin(b) => b.as_str(),
            BackendName::Command(name) => name,
        }
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When an unplanned epic gets a planner before building (spec §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlannerMode {
    /// Plan when the epic looks non-trivial.
    Auto,
    Always,
    Never,
}

impl PlannerMode {
    pub const ALL: [PlannerMode; 3] = [PlannerMode::Auto, PlannerMode::Always, PlannerMode::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            PlannerMode::Auto => "auto",
            PlannerMode::Always => "always",
            PlannerMode::Never => "never",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl fmt::Display for PlannerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How `teams` reads a `command` backend's stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Plain text; the whole output is the final message.
    Text,
    /// JSON lines in Claude Code's `stream-json` format, for wrappers around `claude`.
    ClaudeStreamJson,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 2] = [OutputFormat::Text, OutputFormat::ClaudeStreamJson];

    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::ClaudeStreamJson => "claude-stream-json",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// A kind of Discord message that can be switched on or off (spec §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscordEvent {
    /// Run started, finished, interrupted.
    Run,
    /// A unit finished.
    Unit,
    /// A story failed.
    Failure,
    /// A merge conflict.
    Merge,
    /// Sprint started or closed.
    Sprint,
}

impl DiscordEvent {
    pub const ALL: [DiscordEvent; 5] = [
        DiscordEvent::Run,
        DiscordEvent::Unit,
        DiscordEvent::Failure,
        DiscordEvent::Merge,
        DiscordEvent::Sprint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DiscordEvent::Run => "run",
            DiscordEvent::Unit => "unit",
            DiscordEvent::Failure => "failure",
            DiscordEvent::Merge => "merge",
            DiscordEvent::Sprint => "sprint",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// The fully resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The `teams.toml` that was read, if one existed.
    pub file: Option<PathBuf>,
    pub backend: Sourced<BackendName>,
    pub parallel: Sourced<u32>,
    pub max_attempts: Sourced<u32>,
    pub planner: Sourced<PlannerMode>,
    pub auto_commit: Sourced<bool>,
    /// Spend cap in US dollars; `0` means no cap (see [`Config::budget_cap`]).
    pub budget_usd: Sourced<f64>,
    pub checks: Sourced<Vec<String>>,
    pub land: Sourced<bool>,
    /// Time between SIGTERM and SIGKILL of an agent's process group.
    pub grace_period: Sourced<Duration>,
    pub roles: Roles,
    /// User-defined `command` backends by name.
    pub backends: BTreeMap<String, CommandBackend>,
    pub discord: DiscordConfig,
    /// Things worth telling the user that do not stop the command, such as a `TEAMS_*` variable
    /// that looks like a misspelt setting. The library never prints; the CLI shows these.
    pub warnings: Vec<String>,
}

impl Config {
    /// The settings of one role.
    pub fn role(&self, role: Role) -> &RoleConfig {
        match role {
            Role::Planner => &self.roles.planner,
            Role::Builder => &self.roles.builder,
            Role::Validator => &self.roles.validator,
            Role::Merger => &self.roles.merger,
        }
    }

    /// The spend cap, or `None` when `budget_usd = 0` (no cap).
    pub fn budget_cap(&self) -> Option<f64> {
        (self.budget_usd.value > 0.0).then_some(self.budget_usd.value)
    }

    /// The `command` backend a role runs on, when it runs on one.
    pub fn command_backend(&self, role: Role) -> Option<&CommandBackend> {
        match &self.role(role).backend.value {
            BackendName::Command(name) => self.backends.get(name),
            BackendName::Builtin(_) => None,
        }
    }
}

/// The settings of the four roles.
#[derive(Debug, Clone, PartialEq)]
pub struct Roles {
    pub planner: RoleConfig,
    pub builder: RoleConfig,
    pub validator: RoleConfig,
    pub merger: RoleConfig,
}

/// One role's settings (`[roles.<role>]`, plus its `[prompts]` entry).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleConfig {
    /// The role's own backend, or the top-level one (with that one's source) when unset.
    pub backend: Sourced<BackendName>,
    /// `None`: the backend's own default model.
    pub model: Option<Sourced<String>>,
    /// Reasoning effort, passed as-is to backends that take one (e.g. `low`, `medium`, `high`).
    pub reasoning: Option<Sourced<String>>,
    /// Wall-clock limit for one agent run.
    pub timeout: Sourced<Duration>,
    /// Limit on time without output.
    pub idle_timeout: Sourced<Duration>,
    /// `[prompts] <role>`: a prompt file relative to the repository root.
    pub prompt: Option<Sourced<PathBuf>>,
}

/// A `[backends.<name>]` entry: any CLI, driven through an argv template.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandBackend {
    /// Program and arguments; may contain the placeholders in [`PLACEHOLDERS`].
    pub command: Sourced<Vec<String>>,
    pub output: Sourced<OutputFormat>,
    /// The argv for interactive sessions (`init`, `plan`, `discuss`); `None`: the backend has none.
    pub interactive_command: Option<Sourced<Vec<String>>>,
}

/// The placeholders a `command` backend's argv may use, replaced per invocation.
pub const PLACEHOLDERS: [&str; 4] = ["prompt_file", "worktree", "role", "model"];

/// The Discord settings: names of environment variables, never their values (spec §11).
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordConfig {
    pub webhook_url_env: Option<Sourced<EnvVarRef>>,
    pub token_env: Option<Sourced<EnvVarRef>>,
    pub channel_id: Option<Sourced<String>>,
    pub events: Sourced<Vec<DiscordEvent>>,
}

impl DiscordConfig {
    /// The names of the variables that hold Discord secrets (set or not), which agent processes
    /// must not inherit.
    pub fn secret_env_names(&self) -> Vec<&str> {
        [&self.webhook_url_env, &self.token_env]
            .into_iter()
            .flatten()
            .map(|v| v.value.name.as_str())
            .collect()
    }

    /// Where notifications go, given which variables were set when the config was resolved. A
    /// webhook wins over a bot token because it needs nothing else.
    pub fn target(&self) -> DiscordTarget<'_> {
        if let Some(webhook) = self.webhook_url_env.as_ref().filter(|v| v.value.is_set) {
            return DiscordTarget::Webhook {
                url_env: &webhook.value.name,
            };
        }
        match (&self.token_env, &self.channel_id) {
            (Some(token), Some(channel)) if token.value.is_set => DiscordTarget::Bot {
                token_env: &token.value.name,
                channel_id: &channel.value,
            },
            _ => DiscordTarget::None,
        }
    }

    /// Whether messages of this kind are switched on.
    pub fn wants(&self, event: DiscordEvent) -> bool {
        self.events.value.contains(&event)
    }
}

/// The name of an environment variable that holds a secret, and whether it was set (non-empty)
/// when the configuration was resolved. The value itself is never read into the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVarRef {
    pub name: String,
    pub is_set: bool,
}

/// Where Discord messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordTarget<'a> {
    /// Nothing is configured, or the named variables are not set: send nothing.
    None,
    Webhook {
        url_env: &'a str,
    },
    Bot {
        token_env: &'a str,
        channel_id: &'a str,
    },
}
