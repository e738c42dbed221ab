//! A minimal Claude `stream-json` parser for tests that need events from the fake agent before
//! (or without) the real backend parser: init → `SessionStarted`, assistant text and tool uses,
//! `result` → `Final`, and every stderr line → `Error` (so tests can see stderr in the outcome).

use serde_json::Value;
use teams::agent::{AgentEvent, FinalReport, OutputParser, Usage};

/// A minimal Claude stream-json parser (the real one lives with the backends).
pub struct StreamJson;

impl OutputParser for StreamJson {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return Vec::new();
        };
        match v["type"].as_str() {
            Some("system") if v["subtype"] == "init" => vec![AgentEvent::SessionStarted {
                session_id: v["session_id"].as_str().unwrap_or_default().to_owned(),
                model: v["model"].as_str().map(str::to_owned),
            }],
            Some("assistant") => v["message"]["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|block| match block["type"].as_str() {
                    Some("text") => Some(AgentEvent::Text(block["text"].as_str()?.to_owned())),
                    Some("tool_use") => Some(AgentEvent::ToolUse {
                        name: block["name"].as_str()?.to_owned(),
                    }),
                    _ => None,
                })
                .collect(),
            Some("result") => vec![AgentEvent::Final(FinalReport {
                text: v["result"].as_str().unwrap_or_default().to_owned(),
                cost_usd: v["total_cost_usd"].as_f64(),
                usage: Some(Usage {
                    input_tokens: v["usage"]["input_tokens"].as_u64().unwrap_or_default(),
                    output_tokens: v["usage"]["output_tokens"].as_u64().unwrap_or_default(),
                }),
                session_id: v["session_id"].as_str().map(str::to_owned),
                is_error: v["is_error"].as_bool().unwrap_or_default(),
            })],
            _ => Vec::new(),
        }
    }

    fn stderr_line(&mut self, line: &str) -> Vec<AgentEvent> {
        vec![AgentEvent::Error {
            message: line.to_owned(),
        }]
    }
}
