//! Every output parser against the fixture files in `tests/fixtures/agent-output/`, and the
//! failure classes those outputs lead to when fed through the classifier the way the supervisor
//! would (final report and stream errors from the parser, exit code from the process).

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use teams::agent::parsers::{
    ClaudeStreamParser, CodexJsonParser, CopilotJsonParser, GeminiJsonParser, OpencodeJsonParser,
    PlainTextParser,
};
use teams::agent::{
    AgentEvent, Backend, FailureClass, FinalReport, OutputParser, ProcessOutcome, Usage, classify,
    resolve_backend,
};

fn fixture(path: &str) -> String {
    let full: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/agent-output",
        path,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Feeds stdout (and optionally stderr) line by line, then `finish`, like the supervisor does.
fn parse(parser: &mut dyn OutputParser, stdout: &str, stderr: &str) -> Vec<AgentEvent> {
    let mut events = Vec::new();
    for line in stdout.lines() {
        events.extend(parser.stdout_line(line));
    }
    for line in stderr.lines() {
        events.extend(parser.stderr_line(line));
    }
    events.extend(parser.finish());
    events
}

fn final_of(events: &[AgentEvent]) -> FinalReport {
    let finals: Vec<&FinalReport> = events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Final(report) => Some(report),
            _ => None,
        })
        .collect();
    assert_eq!(finals.len(), 1, "exactly one final report in {events:#?}");
    finals[0].clone()
}

fn errors_of(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Error { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn tools_of(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::ToolUse { name } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn count_retries(events: &[AgentEvent]) -> usize {
    events
        .iter()
        .filter(|event| matches!(event, AgentEvent::Retry { .. }))
        .count()
}

/// The outcome the supervisor would record for this output and exit code.
fn outcome(events: &[AgentEvent], exit_code: i32, stdout: &str, stderr: &str) -> ProcessOutcome {
    ProcessOutcome {
        exit_code: Some(exit_code),
        final_report: events.iter().rev().find_map(|event| match event {
            AgentEvent::Final(report) => Some(report.clone()),
            _ => None,
        }),
        stream_errors: errors_of(events),
        stdout_tail: stdout.to_owned(),
        stderr_tail: stderr.to_owned(),
        ..ProcessOutcome::default()
    }
}

fn backend(name: &str) -> Box<dyn Backend> {
    resolve_backend(name, &Default::default()).unwrap()
}

const HANDOFF: &str = "done: added src/greet.rs; evidence: cargo test; risk: none; next: -";

#[test]
fn claude_success() {
    let stdout = fixture("claude/success.jsonl");
    let events = parse(&mut ClaudeStreamParser::new(), &stdout, "");
    assert_eq!(
        events[0],
        AgentEvent::SessionStarted {
            session_id: "5b0e3a7c-1d2f-4c8e-9a41-7f3e2b6d9c10".into(),
            model: Some("claude-sonnet-5-5".into()),
        }
    );
    assert_eq!(
        events[1],
        AgentEvent::Text("I'll add the greeting module.".into())
    );
    assert_eq!(tools_of(&events), ["Write", "Bash"]);
    assert_eq!(
        events[3],
        AgentEvent::Retry {
            message: "API retry 1/10 (status 529): overloaded_error".into()
        }
    );
    assert!(errors_of(&events).is_empty());
    assert_eq!(
        final_of(&events),
        FinalReport {
            text: "done: added src/greet.rs; evidence: cargo test; risk: none; next: wire it into \
                   main"
                .into(),
            cost_usd: Some(0.0421),
            usage: Some(Usage {
                input_tokens: 3900,
                output_tokens: 95
            }),
            session_id: Some("5b0e3a7c-1d2f-4c8e-9a41-7f3e2b6d9c10".into()),
            is_error: false,
        }
    );
    assert_eq!(
        classify(&*backend("claude"), &outcome(&events, 0, &stdout, "")),
        None
    );
}

#[test]
fn claude_not_logged_in_real_capture() {
    let stdout = fixture("claude/not-logged-in.jsonl");
    let events = parse(&mut ClaudeStreamParser::new(), &stdout, "");
    assert!(
        matches!(&events[0], AgentEvent::SessionStarted { model: Some(m), .. } if m == "claude-opus-5-5")
    );
    assert_eq!(
        errors_of(&events),
        ["authentication_failed: Not logged in · Please run /login"]
    );
    let report = final_of(&events);
    assert!(report.is_error);
    assert_eq!(report.text, "Not logged in · Please run /login");
    assert_eq!(report.cost_usd, Some(0.0));
    assert!(matches!(
        classify(&*backend("claude"), &outcome(&events, 1, &stdout, "")),
        Some(FailureClass::NotLoggedIn { evidence }) if evidence.contains("authentication_failed")
    ));
}

#[test]
fn claude_usage_limit() {
    let stdout = fixture("claude/usage-limit.jsonl");
    let events = parse(&mut ClaudeStreamParser::new(), &stdout, "");
    let errors = errors_of(&events);
    assert_eq!(
        errors[0],
        "rate limit rejected (five_hour): Claude AI usage limit reached|1750708800"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("API error: status 429")),
        "{errors:?}"
    );
    assert!(final_of(&events).is_error);
    assert_eq!(
        classify(&*backend("claude"), &outcome(&events, 1, &stdout, "")),
        Some(FailureClass::UsageLimit {
            evidence: errors[0].clone(),
            resets_at: Some(UNIX_EPOCH + Duration::from_secs(1_750_708_800)),
        })
    );
}

#[test]
fn claude_permission_denials_become_an_error_event() {
    let events = parse(
        &mut ClaudeStreamParser::new(),
        &fixture("claude/permission-denied.jsonl"),
        "",
    );
    assert_eq!(
        errors_of(&events),
        ["permission denied for 1 tool call(s): Write"]
    );
    assert!(!final_of(&events).is_error);
}

#[test]
fn claude_garbage_never_panics_and_yields_only_what_is_well_formed() {
    let events = parse(
        &mut ClaudeStreamParser::new(),
        &fixture("claude/garbage.jsonl"),
        "",
    );
    // Only the malformed `result` survives, as a report with what could be read.
    assert_eq!(
        events,
        [AgentEvent::Final(FinalReport {
            text: "42".into(),
            cost_usd: None,
            usage: Some(Usage::default()),
            session_id: None,
            is_error: false,
        })]
    );
}

#[test]
fn codex_success() {
    let stdout = fixture("codex/success.jsonl");
    let events = parse(&mut CodexJsonParser::new(), &stdout, "");
    assert_eq!(
        events[0],
        AgentEvent::SessionStarted {
            session_id: "0199a213-81c0-7800-8aa1-bbab2a035a53".into(),
            model: None,
        }
    );
    assert_eq!(
        tools_of(&events),
        ["command_execution", "file_change", "docs.search"]
    );
    assert_eq!(
        final_of(&events),
        FinalReport {
            text: HANDOFF.into(),
            cost_usd: None,
            usage: Some(Usage {
                input_tokens: 2000,
                output_tokens: 37
            }),
            session_id: Some("0199a213-81c0-7800-8aa1-bbab2a035a53".into()),
            is_error: false,
        }
    );
    assert_eq!(
        classify(&*backend("codex"), &outcome(&events, 0, &stdout, "")),
        None
    );
}

#[test]
fn codex_no_network_real_capture_is_retries() {
    let events = parse(
        &mut CodexJsonParser::new(),
        &fixture("codex/no-network.jsonl"),
        "",
    );
    assert_eq!(count_retries(&events), 4);
    assert_eq!(
        errors_of(&events).len(),
        1,
        "the WebSocket fallback error item"
    );
    let report = final_of(&events);
    assert_eq!(report.text, "");
    assert_eq!(report.usage, None);
}

#[test]
fn codex_usage_limit() {
    let stdout = fixture("codex/usage-limit.jsonl");
    let events = parse(&mut CodexJsonParser::new(), &stdout, "");
    assert!(final_of(&events).is_error);
    assert!(matches!(
        classify(&*backend("codex"), &outcome(&events, 1, &stdout, "")),
        Some(FailureClass::UsageLimit {
            resets_at: Some(_),
            ..
        })
    ));
}

#[test]
fn gemini_pretty_printed_json() {
    let stdout = fixture("gemini/success.json");
    let events = parse(&mut GeminiJsonParser::new(), &stdout, "");
    assert_eq!(
        final_of(&events),
        FinalReport {
            text: HANDOFF.into(),
            cost_usd: None,
            usage: Some(Usage {
                input_tokens: 25939,
                output_tokens: 25
            }),
            session_id: Some("6dbb7487-3311-4f7e-a711-16789db12faf".into()),
            is_error: false,
        }
    );
    assert_eq!(
        classify(&*backend("gemini"), &outcome(&events, 0, &stdout, "")),
        None
    );
}

#[test]
fn gemini_json_after_a_banner_and_after_broken_json() {
    let stdout = format!(
        "Loaded cached credentials.\n{{\"broken\": \n{}",
        fixture("gemini/success.json")
    );
    let events = parse(&mut GeminiJsonParser::new(), &stdout, "");
    assert_eq!(final_of(&events).text, HANDOFF);
}

#[test]
fn gemini_stream_json_is_tolerated() {
    let events = parse(
        &mut GeminiJsonParser::new(),
        &fixture("gemini/stream.jsonl"),
        "",
    );
    assert_eq!(tools_of(&events), ["write_file"]);
    let report = final_of(&events);
    assert_eq!(
        report.text,
        "done: added src/greet.rs; evidence: cargo test"
    );
    assert_eq!(
        report.usage,
        Some(Usage {
            input_tokens: 1250,
            output_tokens: 50
        })
    );
    assert_eq!(
        report.session_id.as_deref(),
        Some("a1b2c3d4-0000-4000-8000-000000000002")
    );
}

#[test]
fn gemini_not_logged_in_real_capture() {
    let stderr = fixture("gemini/not-logged-in.stderr");
    let mut parser = GeminiJsonParser::new();
    let events = parse(&mut parser, "", &stderr);
    assert!(events.is_empty(), "{events:?}");
    // The same object on stdout (where older versions print it) is read as an error report.
    let events = parse(&mut GeminiJsonParser::new(), &stderr, "");
    assert!(final_of(&events).is_error);
    assert!(errors_of(&events)[0].contains("(code 41)"));
    assert!(matches!(
        classify(&*backend("gemini"), &outcome(&[], 41, "", &stderr)),
        Some(FailureClass::NotLoggedIn { .. })
    ));
}

#[test]
fn gemini_retries_on_stderr() {
    let events = GeminiJsonParser::new().stderr_line(
        "Attempt 2 failed with status 503. Retrying with backoff... Error: fetch failed",
    );
    assert_eq!(count_retries(&events), 1);
}

#[test]
fn opencode_success() {
    let stdout = fixture("opencode/success.jsonl");
    let events = parse(&mut OpencodeJsonParser::new(), &stdout, "");
    assert_eq!(
        events[0],
        AgentEvent::SessionStarted {
            session_id: "ses_4f9562d4ffe1abcDEF".into(),
            model: None,
        }
    );
    assert_eq!(tools_of(&events), ["write", "bash"]);
    let report = final_of(&events);
    assert_eq!(report.text, HANDOFF);
    assert_eq!(
        report.usage,
        Some(Usage {
            input_tokens: 35100,
            output_tokens: 42
        })
    );
    assert!((report.cost_usd.unwrap() - 0.002).abs() < 1e-9);
    assert!(!report.is_error);
    assert_eq!(
        classify(&*backend("opencode"), &outcome(&events, 0, &stdout, "")),
        None
    );
}

#[test]
fn opencode_no_network_real_capture() {
    let stdout = fixture("opencode/no-network.jsonl");
    let events = parse(&mut OpencodeJsonParser::new(), &stdout, "");
    assert_eq!(
        errors_of(&events),
        [
            "APIError: Cannot connect to API: Unable to connect. Is the computer able to access the \
          url?"
        ]
    );
    assert!(final_of(&events).is_error);
    assert!(matches!(
        classify(&*backend("opencode"), &outcome(&events, 1, &stdout, "")),
        Some(FailureClass::Crashed {
            exit_code: Some(1),
            ..
        })
    ));
}

#[test]
fn copilot_success() {
    let stdout = fixture("copilot/success.jsonl");
    let events = parse(&mut CopilotJsonParser::new(), &stdout, "");
    assert_eq!(tools_of(&events), ["edit", "bash"]);
    assert_eq!(
        final_of(&events),
        FinalReport {
            text: HANDOFF.into(),
            cost_usd: None,
            usage: None,
            session_id: Some("3f1c0c8e-2b6d-4b1e-9a51-5d6c7e8f9a0b".into()),
            is_error: false,
        }
    );
    assert_eq!(
        classify(&*backend("copilot"), &outcome(&events, 0, &stdout, "")),
        None
    );
}

#[test]
fn copilot_without_a_result_event_still_reports_the_last_message() {
    let stdout: String = fixture("copilot/success.jsonl")
        .lines()
        .filter(|line| !line.contains("\"type\":\"result\""))
        .map(|line| format!("{line}\n"))
        .collect();
    let events = parse(&mut CopilotJsonParser::new(), &stdout, "");
    assert_eq!(final_of(&events).text, HANDOFF);
}

#[test]
fn copilot_not_logged_in_real_capture() {
    let stderr = fixture("copilot/not-logged-in.stderr");
    let events = parse(&mut CopilotJsonParser::new(), "", &stderr);
    assert!(events.is_empty());
    assert_eq!(
        classify(&*backend("copilot"), &outcome(&events, 1, "", &stderr)),
        Some(FailureClass::NotLoggedIn {
            evidence: "Error: No authentication information found.".into()
        })
    );
}

#[test]
fn plain_text_joins_stdout() {
    let events = parse(
        &mut PlainTextParser::new(),
        &fixture("text/success.txt"),
        "",
    );
    assert_eq!(
        events[..2],
        [
            AgentEvent::Text("Working on it...".into()),
            AgentEvent::Text("done: added src/greet.rs; evidence: cargo test".into()),
        ]
    );
    assert_eq!(
        final_of(&events).text,
        "Working on it...\n\ndone: added src/greet.rs; evidence: cargo test"
    );
}

#[test]
fn json_parsers_ignore_garbage_lines() {
    let garbage = "\u{1b}[31mError\u{1b}[0m\n{\n}\n[]\nnull\n{\"type\":7}\n{\"type\":\"item.completed\"}\n\
                   {\"type\":\"text\"}\n{\"type\":\"assistant.message\",\"data\":7}\n";
    let parsers: Vec<Box<dyn OutputParser>> = vec![
        Box::new(ClaudeStreamParser::new()),
        Box::new(CodexJsonParser::new()),
        Box::new(CopilotJsonParser::new()),
        Box::new(GeminiJsonParser::new()),
        Box::new(OpencodeJsonParser::new()),
    ];
    for mut parser in parsers {
        let events = parse(parser.as_mut(), garbage, garbage);
        assert!(
            events.iter().all(|event| match event {
                AgentEvent::Final(report) => report.text.is_empty(),
                AgentEvent::Text(_) => false,
                _ => true,
            }),
            "{events:?}"
        );
    }
}
