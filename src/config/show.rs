//! `teams config show`: every resolved key, its value and where it came from.
//!
//! When four layers can set a value, "why is it 3?" is the first question; each row answers it.
//! The Discord rows show the names of the variables and whether they are set, never the values
//! (the config never reads them), so the output is safe to paste into an issue.

use std::path::PathBuf;

use serde::Serialize;

use super::duration::Duration;
use super::types::{
    BackendName, Config, DiscordEvent, EnvVarRef, OutputFormat, PlannerMode, Role, Source, Sourced,
};

/// One line of `config show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShowRow {
    /// Dotted key, e.g. `roles.builder.timeout`.
    pub key: String,
    /// The value as text, e.g. `60m`; `(not set)` for an unset optional key.
    pub display: String,
    /// The value for `--json`: numbers, booleans and lists keep their type; `null` when unset.
    pub value: serde_json::Value,
    /// Which layer set it; `None` when the key is unset.
    pub source: Option<Source>,
    /// For keys naming an environment variable: whether that variable is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_set: Option<bool>,
}

impl ShowRow {
    /// `roles.builder.timeout = 60m (default)`.
    pub fn to_line(&self) -> String {
        match &self.source {
            Some(source) => format!("{} = {} ({source})", self.key, self.display),
            None => format!("{} = {}", self.key, self.display),
        }
    }
}

/// The whole `config show --json` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShowReport {
    /// The `teams.toml` that was read, if any.
    pub file: Option<PathBuf>,
    pub settings: Vec<ShowRow>,
    pub warnings: Vec<String>,
}

/// How a value appears in `config show`.
trait Shown {
    fn display(&self) -> String;
    fn json(&self) -> serde_json::Value;
    fn env_set(&self) -> Option<bool> {
        None
    }
}

macro_rules! shown_via_display {
    ($($ty:ty),*) => {$(
        impl Shown for $ty {
            fn display(&self) -> String {
                self.to_string()
            }
            fn json(&self) -> serde_json::Value {
                self.to_string().into()
            }
        }
    )*};
}

shown_via_display!(String, Duration, PlannerMode, BackendName);

macro_rules! shown_as_json {
    ($($ty:ty),*) => {$(
        impl Shown for $ty {
            fn display(&self) -> String {
                self.to_string()
            }
            fn json(&self) -> serde_json::Value {
                (*self).into()
            }
        }
    )*};
}

shown_as_json!(u32, bool, f64);

impl Shown for Vec<String> {
    fn display(&self) -> String {
        format!("{self:?}")
    }
    fn json(&self) -> serde_json::Value {
        self.clone().into()
    }
}

impl Shown for Vec<DiscordEvent> {
    fn display(&self) -> String {
        format!("{:?}", self.iter().map(|e| e.as_str()).collect::<Vec<_>>())
    }
    fn json(&self) -> serde_json::Value {
        self.iter().map(|e| e.as_str()).collect()
    }
}

impl Shown for OutputFormat {
    fn display(&self) -> String {
        self.as_str().to_owned()
    }
    fn json(&self) -> serde_json::Value {
        self.as_str().into()
    }
}

impl Shown for PathBuf {
    fn display(&self) -> String {
        self.as_path().display().to_string()
    }
    fn json(&self) -> serde_json::Value {
        Shown::display(self).into()
    }
}

impl Shown for EnvVarRef {
    fn display(&self) -> String {
        let state = if self.is_set { "set" } else { "not set" };
        format!("{} ({state})", self.name)
    }
    fn json(&self) -> serde_json::Value {
        self.name.clone().into()
    }
    fn env_set(&self) -> Option<bool> {
        Some(self.is_set)
    }
}

fn row<T: Shown>(key: impl Into<String>, value: &Sourced<T>) -> ShowRow {
    ShowRow {
        key: key.into(),
        display: value.value.display(),
        value: value.value.json(),
        source: Some(value.source.clone()),
        env_set: value.value.env_set(),
    }
}

fn optional_row<T: Shown>(key: impl Into<String>, value: Option<&Sourced<T>>) -> ShowRow {
    match value {
        Some(value) => row(key, value),
        None => ShowRow {
            key: key.into(),
            display: "(not set)".to_owned(),
            value: serde_json::Value::Null,
            source: None,
            env_set: None,
        },
    }
}

impl Config {
    /// Every key in documentation order: top level, roles, prompts, backends, discord.
    pub fn show_rows(&self) -> Vec<ShowRow> {
        let mut rows = vec![
            row("backend", &self.backend),
            row("parallel", &self.parallel),
            row("max_attempts", &self.max_attempts),
            row("planner", &self.planner),
            row("auto_commit", &self.auto_commit),
            row("budget_usd", &self.budget_usd),
            row("checks", &self.checks),
            row("land", &self.land),
            row("grace_period", &self.grace_period),
        ];
        for role in Role::ALL {
            let config = self.role(role);
            let key = |name: &str| format!("roles.{role}.{name}");
            rows.push(row(key("backend"), &config.backend));
            rows.push(optional_row(key("model"), config.model.as_ref()));
            rows.push(optional_row(key("reasoning"), config.reasoning.as_ref()));
            rows.push(row(key("timeout"), &config.timeout));
            rows.push(row(key("idle_timeout"), &config.idle_timeout));
        }
        for role in Role::ALL {
            rows.push(optional_row(
                format!("prompts.{role}"),
                self.role(role).prompt.as_ref(),
            ));
        }
        for (name, backend) in &self.backends {
            let key = |field: &str| format!("backends.{name}.{field}");
            rows.push(row(key("command"), &backend.command));
            rows.push(row(key("output"), &backend.output));
            rows.push(optional_row(
                key("interactive_command"),
                backend.interactive_command.as_ref(),
            ));
        }
        let discord = &self.discord;
        rows.push(optional_row(
            "discord.webhook_url_env",
            discord.webhook_url_env.as_ref(),
        ));
        rows.push(optional_row(
            "discord.token_env",
            discord.token_env.as_ref(),
        ));
        rows.push(optional_row(
            "discord.channel_id",
            discord.channel_id.as_ref(),
        ));
        rows.push(row("discord.events", &discord.events));
        rows
    }

    /// The `config show --json` document.
    pub fn show_report(&self) -> ShowReport {
        ShowReport {
            file: self.file.clone(),
            settings: self.show_rows(),
            warnings: self.warnings.clone(),
        }
    }
}
