//! Codex's `codex exec --json` stream.
//!
//! JSONL on stdout (the human header and logs go to stderr): `thread.started`, `turn.started`,
//! `item.started|updated|completed`, `turn.completed{usage}`, `turn.failed{error}` and `error`.
//! Codex prints no final report and no cost, so the [`FinalReport`] is built at
//! [`finish`](OutputParser::finish) from the last `agent_message` and the summed turn usage.
//! Format: openai/codex `codex-rs/exec/src/exec_events.rs` (`ThreadEvent`, `ThreadItemDetails`).

use serde_json::Value;

use super::json::{parse_object, str_at, u64_at};
use crate::agent::event::{AgentEvent, FinalReport, Usage};
use crate::agent::parser::OutputParser;

/// Parser for `codex exec --json`.
#[derive(Debug, Default)]
pub struct CodexJsonParser {
    session_id: Option<String>,
    last_message: Option<String>,
    usage: Option<Usage>,
    turn_failed: bool,
    /// Whether anything of the protocol was seen; a run that printed none gets no final report.
    seen: bool,
}

impl CodexJsonParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn item(&mut self, item: &Value, completed: bool) -> Vec<AgentEvent> {
        let kind = str_at(item, &["type"]).unwrap_or("");
        match (kind, completed) {
            ("agent_message", true) => {
                let Some(text) = str_at(item, &["text"]) else {
                    return Vec::new();
                };
                self.last_message = Some(text.to_owned());
                vec![AgentEvent::Text(text.to_owned())]
            }
            // Tools are reported when they start, so progress shows what is running now; a
            // file change is only ever emitted completed.
            ("command_execution" | "web_search" | "collab_tool_call", false)
            | ("file_change", true) => vec![AgentEvent::ToolUse {
                name: kind.to_owned(),
            }],
            ("mcp_tool_call", false) => {
                let server = str_at(item, &["server"]).unwrap_or("mcp");
                let tool = str_at(item, &["tool"]).unwrap_or("?");
                vec![AgentEvent::ToolUse {
                    name: format!("{server}.{tool}"),
                }]
            }
            ("error", true) => vec![AgentEvent::Error {
                message: str_at(item, &["message"]).unwrap_or("error").to_owned(),
            }],
            _ => Vec::new(),
        }
    }
}

impl OutputParser for CodexJsonParser {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Some(event) = parse_object(line) else {
            return Vec::new();
        };
        let Some(kind) = str_at(&event, &["type"]) else {
            return Vec::new();
        };
        match kind {
            "thread.started" => {
                self.seen = true;
                let Some(id) = str_at(&event, &["thread_id"]) else {
                    return Vec::new();
                };
                self.session_id = Some(id.to_owned());
                vec![AgentEvent::SessionStarted {
                    session_id: id.to_owned(),
                    model: None,
                }]
            }
            "item.started" | "item.completed" => {
                self.seen = true;
                match event.get("item") {
                    Some(item) => self.item(item, kind == "item.completed"),
                    None => Vec::new(),
                }
            }
            "turn.completed" => {
                self.seen = true;
                if let Some(usage) = event.get("usage") {
                    let sum = self.usage.get_or_insert_with(Usage::default);
                    sum.input_tokens += u64_at(usage, &["input_tokens"]).unwrap_or(0);
                    sum.output_tokens += u64_at(usage, &["output_tokens"]).unwrap_or(0);
                }
                Vec::new()
            }
            "turn.failed" => {
                self.seen = true;
                self.turn_failed = true;
                let message = str_at(&event, &["error", "message"]).unwrap_or("turn failed");
                vec![AgentEvent::Error {
                    message: message.to_owned(),
                }]
            }
            "error" => {
                self.seen = true;
                let message = str_at(&event, &["message"]).unwrap_or("error").to_owned();
                // `Reconnecting... 2/5 (…)` is Codex retrying its stream; without a network it
                // retries forever, so the supervisor counts these.
                if message.starts_with("Reconnecting") {
                    vec![AgentEvent::Retry { message }]
                } else {
                    vec![AgentEvent::Error { message }]
                }
            }
            _ => Vec::new(),
        }
    }

    fn finish(&mut self) -> Vec<AgentEvent> {
        if !self.seen {
            return Vec::new();
        }
        vec![AgentEvent::Final(FinalReport {
            text: self.last_message.clone().unwrap_or_default(),
            cost_usd: None,
            usage: self.usage,
            session_id: self.session_id.clone(),
            is_error: self.turn_failed,
        })]
    }
}
