//! Layering and resolution: built-in defaults < `teams.toml` < `TEAMS_*` < flags, then the
//! checks that need every layer at once, into a typed [`Config`].
//!
//! Each layer is a flat map of dotted keys, so merging is "the higher layer's entry replaces the
//! lower one's", key by key, and the winning entry keeps its source. Checks that involve two keys
//! (a role's backend must exist among the built-ins and `[backends]`) run after the merge, because
//! the name and the table may come from different layers.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::duration::Duration;
use super::env::Environment;
use super::error::{ConfigError, Location, suggest};
use super::file::{Origin, read_toml};
use super::overrides::ConfigOverrides;
use super::types::{
    BackendName, BuiltinBackend, CommandBackend, Config, DiscordConfig, DiscordEvent, EnvVarRef,
    OutputFormat, PlannerMode, Role, RoleConfig, Roles, Source, Sourced,
};
use super::value::{Layer, Value};

/// The built-in defaults, documented; also the reference for every key.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// The project configuration file, at the repository root.
pub const CONFIG_FILE_NAME: &str = "teams.toml";

/// The text of a configuration file and the path it was read from (used in messages and sources).
#[derive(Debug, Clone, Copy)]
pub struct ConfigFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Config {
    /// Reads `<repo_root>/teams.toml` (a missing file is fine) and resolves it with the
    /// environment (e.g. `std::env::vars_os()`) and the command-line overrides.
    pub fn load<I, K, V>(
        repo_root: &Path,
        env: I,
        overrides: &ConfigOverrides,
    ) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let path = repo_root.join(CONFIG_FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                let mut error = ConfigError::new(
                    Location::WholeFile { path: path.clone() },
                    "failed to read the configuration file",
                );
                error.io = Some(err);
                return Err(error);
            }
        };
        let file = text.as_deref().map(|text| ConfigFile { path: &path, text });
        Config::resolve(file, env, overrides)
    }

    /// Resolves the layers without touching the file system: `file` is `teams.toml` if there is
    /// one.
    pub fn resolve<I, K, V>(
        file: Option<ConfigFile<'_>>,
        env: I,
        overrides: &ConfigOverrides,
    ) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut merged = read_toml(DEFAULT_TOML, Origin::Builtin)?;
        if let Some(file) = file {
            merged.extend(read_toml(file.text, Origin::File(file.path))?);
        }
        let environment = Environment::capture(env);
        merged.extend(environment.layer()?);
        merged.extend(overrides.layer()?);
        let mut config = Merged(merged).build(&environment)?;
        config.file = file.map(|file| file.path.to_path_buf());
        Ok(config)
    }
}

/// `default.toml` with every setting commented out: a `teams.toml` for `teams init` to write,
/// documenting every key while changing nothing until the user uncomments a line.
pub fn starter_toml() -> String {
    let mut out = String::with_capacity(DEFAULT_TOML.len() + 256);
    for line in DEFAULT_TOML.lines() {
        if line.is_empty() || line.starts_with('#') {
            out.push_str(line);
        } else {
            out.push_str("# ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The merged layers, consumed key by key into the typed config.
struct Merged(Layer);

impl Merged {
    fn optional<T>(
        &mut self,
        key: &str,
        extract: impl FnOnce(Value) -> Option<T>,
    ) -> Result<Option<Sourced<T>>, ConfigError> {
        let Some(Sourced { value, source }) = self.0.remove(key) else {
            return Ok(None);
        };
        match extract(value) {
            Some(value) => Ok(Some(Sourced::new(value, source))),
            // The schema gives each key one kind, so this is a bug in `teams`, not in the file.
            None => Err(ConfigError::new(
                Location::from(&source),
                format!("internal error: `{key}` holds a value of the wrong kind"),
            )
            .with_key(key)),
        }
    }

    /// A key the built-in defaults always set.
    fn required<T>(
        &mut self,
        key: &str,
        extract: impl FnOnce(Value) -> Option<T>,
    ) -> Result<Sourced<T>, ConfigError> {
        self.optional(key, extract)?.ok_or_else(|| {
            ConfigError::new(
                Location::Default,
                format!("internal error: no built-in default for `{key}`"),
            )
            .with_key(key)
        })
    }

    fn build(mut self, env: &Environment) -> Result<Config, ConfigError> {
        let backends = self.command_backends()?;
        let backend = self.required("backend", text)?;
        let backend = backend_name("backend", backend, &backends)?;
        let roles = Roles {
            planner: self.role(Role::Planner, &backend, &backends)?,
            builder: self.role(Role::Builder, &backend, &backends)?,
            validator: self.role(Role::Validator, &backend, &backends)?,
            merger: self.role(Role::Merger, &backend, &backends)?,
        };
        Ok(Config {
            file: None,
            backend,
            parallel: self.required("parallel", count)?,
            max_attempts: self.required("max_attempts", count)?,
            planner: self.required("planner", planner)?,
            auto_commit: self.required("auto_commit", boolean)?,
            budget_usd: self.required("budget_usd", money)?,
            checks: self.required("checks", list)?,
            land: self.required("land", boolean)?,
            grace_period: self.required("grace_period", duration)?,
            roles,
            backends,
            discord: self.discord(env)?,
            warnings: env.warnings(),
        })
    }

    fn role(
        &mut self,
        role: Role,
        default_backend: &Sourced<BackendName>,
        backends: &BTreeMap<String, CommandBackend>,
    ) -> Result<RoleConfig, ConfigError> {
        let key = |name: &str| format!("roles.{role}.{name}");
        let backend = match self.optional(&key("backend"), text)? {
            Some(name) => backend_name(&key("backend"), name, backends)?,
            None => default_backend.clone(),
        };
        Ok(RoleConfig {
            backend,
            model: self.optional(&key("model"), text)?,
            reasoning: self.optional(&key("reasoning"), text)?,
            timeout: self.required(&key("timeout"), duration)?,
            idle_timeout: self.required(&key("idle_timeout"), duration)?,
            prompt: self
                .optional(&format!("prompts.{role}"), text)?
                .map(|p| Sourced::new(PathBuf::from(p.value), p.source)),
        })
    }

    fn command_backends(&mut self) -> Result<BTreeMap<String, CommandBackend>, ConfigError> {
        let names: Vec<String> = self
            .0
            .keys()
            .filter_map(|key| key.strip_prefix("backends.")?.strip_suffix(".command"))
            .map(str::to_owned)
            .collect();
        let mut backends = BTreeMap::new();
        for name in names {
            let key = |field: &str| format!("backends.{name}.{field}");
            let backend = CommandBackend {
                command: self.required(&key("command"), list)?,
                output: self
                    .optional(&key("output"), output)?
                    .unwrap_or_else(|| Sourced::new(OutputFormat::Text, Source::Default)),
                interactive_command: self.optional(&key("interactive_command"), list)?,
            };
            backends.insert(name, backend);
        }
        Ok(backends)
    }

    fn discord(&mut self, env: &Environment) -> Result<DiscordConfig, ConfigError> {
        let var_ref = |name: Option<Sourced<String>>| {
            name.map(|n| {
                let is_set = env.is_set(&n.value);
                Sourced::new(
                    EnvVarRef {
                        name: n.value,
                        is_set,
                    },
                    n.source,
                )
            })
        };
        let discord = DiscordConfig {
            webhook_url_env: var_ref(self.optional("discord.webhook_url_env", text)?),
            token_env: var_ref(self.optional("discord.token_env", text)?),
            channel_id: self.optional("discord.channel_id", text)?,
            events: self.required("discord.events", events)?,
        };
        // Naming a token variable only makes sense with a channel to post in; say so now rather
        // than silently sending nothing at the end of a long run.
        if let (Some(token), None) = (&discord.token_env, &discord.channel_id) {
            if token.source != Source::Default {
                return Err(ConfigError::new(
                    Location::from(&token.source),
                    "`discord.token_env` is set but `discord.channel_id` is not",
                )
                .with_key("discord.channel_id")
                .with_hint(Some(
                    "add channel_id = \"<id>\" under [discord], or use webhook_url_env instead"
                        .to_owned(),
                )));
            }
        }
        Ok(discord)
    }
}

/// Checks a backend name against the built-ins and the `[backends]` tables.
fn backend_name(
    key: &str,
    name: Sourced<String>,
    backends: &BTreeMap<String, CommandBackend>,
) -> Result<Sourced<BackendName>, ConfigError> {
    let resolved = match BuiltinBackend::from_name(&name.value) {
        Some(builtin) => BackendName::Builtin(builtin),
        None if backends.contains_key(&name.value) => BackendName::Command(name.value.clone()),
        None => {
            let known: Vec<&str> = BuiltinBackend::ALL
                .iter()
                .map(|b| b.as_str())
                .chain(backends.keys().map(String::as_str))
                .collect();
            let list = known.join(", ");
            let hint = match suggest(&name.value, known.iter().copied()) {
                Some(close) => format!("did you mean `{close}`? known backends: {list}"),
                None => format!(
                    "known backends: {list}; or define [backends.{}] with a command",
                    name.value
                ),
            };
            return Err(ConfigError::new(
                Location::from(&name.source),
                format!(
                    "invalid value for `{key}`: unknown backend `{}`",
                    name.value
                ),
            )
            .with_key(key)
            .with_hint(Some(hint)));
        }
    };
    Ok(Sourced::new(resolved, name.source))
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::Text(text) => Some(text),
        _ => None,
    }
}

fn count(value: Value) -> Option<u32> {
    match value {
        Value::Count(n) => Some(n),
        _ => None,
    }
}

fn boolean(value: Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn money(value: Value) -> Option<f64> {
    match value {
        Value::Money(amount) => Some(amount),
        _ => None,
    }
}

fn list(value: Value) -> Option<Vec<String>> {
    match value {
        Value::List(items) => Some(items),
        _ => None,
    }
}

fn duration(value: Value) -> Option<Duration> {
    match value {
        Value::Duration(d) => Some(d),
        _ => None,
    }
}

fn planner(value: Value) -> Option<PlannerMode> {
    match value {
        Value::Planner(mode) => Some(mode),
        _ => None,
    }
}

fn output(value: Value) -> Option<OutputFormat> {
    match value {
        Value::Output(output) => Some(output),
        _ => None,
    }
}

fn events(value: Value) -> Option<Vec<DiscordEvent>> {
    match value {
        Value::Events(events) => Some(events),
        _ => None,
    }
}
