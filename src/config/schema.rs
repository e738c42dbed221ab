//! The list of every configuration key: its dotted name, its kind of value, its environment
//! variable and its flag.
//!
//! One table drives the file reader (which keys exist in which table, for unknown-key errors and
//! suggestions), the environment reader, `config show` and the docs test, so a key added here is
//! known everywhere at once and cannot be half-supported.

use std::sync::LazyLock;

use super::types::Role;

/// What a key holds; decides how text and TOML values are parsed and checked (see `value.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A backend name, checked against the built-ins and `[backends]` once all layers are merged.
    Backend,
    /// A whole number of at least 1.
    Count,
    Bool,
    /// US dollars, at least 0.
    Money,
    /// A list of shell commands.
    Commands,
    Planner,
    /// A duration that may be zero.
    Duration,
    /// A duration that must be positive (a zero timeout would fail every agent at once).
    PositiveDuration,
    Model,
    Reasoning,
    Path,
    /// The name of an environment variable holding a secret.
    EnvVarName,
    ChannelId,
    Events,
    /// A program and its arguments, with placeholders.
    Argv,
    Output,
}

/// One configuration key.
#[derive(Debug)]
pub(crate) struct KeySpec {
    /// Dotted path; `backends.*.command` stands for every `[backends.<name>]` table.
    pub key: String,
    pub kind: Kind,
    /// The `TEAMS_*` variable that sets it, if any.
    pub env: Option<String>,
    /// The command-line flag that sets it, if any (see `ConfigOverrides`).
    pub flag: Option<&'static str>,
}

/// Top-level keys: (name, kind, has an env variable, flag).
const TOP_LEVEL: [(&str, Kind, bool, Option<&str>); 9] = [
    ("backend", Kind::Backend, true, Some("--backend")),
    ("parallel", Kind::Count, true, Some("--parallel")),
    ("max_attempts", Kind::Count, true, Some("--max-attempts")),
    ("planner", Kind::Planner, true, None),
    ("auto_commit", Kind::Bool, true, None),
    ("budget_usd", Kind::Money, true, None),
    ("checks", Kind::Commands, false, None),
    ("land", Kind::Bool, true, Some("--land")),
    ("grace_period", Kind::Duration, true, None),
];

/// Keys of every `[roles.<role>]` table; each has the variable `TEAMS_<ROLE>_<KEY>`.
const ROLE_KEYS: [(&str, Kind); 5] = [
    ("backend", Kind::Backend),
    ("model", Kind::Model),
    ("reasoning", Kind::Reasoning),
    ("timeout", Kind::PositiveDuration),
    ("idle_timeout", Kind::PositiveDuration),
];

/// Keys of every `[backends.<name>]` table; set in files only.
const BACKEND_KEYS: [(&str, Kind); 3] = [
    ("command", Kind::Argv),
    ("output", Kind::Output),
    ("interactive_command", Kind::Argv),
];

/// Keys of `[discord]`; set in files only, because they name variables rather than hold values.
const DISCORD_KEYS: [(&str, Kind); 4] = [
    ("webhook_url_env", Kind::EnvVarName),
    ("token_env", Kind::EnvVarName),
    ("channel_id", Kind::ChannelId),
    ("events", Kind::Events),
];

static KEYS: LazyLock<Vec<KeySpec>> = LazyLock::new(build_keys);

fn build_keys() -> Vec<KeySpec> {
    let mut keys = Vec::new();
    for (name, kind, has_env, flag) in TOP_LEVEL {
        let env = has_env.then(|| format!("TEAMS_{}", name.to_uppercase()));
        keys.push(KeySpec {
            key: name.to_owned(),
            kind,
            env,
            flag,
        });
    }
    for role in Role::ALL {
        for (name, kind) in ROLE_KEYS {
            keys.push(KeySpec {
                key: format!("roles.{role}.{name}"),
                kind,
                env: Some(format!(
                    "TEAMS_{}_{}",
                    role.as_str().to_uppercase(),
                    name.to_uppercase()
                )),
                flag: None,
            });
        }
    }
    for role in Role::ALL {
        keys.push(KeySpec {
            key: format!("prompts.{role}"),
            kind: Kind::Path,
            env: Some(format!("TEAMS_{}_PROMPT", role.as_str().to_uppercase())),
            flag: None,
        });
    }
    for (table, fields) in [
        ("backends.*", &BACKEND_KEYS[..]),
        ("discord", &DISCORD_KEYS[..]),
    ] {
        for (name, kind) in fields {
            keys.push(KeySpec {
                key: format!("{table}.{name}"),
                kind: *kind,
                env: None,
                flag: None,
            });
        }
    }
    keys
}

/// Every key, in the order `config show` and the docs list them.
pub(crate) fn all() -> &'static [KeySpec] {
    &KEYS
}

/// `backends.mycli.command` → `backends.*.command`: every backend table has the same keys.
pub(crate) fn pattern(key: &str) -> String {
    match key.strip_prefix("backends.") {
        Some(rest) => match rest.split_once('.') {
            Some((_, field)) => format!("backends.*.{field}"),
            None => "backends.*".to_owned(),
        },
        None => key.to_owned(),
    }
}

/// The spec of a leaf key, if `key` is one.
pub(crate) fn lookup(key: &str) -> Option<&'static KeySpec> {
    let pattern = pattern(key);
    all().iter().find(|spec| spec.key == pattern)
}

/// The spec of the key set by environment variable `var`.
pub(crate) fn by_env(var: &str) -> Option<&'static KeySpec> {
    all().iter().find(|spec| spec.env.as_deref() == Some(var))
}

/// The names allowed directly inside `table` (`""` for the top level), in schema order. Empty
/// for `backends`, whose entries are named by the user.
pub(crate) fn children(table: &str) -> Vec<&'static str> {
    let pattern = pattern(table);
    let mut names: Vec<&'static str> = Vec::new();
    for spec in all() {
        let rest = if pattern.is_empty() {
            Some(spec.key.as_str())
        } else {
            spec.key
                .strip_prefix(pattern.as_str())
                .and_then(|r| r.strip_prefix('.'))
        };
        let name = rest.map(|r| r.split('.').next().unwrap_or(r));
        if let Some(name) = name.filter(|n| *n != "*" && !names.contains(n)) {
            names.push(name);
        }
    }
    names
}

/// Whether `key` names a table (rather than a leaf or nothing).
pub(crate) fn is_table(key: &str) -> bool {
    let pattern = pattern(key);
    let prefix = format!("{pattern}.");
    key == "backends" || all().iter().any(|spec| spec.key.starts_with(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_children_follow_the_key_list() {
        assert_eq!(
            children(""),
            [
                "backend",
                "parallel",
                "max_attempts",
                "planner",
                "auto_commit",
                "budget_usd",
                "checks",
                "land",
                "grace_period",
                "roles",
                "prompts",
                "backends",
                "discord"
            ]
        );
        assert_eq!(
            children("roles"),
            ["planner", "builder", "validator", "merger"]
        );
        assert_eq!(
            children("roles.builder"),
            ["backend", "model", "reasoning", "timeout", "idle_timeout"]
        );
        assert_eq!(
            children("backends.mycli"),
            ["command", "output", "interactive_command"]
        );
        assert!(children("backends").is_empty());
        assert!(is_table("roles") && is_table("roles.merger") && is_table("backends.x"));
        assert!(!is_table("parallel") && !is_table("nope"));
        assert_eq!(
            lookup("backends.x.output").map(|s| s.kind),
            Some(Kind::Output)
        );
    }

    #[test]
    fn env_names_follow_the_documented_pattern() {
        let env = |key: &str| lookup(key).and_then(|s| s.env.clone());
        assert_eq!(env("parallel").as_deref(), Some("TEAMS_PARALLEL"));
        assert_eq!(
            env("roles.builder.idle_timeout").as_deref(),
            Some("TEAMS_BUILDER_IDLE_TIMEOUT")
        );
        assert_eq!(
            env("prompts.validator").as_deref(),
            Some("TEAMS_VALIDATOR_PROMPT")
        );
        assert_eq!(env("checks"), None);
        assert_eq!(
            by_env("TEAMS_MAX_ATTEMPTS").map(|s| s.key.as_str()),
            Some("max_attempts")
        );
    }
}
