//! The command-line layer: the few settings a flag can override, filled in by the CLI.
//!
//! Flags arrive already typed (clap parsed them), so this layer only applies the range rules the
//! other layers share and records which flag set each value.

use super::error::{ConfigError, Location};
use super::schema;
use super::types::{Source, Sourced};
use super::value::{Layer, Value};

/// Settings given on the command line; `None` leaves the lower layers' value. These are the
/// flags spec §2 defines; adding one is a field here, a line in `layer` and its `flag` in
/// `schema.rs`.
///
/// The flag each field stands for is fixed (the `flag` column of `schema.rs`), so `config show`
/// and error messages name it; the CLI should spell its flags the same way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigOverrides {
    /// `--backend B`: the default backend of every role without its own.
    pub backend: Option<String>,
    /// `--parallel N`.
    pub parallel: Option<u32>,
    /// `--max-attempts N`.
    pub max_attempts: Option<u32>,
    /// `--land`.
    pub land: Option<bool>,
}

impl ConfigOverrides {
    pub(crate) fn layer(&self) -> Result<Layer, ConfigError> {
        let given = [
            ("backend", self.backend.clone().map(Value::Text)),
            ("parallel", self.parallel.map(Value::Count)),
            ("max_attempts", self.max_attempts.map(Value::Count)),
            ("land", self.land.map(Value::Bool)),
        ];
        let mut layer = Layer::new();
        for (key, value) in given {
            let Some(value) = value else { continue };
            let spec = schema::lookup(key);
            let flag = spec.and_then(|spec| spec.flag).unwrap_or(key);
            let kind = spec.map(|spec| spec.kind);
            let checked = match (&value, kind) {
                // A backend name is free text until resolution; run it through the same rules
                // as the other layers so an empty `--backend ""` is caught here.
                (Value::Text(text), Some(kind)) => kind.parse_text(text).map(|_| ()),
                (_, Some(kind)) => kind.check(&value),
                (_, None) => Ok(()),
            };
            checked.map_err(|problem| {
                ConfigError::new(
                    Location::Flag {
                        flag: flag.to_owned(),
                    },
                    format!("invalid value for `{key}`: {}", problem.message),
                )
                .with_key(key)
                .with_hint(problem.hint)
            })?;
            let source = Source::Flag {
                flag: flag.to_owned(),
            };
            layer.insert(key.to_owned(), Sourced::new(value, source));
        }
        Ok(layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_range_checked_and_named() {
        let overrides = ConfigOverrides {
            parallel: Some(0),
            ..ConfigOverrides::default()
        };
        let err = overrides.layer().unwrap_err();
        assert_eq!(
            err.to_string(),
            "flag --parallel: invalid value for `parallel`: must be at least 1, got 0"
        );

        let overrides = ConfigOverrides {
            backend: Some(String::new()),
            ..ConfigOverrides::default()
        };
        let err = overrides.layer().unwrap_err();
        assert!(err.to_string().starts_with("flag --backend: "), "{err}");
    }

    #[test]
    fn every_field_records_its_flag() {
        let overrides = ConfigOverrides {
            backend: Some("codex".into()),
            parallel: Some(2),
            max_attempts: Some(5),
            land: Some(true),
        };
        let layer = overrides.layer().unwrap();
        let flags: Vec<String> = layer.values().map(|v| v.source.to_string()).collect();
        assert_eq!(
            flags,
            [
                "flag --backend",
                "flag --land",
                "flag --max-attempts",
                "flag --parallel"
            ]
        );
        assert_eq!(layer["max_attempts"].value, Value::Count(5));
    }
}
