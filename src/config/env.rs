//! The environment layer: `TEAMS_*` variables that set configuration keys.
//!
//! The environment arrives as an explicit list of pairs rather than being read from
//! `std::env` here, so tests are hermetic and the library has no hidden inputs. Only the values
//! of configuration variables are kept; for every other variable we remember just whether it is
//! set, which is all the Discord settings need and keeps secrets out of memory we might print.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;

use super::error::{ConfigError, Location, suggest};
use super::schema;
use super::types::{Source, Sourced};
use super::value::Layer;

/// `TEAMS_*` variables that are not settings but are still legitimate (spec §5.1, §11, §12), so
/// they never trigger a "did you mean" warning.
const OTHER_TEAMS_VARS: [&str; 13] = [
    "TEAMS_ROLE",
    "TEAMS_RUN_ID",
    "TEAMS_UNIT_ID",
    "TEAMS_STORY_ID",
    "TEAMS_ATTEMPT",
    "TEAMS_WORKTREE",
    "TEAMS_PROMPT_FILE",
    "TEAMS_REPO_ROOT",
    "TEAMS_LOG",
    "TEAMS_INTERACTIVE",
    "TEAMS_DISCORD_WEBHOOK",
    "TEAMS_DISCORD_TOKEN",
    "TEAMS_DISCORD_API_BASE",
];

/// What the configuration needs from the process environment.
#[derive(Debug, Default)]
pub(crate) struct Environment {
    /// Configuration variables with a non-empty value; `None` when it is not valid UTF-8.
    settings: BTreeMap<String, Option<String>>,
    /// Names of every variable with a non-empty value.
    set: BTreeSet<String>,
    /// `TEAMS_*` names that are neither settings nor known variables.
    unknown: Vec<String>,
}

impl Environment {
    /// Takes what the configuration needs from `vars` (e.g. `std::env::vars_os()`). An empty
    /// value counts as unset, so `TEAMS_BACKEND= teams run` falls back to the file.
    pub(crate) fn capture<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut env = Environment::default();
        for (name, value) in vars {
            let (Some(name), value) = (name.as_ref().to_str(), value.as_ref()) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            env.set.insert(name.to_owned());
            if schema::by_env(name).is_some() {
                env.settings
                    .insert(name.to_owned(), value.to_str().map(str::to_owned));
            } else if name.starts_with("TEAMS_") && !OTHER_TEAMS_VARS.contains(&name) {
                env.unknown.push(name.to_owned());
            }
        }
        env.unknown.sort();
        env
    }

    /// Whether `name` is set to a non-empty value.
    pub(crate) fn is_set(&self, name: &str) -> bool {
        self.set.contains(name)
    }

    /// The settings layer, or the first bad variable in name order.
    pub(crate) fn layer(&self) -> Result<Layer, ConfigError> {
        let mut layer = Layer::new();
        for (var, value) in &self.settings {
            let Some(spec) = schema::by_env(var) else {
                continue;
            };
            let location = || Location::Env { var: var.clone() };
            let Some(text) = value else {
                return Err(ConfigError::new(
                    location(),
                    format!("invalid value for `{}`: not valid UTF-8", spec.key),
                )
                .with_key(&spec.key));
            };
            let value = spec.kind.parse_text(text).map_err(|problem| {
                ConfigError::new(
                    location(),
                    format!("invalid value for `{}`: {}", spec.key, problem.message),
                )
                .with_key(&spec.key)
                .with_hint(problem.hint)
            })?;
            layer.insert(
                spec.key.clone(),
                Sourced::new(value, Source::Env { var: var.clone() }),
            );
        }
        Ok(layer)
    }

    /// A warning for each `TEAMS_*` variable that looks like a misspelt setting; it is ignored,
    /// and silently ignoring a typo would leave the user wondering why their setting has no effect.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let known: Vec<&str> = schema::all()
            .iter()
            .filter_map(|spec| spec.env.as_deref())
            .collect();
        self.unknown
            .iter()
            .filter_map(|name| {
                suggest(name, known.iter().copied()).map(|close| {
                    format!(
                        "ignoring environment variable {name}: not a setting (did you mean {close}?)"
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    use super::*;
    use crate::config::value::Value;

    #[test]
    fn reads_settings_and_names_the_bad_variable() {
        let env = Environment::capture([
            ("TEAMS_PARALLEL", "4"),
            ("TEAMS_BUILDER_TIMEOUT", "2h"),
            ("PATH", "/bin"),
        ]);
        let layer = env.layer().unwrap();
        assert_eq!(layer["parallel"].value, Value::Count(4));
        assert_eq!(
            layer["roles.builder.timeout"].source,
            Source::Env {
                var: "TEAMS_BUILDER_TIMEOUT".into()
            }
        );
        assert_eq!(layer.len(), 2);

        let err = Environment::capture([("TEAMS_MAX_ATTEMPTS", "two")])
            .layer()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable TEAMS_MAX_ATTEMPTS: invalid value for `max_attempts`: expected a whole number of at least 1, got \"two\""
        );
        assert_eq!(
            err.location,
            Location::Env {
                var: "TEAMS_MAX_ATTEMPTS".into()
            }
        );

        let err = Environment::capture([("TEAMS_VALIDATOR_IDLE_TIMEOUT", "10")])
            .layer()
            .unwrap_err();
        assert!(err.to_string().starts_with("environment variable TEAMS_VALIDATOR_IDLE_TIMEOUT: invalid value for `roles.validator.idle_timeout`: invalid duration \"10\""), "{err}");
    }

    #[test]
    fn empty_values_are_unset_and_non_utf8_is_an_error() {
        let env = Environment::capture([("TEAMS_BACKEND", "")]);
        assert!(env.layer().unwrap().is_empty());
        assert!(!env.is_set("TEAMS_BACKEND"));

        let bad = OsString::from_vec(vec![0xff, 0xfe]);
        let env = Environment::capture([(OsString::from("TEAMS_BUILDER_MODEL"), bad)]);
        let err = env.layer().unwrap_err();
        assert!(err.to_string().contains("TEAMS_BUILDER_MODEL"), "{err}");
    }

    #[test]
    fn warns_about_likely_typos_only() {
        let env = Environment::capture([
            ("TEAMS_PARALEL", "3"),
            ("TEAMS_RUN_ID", "r1"),
            ("TEAMS_SOMETHING_ELSE", "x"),
            ("__TEAMS_TICK_MS", "5"),
        ]);
        assert_eq!(
            env.warnings(),
            [
                "ignoring environment variable TEAMS_PARALEL: not a setting (did you mean TEAMS_PARALLEL?)"
            ]
        );
    }
}
