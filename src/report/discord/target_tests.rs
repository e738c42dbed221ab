use std::path::Path;

use super::*;
use crate::config::{Config, ConfigFile, ConfigOverrides};

const ID: &str = "123456789012345678";

fn token() -> String {
    "T".repeat(68)
}

fn webhook_url() -> String {
    format!("https://discord.com/api/webhooks/{ID}/{}", token())
}

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

fn config(toml: Option<&str>, vars: &[(OsString, OsString)]) -> DiscordConfig {
    let file = toml.map(|text| ConfigFile {
        path: Path::new("/repo/teams.toml"),
        text,
    });
    Config::resolve(file, vars.iter().cloned(), &ConfigOverrides::default())
        .unwrap()
        .discord
}

fn setup(toml: Option<&str>, pairs: &[(&str, &str)]) -> Result<Option<DiscordSetup>, TargetError> {
    let vars = env(pairs);
    resolve(&config(toml, &vars), &vars)
}

#[test]
fn nothing_set_means_discord_is_off() {
    assert_eq!(setup(None, &[]).unwrap().map(|s| s.destination), None);
    let vars = env(&[]);
    assert!(matches!(
        status(&config(None, &vars), &vars),
        TargetStatus::Off { .. }
    ));
}

#[test]
fn the_default_webhook_variable_is_read_and_parsed() {
    let url = webhook_url();
    let got = setup(None, &[("TEAMS_DISCORD_WEBHOOK", &url)])
        .unwrap()
        .unwrap();
    assert_eq!(
        got.destination,
        Destination::Webhook {
            id: ID.parse().unwrap(),
            token: Secret::new(token())
        }
    );
    assert_eq!(got.api_base, None);
    assert_eq!(got.policy, SendPolicy::default());
    // The v10 form Discord also shows is accepted.
    let v10 = format!("https://discord.com/api/v10/webhooks/{ID}/{}", token());
    assert!(parse_webhook_url(&v10).is_some());
}

#[test]
fn a_malformed_webhook_names_the_variable_and_never_the_value() {
    let bad = format!("https://example.com/api/webhooks/{ID}/{}", token());
    let err = setup(None, &[("TEAMS_DISCORD_WEBHOOK", &bad)]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`TEAMS_DISCORD_WEBHOOK`"), "{text}");
    assert!(!text.contains(&token()), "{text}");
    let vars = env(&[("TEAMS_DISCORD_WEBHOOK", "not a url")]);
    match status(&config(None, &vars), &vars) {
        TargetStatus::Problem { detail, hint } => {
            assert!(detail.contains("webhook URL"), "{detail}");
            assert!(hint.contains("Copy Webhook URL"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bot_token_needs_the_channel_and_gets_the_bot_prefix() {
    let toml = "[discord]\nchannel_id = \"42\"\n";
    let got = setup(Some(toml), &[("TEAMS_DISCORD_TOKEN", "abc.def")])
        .unwrap()
        .unwrap();
    assert_eq!(
        got.destination,
        Destination::Channel {
            id: 42,
            bot_token: Secret::new("Bot abc.def")
        }
    );
    // The channel without the token: doctor points at the missing variable.
    let vars = env(&[]);
    match status(&config(Some(toml), &vars), &vars) {
        TargetStatus::Problem { detail, .. } => {
            assert!(
                detail.contains("`TEAMS_DISCORD_TOKEN` (the bot token) is not set"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_api_base_and_test_timings_are_taken_from_the_environment() {
    let url = webhook_url();
    let got = setup(
        None,
        &[
            ("TEAMS_DISCORD_WEBHOOK", &url),
            ("TEAMS_DISCORD_API_BASE", "http://127.0.0.1:9/"),
            ("__TEAMS_DISCORD_TIMEOUT_MS", "50"),
            ("__TEAMS_DISCORD_DRAIN_MS", "70"),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(got.api_base.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(got.policy.timeout, Duration::from_millis(50));
    assert_eq!(got.policy.drain, Duration::from_millis(70));
    let err = setup(
        None,
        &[
            ("TEAMS_DISCORD_WEBHOOK", &url),
            ("TEAMS_DISCORD_API_BASE", "ftp://x"),
        ],
    );
    assert_eq!(err.unwrap_err(), TargetError::BadApiBase);
}

#[test]
fn a_ready_status_says_where_without_the_secret() {
    let url = webhook_url();
    let vars = env(&[("TEAMS_DISCORD_WEBHOOK", &url)]);
    match status(&config(None, &vars), &vars) {
        TargetStatus::Ready { detail } => {
            assert_eq!(
                detail,
                format!(
                    "posts to webhook {ID} from `TEAMS_DISCORD_WEBHOOK`; events: run, unit, failure, merge, sprint"
                )
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(format!("{:?}", Secret::new(token())), "[redacted]");
}
