//! End-to-end tests of the config module through its public API: defaults, precedence across
//! the four layers, cross-key checks, `config show`, and the docs staying in step with the keys.

use std::path::Path;
use std::time::Duration as StdDuration;

use super::schema;
use super::*;

const FULL: &str = include_str!("../../tests/fixtures/config/full.toml");
const DOCS: &str = include_str!("../../docs/config.md");

const NO_ENV: [(&str, &str); 0] = [];

fn resolve_with(
    file: Option<&str>,
    env: &[(&str, &str)],
    overrides: &ConfigOverrides,
) -> Result<Config, ConfigError> {
    let file = file.map(|text| ConfigFile {
        path: Path::new("/repo/teams.toml"),
        text,
    });
    Config::resolve(file, env.iter().copied(), overrides)
}

fn resolve(file: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    resolve_with(file, env, &ConfigOverrides::default())
}

fn file_line(line: usize) -> Source {
    Source::File {
        path: "/repo/teams.toml".into(),
        line,
        column: 1,
    }
}

fn mins(n: u64) -> StdDuration {
    StdDuration::from_secs(n * 60)
}

#[test]
fn defaults_parse_and_match_the_spec() {
    let config = Config::resolve(None, NO_ENV, &ConfigOverrides::default()).unwrap();
    assert_eq!(
        config.backend.value,
        BackendName::Builtin(BuiltinBackend::Claude)
    );
    assert_eq!(config.parallel.value, 1);
    assert_eq!(config.max_attempts.value, 2);
    assert_eq!(config.planner.value, PlannerMode::Auto);
    assert!(!config.auto_commit.value);
    assert_eq!(config.budget_cap(), None);
    assert!(config.checks.value.is_empty());
    assert!(!config.land.value);
    assert_eq!(
        config.grace_period.value.as_std(),
        StdDuration::from_secs(10)
    );
    let limits = |role| {
        let r: &RoleConfig = config.role(role);
        (r.timeout.value.as_std(), r.idle_timeout.value.as_std())
    };
    assert_eq!(limits(Role::Builder), (mins(60), mins(10)));
    assert_eq!(limits(Role::Validator), (mins(20), mins(5)));
    assert_eq!(limits(Role::Planner), (mins(30), mins(10)));
    assert_eq!(limits(Role::Merger), (mins(30), mins(10)));
    assert_eq!(config.role(Role::Builder).model, None);
    assert_eq!(config.discord.events.value, DiscordEvent::ALL);
    assert_eq!(config.discord.target(), DiscordTarget::None);
    assert!(config.backends.is_empty() && config.warnings.is_empty());
    assert_eq!(config.file, None);
    let rows = config.show_rows();
    assert!(
        rows.iter()
            .all(|r| r.source.is_none() || r.source == Some(Source::Default)),
        "{rows:#?}"
    );
}

#[test]
fn precedence_is_flag_then_env_then_file_then_default() {
    let file = "parallel = 2\n";
    let env = [("TEAMS_PARALLEL", "3")];
    let flag = ConfigOverrides {
        parallel: Some(4),
        ..ConfigOverrides::default()
    };

    let config = resolve_with(Some(file), &env, &flag).unwrap();
    assert_eq!(
        config.parallel,
        Sourced::new(
            4,
            Source::Flag {
                flag: "--parallel".into()
            }
        )
    );
    let config = resolve(Some(file), &env).unwrap();
    assert_eq!(
        config.parallel,
        Sourced::new(
            3,
            Source::Env {
                var: "TEAMS_PARALLEL".into()
            }
        )
    );
    let config = resolve(Some(file), &[]).unwrap();
    assert_eq!(config.parallel, Sourced::new(2, file_line(1)));
    assert_eq!(config.file.as_deref(), Some(Path::new("/repo/teams.toml")));
    let config = resolve(None, &[]).unwrap();
    assert_eq!(config.parallel, Sourced::new(1, Source::Default));
}

#[test]
fn layers_merge_key_by_key() {
    // The file sets one role key; the environment another; the rest stay default.
    let file = "[roles.validator]\ntimeout = \"25m\"\n";
    let env = [
        ("TEAMS_VALIDATOR_IDLE_TIMEOUT", "7m"),
        ("TEAMS_BUILDER_MODEL", "opus"),
    ];
    let config = resolve(Some(file), &env).unwrap();
    let validator = config.role(Role::Validator);
    assert_eq!(validator.timeout.value.as_std(), mins(25));
    assert_eq!(validator.timeout.source, file_line(2));
    assert_eq!(validator.idle_timeout.value.as_std(), mins(7));
    assert_eq!(
        validator.idle_timeout.source.to_string(),
        "env TEAMS_VALIDATOR_IDLE_TIMEOUT"
    );
    assert_eq!(
        config
            .role(Role::Builder)
            .model
            .as_ref()
            .map(|m| m.value.as_str()),
        Some("opus")
    );
    assert_eq!(config.role(Role::Merger).timeout.source, Source::Default);
}

#[test]
fn roles_without_a_backend_inherit_the_top_level_one_and_its_source() {
    let file = "[roles.validator]\nbackend = \"gemini\"\n";
    let env = [("TEAMS_BACKEND", "codex")];
    let config = resolve(Some(file), &env).unwrap();
    let builder = &config.role(Role::Builder).backend;
    assert_eq!(builder.value, BackendName::Builtin(BuiltinBackend::Codex));
    assert_eq!(builder.source.to_string(), "env TEAMS_BACKEND");
    let validator = &config.role(Role::Validator).backend;
    assert_eq!(
        validator.value,
        BackendName::Builtin(BuiltinBackend::Gemini)
    );
    assert_eq!(validator.source, file_line(2));
}

#[test]
fn full_fixture_sets_every_key_from_the_file() {
    let config = resolve(Some(FULL), &[("MY_WEBHOOK", "https://secret.example/hook")]).unwrap();
    for row in config.show_rows() {
        assert!(
            matches!(row.source, Some(Source::File { .. })),
            "{} came from {:?}",
            row.key,
            row.source
        );
    }
    assert_eq!(config.budget_cap(), Some(12.5));
    assert_eq!(
        config.role(Role::Builder).backend.value,
        BackendName::Command("mycli".into())
    );
    let mycli = config.command_backend(Role::Builder).unwrap();
    assert_eq!(mycli.output.value, OutputFormat::ClaudeStreamJson);
    assert_eq!(mycli.command.value[0], "mycli");
    assert_eq!(config.command_backend(Role::Validator), None);
    assert_eq!(config.role(Role::Builder).timeout.value.as_std(), mins(90));
    assert_eq!(
        config.discord.target(),
        DiscordTarget::Webhook {
            url_env: "MY_WEBHOOK"
        }
    );
    assert!(config.discord.wants(DiscordEvent::Failure));
    assert!(!config.discord.wants(DiscordEvent::Merge));
}

#[test]
fn unknown_backend_is_reported_where_it_was_set() {
    let err = resolve(
        Some("parallel = 1\n[roles.builder]\nbackend = \"cluade\"\n"),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "teams.toml:3:1: invalid value for `roles.builder.backend`: unknown backend `cluade`"
    );
    assert_eq!(err.key.as_deref(), Some("roles.builder.backend"));
    assert!(
        err.hint()
            .unwrap()
            .starts_with("did you mean `claude`? known backends: claude, codex"),
        "{:?}",
        err.hint()
    );

    let err = resolve(None, &[("TEAMS_VALIDATOR_BACKEND", "nope")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable TEAMS_VALIDATOR_BACKEND: invalid value for `roles.validator.backend`: unknown backend `nope`"
    );

    let flag = ConfigOverrides {
        backend: Some("mycli".into()),
        ..ConfigOverrides::default()
    };
    let err = resolve_with(None, &[], &flag).unwrap_err();
    assert!(err.to_string().starts_with("flag --backend: "), "{err}");
    assert!(
        err.hint().unwrap().contains("[backends.mycli]"),
        "{:?}",
        err.hint()
    );
}

#[test]
fn a_command_backend_from_the_file_can_be_chosen_by_env_or_flag() {
    let file = "[backends.mycli]\ncommand = [\"mycli\", \"{prompt_file}\"]\n";
    let config = resolve(Some(file), &[("TEAMS_MERGER_BACKEND", "mycli")]).unwrap();
    assert_eq!(
        config.role(Role::Merger).backend.value,
        BackendName::Command("mycli".into())
    );
    let backend = &config.backends["mycli"];
    assert_eq!(
        backend.output,
        Sourced::new(OutputFormat::Text, Source::Default)
    );
    assert_eq!(backend.interactive_command, None);
}

#[test]
fn discord_shows_variable_names_and_whether_they_are_set_never_values() {
    let secret = "https://discord.com/api/webhooks/42/very-secret-token";
    let config = resolve(None, &[("TEAMS_DISCORD_WEBHOOK", secret)]).unwrap();
    assert_eq!(
        config.discord.target(),
        DiscordTarget::Webhook {
            url_env: "TEAMS_DISCORD_WEBHOOK"
        }
    );
    let rows = config.show_rows();
    let webhook = rows
        .iter()
        .find(|r| r.key == "discord.webhook_url_env")
        .unwrap();
    assert_eq!(
        webhook.to_line(),
        "discord.webhook_url_env = TEAMS_DISCORD_WEBHOOK (set) (default)"
    );
    assert_eq!(webhook.env_set, Some(true));
    let token = rows.iter().find(|r| r.key == "discord.token_env").unwrap();
    assert_eq!(token.env_set, Some(false));
    let json = serde_json::to_string(&config.show_report()).unwrap();
    assert!(!json.contains("very-secret-token"), "{json}");
    assert!(!format!("{config:?}").contains("very-secret-token"));

    let err = resolve(Some("[discord]\ntoken_env = \"BOT\"\n"), &[]).unwrap_err();
    assert_eq!(err.line(), Some(2));
    assert!(err.message.contains("channel_id"), "{err}");
}

#[test]
fn show_rows_cover_every_key_in_schema_order() {
    let config = resolve(Some(FULL), &[]).unwrap();
    let shown: Vec<String> = config.show_rows().into_iter().map(|r| r.key).collect();
    let expected: Vec<String> = schema::all()
        .iter()
        .map(|spec| spec.key.replace("backends.*", "backends.mycli"))
        .collect();
    assert_eq!(shown, expected);
}

#[test]
fn show_lines_and_json_have_a_stable_shape() {
    let config = resolve(Some("parallel = 3\n"), &[("TEAMS_BUILDER_TIMEOUT", "90m")]).unwrap();
    let rows = config.show_rows();
    let line = |key: &str| rows.iter().find(|r| r.key == key).unwrap().to_line();
    assert_eq!(line("parallel"), "parallel = 3 (teams.toml:1)");
    assert_eq!(
        line("roles.builder.timeout"),
        "roles.builder.timeout = 1h30m (env TEAMS_BUILDER_TIMEOUT)"
    );
    assert_eq!(
        line("roles.validator.timeout"),
        "roles.validator.timeout = 20m (default)"
    );
    assert_eq!(
        line("roles.builder.model"),
        "roles.builder.model = (not set)"
    );
    assert_eq!(line("checks"), "checks = [] (default)");

    let json = serde_json::to_value(&rows[1]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "key": "parallel",
            "display": "3",
            "value": 3,
            "source": {"kind": "file", "path": "/repo/teams.toml", "line": 1, "column": 1}
        })
    );
}

#[test]
fn starter_file_documents_everything_and_changes_nothing() {
    let starter = starter_toml();
    assert!(starter.contains("# parallel = 1"));
    let config = resolve(Some(&starter), &[]).unwrap();
    let defaults = resolve(None, &[]).unwrap();
    assert_eq!(config.show_rows(), defaults.show_rows());
}

#[test]
fn load_reads_the_repo_root_and_tolerates_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(dir.path(), NO_ENV, &ConfigOverrides::default()).unwrap();
    assert_eq!(config.file, None);

    std::fs::write(
        dir.path().join(CONFIG_FILE_NAME),
        "max_attempts = 3\nland = yes\n",
    )
    .unwrap();
    let err = Config::load(dir.path(), NO_ENV, &ConfigOverrides::default()).unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
    assert!(err.to_string().starts_with("teams.toml:2:"), "{err}");

    std::fs::write(dir.path().join(CONFIG_FILE_NAME), "max_attempts = 3\n").unwrap();
    let config = Config::load(dir.path(), NO_ENV, &ConfigOverrides::default()).unwrap();
    assert_eq!(config.max_attempts.value, 3);
    assert_eq!(config.file, Some(dir.path().join(CONFIG_FILE_NAME)));
}

#[test]
fn docs_list_every_key_and_variable() {
    // The docs write role keys once, as `roles.<role>.timeout` and `TEAMS_<ROLE>_TIMEOUT`.
    let generic = |text: &str| {
        let mut text = text.replace("backends.*", "backends.<name>");
        for role in Role::ALL {
            text = text
                .replace(&format!(".{role}"), ".<role>")
                .replace(&format!("_{}_", role.as_str().to_uppercase()), "_<ROLE>_");
        }
        text
    };
    for spec in schema::all() {
        let key = format!("`{}`", generic(&spec.key));
        assert!(DOCS.contains(&key), "docs/config.md lacks {key}");
        if let Some(var) = &spec.env {
            let var = format!("`{}`", generic(var));
            assert!(DOCS.contains(&var), "docs/config.md lacks {var}");
        }
        if let Some(flag) = spec.flag {
            assert!(
                DOCS.contains(&format!("`{flag}`")),
                "docs/config.md lacks {flag}"
            );
        }
    }
}

#[test]
fn typo_in_a_teams_variable_becomes_a_warning() {
    let config = resolve(None, &[("TEAMS_MAX_ATTEMPT", "3")]).unwrap();
    assert_eq!(config.max_attempts.value, 2);
    assert_eq!(config.warnings.len(), 1);
    assert!(config.warnings[0].contains("TEAMS_MAX_ATTEMPTS"));
}
