//! What the fake prints, shaped like Claude Code's `--output-format` modes (research §3.3).
//!
//! In `stream-json` every step becomes the events the real CLI would print, one JSON object per
//! line, flushed at once (the supervisor's idle timer and live progress depend on timely lines).
//! In `json` only the final result object is printed, and in `text` only the result text.

use std::io::{self, Write};

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    StreamJson,
}

/// The final `result` event, built up as steps run.
#[derive(Debug, Clone)]
pub struct ResultState {
    pub text: String,
    pub is_error: bool,
    pub subtype: String,
    pub cost_usd: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub terminal_reason: String,
    pub permission_denials: Vec<Value>,
    pub suppressed: bool,
}

impl Default for ResultState {
    fn default() -> Self {
        Self {
            text: String::new(),
            is_error: false,
            subtype: "success".to_owned(),
            cost_usd: 0.01,
            input_tokens: 1000,
            output_tokens: 100,
            terminal_reason: "completed".to_owned(),
            permission_denials: Vec::new(),
            suppressed: false,
        }
    }
}

pub struct Emitter {
    pub format: Format,
    pub session_id: String,
    pub model: String,
    turns: u32,
    ids: u32,
    started_ms: u64,
}

impl Emitter {
    pub fn new(format: Format, session_id: String, model: String, started_ms: u64) -> Self {
        Self {
            format,
            session_id,
            model,
            turns: 1,
            ids: 0,
            started_ms,
        }
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}_fake{:06}", self.ids)
    }

    /// Prints one event in stream-json mode (other modes print no intermediate events).
    pub fn event(&mut self, mut event: Value) {
        if self.format != Format::StreamJson {
            return;
        }
        if let Value::Object(map) = &mut event {
            map.insert("session_id".into(), json!(self.session_id));
            let uuid = self.next_id("uuid");
            map.insert("uuid".into(), json!(uuid));
        }
        line_out(&event.to_string());
    }

    pub fn init(&mut self, cwd: &str, permission_mode: &str, api_key_source: &str) {
        self.event(json!({
            "type": "system", "subtype": "init", "cwd": cwd,
            "tools": ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "TodoWrite"],
            "mcp_servers": [], "model": self.model, "permissionMode": permission_mode,
            "slash_commands": [], "apiKeySource": api_key_source,
            "claude_code_version": crate::VERSION, "output_style": "default", "agents": [],
        }));
    }

    /// An assistant message with the given content blocks.
    pub fn assistant(&mut self, content: Vec<Value>, error: Option<&str>, model: Option<&str>) {
        let id = self.next_id("msg");
        let mut event = json!({
            "type": "assistant",
            "message": {
                "id": id, "type": "message", "role": "assistant",
                "model": model.unwrap_or(&self.model), "content": content,
                "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 10, "output_tokens": 10,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                          "service_tier": "standard"},
            },
            "parent_tool_use_id": null,
        });
        if let Some(error) = error {
            event["error"] = json!(error);
        }
        self.event(event);
    }

    pub fn text(&mut self, text: &str) {
        self.assistant(vec![json!({"type": "text", "text": text})], None, None);
    }

    /// A tool call and its result. Returns the tool use id.
    pub fn tool(&mut self, name: &str, input: Value, output: &str, is_error: bool) -> String {
        let id = self.next_id("toolu");
        self.assistant(
            vec![json!({"type": "tool_use", "id": id, "name": name, "input": input})],
            None,
            None,
        );
        self.event(json!({
            "type": "user",
            "message": {"role": "user", "content": [
                {"tool_use_id": id, "type": "tool_result", "content": output, "is_error": is_error}
            ]},
            "parent_tool_use_id": null,
            "tool_use_result": {"stdout": output, "stderr": "", "interrupted": false},
        }));
        self.turns += 1;
        id
    }

    pub fn api_retry(&mut self, attempt: u32) {
        self.event(json!({
            "type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 10,
            "retry_delay_ms": 600, "error_status": null, "error": "connection_failed",
        }));
    }

    /// The final result, in whatever form the output format wants.
    pub fn result(&mut self, r: &ResultState, now_ms: u64) {
        if r.suppressed {
            return;
        }
        if self.format == Format::Text {
            line_out(&r.text);
            return;
        }
        let duration = now_ms.saturating_sub(self.started_ms);
        let mut event = json!({
            "type": "result", "subtype": r.subtype, "is_error": r.is_error,
            "duration_ms": duration, "duration_api_ms": duration / 2, "num_turns": self.turns,
            "result": r.text, "session_id": self.session_id, "total_cost_usd": r.cost_usd,
            "usage": {
                "input_tokens": r.input_tokens, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": r.output_tokens,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": "standard",
            },
            "modelUsage": {
                self.model.clone(): {
                    "inputTokens": r.input_tokens, "outputTokens": r.output_tokens,
                    "cacheReadInputTokens": 0, "cacheCreationInputTokens": 0,
                    "webSearchRequests": 0, "costUSD": r.cost_usd, "contextWindow": 200000,
                }
            },
            "permission_denials": r.permission_denials,
            "terminal_reason": r.terminal_reason, "stop_reason": "end_turn",
            "api_error_status": null,
        });
        let uuid = self.next_id("uuid");
        event["uuid"] = json!(uuid);
        line_out(&event.to_string());
    }
}

/// Prints one line to stdout and flushes it, so a reader sees it before the next step.
pub fn line_out(line: &str) {
    let mut out = io::stdout().lock();
    // A closed stdout ends the process with SIGPIPE (default action restored at start), as it
    // would a real CLI; other errors have nowhere to be reported.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prints one line to stderr.
pub fn line_err(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}
