//! Finding a backend by the name used in `teams.toml` and on the command line.

use std::collections::BTreeMap;

use super::backend::Backend;
use super::backends::{
    Claude, Codex, CommandBackend, CommandBackendConfig, Copilot, Gemini, Opencode,
};

/// The names of the built-in CLI backends. (`sim` is not one: it runs no process.)
pub const BUILTIN_BACKENDS: [&str; 5] = ["claude", "codex", "copilot", "gemini", "opencode"];

/// Why a backend name could not be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BackendError {
    #[error("unknown agent backend `{name}` (known: {known})")]
    Unknown { name: String, known: String },
    #[error("backend `{name}` has an empty `command`")]
    EmptyCommand { name: String },
}

/// The `[backends.<name>]` tables of a resolved config, in the form [`resolve_backend`] takes.
pub fn command_backends(config: &crate::config::Config) -> BTreeMap<String, CommandBackendConfig> {
    use crate::config::OutputFormat;
    config
        .backends
        .iter()
        .map(|(name, backend)| {
            let output = match backend.output.value {
                OutputFormat::Text => super::backends::Output::Text,
                OutputFormat::ClaudeStreamJson => super::backends::Output::ClaudeStreamJson,
            };
            let command = CommandBackendConfig {
                command: backend.command.value.clone(),
                output,
                interactive_command: backend
                    .interactive_command
                    .as_ref()
                    .map(|c| c.value.clone()),
            };
            (name.clone(), command)
        })
        .collect()
}

/// A built-in backend by name.
pub fn builtin_backend(name: &str) -> Option<Box<dyn Backend>> {
    let backend: Box<dyn Backend> = match name {
        "claude" => Box::new(Claude::new()),
        "codex" => Box::new(Codex::new()),
        "copilot" => Box::new(Copilot::new()),
        "gemini" => Box::new(Gemini::new()),
        "opencode" => Box::new(Opencode::new()),
        _ => return None,
    };
    Some(backend)
}

/// The backend called `name`: a `[backends.<name>]` command from the config first (so a user can
/// wrap or replace a built-in CLI under its own name), else a built-in one.
pub fn resolve_backend(
    name: &str,
    commands: &BTreeMap<String, CommandBackendConfig>,
) -> Result<Box<dyn Backend>, BackendError> {
    if let Some(config) = commands.get(name) {
        return CommandBackend::new(name, config.clone())
            .map(|backend| Box::new(backend) as Box<dyn Backend>)
            .ok_or_else(|| BackendError::EmptyCommand {
                name: name.to_owned(),
            });
    }
    builtin_backend(name).ok_or_else(|| {
        let known: Vec<&str> = BUILTIN_BACKENDS
            .iter()
            .copied()
            .chain(commands.keys().map(String::as_str))
            .collect();
        BackendError::Unknown {
            name: name.to_owned(),
            known: known.join(", "),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::backends::Output;

    #[test]
    fn builtins_resolve_by_name() {
        for name in BUILTIN_BACKENDS {
            let backend = resolve_backend(name, &BTreeMap::new()).unwrap();
            assert_eq!(backend.name(), name);
            assert_eq!(backend.program(), name);
        }
    }

    #[test]
    fn command_backends_come_from_config_and_win_over_builtins() {
        let mut commands = BTreeMap::new();
        let config = CommandBackendConfig {
            command: vec!["my-claude".into(), "{prompt_file}".into()],
            output: Output::ClaudeStreamJson,
            interactive_command: None,
        };
        commands.insert("claude".to_owned(), config.clone());
        commands.insert("mycli".to_owned(), config);
        assert_eq!(
            resolve_backend("mycli", &commands).unwrap().program(),
            "my-claude"
        );
        assert_eq!(
            resolve_backend("claude", &commands).unwrap().program(),
            "my-claude"
        );
    }

    #[test]
    fn unknown_and_empty_backends_are_errors() {
        let mut commands = BTreeMap::new();
        commands.insert(
            "empty".to_owned(),
            CommandBackendConfig {
                command: vec![],
                output: Output::Text,
                interactive_command: None,
            },
        );
        assert_eq!(
            resolve_backend("empty", &commands).unwrap_err(),
            BackendError::EmptyCommand {
                name: "empty".into()
            }
        );
        let error = resolve_backend("amp", &commands).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown agent backend `amp` (known: claude, codex, copilot, gemini, opencode, empty)"
        );
    }
}
