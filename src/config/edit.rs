//! `teams config role set`: changing one role's settings in `teams.toml` in place.
//!
//! `teams.toml` is the user's file, committed and commented (the one `teams init` writes documents
//! every key), so an edit must change the values asked for and nothing else: comments, blank lines,
//! key order, quoting style and a comment after the value all stay. `toml_edit` keeps the document's
//! formatting; new keys are added at the end of the role's table, and a missing `[roles.<role>]`
//! table is appended at the end of the file.
//!
//! The edited text is resolved like any `teams.toml` before it is written, so an edit that would
//! make the configuration invalid (a backend that does not exist) is refused and the file is left
//! as it was. The file is replaced atomically (temporary file in the same directory, then rename).

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, Value};

use super::error::{ConfigError, Location};
use super::overrides::ConfigOverrides;
use super::resolve::{CONFIG_FILE_NAME, ConfigFile};
use super::types::{Config, Role};

/// The settings `teams config role set` may change; `None` leaves a key as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSettings {
    pub backend: Option<String>,
    pub model: Option<String>,
    pub reasoning: Option<String>,
}

impl RoleSettings {
    /// `(key, value)` for every setting given, in the order they are written.
    fn given(&self) -> Vec<(&'static str, &str)> {
        [
            ("backend", self.backend.as_deref()),
            ("model", self.model.as_deref()),
            ("reasoning", self.reasoning.as_deref()),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.given().is_empty()
    }
}

/// Sets `settings` for `role` in `text` (the contents of `teams.toml`, possibly empty) and returns
/// the new text. Fails when `text` is not TOML or `roles`/`roles.<role>` is not a table.
pub fn set_role_in_text(
    text: &str,
    path: &Path,
    role: Role,
    settings: &RoleSettings,
) -> Result<String, ConfigError> {
    let mut doc: DocumentMut = text.parse().map_err(|err: toml_edit::TomlError| {
        let (line, column) = err
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        ConfigError::new(
            Location::File {
                path: path.to_owned(),
                line,
                column,
            },
            format!("invalid TOML: {}", err.message()),
        )
    })?;
    let not_a_table = |key: &str| {
        ConfigError::new(
            Location::WholeFile {
                path: path.to_owned(),
            },
            format!("`{key}` is not a table, so the role's settings cannot be added to it"),
        )
    };
    let roles = doc
        .entry("roles")
        .or_insert_with(|| {
            let mut table = Table::new();
            // `[roles.builder]` without an empty `[roles]` header above it.
            table.set_implicit(true);
            Item::Table(table)
        })
        .as_table_like_mut()
        .ok_or_else(|| not_a_table("roles"))?;
    let role_key = format!("roles.{}", role.as_str());
    let table = roles
        .entry(role.as_str())
        .or_insert(Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| not_a_table(&role_key))?;
    for (key, new) in settings.given() {
        match table.get_mut(key).and_then(Item::as_value_mut) {
            // Keep the spacing and any comment after the old value.
            Some(old) => {
                let decor = old.decor().clone();
                *old = Value::from(new);
                *old.decor_mut() = decor;
            }
            None => {
                table.insert(key, toml_edit::value(new));
            }
        }
    }
    Ok(doc.to_string())
}

/// Sets `settings` for `role` in `<repo_root>/teams.toml` (created when missing), after checking
/// that the result is a valid configuration in this environment. Returns the new text.
pub fn set_role<I, K, V>(
    repo_root: &Path,
    role: Role,
    settings: &RoleSettings,
    env: I,
) -> Result<String, ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let path = repo_root.join(CONFIG_FILE_NAME);
    let whole_file = |message: &str, err: std::io::Error| {
        let mut error = ConfigError::new(
            Location::WholeFile { path: path.clone() },
            message.to_owned(),
        );
        error.io = Some(err);
        error
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(whole_file("failed to read the configuration file", err)),
    };
    let edited = set_role_in_text(&text, &path, role, settings)?;
    let file = ConfigFile {
        path: &path,
        text: &edited,
    };
    Config::resolve(Some(file), env, &ConfigOverrides::default())?;
    write_atomically(&path, edited.as_bytes())
        .map_err(|err| whole_file("failed to write the configuration file", err))?;
    Ok(edited)
}

/// Writes `bytes` to a temporary file beside `path`, flushes it and renames it over `path`, so a
/// crash leaves the old file or the new one. An existing file keeps its permissions.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".teams-edit.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(temp.path(), meta.permissions())?;
    }
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMENTED: &str = "# My project's teams settings.\nbackend = \"claude\"   # everyone\n\n[roles.builder]\n# The builder writes code.\nmodel = \"sonnet\"  # fast enough\ntimeout = \"60m\"\n\n[roles.validator]\nbackend = 'codex'\n";

    fn set(text: &str, role: Role, settings: RoleSettings) -> String {
        set_role_in_text(text, Path::new("teams.toml"), role, &settings).unwrap()
    }

    #[test]
    fn a_changed_value_is_the_only_difference() {
        let out = set(
            COMMENTED,
            Role::Builder,
            RoleSettings {
                model: Some("opus".into()),
                ..RoleSettings::default()
            },
        );
        assert_eq!(
            out,
            COMMENTED.replace("model = \"sonnet\"", "model = \"opus\"")
        );
    }

    #[test]
    fn new_keys_go_to_the_end_of_their_table() {
        let out = set(
            COMMENTED,
            Role::Validator,
            RoleSettings {
                model: Some("gpt-5".into()),
                reasoning: Some("high".into()),
                ..RoleSettings::default()
            },
        );
        assert_eq!(
            out,
            format!("{COMMENTED}model = \"gpt-5\"\nreasoning = \"high\"\n")
        );
    }

    #[test]
    fn a_missing_role_table_is_appended_without_an_empty_roles_header() {
        let out = set(
            "backend = \"claude\"\n",
            Role::Planner,
            RoleSettings {
                backend: Some("codex".into()),
                ..RoleSettings::default()
            },
        );
        assert_eq!(
            out,
            "backend = \"claude\"\n\n[roles.planner]\nbackend = \"codex\"\n"
        );
        let from_nothing = set(
            "",
            Role::Merger,
            RoleSettings {
                model: Some("m".into()),
                ..RoleSettings::default()
            },
        );
        assert_eq!(from_nothing, "[roles.merger]\nmodel = \"m\"\n");
    }

    #[test]
    fn dotted_and_inline_role_tables_are_edited_where_they_are() {
        let out = set(
            "roles.builder.model = \"a\"\n",
            Role::Builder,
            RoleSettings {
                model: Some("b".into()),
                ..RoleSettings::default()
            },
        );
        assert_eq!(out, "roles.builder.model = \"b\"\n");
        let out = set(
            "roles = { builder = { model = \"a\" } }\n",
            Role::Builder,
            RoleSettings {
                model: Some("b".into()),
                ..RoleSettings::default()
            },
        );
        assert_eq!(out, "roles = { builder = { model = \"b\" } }\n");
    }

    #[test]
    fn broken_toml_and_non_tables_are_errors_with_a_position() {
        let err = set_role_in_text(
            "backend = \"claude\"\nmodel = \n",
            Path::new("teams.toml"),
            Role::Builder,
            &RoleSettings::default(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("teams.toml:2:"), "{err}");
        let err = set_role_in_text(
            "roles = 3\n",
            Path::new("teams.toml"),
            Role::Builder,
            &RoleSettings {
                model: Some("x".into()),
                ..RoleSettings::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("`roles` is not a table"), "{err}");
    }

    #[test]
    fn set_role_refuses_an_invalid_result_and_keeps_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(&path, COMMENTED).unwrap();
        let no_env: [(&str, &str); 0] = [];
        let err = set_role(
            dir.path(),
            Role::Builder,
            &RoleSettings {
                backend: Some("nosuchcli".into()),
                ..RoleSettings::default()
            },
            no_env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("nosuchcli"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), COMMENTED);

        set_role(
            dir.path(),
            Role::Builder,
            &RoleSettings {
                backend: Some("codex".into()),
                ..RoleSettings::default()
            },
            no_env,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("timeout = \"60m\"\nbackend = \"codex\"\n"),
            "{text}"
        );
    }
}
