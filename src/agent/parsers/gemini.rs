//! Gemini CLI's `--output-format json` object (and, tolerated, its `stream-json` events).
//!
//! `-o json` prints one object `{session_id, response, stats, error?}` at the end, usually
//! pretty-printed over many lines, so lines are buffered until the buffer parses. `-o stream-json`
//! prints `init`, `message`, `tool_use`, `tool_result`, `error` and `result` events, one per line;
//! they are recognised by their `type` field so a `command` wrapper using either format works.
//! Format: geminicli.com `docs/cli/headless` (output formats, exit codes).

use serde_json::Value;

use super::json::{at, parse_object, str_at, text_of, u64_at};
use crate::agent::event::{AgentEvent, FinalReport, Usage};
use crate::agent::parser::OutputParser;

/// Past this size a buffer that never parsed is dropped, so garbage cannot grow without bound.
const MAX_BUFFER_BYTES: usize = 16 * 1024 * 1024;

/// Parser for Gemini's JSON output.
#[derive(Debug, Default)]
pub struct GeminiJsonParser {
    buffer: String,
    /// Assistant text of a stream-json run, joined for the final report.
    streamed_text: String,
    session_id: Option<String>,
}

impl GeminiJsonParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The single `-o json` object.
    fn whole_object(&mut self, object: &Value) -> Vec<AgentEvent> {
        let mut events = Vec::new();
        let session_id = str_at(object, &["session_id"]).map(str::to_owned);
        if let Some(id) = &session_id {
            events.push(AgentEvent::SessionStarted {
                session_id: id.clone(),
                model: None,
            });
        }
        let error = object.get("error").filter(|e| !e.is_null());
        if let Some(error) = error {
            let message = str_at(error, &["message"])
                .map(str::to_owned)
                .unwrap_or_else(|| text_of(error));
            let message = match u64_at(error, &["code"]) {
                Some(code) => format!("{message} (code {code})"),
                None => message,
            };
            events.push(AgentEvent::Error { message });
        }
        events.push(AgentEvent::Final(FinalReport {
            text: object.get("response").map(text_of).unwrap_or_default(),
            cost_usd: None,
            usage: object.get("stats").and_then(usage_of),
            session_id,
            is_error: error.is_some(),
        }));
        events
    }

    /// One `-o stream-json` event.
    fn stream_event(&mut self, kind: &str, event: &Value) -> Vec<AgentEvent> {
        match kind {
            "init" => {
                let Some(id) = str_at(event, &["session_id"]) else {
                    return Vec::new();
                };
                self.session_id = Some(id.to_owned());
                vec![AgentEvent::SessionStarted {
                    session_id: id.to_owned(),
                    model: str_at(event, &["model"]).map(str::to_owned),
                }]
            }
            "message" if str_at(event, &["role"]) == Some("assistant") => {
                let text = event.get("content").map(text_of).unwrap_or_default();
                if text.is_empty() {
                    return Vec::new();
                }
                self.streamed_text.push_str(&text);
                vec![AgentEvent::Text(text)]
            }
            "tool_use" => {
                let name = str_at(event, &["tool_name"])
                    .or_else(|| str_at(event, &["name"]))
                    .unwrap_or("tool");
                vec![AgentEvent::ToolUse {
                    name: name.to_owned(),
                }]
            }
            "error" => {
                let message = str_at(event, &["message"])
                    .map(str::to_owned)
                    .unwrap_or_else(|| text_of(event));
                vec![AgentEvent::Error { message }]
            }
            "result" => {
                let status = str_at(event, &["status"]).unwrap_or("success");
                let mut events = Vec::new();
                if status != "success" {
                    let message = at(event, &["error", "message"])
                        .map(text_of)
                        .unwrap_or_else(|| format!("gemini result {status}"));
                    events.push(AgentEvent::Error { message });
                }
                events.push(AgentEvent::Final(FinalReport {
                    text: std::mem::take(&mut self.streamed_text),
                    cost_usd: None,
                    usage: event.get("stats").and_then(usage_of),
                    session_id: self.session_id.clone(),
                    is_error: status != "success",
                }));
                events
            }
            _ => Vec::new(),
        }
    }

    fn object(&mut self, object: &Value) -> Vec<AgentEvent> {
        match str_at(object, &["type"]) {
            Some(kind) => {
                let kind = kind.to_owned();
                self.stream_event(&kind, object)
            }
            None => self.whole_object(object),
        }
    }
}

/// Token usage from `stats`: the stream-json flat form (`input_tokens`/`output_tokens`), or the
/// json form summed over `stats.models.<name>.tokens.{prompt,candidates}`.
fn usage_of(stats: &Value) -> Option<Usage> {
    if let Some(input) = u64_at(stats, &["input_tokens"]) {
        return Some(Usage {
            input_tokens: input,
            output_tokens: u64_at(stats, &["output_tokens"]).unwrap_or(0),
        });
    }
    let models = stats.get("models")?.as_object()?;
    let mut usage = Usage::default();
    for model in models.values() {
        usage.input_tokens += u64_at(model, &["tokens", "prompt"])
            .or_else(|| u64_at(model, &["tokens", "input"]))
            .unwrap_or(0);
        usage.output_tokens += u64_at(model, &["tokens", "candidates"])
            .or_else(|| u64_at(model, &["tokens", "output"]))
            .unwrap_or(0);
    }
    Some(usage)
}

impl OutputParser for GeminiJsonParser {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        // Pretty-printed JSON never has a nested `{` in column 0, so such a line while buffering
        // starts a new top-level object: whatever was buffered was truncated.
        if !self.buffer.is_empty() && line.starts_with('{') {
            self.buffer.clear();
        }
        if self.buffer.is_empty() {
            // A whole object on one line: stream-json, or compact json.
            if let Some(object) = parse_object(line) {
                return self.object(&object);
            }
            if !line.trim_start().starts_with('{') {
                return Vec::new(); // Not JSON: a banner or a warning.
            }
        }
        self.buffer.push_str(line);
        self.buffer.push('\n');
        match serde_json::from_str::<Value>(&self.buffer) {
            Ok(value) => {
                self.buffer.clear();
                if value.is_object() {
                    self.object(&value)
                } else {
                    Vec::new()
                }
            }
            Err(error) if error.is_eof() && self.buffer.len() < MAX_BUFFER_BYTES => Vec::new(),
            Err(_) => {
                // Broken JSON: drop it.
                self.buffer.clear();
                Vec::new()
            }
        }
    }

    fn stderr_line(&mut self, line: &str) -> Vec<AgentEvent> {
        // Gemini reports its API retries only on stderr: "Attempt 2 failed. Retrying with
        // backoff...".
        if line.contains("Attempt") && line.contains("failed") && line.contains("Retrying") {
            return vec![AgentEvent::Retry {
                message: line.trim().to_owned(),
            }];
        }
        Vec::new()
    }
}
