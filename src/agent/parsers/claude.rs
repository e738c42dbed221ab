//! Claude Code's `--output-format stream-json --verbose` stream (also used by `command` backends
//! with `output = "claude-stream-json"`, e.g. amp's Claude-compatible `--stream-json`).
//!
//! One JSON object per line: `system/init`, `assistant` and `user` messages, `system/api_retry`,
//! `rate_limit_event`, and a final `result`. Format: Claude Code "Run Claude Code
//! programmatically" docs and the Agent SDK `SDKMessage` types; field names checked against real
//! output of 2.1.330 (research §3.3).

use serde_json::Value;

use super::json::{at, f64_at, parse_object, str_at, text_of, u64_at};
use crate::agent::event::{AgentEvent, FinalReport, Usage};
use crate::agent::parser::OutputParser;

/// Parser for Claude's stream-json output.
#[derive(Debug, Default)]
pub struct ClaudeStreamParser;

impl ClaudeStreamParser {
    pub fn new() -> Self {
        ClaudeStreamParser
    }
}

impl OutputParser for ClaudeStreamParser {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Some(event) = parse_object(line) else {
            return Vec::new();
        };
        match (
            str_at(&event, &["type"]),
            str_at(&event, &["subtype"]).unwrap_or(""),
        ) {
            (Some("system"), "init") => session_started(&event).into_iter().collect(),
            (Some("system"), "api_retry") => vec![api_retry(&event)],
            (Some("assistant"), _) => assistant(&event),
            (Some("rate_limit_event"), _) => rate_limit(&event).into_iter().collect(),
            (Some("result"), _) => result(&event),
            _ => Vec::new(),
        }
    }
}

fn session_started(event: &Value) -> Option<AgentEvent> {
    Some(AgentEvent::SessionStarted {
        session_id: str_at(event, &["session_id"])?.to_owned(),
        model: str_at(event, &["model"]).map(str::to_owned),
    })
}

fn api_retry(event: &Value) -> AgentEvent {
    let attempt = u64_at(event, &["attempt"]).unwrap_or(0);
    let max = u64_at(event, &["max_retries"]).unwrap_or(0);
    let error = event.get("error").map(text_of).unwrap_or_default();
    let mut message = format!("API retry {attempt}/{max}");
    if let Some(status) = u64_at(event, &["error_status"]) {
        message.push_str(&format!(" (status {status})"));
    }
    if !error.is_empty() {
        message.push_str(": ");
        message.push_str(&error);
    }
    AgentEvent::Retry { message }
}

fn assistant(event: &Value) -> Vec<AgentEvent> {
    let blocks = at(event, &["message", "content"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // A synthetic message carrying an error (`"error":"authentication_failed"`, model
    // `<synthetic>`) is the CLI talking, not the model: report it as an error, not as text.
    if let Some(error) = str_at(event, &["error"]) {
        let text: Vec<&str> = blocks
            .iter()
            .filter_map(|block| str_at(block, &["text"]))
            .collect();
        let message = if text.is_empty() {
            error.to_owned()
        } else {
            format!("{error}: {}", text.join(" "))
        };
        return vec![AgentEvent::Error { message }];
    }
    blocks
        .iter()
        .filter_map(|block| match str_at(block, &["type"])? {
            "text" => {
                let text = str_at(block, &["text"])?;
                (!text.is_empty()).then(|| AgentEvent::Text(text.to_owned()))
            }
            "tool_use" => Some(AgentEvent::ToolUse {
                name: str_at(block, &["name"])?.to_owned(),
            }),
            _ => None,
        })
        .collect()
}

/// A `rate_limit_event` whose status is not `allowed`/`allowed_warning` means the request was
/// refused. The message mimics Claude's own `…usage limit reached|<unix time>` so the classifier
/// reads the reset time the same way.
fn rate_limit(event: &Value) -> Option<AgentEvent> {
    let info = event.get("rate_limit_info")?;
    let status = str_at(info, &["status"])?;
    if status.starts_with("allowed") {
        return None;
    }
    let kind = str_at(info, &["rateLimitType"]).unwrap_or("unknown");
    let mut message = format!("rate limit {status} ({kind}): Claude AI usage limit reached");
    if let Some(resets_at) = u64_at(info, &["resetsAt"]) {
        message.push_str(&format!("|{resets_at}"));
    }
    Some(AgentEvent::Error { message })
}

fn result(event: &Value) -> Vec<AgentEvent> {
    let mut events = Vec::new();
    let subtype = str_at(event, &["subtype"]).unwrap_or("");
    // `is_error` is the real success flag (auth and network failures come back as
    // `subtype:"success"` with `is_error:true`); an `error_*` subtype also means failure.
    let is_error = event
        .get("is_error")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || subtype.starts_with("error");
    let text = event.get("result").map(text_of).unwrap_or_default();

    let denials: Vec<String> = event
        .get("permission_denials")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|denial| str_at(denial, &["tool_name"]).unwrap_or("?").to_owned())
        .collect();
    if !denials.is_empty() {
        events.push(AgentEvent::Error {
            message: format!(
                "permission denied for {} tool call(s): {}",
                denials.len(),
                denials.join(", ")
            ),
        });
    }
    if let Some(status) = u64_at(event, &["api_error_status"]) {
        events.push(AgentEvent::Error {
            message: format!("API error: status {status}: {text}"),
        });
    }
    if is_error && text.is_empty() {
        events.push(AgentEvent::Error {
            message: format!("claude result {subtype}"),
        });
    }
    let usage = event.get("usage").map(|usage| Usage {
        input_tokens: u64_at(usage, &["input_tokens"]).unwrap_or(0),
        output_tokens: u64_at(usage, &["output_tokens"]).unwrap_or(0),
    });
    events.push(AgentEvent::Final(FinalReport {
        text,
        cost_usd: f64_at(event, &["total_cost_usd"]),
        usage,
        session_id: str_at(event, &["session_id"]).map(str::to_owned),
        is_error,
    }));
    events
}
