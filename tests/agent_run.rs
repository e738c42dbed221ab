//! `run_agent` end to end with the real `claude` backend against the fake agent on `PATH`: the
//! prompt file is written, the command line is accepted, the output is parsed and the ending is
//! classified. Timing is never asserted.

#[path = "common/fake_agent.rs"]
mod fake_agent;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use teams::agent::{
    AgentLimits, AgentRun, FailureClass, Invocation, Role, Usage, builtin_backend, run_agent,
};
use teams::supervisor::CancelHandle;
use teams_fake_agent::{ResultSpec, Script, Step, UsageLimitSpec, read_invocations};

/// A limit that only turns a hang into a failure.
const HANG_LIMIT: Duration = Duration::from_secs(120);

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn record(&self) -> PathBuf {
        self.path().join("record.jsonl")
    }

    fn prompt_file(&self) -> PathBuf {
        self.path().join(".teams/prompts/US-001.builder.1.md")
    }

    /// A builder invocation whose agent environment has `path` as `PATH` and runs `script`.
    fn invocation(&self, script: &Script, path: OsString) -> Invocation {
        let script_path = self.path().join("script.json");
        script.write_to(&script_path).expect("write the script");
        Invocation {
            story_id: Some("US-001".into()),
            attempt: Some(1),
            env: vec![
                ("PATH".into(), path),
                ("TEAMS_FAKE_SCRIPT".into(), script_path.into_os_string()),
                ("TEAMS_FAKE_RECORD".into(), self.record().into_os_string()),
            ],
            ..Invocation::new(
                Role::Builder,
                "Build US-001.",
                self.prompt_file(),
                self.path(),
                self.path(),
            )
        }
    }

    /// Runs `script` through the claude backend with the fake installed as `claude`.
    async fn run(&self, script: Script) -> AgentRun {
        let bin = fake_agent::install_as_claude(&self.path().join("bin"));
        let inv = self.invocation(&script, fake_agent::path_with(&bin));
        self.run_invocation(&inv).await
    }

    async fn run_invocation(&self, inv: &Invocation) -> AgentRun {
        let limits = AgentLimits {
            timeout: Some(HANG_LIMIT),
            idle_timeout: Some(HANG_LIMIT),
            grace: Duration::from_secs(5),
        };
        self.run_limited(inv, limits, CancelHandle::new()).await
    }

    async fn run_limited(
        &self,
        inv: &Invocation,
        limits: AgentLimits,
        cancel: CancelHandle,
    ) -> AgentRun {
        let backend = builtin_backend("claude").expect("claude is built in");
        let transcript = self.path().join("logs/US-001.builder.1.log");
        run_agent(
            backend.as_ref(),
            inv,
            limits,
            Some(transcript),
            cancel,
            |_| {},
        )
        .await
    }
}

#[tokio::test]
async fn success_reports_text_cost_tokens_and_session() {
    let sb = Sandbox::new();
    let script = Script {
        session_id: Some("sess-123".into()),
        ..Script::always(vec![
            Step::Text("On it.".into()),
            Step::Final("done: hello; evidence: none; risk: low; next: none".into()),
            Step::Result(ResultSpec {
                cost_usd: Some(0.42),
                input_tokens: Some(15000),
                output_tokens: Some(900),
                ..ResultSpec::default()
            }),
        ])
    };
    let run = sb.run(script).await;
    assert_eq!(run.failure, None, "{run:#?}");
    assert!(run.succeeded());
    assert_eq!(
        run.final_text.as_deref(),
        Some("done: hello; evidence: none; risk: low; next: none")
    );
    assert_eq!(run.cost_usd, Some(0.42));
    let usage = run.usage.expect("usage reported");
    assert_eq!(
        (usage.input_tokens, usage.output_tokens),
        (15000, 900),
        "{usage:?}"
    );
    assert_ne!(usage, Usage::default());
    assert_eq!(run.session_id.as_deref(), Some("sess-123"));

    // The prompt file was written before the agent started, and the agent got the prompt.
    assert_eq!(
        std::fs::read_to_string(sb.prompt_file()).unwrap(),
        "Build US-001."
    );
    let runs = read_invocations(&sb.record()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].prompt, "Build US-001.");
    assert!(sb.path().join("logs/US-001.builder.1.log").is_file());
}

#[tokio::test]
async fn not_logged_in_is_classified() {
    let sb = Sandbox::new();
    let run = sb.run(Script::always(vec![Step::NotLoggedIn])).await;
    match &run.failure {
        Some(FailureClass::NotLoggedIn { evidence }) => {
            assert!(evidence.contains("Not logged in"), "{evidence}")
        }
        other => panic!("expected NotLoggedIn, got {other:?}"),
    }
}

#[tokio::test]
async fn usage_limit_is_classified_with_its_reset_time() {
    let sb = Sandbox::new();
    let resets_at = 1_900_000_000;
    let run = sb
        .run(Script::always(vec![Step::UsageLimit(UsageLimitSpec {
            message: None,
            resets_at: Some(resets_at),
        })]))
        .await;
    match &run.failure {
        Some(FailureClass::UsageLimit {
            resets_at: Some(at),
            ..
        }) => assert_eq!(*at, UNIX_EPOCH + Duration::from_secs(resets_at)),
        other => panic!("expected UsageLimit with a reset time, got {other:?}"),
    }
}

#[tokio::test]
async fn a_crash_is_classified() {
    let sb = Sandbox::new();
    let run = sb.run(Script::always(vec![Step::Crash])).await;
    assert!(
        matches!(run.failure, Some(FailureClass::Crashed { .. })),
        "{:?}",
        run.failure
    );
    assert_eq!(run.final_text, None);
}

#[tokio::test]
async fn a_missing_binary_is_not_installed() {
    let sb = Sandbox::new();
    let empty_bin = sb.path().join("empty-bin");
    std::fs::create_dir_all(&empty_bin).unwrap();
    let inv = sb.invocation(&Script::default(), empty_bin.into_os_string());
    let run = sb.run_invocation(&inv).await;
    match &run.failure {
        Some(FailureClass::NotInstalled { program, .. }) => assert_eq!(program, "claude"),
        other => panic!("expected NotInstalled, got {other:?}"),
    }
}

#[tokio::test]
async fn exit_zero_without_a_result_is_empty_output() {
    let sb = Sandbox::new();
    let run = sb
        .run(Script::always(vec![
            Step::Text("thinking".into()),
            Step::NoResult,
        ]))
        .await;
    assert_eq!(run.failure, Some(FailureClass::EmptyOutput), "{run:#?}");
    assert!(!run.succeeded());
}

#[tokio::test]
async fn timeouts_are_classified_with_the_configured_limit() {
    let sb = Sandbox::new();
    let bin = fake_agent::install_as_claude(&sb.path().join("bin"));
    let inv = sb.invocation(
        &Script::always(vec![Step::Hang]),
        fake_agent::path_with(&bin),
    );
    let idle = AgentLimits {
        timeout: Some(HANG_LIMIT),
        idle_timeout: Some(Duration::from_secs(1)),
        grace: Duration::from_secs(5),
    };
    let run = sb.run_limited(&inv, idle, CancelHandle::new()).await;
    assert_eq!(
        run.failure,
        Some(FailureClass::IdleTimeout { after_secs: 1 }),
        "{run:#?}"
    );

    let wall = AgentLimits {
        timeout: Some(Duration::from_secs(1)),
        idle_timeout: None,
        grace: Duration::from_secs(5),
    };
    let run = sb.run_limited(&inv, wall, CancelHandle::new()).await;
    assert_eq!(
        run.failure,
        Some(FailureClass::WallTimeout { after_secs: 1 }),
        "{run:#?}"
    );
    assert!(FailureClass::WallTimeout { after_secs: 1 }.counts_as_attempt());
}

#[tokio::test]
async fn a_cancelled_agent_is_not_a_counted_attempt() {
    let sb = Sandbox::new();
    let bin = fake_agent::install_as_claude(&sb.path().join("bin"));
    let inv = sb.invocation(
        &Script::always(vec![Step::Hang]),
        fake_agent::path_with(&bin),
    );
    let cancel = CancelHandle::new();
    let limits = AgentLimits {
        timeout: Some(HANG_LIMIT),
        idle_timeout: Some(HANG_LIMIT),
        grace: Duration::from_secs(5),
    };
    let stopper = cancel.clone();
    // Cancel once the agent has started (its start record is written before any step runs).
    let record = sb.record();
    tokio::spawn(async move {
        while !record.exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stopper.cancel();
    });
    let run = sb.run_limited(&inv, limits, cancel).await;
    assert_eq!(run.failure, Some(FailureClass::Cancelled), "{run:#?}");
    assert!(!FailureClass::Cancelled.counts_as_attempt());
}

/// Claude's `system/api_retry` line for a refused key, as 2.1.330 prints it.
fn refused_key_retry(attempt: u32) -> Step {
    Step::Stdout(format!(
        r#"{{"type":"system","subtype":"api_retry","attempt":{attempt},"max_retries":10,"retry_delay_ms":575,"error_status":401,"error":"authentication_failed","session_id":"s"}}"#
    ))
}

#[tokio::test]
async fn an_agent_retrying_a_refused_key_is_stopped_and_not_logged_in() {
    let sb = Sandbox::new();
    // Three refusals, then the CLI would go on retrying for minutes: here it hangs.
    let script = Script::always(vec![
        refused_key_retry(1),
        refused_key_retry(2),
        refused_key_retry(3),
        Step::Hang,
    ]);
    let run = sb.run(script).await;
    match &run.failure {
        Some(FailureClass::NotLoggedIn { evidence }) => {
            assert!(evidence.contains("status 401"), "{evidence}")
        }
        other => panic!("expected NotLoggedIn, got {other:?}\n{run:#?}"),
    }
    // Stopped by the give-up rule, not by a timeout (the limits are minutes) or a cancel.
    assert_eq!(run.outcome.timeout, None);
    assert!(!run.outcome.cancelled);
    assert!(run.outcome.signal.is_some(), "{:#?}", run.outcome);
}

#[tokio::test]
async fn other_retries_and_a_single_refusal_do_not_stop_the_agent() {
    let sb = Sandbox::new();
    // A refusal (an expired session token the CLI refreshes) among overload retries, then success.
    let overloaded = Step::Stdout(
        r#"{"type":"system","subtype":"api_retry","attempt":2,"max_retries":10,"retry_delay_ms":900,"error_status":529,"error":"overloaded_error","session_id":"s"}"#
            .to_owned(),
    );
    let script = Script::always(vec![
        refused_key_retry(1),
        overloaded.clone(),
        refused_key_retry(3),
        overloaded,
        Step::Final("done: fine; evidence: none; risk: low; next: none".into()),
    ]);
    let run = sb.run(script).await;
    assert_eq!(run.failure, None, "{run:#?}");
}
