//! A scripted model server on loopback for the real-CLI suite (`tests/real_cli.rs`): it speaks
//! the two streaming APIs the real agent CLIs call, so real Claude Code and real Codex run fully
//! offline against it.
//!
//! - Anthropic Messages (`POST /v1/messages`, what `claude` calls with `ANTHROPIC_BASE_URL`): SSE
//!   `message_start`, `content_block_start/delta/stop` (text and `tool_use`), `message_delta`,
//!   `message_stop`.
//! - OpenAI Responses (`POST /v1/responses`, what `codex` calls through a custom model provider):
//!   SSE `response.created`, `response.output_item.done` (messages and `function_call`s),
//!   `response.completed` with usage.
//!
//! The server keeps no conversation state. Each request carries the whole conversation, so the
//! answer is chosen from what the request holds: the role (`You are the **builder**` … in the
//! prompt `teams` wrote), the story (`## The story` / `**US-001: …**`), the attempt, and how many
//! tool results came back so far (the step). A builder writes a file with the CLI's own file or
//! shell tool, then runs `git add` + `git commit` through its shell tool, then ends with the
//! handoff line; a validator answers the verdict block of spec §5.2; a planner answers a plan.
//! Anything else (a CLI's own side requests) gets a short text answer.
//!
//! Every request is recorded, so tests can assert what the CLI sent (the validator never sees the
//! builder's reasoning, the second builder sees the validator's feedback).
//!
//! Plain `std::net` and threads, one connection per request (`Connection: close`).

#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Text every builder says before its first tool call: the "reasoning" a validator must never see.
pub const BUILDER_REASONING: &str = "BUILDER-REASONING: I will write the story file and commit it";

/// Which API a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Anthropic,
    OpenAi,
    Other,
}

/// The role found in a request's prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Planner,
    Builder,
    Validator,
    /// A request without a `teams` prompt (a CLI's own side request).
    Other,
}

/// How the server misbehaves, for the failure runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    None,
    /// Every model request gets 401 with the API's authentication error, marked not worth
    /// retrying (`x-should-retry: false`), so Claude reports it at once.
    Unauthorized,
    /// The same 401 without that mark: Claude retries it for minutes unless stopped.
    UnauthorizedRetryable,
    /// The first builder request gets 429 with a reset time this many seconds ahead; everything
    /// after is answered normally.
    RateLimitOnce {
        reset_in_secs: u64,
    },
}

/// What the scripted agents do.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Stories whose first attempt the validator rejects.
    pub fail_first: BTreeSet<String>,
    /// Stories whose builder runs a command that never ends, named `teams-hang-<hang_marker>`,
    /// for timeouts: a test finds leftover processes by the marker in their command line.
    pub hang: BTreeSet<String>,
    pub hang_marker: String,
    pub fault: Fault,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            fail_first: BTreeSet::new(),
            hang: BTreeSet::new(),
            hang_marker: "default".to_owned(),
            fault: Fault::None,
        }
    }
}

/// One request as the server saw it, with what it understood and how it answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub api: Api,
    /// The raw body (JSON for model requests).
    pub body: String,
    /// Every string of the conversation (messages or input items), unescaped, one per line.
    pub prompt: String,
    pub role: Role,
    pub story: Option<String>,
    pub attempt: Option<u32>,
    /// Tool results already in the conversation.
    pub step: usize,
    /// The HTTP status answered.
    pub status: u16,
}

impl Recorded {
    pub fn is(&self, role: Role, story: &str) -> bool {
        self.role == role && self.story.as_deref() == Some(story)
    }
}

struct Shared {
    scenario: Scenario,
    requests: Mutex<Vec<Recorded>>,
    rate_limited: AtomicBool,
    stop: AtomicBool,
    ids: AtomicUsize,
}

/// The running server; stops accepting when dropped.
pub struct ModelServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl ModelServer {
    pub fn start(scenario: Scenario) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            scenario,
            requests: Mutex::new(Vec::new()),
            rate_limited: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            ids: AtomicUsize::new(0),
        });
        let accept = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accept.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        ModelServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT` (Claude's `ANTHROPIC_BASE_URL`; Codex's base URL adds `/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The model requests of one role and story, in arrival order.
    pub fn requests_of(&self, role: Role, story: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.is(role, story))
            .collect()
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream);
    let Some((method, path, body)) = read_request(&mut reader) else {
        return;
    };
    let mut stream = reader.into_inner();
    let api = if path.starts_with("/v1/messages") && !path.contains("count_tokens") {
        Api::Anthropic
    } else if path.starts_with("/v1/responses") {
        Api::OpenAi
    } else {
        Api::Other
    };
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let prompt = prompt_text(&parsed);
    let role = role_of(&prompt);
    let story = story_of(&prompt);
    let attempt = attempt_of(&prompt);
    let step = tool_results(api, &parsed);
    let mut record = Recorded {
        method,
        path,
        api,
        body,
        prompt,
        role,
        story,
        attempt,
        step,
        status: 200,
    };
    let response = answer(shared, &mut record, &parsed);
    shared.requests.lock().unwrap().push(record);
    let _ = stream.write_all(&response);
    let _ = stream.flush();
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, String)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            if name == "content-length" {
                length = value.parse().ok()?;
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some((method, path, String::from_utf8_lossy(&body).into_owned()))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// All text of the conversation's user and developer inputs (where `teams`' prompt is), plus the
/// system prompt, joined. Tool outputs are included too; they never contain a role header.
fn prompt_text(body: &Value) -> String {
    let mut out = String::new();
    collect_strings(body.get("messages").unwrap_or(&Value::Null), &mut out);
    collect_strings(body.get("input").unwrap_or(&Value::Null), &mut out);
    out
}

fn collect_strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn role_of(prompt: &str) -> Role {
    if prompt.contains("You are the **builder**") {
        Role::Builder
    } else if prompt.contains("You are the **validator**") {
        Role::Validator
    } else if prompt.contains("You are the **planner**") {
        Role::Planner
    } else {
        Role::Other
    }
}

/// `US-001` from `## The story\n\n**US-001: title**`, or the unit id for a planner.
fn story_of(prompt: &str) -> Option<String> {
    let after = |marker: &str| {
        let rest = &prompt[prompt.find(marker)? + marker.len()..];
        let rest = &rest[rest.find("**")? + 2..];
        Some(rest[..rest.find(':')?].trim().to_owned())
    };
    after("## The story").or_else(|| after("## The unit"))
}

fn attempt_of(prompt: &str) -> Option<u32> {
    let rest = &prompt[prompt.find("- Attempt ")? + "- Attempt ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// How many tool results the conversation already holds: the builder's step.
fn tool_results(api: Api, body: &Value) -> usize {
    match api {
        Api::Anthropic => body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["content"].as_array())
            .flatten()
            .filter(|block| block["type"] == "tool_result")
            .count(),
        Api::OpenAi => body["input"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| item["type"] == "function_call_output")
            .count(),
        Api::Other => 0,
    }
}

/// One step of a scripted agent.
enum Turn {
    /// Optional text, then one tool call.
    Tool {
        text: Option<String>,
        call: ToolCall,
    },
    /// The final message.
    Final(String),
}

enum ToolCall {
    /// Write `content` to `file` (relative to the agent's working directory).
    WriteFile { file: String, content: String },
    /// Run a shell command in the agent's working directory.
    Shell(String),
}

fn answer(shared: &Shared, record: &mut Recorded, body: &Value) -> Vec<u8> {
    if record.api == Api::Other {
        record.status = 404;
        return http(404, "application/json", &[], b"{}");
    }
    match &shared.scenario.fault {
        Fault::Unauthorized | Fault::UnauthorizedRetryable => {
            record.status = 401;
            let retry = shared.scenario.fault == Fault::UnauthorizedRetryable;
            return error_response(record.api, 401, None, retry);
        }
        Fault::RateLimitOnce { reset_in_secs }
            if record.role == Role::Builder
                && !shared.rate_limited.swap(true, Ordering::SeqCst) =>
        {
            record.status = 429;
            return error_response(record.api, 429, Some(*reset_in_secs), false);
        }
        _ => {}
    }
    let turn = script(&shared.scenario, record);
    let id = shared.ids.fetch_add(1, Ordering::SeqCst);
    let stream = match record.api {
        Api::Anthropic => anthropic_stream(turn, id, &working_dir(body)),
        _ => responses_stream(turn, id),
    };
    http(200, "text/event-stream", &[], stream.as_bytes())
}

/// The scripted answer for this request.
fn script(scenario: &Scenario, record: &Recorded) -> Turn {
    let story = record.story.clone().unwrap_or_default();
    let attempt = record.attempt.unwrap_or(1);
    // A new file per attempt: Claude's Write refuses to overwrite a file it has not read.
    let file = match attempt {
        1 => format!("{}.txt", story.to_lowercase()),
        n => format!("{}.attempt{n}.txt", story.to_lowercase()),
    };
    match record.role {
        Role::Builder if scenario.hang.contains(&story) => Turn::Tool {
            text: None,
            // Not `sleep`: Claude Code refuses long standalone sleeps. `exec -a` puts the marker
            // into the blocking process's own command line.
            call: ToolCall::Shell(format!(
                "exec -a teams-hang-{} tail -f /dev/null",
                scenario.hang_marker
            )),
        },
        Role::Builder => match record.step {
            0 => Turn::Tool {
                text: Some(BUILDER_REASONING.to_owned()),
                call: ToolCall::WriteFile {
                    file: file.clone(),
                    content: format!("{story} built by attempt {attempt}\n"),
                },
            },
            1 => Turn::Tool {
                text: None,
                call: ToolCall::Shell(format!(
                    "git add {file} && git commit -q -m '{story}: attempt {attempt}'"
                )),
            },
            _ => Turn::Final(format!(
                "Wrote {file} and committed it.\n\ndone: added {file}; evidence: git commit; \
                 risk: none; next: nothing"
            )),
        },
        Role::Validator => {
            let fail = scenario.fail_first.contains(&story)
                && !record
                    .prompt
                    .contains(&format!("+{story} built by attempt 2"));
            let verdict = if fail {
                json!({"verdict": "fail",
                       "criteria": [{"criterion": "the file names the attempt", "met": false,
                                     "evidence": format!("{file} says attempt 1")}],
                       "feedback": feedback_for(&story)})
            } else {
                json!({"verdict": "pass",
                       "criteria": [{"criterion": "the file exists", "met": true,
                                     "evidence": format!("{file} is in the diff")}],
                       "feedback": ""})
            };
            Turn::Final(format!(
                "I read the diff.\n\n```json\n{}\n```",
                serde_json::to_string_pretty(&verdict).unwrap()
            ))
        }
        Role::Planner => Turn::Final(format!(
            "# Plan for {story}\n\nEach story writes its own file and commits it.\n"
        )),
        Role::Other => Turn::Final("ok".to_owned()),
    }
}

/// The validator's feedback on a story's failed first attempt (tests look for it).
pub fn feedback_for(story: &str) -> String {
    format!("FEEDBACK-{story}: the file must be rebuilt by a second attempt")
}

/// The agent's working directory, from Claude's system prompt (`Primary working directory: …`).
fn working_dir(body: &Value) -> String {
    let mut text = String::new();
    collect_strings(body, &mut text);
    text.find("Primary working directory: ")
        .map(|at| {
            let rest = &text[at + "Primary working directory: ".len()..];
            rest.split_whitespace().next().unwrap_or(".").to_owned()
        })
        .unwrap_or_else(|| ".".to_owned())
}

fn sse(events: &[(&str, Value)]) -> String {
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

fn anthropic_stream(turn: Turn, id: usize, cwd: &str) -> String {
    let mut blocks: Vec<Value> = Vec::new();
    let stop_reason = match turn {
        Turn::Final(text) => {
            blocks.push(json!({"type": "text", "text": text}));
            "end_turn"
        }
        Turn::Tool { text, call } => {
            if let Some(text) = text {
                blocks.push(json!({"type": "text", "text": text}));
            }
            let (name, input) = match call {
                ToolCall::WriteFile { file, content } => (
                    "Write",
                    json!({"file_path": format!("{cwd}/{file}"), "content": content}),
                ),
                ToolCall::Shell(command) => (
                    "Bash",
                    json!({"command": command, "description": "run a command"}),
                ),
            };
            blocks.push(json!({"type": "tool_use", "id": format!("toolu_{id:04}"),
                               "name": name, "input": input}));
            "tool_use"
        }
    };
    let mut events = vec![(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": format!("msg_{id:04}"), "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 1200, "output_tokens": 1}}}),
    )];
    for (index, block) in blocks.iter().enumerate() {
        let (start, delta) = if block["type"] == "text" {
            (
                json!({"type": "text", "text": ""}),
                json!({"type": "text_delta", "text": block["text"]}),
            )
        } else {
            (
                json!({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}),
                json!({"type": "input_json_delta", "partial_json": block["input"].to_string()}),
            )
        };
        events.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": start}),
        ));
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        ));
        events.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    events.push((
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": 40}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    sse(&events)
}

fn responses_stream(turn: Turn, id: usize) -> String {
    let message = |text: &str, n: usize| {
        json!({"type": "message", "role": "assistant", "id": format!("msg_{id:04}_{n}"),
               "content": [{"type": "output_text", "text": text}]})
    };
    let mut items: Vec<Value> = Vec::new();
    match turn {
        Turn::Final(text) => items.push(message(&text, 0)),
        Turn::Tool { text, call } => {
            if let Some(text) = text {
                items.push(message(&text, 0));
            }
            let command = match call {
                ToolCall::WriteFile { file, content } => {
                    format!("printf '%s' '{}' > {file}", content.replace('\'', "'\\''"))
                }
                ToolCall::Shell(command) => command,
            };
            items.push(json!({"type": "function_call", "id": format!("fc_{id:04}"),
                              "call_id": format!("call_{id:04}"), "name": "exec_command",
                              "arguments": json!({"cmd": command}).to_string()}));
        }
    }
    let response_id = format!("resp_{id:04}");
    let mut events = vec![(
        "response.created",
        json!({"type": "response.created", "response": {"id": response_id}}),
    )];
    for item in items {
        events.push((
            "response.output_item.done",
            json!({"type": "response.output_item.done", "item": item}),
        ));
    }
    events.push((
        "response.completed",
        json!({"type": "response.completed", "response": {"id": response_id, "usage": {
            "input_tokens": 1200, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 40, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 1240}}}),
    ));
    sse(&events)
}

/// The error each API answers for 401 and 429. Unless `retryable`, the Anthropic answers carry
/// `x-should-retry: false`, so Claude reports them at once instead of retrying for minutes.
fn error_response(api: Api, status: u16, reset_in_secs: Option<u64>, retryable: bool) -> Vec<u8> {
    let secs = reset_in_secs.unwrap_or(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (body, headers): (Value, Vec<(&str, String)>) = match (api, status) {
        (Api::Anthropic, 401) => (
            json!({"type": "error", "error": {"type": "authentication_error",
                                             "message": "invalid x-api-key"}}),
            if retryable {
                vec![]
            } else {
                vec![("x-should-retry", "false".to_owned())]
            },
        ),
        (Api::Anthropic, _) => (
            json!({"type": "error", "error": {"type": "rate_limit_error",
                   "message": format!("Rate limited. Try again in {secs} seconds.")}}),
            vec![
                ("x-should-retry", "false".to_owned()),
                ("retry-after", secs.to_string()),
            ],
        ),
        (_, 401) => (
            json!({"error": {"type": "invalid_request_error", "code": "invalid_api_key",
                             "message": "Incorrect API key provided"}}),
            vec![],
        ),
        (_, _) => (
            json!({"error": {"type": "usage_limit_reached", "plan_type": "plus",
                             "message": "You have hit your usage limit",
                             "resets_at": now + secs}}),
            vec![],
        ),
    };
    http(
        status,
        "application/json",
        &headers,
        body.to_string().as_bytes(),
    )
}

fn http(status: u16, content_type: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}
