//! GitHub Copilot CLI's `copilot -p … --output-format json` stream.
//!
//! JSONL events such as `session.tools_updated`, `assistant.message_delta{deltaContent}`,
//! `assistant.message{content, toolRequests[]}`, `assistant.turn_end`, and last
//! `result{sessionId, exitCode, usage{premiumRequests,…}}`; payloads sit under `data`. Copilot
//! reports no tokens or dollars. Whole `assistant.message`s are used (the deltas repeat them).
//! Format: observed output of 1.0.102 (research §3.3); `copilot --help` documents only "JSONL".

use serde_json::Value;

use super::json::{parse_object, str_at, text_of, u64_at};
use crate::agent::event::{AgentEvent, FinalReport};
use crate::agent::parser::OutputParser;

/// Parser for Copilot's JSONL output.
#[derive(Debug, Default)]
pub struct CopilotJsonParser {
    session_id: Option<String>,
    last_message: Option<String>,
    final_sent: bool,
    seen: bool,
}

impl CopilotJsonParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn final_report(&mut self, is_error: bool) -> AgentEvent {
        self.final_sent = true;
        AgentEvent::Final(FinalReport {
            text: self.last_message.clone().unwrap_or_default(),
            cost_usd: None,
            usage: None,
            session_id: self.session_id.clone(),
            is_error,
        })
    }
}

/// A field of the event's `data` payload, or of the event itself.
fn field<'a>(event: &'a Value, name: &str) -> Option<&'a Value> {
    event
        .get("data")
        .and_then(|data| data.get(name))
        .or_else(|| event.get(name))
}

impl OutputParser for CopilotJsonParser {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Some(event) = parse_object(line) else {
            return Vec::new();
        };
        let Some(kind) = str_at(&event, &["type"]).map(str::to_owned) else {
            return Vec::new();
        };
        self.seen = true;
        let mut events = Vec::new();
        if self.session_id.is_none() {
            if let Some(id) = field(&event, "sessionId").and_then(Value::as_str) {
                self.session_id = Some(id.to_owned());
                events.push(AgentEvent::SessionStarted {
                    session_id: id.to_owned(),
                    model: None,
                });
            }
        }
        match kind.as_str() {
            "assistant.message" => {
                let content = field(&event, "content").map(text_of).unwrap_or_default();
                if !content.trim().is_empty() {
                    self.last_message = Some(content.clone());
                    events.push(AgentEvent::Text(content));
                }
                let requests = field(&event, "toolRequests")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for request in requests {
                    let name = str_at(request, &["name"])
                        .or_else(|| str_at(request, &["toolName"]))
                        .unwrap_or("tool");
                    events.push(AgentEvent::ToolUse {
                        name: name.to_owned(),
                    });
                }
            }
            "result" => {
                let exit_code = field(&event, "exitCode").and_then(Value::as_i64);
                events.push(self.final_report(exit_code.is_some_and(|code| code != 0)));
            }
            kind if kind.ends_with("error") => {
                let message = field(&event, "message")
                    .map(text_of)
                    .unwrap_or_else(|| kind.to_owned());
                let message = match u64_at(&event, &["data", "statusCode"]) {
                    Some(status) => format!("{message} (status {status})"),
                    None => message,
                };
                events.push(AgentEvent::Error { message });
            }
            _ => {}
        }
        events
    }

    fn finish(&mut self) -> Vec<AgentEvent> {
        // A run cut short before its `result` event still reports what the agent said.
        if self.seen && !self.final_sent && self.last_message.is_some() {
            return vec![self.final_report(false)];
        }
        Vec::new()
    }
}
