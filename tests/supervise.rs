//! The process layer against real processes: the fake agent, real pipes, real signals.
//!
//! Timing is never asserted. Timeouts in these tests are either the behaviour under test (an idle
//! timeout of 300 ms on an agent that hangs forever fires whatever the machine's speed) or generous
//! limits that only turn a hang into a failure.

#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/stream_json.rs"]
mod stream_json;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use stream_json::StreamJson;
use teams::agent::{AgentEvent, CommandSpec, ProcessOutcome, StdinInput, TimeoutKind, Usage};
use teams::supervisor::{CancelHandle, SuperviseOptions, supervise};
use teams_fake_agent::{FloodSpec, Invocation, ResultSpec, Script, Step, read_invocations};

/// A limit that only turns a hang into a failure; nothing here should come near it.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// A scratch directory with a script and a record file for the fake.
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

    fn transcript(&self) -> PathBuf {
        self.path().join("logs/run-1/unit/US-001.builder.1.log")
    }

    /// The command line the claude backend builds, running `steps`, with the prompt on stdin.
    fn spec(&self, steps: Vec<Step>) -> CommandSpec {
        let script = self.path().join("script.json");
        Script::always(steps)
            .write_to(&script)
            .expect("write the script");
        let env = [
            ("TEAMS_FAKE_SCRIPT", script.into_os_string()),
            ("TEAMS_FAKE_RECORD", self.record().into_os_string()),
            ("TEAMS_ROLE", "builder".into()),
            ("TEAMS_STORY_ID", "US-001".into()),
            ("TEAMS_ATTEMPT", "1".into()),
            // The fake refuses bypassPermissions as root without it, as claude does.
            ("IS_SANDBOX", "1".into()),
        ];
        CommandSpec {
            program: fake_agent::fake_agent_bin().into_os_string(),
            args: [
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--permission-mode",
                "bypassPermissions",
            ]
            .map(OsString::from)
            .to_vec(),
            env: env.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            cwd: self.path().to_path_buf(),
            stdin: StdinInput::Bytes(b"Build US-001.".to_vec()),
        }
    }

    fn invocations(&self) -> Vec<Invocation> {
        read_invocations(&self.record()).expect("read the fake's record")
    }

    fn only_invocation(&self) -> Invocation {
        let mut runs = self.invocations();
        assert_eq!(runs.len(), 1, "expected exactly one invocation: {runs:#?}");
        runs.remove(0)
    }
}

fn opts() -> SuperviseOptions {
    SuperviseOptions {
        grace: Duration::from_secs(5),
        ..SuperviseOptions::default()
    }
}

/// Supervises with a fresh cancel handle and collects the events.
async fn run(spec: CommandSpec, opts: SuperviseOptions) -> (ProcessOutcome, Vec<AgentEvent>) {
    run_with(spec, opts, CancelHandle::new(), |_, _| {}).await
}

/// Supervises, calling `react` with each event and the cancel handle (to cancel at a known point
/// instead of after a sleep).
async fn run_with(
    spec: CommandSpec,
    opts: SuperviseOptions,
    cancel: CancelHandle,
    mut react: impl FnMut(&AgentEvent, &CancelHandle),
) -> (ProcessOutcome, Vec<AgentEvent>) {
    let mut events = Vec::new();
    let handle = cancel.clone();
    let fut = supervise(spec, Box::new(StreamJson), opts, cancel, |e| {
        react(e, &handle);
        events.push(e.clone());
    });
    let outcome = tokio::time::timeout(HANG_LIMIT, fut)
        .await
        .expect("supervise did not return within the hang limit");
    (outcome, events)
}

/// Whether `pid` is gone: no such process, or a zombie waiting for init (dead, just not reaped by
/// an init that may never reap, as in some containers). Polls because SIGKILL is asynchronous.
async fn is_gone(pid: u32) -> bool {
    let pid_i = i32::try_from(pid).expect("pid fits i32");
    for _ in 0..500 {
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(false);
        if kill(Pid::from_raw(pid_i), None) == Err(Errno::ESRCH) || zombie {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

fn sigterm() -> Option<i32> {
    Some(Signal::SIGTERM as i32)
}

fn sigkill() -> Option<i32> {
    Some(Signal::SIGKILL as i32)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_exit_reports_the_final_result_with_cost_and_keeps_a_transcript() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::Text("Working on it.".into()),
        Step::ToolUse {
            name: "Bash".into(),
            input: serde_json::json!({"command": "cargo test"}),
        },
        Step::Final("done: greeting; evidence: cargo test; risk: none; next: none".into()),
        Step::Result(ResultSpec {
            cost_usd: Some(0.25),
            input_tokens: Some(1200),
            output_tokens: Some(80),
            ..ResultSpec::default()
        }),
    ]);
    let opts = SuperviseOptions {
        transcript_path: Some(sb.transcript()),
        ..opts()
    };
    let (outcome, events) = run(spec, opts).await;

    assert_eq!(outcome.spawn_error, None);
    assert_eq!((outcome.exit_code, outcome.signal), (Some(0), None));
    assert_eq!((outcome.timeout, outcome.cancelled), (None, false));
    let report = outcome.final_report.expect("a final report");
    assert_eq!(
        report.text,
        "done: greeting; evidence: cargo test; risk: none; next: none"
    );
    assert_eq!(report.cost_usd, Some(0.25));
    assert_eq!(
        report.usage,
        Some(Usage {
            input_tokens: 1200,
            output_tokens: 80
        })
    );
    assert!(!report.is_error);
    // The supervisor announces the process first (the run store records its pid), then the
    // parsed stream follows.
    assert_eq!(
        events.first(),
        Some(&AgentEvent::Spawned {
            pid: outcome.pid.unwrap()
        })
    );
    assert!(matches!(
        events.get(1),
        Some(AgentEvent::SessionStarted { .. })
    ));
    assert!(events.contains(&AgentEvent::Text("Working on it.".into())));
    assert!(events.contains(&AgentEvent::ToolUse {
        name: "Bash".into()
    }));
    assert!(matches!(events.last(), Some(AgentEvent::Final(_))));

    let transcript = std::fs::read(sb.transcript()).expect("the transcript was written");
    assert_eq!(transcript.len() as u64, outcome.output_bytes);
    let last_line = transcript
        .split(|&b| b == b'\n')
        .rev()
        .find(|l| !l.is_empty());
    let last: Value = serde_json::from_slice(last_line.expect("a line")).expect("json");
    assert_eq!(last["type"], "result");
    assert!(outcome.stdout_tail.contains("\"type\":\"result\""));
    assert_eq!(outcome.pid, Some(sb.only_invocation().pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prompt_is_delivered_on_stdin_even_when_larger_than_a_pipe() {
    let sb = Sandbox::new();
    let mut spec = sb.spec(vec![Step::Final("ok".into())]);
    // Larger than the 64 KiB pipe buffer: the write must run alongside the output draining.
    let prompt: String = (0..20_000)
        .map(|i| format!("line {i} of the prompt\n"))
        .collect();
    spec.stdin = StdinInput::Bytes(prompt.clone().into_bytes());
    let (outcome, _) = run(spec, opts()).await;

    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(sb.only_invocation().prompt, prompt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_environment_reaches_the_agent() {
    let sb = Sandbox::new();
    let mut spec = sb.spec(vec![Step::Final("ok".into())]);
    spec.env.push(("TEAMS_RUN_ID".into(), "run-42".into()));
    spec.env.push(("TEAMS_WORKTREE".into(), sb.path().into()));
    let (outcome, _) = run(spec, opts()).await;

    assert_eq!(outcome.exit_code, Some(0));
    let inv = sb.only_invocation();
    assert_eq!(
        (inv.role.as_str(), inv.story.as_str(), inv.attempt.as_str()),
        ("builder", "US-001", "1")
    );
    assert_eq!(
        inv.env.get("TEAMS_RUN_ID").map(String::as_str),
        Some("run-42")
    );
    assert_eq!(
        inv.env.get("TEAMS_WORKTREE").map(PathBuf::from),
        Some(sb.path().to_path_buf())
    );
    assert_eq!(
        PathBuf::from(&inv.cwd),
        sb.path().canonicalize().expect("canonical")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_found_through_the_spec_path_runs_as_claude() {
    let sb = Sandbox::new();
    let bin = fake_agent::install_as_claude(&sb.path().join("bin"));
    let mut spec = sb.spec(vec![Step::Final("via PATH".into())]);
    spec.program = "claude".into();
    spec.env.push(("PATH".into(), fake_agent::path_with(&bin)));
    let (outcome, _) = run(spec, opts()).await;

    assert_eq!(outcome.spawn_error, None);
    assert_eq!(
        outcome.final_report.map(|r| r.text),
        Some("via PATH".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_program_is_a_spawn_error() {
    let sb = Sandbox::new();
    let mut spec = sb.spec(vec![]);
    spec.program = sb.path().join("no-such-agent").into_os_string();
    let (outcome, events) = run(spec, opts()).await;

    let error = outcome.spawn_error.expect("a spawn error");
    assert!(error.contains("no-such-agent"), "{error}");
    assert_eq!((outcome.pid, outcome.exit_code), (None, None));
    assert!(events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_keeps_exit_code_and_stderr_evidence() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::Stderr("panic: something broke".into()),
        Step::Exit(3),
    ]);
    let (outcome, _) = run(spec, opts()).await;

    assert_eq!((outcome.exit_code, outcome.signal), (Some(3), None));
    assert!(outcome.final_report.is_none());
    assert!(outcome.stderr_tail.contains("panic: something broke"));
    assert_eq!(
        outcome.stream_errors,
        vec!["panic: something broke".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeout_stops_a_silent_agent() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![Step::Text("thinking".into()), Step::Hang]);
    let opts = SuperviseOptions {
        idle_timeout: Some(Duration::from_millis(300)),
        ..opts()
    };
    let (outcome, events) = run(spec, opts).await;

    assert_eq!(outcome.timeout, Some(TimeoutKind::Idle));
    assert_eq!((outcome.exit_code, outcome.signal), (None, sigterm()));
    assert!(!outcome.cancelled);
    assert!(events.contains(&AgentEvent::Text("thinking".into())));
    assert_eq!(
        sb.only_invocation().end_ms,
        None,
        "the agent was killed, not finished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_timeout_stops_an_agent_that_keeps_talking() {
    let sb = Sandbox::new();
    // Chatter every 20 ms for far longer than the wall limit: the idle timer never expires.
    let steps = (0..5_000)
        .flat_map(|i| [Step::Text(format!("step {i}")), Step::SleepMs(20)])
        .collect();
    let spec = sb.spec(steps);
    let opts = SuperviseOptions {
        timeout: Some(Duration::from_millis(500)),
        idle_timeout: Some(Duration::from_secs(30)),
        ..opts()
    };
    let (outcome, _) = run(spec, opts).await;

    assert_eq!(outcome.timeout, Some(TimeoutKind::Wall));
    assert_eq!(outcome.signal, sigterm());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_ignoring_sigterm_is_killed_after_the_grace_period() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::IgnoreSigterm,
        Step::Text("stubborn".into()),
        Step::Hang,
    ]);
    let opts = SuperviseOptions {
        idle_timeout: Some(Duration::from_millis(200)),
        grace: Duration::from_millis(300),
        ..opts()
    };
    let (outcome, _) = run(spec, opts).await;

    assert_eq!(outcome.timeout, Some(TimeoutKind::Idle));
    assert_eq!(
        outcome.signal,
        sigkill(),
        "SIGTERM was ignored, so SIGKILL ended it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grandchildren_holding_the_pipes_are_killed_when_the_agent_exits() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::SpawnGrandchild,
        Step::Final("left a child".into()),
    ]);
    // A drain limit far beyond the test's own: only the group kill can end the pipes in time.
    let opts = SuperviseOptions {
        drain_timeout: Duration::from_secs(3600),
        ..opts()
    };
    let (outcome, _) = run(spec, opts).await;

    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(
        outcome.final_report.map(|r| r.text),
        Some("left a child".to_owned())
    );
    let grandchildren = sb.only_invocation().grandchild_pids;
    assert_eq!(grandchildren.len(), 1);
    assert!(
        is_gone(grandchildren[0]).await,
        "grandchild {} survived",
        grandchildren[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_agent_takes_its_grandchildren_with_it() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::SpawnGrandchild,
        Step::Text("spawned".into()),
        Step::Hang,
    ]);
    let (outcome, _) = run_with(spec, opts(), CancelHandle::new(), |e, cancel| {
        if matches!(e, AgentEvent::Text(_)) {
            cancel.cancel();
        }
    })
    .await;

    assert!(outcome.cancelled);
    let grandchildren = sb.only_invocation().grandchild_pids;
    assert_eq!(grandchildren.len(), 1);
    assert!(
        is_gone(grandchildren[0]).await,
        "grandchild {} survived",
        grandchildren[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_left_the_group_cannot_hold_supervise_forever() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::SpawnDetachedGrandchild,
        Step::Final("escaped".into()),
    ]);
    let opts = SuperviseOptions {
        drain_timeout: Duration::from_millis(200),
        ..opts()
    };
    let (outcome, _) = run(spec, opts).await;
    let grandchildren = sb.only_invocation().grandchild_pids;
    // Out of our group, so ours to clean up here.
    for &pid in &grandchildren {
        let _ = kill(
            Pid::from_raw(i32::try_from(pid).expect("pid")),
            Signal::SIGKILL,
        );
    }

    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(
        outcome.final_report.map(|r| r.text),
        Some("escaped".to_owned())
    );
    assert_eq!(grandchildren.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_agent_and_marks_it_cancelled() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![Step::Text("started".into()), Step::Hang]);
    let (outcome, _) = run_with(spec, opts(), CancelHandle::new(), |e, cancel| {
        if matches!(e, AgentEvent::Text(_)) {
            cancel.cancel();
        }
    })
    .await;

    assert!(outcome.cancelled);
    assert_eq!(outcome.timeout, None);
    assert_eq!(outcome.signal, sigterm());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cancel_kills_without_waiting_for_the_grace_period() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::IgnoreSigterm,
        Step::Text("started".into()),
        Step::Hang,
    ]);
    // A grace period far beyond the hang limit: only the escalation can end this test in time.
    let opts = SuperviseOptions {
        grace: Duration::from_secs(3600),
        ..opts()
    };
    let (outcome, _) = run_with(spec, opts, CancelHandle::new(), |e, cancel| {
        if matches!(e, AgentEvent::Text(_)) {
            cancel.cancel();
            cancel.cancel();
        }
    })
    .await;

    assert!(outcome.cancelled);
    assert_eq!(outcome.signal, sigkill());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_forwards_sigint_to_the_group() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![Step::Text("started".into()), Step::Hang]);
    let (outcome, _) = run_with(spec, opts(), CancelHandle::new(), |e, cancel| {
        if matches!(e, AgentEvent::Text(_)) {
            cancel.interrupt();
        }
    })
    .await;

    assert!(outcome.cancelled);
    assert_eq!(outcome.signal, Some(Signal::SIGINT as i32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_already_cancelled_handle_starts_nothing() {
    let sb = Sandbox::new();
    let cancel = CancelHandle::new();
    cancel.cancel();
    let (outcome, _) = run_with(sb.spec(vec![]), opts(), cancel, |_, _| {}).await;

    assert!(outcome.cancelled);
    assert_eq!(outcome.pid, None);
    assert!(sb.invocations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervise_runs_as_a_spawned_task() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![Step::Final("from a task".into())]);
    let task = tokio::spawn(supervise(
        spec,
        Box::new(StreamJson),
        opts(),
        CancelHandle::new(),
        |_| {},
    ));
    let outcome = tokio::time::timeout(HANG_LIMIT, task)
        .await
        .expect("within the hang limit")
        .expect("the task did not panic");
    assert_eq!(
        outcome.final_report.map(|r| r.text),
        Some("from a task".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_flood_streams_to_the_transcript_with_bounded_evidence() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::Flood(FloodSpec {
            mb: 100,
            stream: None,
            line_bytes: None,
        }),
        Step::Final("flooded".into()),
    ]);
    let opts = SuperviseOptions {
        transcript_path: Some(sb.transcript()),
        tail_bytes: 4096,
        ..opts()
    };
    let (outcome, _) = run(spec, opts).await;

    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(
        outcome.final_report.map(|r| r.text),
        Some("flooded".to_owned())
    );
    let size = std::fs::metadata(sb.transcript())
        .expect("transcript")
        .len();
    assert!(size > 100 * 1024 * 1024, "transcript has {size} bytes");
    assert_eq!(size, outcome.output_bytes);
    assert!(outcome.stdout_tail.len() <= 4096);
    assert!(outcome.stdout_tail.contains("\"type\":\"result\""));
    assert_eq!(outcome.truncated_lines, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_giant_line_is_capped_for_the_parser_but_whole_in_the_transcript() {
    let sb = Sandbox::new();
    let spec = sb.spec(vec![
        Step::Flood(FloodSpec {
            mb: 8,
            stream: Some("stderr".into()),
            line_bytes: Some(1 << 40),
        }),
        Step::Final("after the giant".into()),
    ]);
    let opts = SuperviseOptions {
        transcript_path: Some(sb.transcript()),
        max_line_bytes: 64 * 1024,
        tail_bytes: 1024,
        ..opts()
    };
    let (outcome, _) = run(spec, opts).await;

    assert_eq!(outcome.truncated_lines, 1);
    assert_eq!(outcome.stream_errors.len(), 1);
    assert_eq!(
        outcome.stream_errors[0].len(),
        64 * 1024,
        "the parser saw the capped line"
    );
    assert!(outcome.stderr_tail.len() <= 1024);
    assert_eq!(
        outcome.final_report.map(|r| r.text),
        Some("after the giant".to_owned())
    );
    let size = std::fs::metadata(sb.transcript())
        .expect("transcript")
        .len();
    assert!(size > 8 * 1024 * 1024);
    assert_eq!(size, outcome.output_bytes);
}
