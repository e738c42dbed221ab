//! Every branch of the generic classifier and of each backend's recognition, on constructed
//! outcomes. Texts are the CLIs' own messages (research §3.4 and the linked issues).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::agent::backends::{
    Claude, Codex, CommandBackend, CommandBackendConfig, Copilot, Gemini, Opencode, Output,
};
use crate::agent::event::FinalReport;

fn ok_report(text: &str) -> Option<FinalReport> {
    Some(FinalReport {
        text: text.to_owned(),
        ..FinalReport::default()
    })
}

fn error_report(text: &str) -> Option<FinalReport> {
    Some(FinalReport {
        text: text.to_owned(),
        is_error: true,
        ..FinalReport::default()
    })
}

fn success() -> ProcessOutcome {
    ProcessOutcome {
        exit_code: Some(0),
        final_report: ok_report("done: added x; evidence: cargo test; risk: none; next: -"),
        duration: Duration::from_secs(42),
        ..ProcessOutcome::default()
    }
}

fn exited(code: i32) -> ProcessOutcome {
    ProcessOutcome {
        exit_code: Some(code),
        final_report: None,
        ..success()
    }
}

fn claude() -> Claude {
    Claude::with_root(false)
}

#[test]
fn a_clean_run_is_a_success() {
    assert_eq!(classify(&claude(), &success()), None);
}

#[test]
fn spawn_error_is_not_installed_and_names_the_program() {
    let outcome = ProcessOutcome {
        spawn_error: Some("No such file or directory (os error 2)".into()),
        ..ProcessOutcome::default()
    };
    assert_eq!(
        classify(&Codex::new(), &outcome),
        Some(FailureClass::NotInstalled {
            program: "codex".into(),
            error: "No such file or directory (os error 2)".into(),
        })
    );
}

#[test]
fn cancelled_wins_over_whatever_the_agent_printed_while_dying() {
    let outcome = ProcessOutcome {
        cancelled: true,
        signal: Some(2),
        exit_code: None,
        stderr_tail: "Error: rate limit".into(),
        ..success()
    };
    assert_eq!(classify(&claude(), &outcome), Some(FailureClass::Cancelled));
}

#[test]
fn timeouts_are_wall_or_idle() {
    let wall = ProcessOutcome {
        timeout: Some(TimeoutKind::Wall),
        signal: Some(15),
        exit_code: None,
        final_report: None,
        duration: Duration::from_secs(3600),
        ..ProcessOutcome::default()
    };
    assert_eq!(
        classify(&claude(), &wall),
        Some(FailureClass::WallTimeout { after_secs: 3600 })
    );
    let idle = ProcessOutcome {
        timeout: Some(TimeoutKind::Idle),
        duration: Duration::from_secs(600),
        ..wall
    };
    assert_eq!(
        classify(&claude(), &idle),
        Some(FailureClass::IdleTimeout { after_secs: 600 })
    );
}

#[test]
fn a_limit_beats_a_timeout() {
    // Codex without quota retries forever; the idle timer ends it, but the cause is the limit.
    let outcome = ProcessOutcome {
        timeout: Some(TimeoutKind::Idle),
        signal: Some(9),
        exit_code: None,
        final_report: None,
        stream_errors: vec!["You've hit your usage limit. Try again in 4 days 20 hours.".into()],
        ..ProcessOutcome::default()
    };
    assert!(matches!(
        classify(&Codex::new(), &outcome),
        Some(FailureClass::UsageLimit {
            resets_at: Some(_),
            ..
        })
    ));
}

#[test]
fn non_zero_exit_and_signals_are_crashes_with_the_stderr_tail() {
    let mut outcome = exited(2);
    outcome.stderr_tail = "thread 'main' panicked\n".into();
    assert_eq!(
        classify(&claude(), &outcome),
        Some(FailureClass::Crashed {
            exit_code: Some(2),
            signal: None,
            stderr_tail: "thread 'main' panicked".into(),
        })
    );
    let killed = ProcessOutcome {
        exit_code: None,
        signal: Some(9),
        ..success()
    };
    assert_eq!(
        classify(&claude(), &killed),
        Some(FailureClass::Crashed {
            exit_code: None,
            signal: Some(9),
            stderr_tail: String::new(),
        })
    );
}

#[test]
fn a_crash_without_stderr_uses_the_stdout_tail() {
    let mut outcome = exited(1);
    outcome.stdout_tail = "something broke\n".into();
    assert!(matches!(
        classify(&claude(), &outcome),
        Some(FailureClass::Crashed { stderr_tail, .. }) if stderr_tail == "something broke"
    ));
}

#[test]
fn an_error_report_with_exit_zero_is_a_crash() {
    let outcome = ProcessOutcome {
        final_report: error_report("Reached maximum number of turns"),
        ..success()
    };
    assert_eq!(
        classify(&claude(), &outcome),
        Some(FailureClass::Crashed {
            exit_code: Some(0),
            signal: None,
            stderr_tail: "Reached maximum number of turns".into(),
        })
    );
}

#[test]
fn no_final_text_is_empty_output() {
    let blank = ProcessOutcome {
        final_report: ok_report("  \n"),
        ..success()
    };
    assert_eq!(classify(&claude(), &blank), Some(FailureClass::EmptyOutput));
    let none = ProcessOutcome {
        final_report: None,
        ..success()
    };
    assert_eq!(classify(&claude(), &none), Some(FailureClass::EmptyOutput));
}

#[test]
fn talking_about_limits_in_a_successful_answer_is_still_a_success() {
    let outcome = ProcessOutcome {
        final_report: ok_report("done: handle HTTP 429 rate limit errors; evidence: tests"),
        stderr_tail: "warning: usage limit docs updated".into(),
        ..success()
    };
    assert_eq!(classify(&claude(), &outcome), None);
}

#[test]
fn claude_not_logged_in_from_the_stream_and_from_text_mode() {
    let stream = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report("Not logged in · Please run /login"),
        stream_errors: vec!["authentication_failed: Not logged in · Please run /login".into()],
        ..ProcessOutcome::default()
    };
    assert_eq!(
        classify(&claude(), &stream),
        Some(FailureClass::NotLoggedIn {
            evidence: "authentication_failed: Not logged in · Please run /login".into()
        })
    );
    let api_401 = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report("Invalid API key · Fix external API key"),
        stream_errors: vec!["API error: status 401: Invalid API key".into()],
        ..ProcessOutcome::default()
    };
    assert!(matches!(
        classify(&claude(), &api_401),
        Some(FailureClass::NotLoggedIn { .. })
    ));
}

#[test]
fn claude_usage_limit_with_a_unix_reset_time() {
    let outcome = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report("Claude AI usage limit reached|1750708800"),
        ..ProcessOutcome::default()
    };
    assert_eq!(
        classify(&claude(), &outcome),
        Some(FailureClass::UsageLimit {
            evidence: "Claude AI usage limit reached|1750708800".into(),
            resets_at: Some(UNIX_EPOCH + Duration::from_secs(1_750_708_800)),
        })
    );
}

#[test]
fn claude_usage_limit_with_a_clock_time() {
    let now = UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let outcome = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report("You've hit your limit · resets 3pm (Europe/Paris)"),
        ..ProcessOutcome::default()
    };
    let evidence = Evidence {
        auth: &["not logged in"],
        stdout_is_text: false,
    };
    match detect_setup_failure_at(&outcome, evidence, now) {
        Some(FailureClass::UsageLimit {
            resets_at: Some(at),
            evidence,
        }) => {
            assert_eq!(
                evidence,
                "You've hit your limit · resets 3pm (Europe/Paris)"
            );
            let wait = at.duration_since(now).unwrap();
            assert!(wait <= Duration::from_secs(86_400), "{wait:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rate_limit_from_an_api_status_without_a_reset_time() {
    let outcome = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report("API Error: Rate limit reached"),
        stream_errors: vec!["API error: status 429: API Error: Rate limit reached".into()],
        ..ProcessOutcome::default()
    };
    assert_eq!(
        classify(&claude(), &outcome),
        Some(FailureClass::UsageLimit {
            evidence: "API error: status 429: API Error: Rate limit reached".into(),
            resets_at: None,
        })
    );
}

#[test]
fn codex_not_logged_in_and_usage_limit() {
    let mut not_logged_in = exited(1);
    not_logged_in.stderr_tail = "Not logged in\n".into();
    assert_eq!(
        classify(&Codex::new(), &not_logged_in),
        Some(FailureClass::NotLoggedIn {
            evidence: "Not logged in".into()
        })
    );
    let limit = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report(""),
        stream_errors: vec![
            "You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) or \
             try again in 2 days 17 hours 14 minutes."
                .into(),
        ],
        ..ProcessOutcome::default()
    };
    let before = SystemTime::now();
    match classify(&Codex::new(), &limit) {
        Some(FailureClass::UsageLimit {
            resets_at: Some(at),
            ..
        }) => {
            let wait = at.duration_since(before).unwrap().as_secs();
            let expected = 2 * 86_400 + 17 * 3600 + 14 * 60;
            assert!((expected..expected + 60).contains(&wait), "{wait}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn copilot_not_logged_in_from_stderr() {
    let mut outcome = exited(1);
    outcome.stderr_tail = "Error: No authentication information found.\n\nCopilot can be \
                           authenticated with GitHub using an OAuth Token\n"
        .into();
    assert_eq!(
        classify(&Copilot::new(), &outcome),
        Some(FailureClass::NotLoggedIn {
            evidence: "Error: No authentication information found.".into()
        })
    );
}

#[test]
fn gemini_exit_41_is_not_logged_in() {
    let mut outcome = exited(41);
    outcome.stream_errors =
        vec!["Please set an Auth method in your settings.json (code 41)".into()];
    assert_eq!(
        classify(&Gemini::new(), &outcome),
        Some(FailureClass::NotLoggedIn {
            evidence: "Please set an Auth method in your settings.json (code 41)".into()
        })
    );
    let bare = exited(41);
    assert!(matches!(
        classify(&Gemini::new(), &bare),
        Some(FailureClass::NotLoggedIn { evidence }) if evidence.contains("41")
    ));
}

#[test]
fn gemini_quota_is_a_usage_limit() {
    let mut outcome = exited(1);
    outcome.stderr_tail =
        "[API Error: got status: 429 Too Many Requests. RESOURCE_EXHAUSTED: Quota exceeded]".into();
    assert!(matches!(
        classify(&Gemini::new(), &outcome),
        Some(FailureClass::UsageLimit {
            resets_at: None,
            ..
        })
    ));
}

#[test]
fn opencode_network_failure_is_a_crash_not_a_login_problem() {
    let outcome = ProcessOutcome {
        exit_code: Some(1),
        final_report: error_report(""),
        stream_errors: vec![
            "APIError: Cannot connect to API: Unable to connect. Is the computer able to access \
             the url?"
                .into(),
        ],
        ..ProcessOutcome::default()
    };
    assert!(matches!(
        classify(&Opencode::new(), &outcome),
        Some(FailureClass::Crashed {
            exit_code: Some(1),
            ..
        })
    ));
}

#[test]
fn command_backends_search_plain_stdout_with_every_known_phrase() {
    let backend = CommandBackend::new(
        "wrapped",
        CommandBackendConfig {
            command: vec!["wrap-claude".into()],
            output: Output::Text,
            interactive_command: None,
        },
    )
    .unwrap();
    let mut outcome = exited(1);
    outcome.stdout_tail = "Not logged in · Please run /login\n".into();
    assert!(matches!(
        classify(&backend, &outcome),
        Some(FailureClass::NotLoggedIn { .. })
    ));
}

#[test]
fn evidence_is_shortened_to_one_paragraph() {
    let mut outcome = exited(1);
    outcome.stderr_tail = format!("rate limit {}", "x".repeat(2000));
    match classify(&claude(), &outcome) {
        Some(FailureClass::UsageLimit { evidence, .. }) => {
            assert_eq!(evidence.chars().count(), MAX_EVIDENCE_CHARS + 1);
            assert!(evidence.ends_with('…'));
        }
        other => panic!("{other:?}"),
    }
}
