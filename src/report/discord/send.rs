//! Sending one message to Discord, with bounded retries (spec §11).
//!
//! The request is made with serenity's HTTP layer (its `Route`s, `Request::build` with the
//! `User-Agent` and `Authorization` headers, and its `CreateMessage`/`ExecuteWebhook`/
//! `CreateEmbed` builders for the JSON body) and sent on a `reqwest` client we keep. We do not go
//! through `Http::request`, for three reasons found by testing serenity 0.12.5
//! (`shared/research/discord-serenity.md` §3.3, §3.4):
//! - with serenity's rate limiter on, `HttpBuilder::proxy` is silently ignored, so
//!   `TEAMS_DISCORD_API_BASE` could not redirect requests;
//! - with it off, a 429 comes back as an error without `retry_after`, which we must honour;
//! - its rate limiter retries a 429 forever, and its errors carry the request URL, which for a
//!   webhook contains the token.
//!
//! So the retry policy is ours: honour a 429's `Retry-After` (header, else body) up to a cap,
//! retry 5xx and network errors with doubling backoff, time out every request, stop after
//! [`SendPolicy::attempts`] tries, never retry other 4xx (they would fail again), and wait for
//! an exhausted rate-limit bucket (`X-RateLimit-Remaining: 0`) before the next send. After a
//! message was given up, later ones get one try each until one gets through, so a Discord outage
//! cannot keep the end of a run waiting on retries. Every text that leaves this module has the
//! secret scrubbed, and reqwest errors lose their URL.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serenity::builder::{
    CreateAllowedMentions, CreateEmbed, CreateEmbedFooter, CreateMessage, ExecuteWebhook,
};
use serenity::http::{LightMethod, Request, Route};
use serenity::model::id::{ChannelId, WebhookId};
use tokio::time::Instant;

use super::message::{Embed, Message};
use super::target::{Destination, DiscordSetup, SendPolicy};

/// What Discord answered to a message that got through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub status: u16,
    /// The new message's ID (Discord answers with the message).
    pub message_id: Option<String>,
    pub tries: u32,
}

/// Why a message was not delivered. Never contains a secret or a URL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// A 4xx other than 429: sending it again would fail the same way.
    #[error("Discord refused the message: HTTP {status}: {message}")]
    Rejected { status: u16, message: String },
    /// Every try failed with a 5xx, a 429 or a network error.
    #[error("gave up after {}: {last}", crate::helpers::plural(*tries as usize, "try", "tries"))]
    GaveUp { tries: u32, last: String },
    /// A 429 asked for a longer wait than `teams` gives one message.
    #[error("Discord rate-limited teams for {secs:.0}s, longer than it waits")]
    RateLimitedTooLong { secs: f64 },
    /// The request could not be made (a bad API base, a token that is not a valid header).
    #[error("failed to build the request: {0}")]
    Request(String),
}

/// The result of one HTTP request.
enum Try {
    Delivered {
        status: u16,
        message_id: Option<String>,
    },
    Rejected {
        status: u16,
        message: String,
    },
    RateLimited {
        wait: Duration,
    },
    Retry {
        why: String,
    },
}

/// Sends messages to one destination, one at a time.
pub struct Sender {
    client: reqwest::Client,
    setup: DiscordSetup,
    /// An exhausted rate-limit bucket: nothing is sent before this.
    not_before: Option<Instant>,
    /// The last message was given up: try the next ones once only.
    degraded: bool,
}

impl Sender {
    pub fn new(setup: DiscordSetup) -> Result<Sender, SendError> {
        let client = reqwest::Client::builder()
            .connect_timeout(setup.policy.timeout)
            .build()
            .map_err(|e| SendError::Request(e.without_url().to_string()))?;
        Ok(Sender {
            client,
            setup,
            not_before: None,
            degraded: false,
        })
    }

    pub fn policy(&self) -> SendPolicy {
        self.setup.policy
    }

    /// Sends `message`, retrying as the module docs say.
    pub async fn send(&mut self, message: &Message) -> Result<Delivered, SendError> {
        let policy = self.setup.policy;
        let body = self.body(message)?;
        let tries = if self.degraded {
            1
        } else {
            policy.attempts.max(1)
        };
        let mut last = String::new();
        for attempt in 1..=tries {
            if let Some(at) = self.not_before.take() {
                tokio::time::sleep_until(at).await;
            }
            match self.try_once(&body).await {
                Try::Delivered { status, message_id } => {
                    self.degraded = false;
                    return Ok(Delivered {
                        status,
                        message_id,
                        tries: attempt,
                    });
                }
                Try::Rejected { status, message } => {
                    return Err(SendError::Rejected {
                        status,
                        message: self.scrub(&message),
                    });
                }
                Try::RateLimited { wait } => {
                    if wait > policy.max_retry_after {
                        self.degraded = true;
                        return Err(SendError::RateLimitedTooLong {
                            secs: wait.as_secs_f64(),
                        });
                    }
                    last = "rate limited (HTTP 429)".to_owned();
                    if attempt < tries {
                        tokio::time::sleep(wait).await;
                    }
                }
                Try::Retry { why } => {
                    last = why;
                    if attempt < tries {
                        tokio::time::sleep(backoff(policy.backoff, attempt)).await;
                    }
                }
            }
        }
        self.degraded = true;
        Err(SendError::GaveUp {
            tries,
            last: self.scrub(&last),
        })
    }

    async fn try_once(&mut self, body: &[u8]) -> Try {
        let request = match self.request(body) {
            Ok(request) => request,
            Err(why) => return Try::Retry { why },
        };
        let response = match request.timeout(self.setup.policy.timeout).send().await {
            Ok(response) => response,
            Err(err) => return Try::Retry { why: network(err) },
        };
        let status = response.status();
        let headers = response.headers().clone();
        self.note_bucket(&headers);
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(err) => return Try::Retry { why: network(err) },
        };
        let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).cloned();
        if status.is_success() {
            Try::Delivered {
                status: status.as_u16(),
                message_id: field("id").and_then(|id| id.as_str().map(str::to_owned)),
            }
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            let seconds = header_seconds(&headers, "retry-after")
                .or_else(|| field("retry_after").and_then(|v| v.as_f64()))
                .unwrap_or(1.0);
            Try::RateLimited {
                wait: Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0)),
            }
        } else if status.is_server_error() {
            Try::Retry {
                why: format!("server error HTTP {}", status.as_u16()),
            }
        } else {
            let text = field("message")
                .and_then(|m| m.as_str().map(str::to_owned))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
            let message = match field("code").and_then(|c| c.as_i64()) {
                Some(code) if code != 0 => format!("{text} (code {code})"),
                _ => text,
            };
            Try::Rejected {
                status: status.as_u16(),
                message,
            }
        }
    }

    /// The HTTP request for `body`, through serenity's route and request builder.
    fn request(&self, body: &[u8]) -> Result<reqwest::RequestBuilder, String> {
        let base = self.setup.api_base.as_deref();
        let built = match &self.setup.destination {
            Destination::Webhook { id, token } => {
                let route = Route::WebhookWithToken {
                    webhook_id: WebhookId::new(*id),
                    token: token.expose(),
                };
                // Webhooks need no authorization; serenity's `Http::new("")` sends `Bot `.
                Request::new(route, LightMethod::Post)
                    .body(Some(body.to_vec()))
                    .params(Some(vec![("wait", "true".to_owned())]))
                    .build(&self.client, "Bot ", base)
            }
            Destination::Channel { id, bot_token } => {
                let route = Route::ChannelMessages {
                    channel_id: ChannelId::new(*id),
                };
                Request::new(route, LightMethod::Post)
                    .body(Some(body.to_vec()))
                    .build(&self.client, bot_token.expose(), base)
            }
        };
        // serenity's errors here are a URL that does not parse or a token that is not a valid
        // header; say which without quoting either.
        built.map_err(|err| match err {
            serenity::Error::Http(serenity::http::HttpError::InvalidHeader(_)) => {
                "the token is not a valid HTTP header value".to_owned()
            }
            _ => "the Discord URL does not parse (check TEAMS_DISCORD_API_BASE)".to_owned(),
        })
    }

    /// The JSON body: serenity's builders, with `allowed_mentions` empty so that no text (an
    /// agent's `@everyone` included) can ping anyone.
    fn body(&self, message: &Message) -> Result<Vec<u8>, SendError> {
        let embeds: Vec<CreateEmbed> = message.embed.iter().map(create_embed).collect();
        let none = CreateAllowedMentions::new();
        let json = match &self.setup.destination {
            Destination::Webhook { .. } => {
                let mut builder = ExecuteWebhook::new().embeds(embeds).allowed_mentions(none);
                if !message.content.is_empty() {
                    builder = builder.content(message.content.clone());
                }
                serde_json::to_vec(&builder)
            }
            Destination::Channel { .. } => {
                let mut builder = CreateMessage::new().embeds(embeds).allowed_mentions(none);
                if !message.content.is_empty() {
                    builder = builder.content(message.content.clone());
                }
                serde_json::to_vec(&builder)
            }
        };
        json.map_err(|e| SendError::Request(format!("failed to encode the message: {e}")))
    }

    /// Remembers an exhausted bucket so the next send waits for it to refill.
    fn note_bucket(&mut self, headers: &HeaderMap) {
        let remaining = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        if remaining == Some(0.0)
            && let Some(after) = header_seconds(headers, "x-ratelimit-reset-after")
        {
            let wait = Duration::from_secs_f64(after.clamp(0.0, 60.0));
            self.not_before = Some(Instant::now() + wait);
        }
    }

    /// `text` with the secret replaced, in case a server quotes it back.
    fn scrub(&self, text: &str) -> String {
        let secret = match &self.setup.destination {
            Destination::Webhook { token, .. } => token.expose(),
            Destination::Channel { bot_token, .. } => bot_token.expose().trim_start_matches("Bot "),
        };
        if secret.len() < 4 {
            return text.to_owned();
        }
        text.replace(secret, crate::agent::redact::REDACTED)
    }
}

fn create_embed(embed: &Embed) -> CreateEmbed {
    let mut builder = CreateEmbed::new()
        .title(embed.title.clone())
        .colour(embed.colour)
        .fields(
            embed
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.value.clone(), f.inline)),
        );
    if !embed.description.is_empty() {
        builder = builder.description(embed.description.clone());
    }
    if !embed.footer.is_empty() {
        builder = builder.footer(CreateEmbedFooter::new(embed.footer.clone()));
    }
    builder
}

/// The wait before try `attempt + 1`: `first`, doubling, at most 30 s.
fn backoff(first: Duration, attempt: u32) -> Duration {
    first
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(Duration::from_secs(30))
}

fn header_seconds(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

/// A network error in words, without the URL reqwest would quote (it holds a webhook's token).
fn network(err: reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("network error: {}", err.without_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let first = Duration::from_millis(500);
        assert_eq!(backoff(first, 1), Duration::from_millis(500));
        assert_eq!(backoff(first, 2), Duration::from_secs(1));
        assert_eq!(backoff(first, 3), Duration::from_secs(2));
        assert_eq!(backoff(first, 40), Duration::from_secs(30));
    }
}
