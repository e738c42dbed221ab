//! opencode's `opencode run --format json` stream.
//!
//! One JSON object per line, each with `type`, `timestamp` and `sessionID`: `step_start`,
//! `text{part:{text}}`, `tool_use{part:{tool,state}}`, `error{error:{name,data:{message}}}` and
//! `step_finish{part:{reason,tokens,cost}}`. There is no final event, so the [`FinalReport`] is
//! built at [`finish`](OutputParser::finish): the text of the last step that had any, with tokens
//! and cost summed over all steps. Format: opencode `packages/opencode/src/cli/cmd/run.ts` and
//! `session/message-v2.ts`; field names checked against real output of 1.18 (research §3.3).

use serde_json::Value;

use super::json::{f64_at, parse_object, str_at, text_of, u64_at};
use crate::agent::event::{AgentEvent, FinalReport, Usage};
use crate::agent::parser::OutputParser;

/// Parser for `opencode run --format json`.
#[derive(Debug, Default)]
pub struct OpencodeJsonParser {
    session_id: Option<String>,
    step_text: String,
    last_text: String,
    usage: Option<Usage>,
    cost_usd: Option<f64>,
    saw_error: bool,
    seen: bool,
}

impl OpencodeJsonParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn step_finish(&mut self, part: &Value) {
        if let Some(tokens) = part.get("tokens") {
            let sum = self.usage.get_or_insert_with(Usage::default);
            sum.input_tokens += u64_at(tokens, &["input"]).unwrap_or(0);
            sum.output_tokens += u64_at(tokens, &["output"]).unwrap_or(0);
        }
        if let Some(cost) = f64_at(part, &["cost"]) {
            *self.cost_usd.get_or_insert(0.0) += cost;
        }
        self.end_step();
    }

    fn end_step(&mut self) {
        if !self.step_text.trim().is_empty() {
            self.last_text = std::mem::take(&mut self.step_text);
        }
        self.step_text.clear();
    }
}

impl OutputParser for OpencodeJsonParser {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Some(event) = parse_object(line) else {
            return Vec::new();
        };
        let Some(kind) = str_at(&event, &["type"]) else {
            return Vec::new();
        };
        self.seen = true;
        let mut events = Vec::new();
        if self.session_id.is_none() {
            if let Some(id) = str_at(&event, &["sessionID"]) {
                self.session_id = Some(id.to_owned());
                events.push(AgentEvent::SessionStarted {
                    session_id: id.to_owned(),
                    model: None,
                });
            }
        }
        let part = event.get("part").cloned().unwrap_or(Value::Null);
        match kind {
            "step_start" => self.end_step(),
            "text" => {
                if let Some(text) = str_at(&part, &["text"]).filter(|t| !t.is_empty()) {
                    if !self.step_text.is_empty() {
                        self.step_text.push('\n');
                    }
                    self.step_text.push_str(text);
                    events.push(AgentEvent::Text(text.to_owned()));
                }
            }
            "tool_use" => events.push(AgentEvent::ToolUse {
                name: str_at(&part, &["tool"]).unwrap_or("tool").to_owned(),
            }),
            "step_finish" => self.step_finish(&part),
            "error" => {
                self.saw_error = true;
                let error = event.get("error").cloned().unwrap_or(Value::Null);
                let name = str_at(&error, &["name"]).unwrap_or("error");
                let message = str_at(&error, &["data", "message"])
                    .map(str::to_owned)
                    .unwrap_or_else(|| text_of(&error));
                events.push(AgentEvent::Error {
                    message: format!("{name}: {message}"),
                });
            }
            _ => {}
        }
        events
    }

    fn finish(&mut self) -> Vec<AgentEvent> {
        if !self.seen {
            return Vec::new();
        }
        self.end_step();
        vec![AgentEvent::Final(FinalReport {
            text: std::mem::take(&mut self.last_text),
            cost_usd: self.cost_usd,
            usage: self.usage,
            session_id: self.session_id.clone(),
            is_error: self.saw_error,
        })]
    }
}
