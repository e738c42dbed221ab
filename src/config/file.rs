//! Reading a TOML layer (the built-in defaults or the user's `teams.toml`) into a flat map of
//! dotted keys to values that remember their line.
//!
//! We walk toml's spanned document tree ([`DeTable`]) against the key list in `schema.rs` instead
//! of deriving `Deserialize` with `deny_unknown_fields`: serde's unknown-field error names neither
//! the table nor a usable position for the key, while the tree gives us the span of every key and
//! value, so each error can name the exact line and column and suggest the nearest valid key.

use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Location, did_you_mean, line_col};
use super::schema;
use super::types::{BuiltinBackend, Source, Sourced};
use super::value::{Layer, Problem, article};

/// Which file is being read; decides how its values' sources are recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// The embedded `default.toml`: its values are `Source::Default`.
    Builtin,
    /// A user's file: its values are `Source::File` with their line.
    File(&'a Path),
}

/// The name errors in the built-in defaults carry (only a bug in `teams` can cause one).
const BUILTIN_NAME: &str = "(built-in) default.toml";

/// Parses `text` into a layer, rejecting unknown keys and bad values.
pub(crate) fn read_toml(text: &str, origin: Origin<'_>) -> Result<Layer, ConfigError> {
    let reader = Reader { text, origin };
    let document = DeTable::parse(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let mut message = err.message().trim_end().to_owned();
        // toml's message does not say which key; the span covers it.
        let key = text.get(span.clone()).filter(|key| !key.is_empty());
        if let Some(key) = key.filter(|_| message == "duplicate key") {
            message = format!("duplicate key `{key}`");
        }
        ConfigError::new(reader.location(span.start), message)
    })?;
    let mut layer = Layer::new();
    reader.walk(document.get_ref(), "", &mut layer)?;
    Ok(layer)
}

struct Reader<'a> {
    text: &'a str,
    origin: Origin<'a>,
}

impl Reader<'_> {
    fn location(&self, offset: usize) -> Location {
        let (line, column) = line_col(self.text, offset);
        let path = match self.origin {
            Origin::Builtin => PathBuf::from(BUILTIN_NAME),
            Origin::File(path) => path.to_path_buf(),
        };
        Location::File { path, line, column }
    }

    fn source(&self, offset: usize) -> Source {
        match self.origin {
            Origin::Builtin => Source::Default,
            Origin::File(path) => {
                let (line, column) = line_col(self.text, offset);
                Source::File {
                    path: path.to_path_buf(),
                    line,
                    column,
                }
            }
        }
    }

    /// Reads every entry of `table` (at dotted path `prefix`) into `layer`, in file order so the
    /// first mistake reported is the first one in the file.
    fn walk(
        &self,
        table: &DeTable<'_>,
        prefix: &str,
        layer: &mut Layer,
    ) -> Result<(), ConfigError> {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        for (key, value) in entries {
            let name: &str = key.get_ref();
            let full = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            };
            if prefix == "backends" {
                self.check_backend_name(name, key)?;
            }
            if let Some(spec) = schema::lookup(&full) {
                let parsed = spec
                    .kind
                    .parse_toml(value)
                    .map_err(|problem| self.value_error(&full, value.span().start, problem))?;
                layer.insert(full, Sourced::new(parsed, self.source(key.span().start)));
            } else if schema::is_table(&full) {
                let DeValue::Table(inner) = value.get_ref() else {
                    return Err(ConfigError::new(
                        self.location(value.span().start),
                        format!(
                            "`{full}` must be a table, found {}",
                            article(value.get_ref().type_str())
                        ),
                    )
                    .with_key(&full)
                    .with_hint(table_hint(&full)));
                };
                self.walk(inner, &full, layer)?;
                if prefix == "backends" && !layer.contains_key(&format!("{full}.command")) {
                    return Err(ConfigError::new(
                        self.location(key.span().start),
                        format!("backend `{name}` has no `command`"),
                    )
                    .with_key(&full)
                    .with_hint(Some(format!(
                        "add e.g. command = [\"{name}\", \"--prompt-file\", \"{{prompt_file}}\"]"
                    ))));
                }
            } else {
                return Err(self.unknown_key(prefix, name, key.span().start));
            }
        }
        Ok(())
    }

    fn value_error(&self, key: &str, value_start: usize, problem: Problem) -> ConfigError {
        let offset = problem.span.map_or(value_start, |span| span.start);
        ConfigError::new(
            self.location(offset),
            format!("invalid value for `{key}`: {}", problem.message),
        )
        .with_key(key)
        .with_hint(problem.hint)
    }

    fn unknown_key(&self, table: &str, name: &str, offset: usize) -> ConfigError {
        let valid = schema::children(table);
        let message = if table.is_empty() {
            format!("unknown key `{name}`")
        } else {
            format!("unknown key `{name}` in [{table}]")
        };
        let role_keys = schema::children("roles.builder");
        let hint = did_you_mean(name, valid.iter().copied()).or_else(|| {
            if table.is_empty() && role_keys.contains(&name) {
                Some(format!(
                    "`{name}` is a role setting: put it under [roles.builder] (or another role)"
                ))
            } else {
                Some(format!("valid keys here: {}", valid.join(", ")))
            }
        });
        let full = if table.is_empty() {
            name.to_owned()
        } else {
            format!("{table}.{name}")
        };
        ConfigError::new(self.location(offset), message)
            .with_key(full)
            .with_hint(hint)
    }

    /// `[backends.<name>]` names are used in `backend = "<name>"`, so they must not shadow a
    /// built-in backend and must be writable in an environment variable.
    fn check_backend_name(
        &self,
        name: &str,
        key: &Spanned<std::borrow::Cow<'_, str>>,
    ) -> Result<(), ConfigError> {
        let error = |message: String, hint: &str| {
            ConfigError::new(self.location(key.span().start), message)
                .with_key(format!("backends.{name}"))
                .with_hint(Some(hint.to_owned()))
        };
        if BuiltinBackend::from_name(name).is_some() {
            return Err(error(
                format!("`{name}` is a built-in backend and cannot be redefined"),
                "give the command backend another name, e.g. [backends.my-claude]",
            ));
        }
        let valid = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if name.is_empty() || !valid {
            return Err(error(
                format!("invalid backend name `{name}`"),
                "use lowercase letters, digits, `-` and `_`",
            ));
        }
        Ok(())
    }
}

fn table_hint(key: &str) -> Option<String> {
    match key {
        "roles" => Some("write e.g. [roles.builder] followed by its keys".to_owned()),
        "backends" => Some("write e.g. [backends.mycli] followed by command = [...]".to_owned()),
        _ if key.starts_with("roles.") => Some(format!(
            "write [{key}] followed by its keys, e.g. timeout = \"60m\""
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::value::Value;

    fn read(text: &str) -> Result<Layer, ConfigError> {
        read_toml(text, Origin::File(Path::new("/repo/teams.toml")))
    }

    #[test]
    fn values_remember_their_line() {
        let layer = read("# comment\nparallel = 3\n\n[roles.builder]\nmodel = \"opus\"\n").unwrap();
        assert_eq!(layer["parallel"].value, Value::Count(3));
        assert_eq!(
            layer["parallel"].source,
            Source::File {
                path: "/repo/teams.toml".into(),
                line: 2,
                column: 1
            }
        );
        assert_eq!(
            layer["roles.builder.model"].source.to_string(),
            "teams.toml:5"
        );
    }

    #[test]
    fn unknown_top_level_key_names_line_and_suggestion() {
        let err = read("parallel = 2\n\nbakend = \"codex\"\n").unwrap_err();
        assert_eq!(err.to_string(), "teams.toml:3:1: unknown key `bakend`");
        assert_eq!(err.hint(), Some("did you mean `backend`?"));
        assert_eq!(err.key.as_deref(), Some("bakend"));
        assert_eq!((err.line(), err.column()), (Some(3), Some(1)));
    }

    #[test]
    fn unknown_role_key_names_its_table() {
        let err = read("[roles.builder]\nmodel = \"x\"\n  timout = \"5m\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "teams.toml:3:3: unknown key `timout` in [roles.builder]"
        );
        assert_eq!(err.hint(), Some("did you mean `timeout`?"));
        assert_eq!(err.key.as_deref(), Some("roles.builder.timout"));
    }

    #[test]
    fn unknown_role_and_misplaced_keys_get_useful_hints() {
        let err = read("[roles.buidler]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "teams.toml:1:8: unknown key `buidler` in [roles]"
        );
        assert_eq!(err.hint(), Some("did you mean `builder`?"));

        let err = read("idle_timeout = \"5m\"\n").unwrap_err();
        assert!(
            err.hint().unwrap().contains("[roles.builder]"),
            "{:?}",
            err.hint()
        );

        let err = read("[discord]\nzzzzzzzz = 1\n").unwrap_err();
        assert_eq!(
            err.hint(),
            Some("valid keys here: webhook_url_env, token_env, channel_id, events")
        );
    }

    #[test]
    fn bad_value_type_reports_its_line_and_column() {
        let err = read("backend = \"claude\"\nparallel = \"4\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "teams.toml:2:12: invalid value for `parallel`: expected a whole number of at least 1, found a string"
        );
        assert_eq!(err.hint(), Some("remove the quotes around the value"));

        let err = read("[roles.validator]\ntimeout = 20\n").unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(err.message.contains("`roles.validator.timeout`"), "{err}");

        let err = read("[roles.builder]\ntimeout = \"10 minutes\"\n").unwrap_err();
        assert!(err.message.contains("\"1h30m\""), "{err}");
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = read("parallel = 2\nbackend = \n").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        let err = read("parallel = 1\nparallel = 2\n").unwrap_err();
        assert_eq!(err.to_string(), "teams.toml:2:1: duplicate key `parallel`");
    }

    #[test]
    fn command_backends_are_checked() {
        let layer = read(
            "[backends.mycli]\ncommand = [\"mycli\", \"{prompt_file}\"]\noutput = \"claude-stream-json\"\n",
        )
        .unwrap();
        assert!(layer.contains_key("backends.mycli.command"));
        assert!(layer.contains_key("backends.mycli.output"));

        let err = read("[backends.mycli]\ncommand = [\"mycli\",\n  \"{prompt}\"]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "teams.toml:3:3: invalid value for `backends.mycli.command`: unknown placeholder `{prompt}`"
        );
        assert_eq!(err.hint(), Some("did you mean `{prompt_file}`?"));

        let err = read("[backends.mycli]\noutput = \"text\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "teams.toml:1:11: backend `mycli` has no `command`"
        );

        let err = read("[backends.codex]\ncommand = [\"x\"]\n").unwrap_err();
        assert!(err.message.contains("built-in"), "{err}");

        let err = read("[backends.mycli]\ncommand = [\"x\"]\noutpt = \"text\"\n").unwrap_err();
        assert_eq!(err.hint(), Some("did you mean `output`?"));
    }

    #[test]
    fn tables_written_as_values_are_rejected() {
        let err = read("roles = 3\n").unwrap_err();
        assert!(err.message.contains("must be a table"), "{err}");
    }
}
