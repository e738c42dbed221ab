//! Where Discord messages go, read from the environment variables `teams.toml` names (spec §7,
//! §11), and what `teams doctor` says about it.
//!
//! The configuration holds only the *names* of the variables; the secrets are read here, once,
//! into [`Secret`], whose `Debug` prints `[redacted]` and which has no `Display`, so a secret
//! cannot reach a log line or an error message by accident. Messages about a bad value name the
//! variable, never its value.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::time::Duration;

use crate::config::DiscordConfig;

/// The variable that points every request at another server (tests: a local fake Discord).
pub const API_BASE_VAR: &str = "TEAMS_DISCORD_API_BASE";

/// A secret value (webhook token, bot token). Deliberately not `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that must send it (an HTTP header or the request path).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A Discord destination with its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `POST /api/v10/webhooks/{id}/{token}`.
    Webhook { id: u64, token: Secret },
    /// `POST /api/v10/channels/{id}/messages` with `Authorization: Bot <token>`.
    Channel { id: u64, bot_token: Secret },
}

impl Destination {
    /// `webhook` or `channel 123…`, for messages (no secret in it).
    pub fn describe(&self) -> String {
        match self {
            Destination::Webhook { id, .. } => format!("webhook {id}"),
            Destination::Channel { id, .. } => format!("channel {id}"),
        }
    }
}

/// Everything the Discord reporter needs: where to send, and how hard to try.
#[derive(Debug, Clone)]
pub struct DiscordSetup {
    pub destination: Destination,
    /// Replaces `https://discord.com` in every request URL (`TEAMS_DISCORD_API_BASE`).
    pub api_base: Option<String>,
    pub policy: SendPolicy,
}

/// How hard a message is tried, and how long the end of a run waits for the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// Limit on one HTTP request, connection included.
    pub timeout: Duration,
    /// Tries per message (the first one included).
    pub attempts: u32,
    /// Wait before the second try after a 5xx or network error; it doubles each time.
    pub backoff: Duration,
    /// A 429 asking to wait longer than this gives the message up instead.
    pub max_retry_after: Duration,
    /// How long the end of a run waits for queued messages to go out.
    pub drain: Duration,
}

impl Default for SendPolicy {
    fn default() -> SendPolicy {
        SendPolicy {
            timeout: Duration::from_secs(10),
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
            drain: Duration::from_secs(10),
        }
    }
}

impl SendPolicy {
    /// The defaults, with test-only overrides (`__TEAMS_DISCORD_TIMEOUT_MS`, `…_BACKOFF_MS`,
    /// `…_DRAIN_MS`, spelt with two underscores like `__TEAMS_BACKOFF_MS`) so tests of a hanging
    /// server take milliseconds rather than the production bounds.
    pub fn from_env(env: &[(OsString, OsString)]) -> SendPolicy {
        let millis = |name: &str| {
            lookup(env, name)
                .and_then(|v| v.to_str()?.parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        let default = SendPolicy::default();
        SendPolicy {
            timeout: millis("__TEAMS_DISCORD_TIMEOUT_MS").unwrap_or(default.timeout),
            backoff: millis("__TEAMS_DISCORD_BACKOFF_MS").unwrap_or(default.backoff),
            drain: millis("__TEAMS_DISCORD_DRAIN_MS").unwrap_or(default.drain),
            ..default
        }
    }
}

/// Why the configured destination cannot be used. Names variables, never their values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "`{var}` does not hold a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)"
    )]
    MalformedWebhook { var: String },
    #[error("`discord.channel_id` is {value:?}, not a Discord channel ID")]
    BadChannel { value: String },
    #[error("`{var}` is not valid UTF-8")]
    NotUnicode { var: String },
    #[error("`{API_BASE_VAR}` is not an http(s) URL")]
    BadApiBase,
}

impl TargetError {
    pub fn hint(&self) -> &'static str {
        match self {
            TargetError::MalformedWebhook { .. } => {
                "copy the URL from Discord: channel settings → Integrations → Webhooks → Copy Webhook URL"
            }
            TargetError::BadChannel { .. } => {
                "turn on Developer Mode in Discord, right-click the channel, Copy Channel ID"
            }
            TargetError::NotUnicode { .. } => "set the variable again from the value Discord shows",
            TargetError::BadApiBase => {
                "unset it to post to Discord itself; it is meant for tests (e.g. http://127.0.0.1:8080)"
            }
        }
    }
}

/// The destination `config` names, read from `env`; `Ok(None)` when the variables it names are
/// not set (Discord is off). A webhook wins over a bot token (as in [`DiscordConfig::target`]).
pub fn resolve(
    config: &DiscordConfig,
    env: &[(OsString, OsString)],
) -> Result<Option<DiscordSetup>, TargetError> {
    let Some(destination) = destination(config, env)? else {
        return Ok(None);
    };
    let api_base = match lookup(env, API_BASE_VAR) {
        None => None,
        Some(value) => {
            let text = value.to_str().ok_or(TargetError::BadApiBase)?;
            let url = reqwest::Url::parse(text).map_err(|_| TargetError::BadApiBase)?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(TargetError::BadApiBase);
            }
            Some(text.trim_end_matches('/').to_owned())
        }
    };
    Ok(Some(DiscordSetup {
        destination,
        api_base,
        policy: SendPolicy::from_env(env),
    }))
}

fn destination(
    config: &DiscordConfig,
    env: &[(OsString, OsString)],
) -> Result<Option<Destination>, TargetError> {
    if let Some(var) = &config.webhook_url_env
        && let Some(value) = lookup(env, &var.value.name)
    {
        let var = var.value.name.clone();
        let text = value
            .to_str()
            .ok_or_else(|| TargetError::NotUnicode { var: var.clone() })?;
        return parse_webhook_url(text)
            .map(Some)
            .ok_or(TargetError::MalformedWebhook { var });
    }
    let (Some(token_var), Some(channel)) = (&config.token_env, &config.channel_id) else {
        return Ok(None);
    };
    let Some(token) = lookup(env, &token_var.value.name) else {
        return Ok(None);
    };
    let token = token.to_str().ok_or_else(|| TargetError::NotUnicode {
        var: token_var.value.name.clone(),
    })?;
    let id = parse_id(&channel.value).ok_or_else(|| TargetError::BadChannel {
        value: channel.value.clone(),
    })?;
    Ok(Some(Destination::Channel {
        id,
        bot_token: Secret::new(bot_authorization(token)),
    }))
}

/// The webhook's ID and token, when `url` is a Discord webhook URL (serenity's own check: a
/// discord.com host, `/api/webhooks/<17–20 digit id>/<60–68 character token>`; `/api/v10/…` is
/// accepted too, as Discord shows both forms).
pub fn parse_webhook_url(url: &str) -> Option<Destination> {
    let mut parsed = reqwest::Url::parse(url.trim()).ok()?;
    if let Some(rest) = parsed.path().strip_prefix("/api/v10/webhooks/") {
        let path = format!("/api/webhooks/{rest}");
        parsed.set_path(&path);
    }
    let (id, token) = serenity::utils::parse_webhook(&parsed)?;
    Some(Destination::Webhook {
        id: id.get(),
        token: Secret::new(token.trim_end_matches('/')),
    })
}

/// `Bot <token>`, as serenity's `Http::new` writes the header (a `Bot `/`Bearer ` prefix kept).
fn bot_authorization(token: &str) -> String {
    let token = token.trim();
    if token.starts_with("Bot ") || token.starts_with("Bearer ") {
        token.to_owned()
    } else {
        format!("Bot {token}")
    }
}

fn parse_id(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|&id| id > 0)
}

/// A variable's value when it is set and not empty (an empty value counts as unset, as in the
/// configuration's environment layer).
fn lookup<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsStr> {
    env.iter()
        .rev()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_os_str())
}

/// What `teams doctor` and `teams notify test` say about the Discord settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetStatus {
    /// No variable is set: nothing is sent. `detail` says what to set.
    Off { detail: String },
    /// Messages will go to this destination.
    Ready { detail: String },
    /// Something is set but cannot be used.
    Problem { detail: String, hint: String },
}

/// Checks the Discord settings against the environment without sending anything.
pub fn status(config: &DiscordConfig, env: &[(OsString, OsString)]) -> TargetStatus {
    let names = |v: &Option<crate::config::Sourced<crate::config::EnvVarRef>>| {
        v.as_ref().map(|v| v.value.name.clone())
    };
    let webhook_var = names(&config.webhook_url_env);
    let token_var = names(&config.token_env);
    match resolve(config, env) {
        Ok(Some(setup)) => {
            let via = match (&setup.destination, &webhook_var, &token_var) {
                (Destination::Webhook { .. }, Some(var), _) => format!("from `{var}`"),
                (Destination::Channel { .. }, _, Some(var)) => {
                    format!("with the bot token in `{var}`")
                }
                _ => String::new(),
            };
            let mut detail = format!("posts to {} {via}", setup.destination.describe());
            if setup.api_base.is_some() {
                detail.push_str(&format!(" (through `{API_BASE_VAR}`)"));
            }
            let events: Vec<&str> = config.events.value.iter().map(|e| e.as_str()).collect();
            detail.push_str(&format!("; events: {}", events.join(", ")));
            TargetStatus::Ready { detail }
        }
        Err(err) => TargetStatus::Problem {
            detail: err.to_string(),
            hint: err.hint().to_owned(),
        },
        Ok(None) => {
            if let (Some(channel), Some(var)) = (&config.channel_id, &token_var) {
                return TargetStatus::Problem {
                    detail: format!(
                        "`discord.channel_id` is {:?} but `{var}` (the bot token) is not set",
                        channel.value
                    ),
                    hint: format!("export {var}=<bot token>, or remove channel_id from teams.toml"),
                };
            }
            let var = webhook_var.unwrap_or_else(|| "TEAMS_DISCORD_WEBHOOK".to_owned());
            TargetStatus::Off {
                detail: format!("off: `{var}` is not set, so no run summaries are posted"),
            }
        }
    }
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
