//! The fake's own contract: the command line it accepts and refuses like `claude`, the output it
//! prints, and its script and record formats. (Having an integration test here also makes a plain
//! `cargo test` build the binary that `teams`' tests run.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use teams_fake_agent::{
    Invocation, Match, NO_RULE_EXIT, ResultSpec, Script, Step, UsageLimitSpec, read_invocations,
};

const CLAUDE_ARGS: &[&str] = &[
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "bypassPermissions",
];

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new(script: Option<&Script>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(script) = script {
            script
                .write_to(&dir.path().join("script.json"))
                .expect("write script");
        }
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn record(&self) -> PathBuf {
        self.path().join("record.jsonl")
    }

    /// Runs the fake with `args`, `stdin` and extra env, as role builder unless overridden.
    fn run(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_teams-fake-agent"));
        cmd.args(args)
            .current_dir(self.path())
            .env("TEAMS_FAKE_RECORD", self.record())
            .env("TEAMS_ROLE", "builder")
            .env("IS_SANDBOX", "1")
            .env_remove("TEAMS_FAKE_SCRIPT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let script = self.path().join("script.json");
        if script.exists() {
            cmd.env("TEAMS_FAKE_SCRIPT", script);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the fake");
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(stdin.as_bytes()).expect("write stdin");
        drop(pipe);
        child.wait_with_output().expect("wait for the fake")
    }

    fn invocations(&self) -> Vec<Invocation> {
        read_invocations(&self.record()).expect("read record")
    }
}

fn stdout_events(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not json ({e}): {l}")))
        .collect()
}

fn result_event(out: &Output) -> Value {
    let events = stdout_events(out);
    let last = events.last().expect("some output").clone();
    assert_eq!(last["type"], "result", "the last event is the result");
    last
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn version_and_auth_status_answer_like_claude() {
    let fake = Fake::new(None);
    let out = fake.run(&["--version"], "", &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2.1.330 (Claude Code)\n"
    );

    let out = fake.run(&["auth", "status"], "", &[]);
    assert!(out.status.success());
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["loggedIn"], true);

    let fake = Fake::new(Some(&Script {
        logged_in: false,
        ..Script::default()
    }));
    let out = fake.run(&["auth", "status"], "", &[]);
    assert_eq!(out.status.code(), Some(1));
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["loggedIn"], false);
}

#[test]
fn without_a_script_it_succeeds_at_once_and_records_the_prompt() {
    let fake = Fake::new(None);
    let out = fake.run(CLAUDE_ARGS, "the prompt\n", &[("TEAMS_STORY_ID", "US-7")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = stdout_events(&out);
    assert_eq!(events[0]["type"], "system");
    assert_eq!(events[0]["subtype"], "init");
    let result = result_event(&out);
    assert_eq!(result["result"], "ok");
    assert_eq!(result["is_error"], false);
    assert_eq!(result["session_id"], events[0]["session_id"]);

    let runs = fake.invocations();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].prompt, "the prompt\n");
    assert_eq!(runs[0].story, "US-7");
    assert_eq!(runs[0].rule, "builtin");
    assert_eq!(runs[0].exit_code, Some(0));
    assert!(runs[0].end_ms.is_some());
}

#[test]
fn it_refuses_the_command_lines_claude_refuses() {
    let fake = Fake::new(None);
    let cases: &[(&[&str], &str)] = &[
        (
            &["-p", "--output-format", "stream-json"],
            "requires --verbose",
        ),
        (&["-p", "--frobnicate"], "unknown option '--frobnicate'"),
        (&["-p", "--permission-mode", "yolo"], "Allowed choices"),
        (&["-p"], "Input must be provided"),
    ];
    for (args, expected) in cases {
        let stdin = if args.len() == 1 { "" } else { "prompt" };
        let out = fake.run(args, stdin, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn bypass_as_root_needs_is_sandbox_like_claude() {
    let fake = Fake::new(None);
    let root = Command::new("id").arg("-u").output().expect("id").stdout == b"0\n";
    let out = fake.run(CLAUDE_ARGS, "prompt", &[("IS_SANDBOX", "")]);
    if root {
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("cannot be used with root/sudo privileges"));
    } else {
        assert!(out.status.success());
    }
}

#[test]
fn rules_match_on_role_story_attempt_and_call() {
    let script = Script::default()
        .rule(
            Match::role("builder").story("US-1").attempt(2),
            vec![Step::Final("second attempt".into())],
        )
        .rule(
            Match::role("validator").call(1),
            vec![Step::Final("no verdict".into())],
        )
        .rule(
            Match::role("validator").call(2),
            vec![Step::Final("re-asked".into())],
        );
    let fake = Fake::new(Some(&script));
    let run = |role: &str, attempt: &str| {
        let env = [
            ("TEAMS_ROLE", role),
            ("TEAMS_STORY_ID", "US-1"),
            ("TEAMS_ATTEMPT", attempt),
        ];
        fake.run(CLAUDE_ARGS, "prompt", &env)
    };
    assert_eq!(
        result_event(&run("builder", "2"))["result"],
        "second attempt"
    );
    assert_eq!(result_event(&run("validator", "1"))["result"], "no verdict");
    assert_eq!(result_event(&run("validator", "1"))["result"], "re-asked");

    let unmatched = run("builder", "1");
    assert_eq!(unmatched.status.code(), Some(NO_RULE_EXIT));
    assert!(stderr(&unmatched).contains("no rule matched"));
    let rules: Vec<String> = fake.invocations().into_iter().map(|r| r.rule).collect();
    assert_eq!(rules, ["0", "1", "2", "none"]);
}

#[test]
fn commit_steps_make_real_commits_and_write_steps_leave_the_tree_dirty() {
    let fake = Fake::new(Some(&Script::always(vec![
        Step::Commit {
            path: "src/a.txt".into(),
            content: Some("a\n".into()),
            message: Some("US-1: add a".into()),
        },
        Step::Write {
            path: "left-over.txt".into(),
            content: None,
        },
        Step::TouchProtected { path: None },
    ])));
    git(fake.path(), &["init", "-q"]);
    std::fs::write(fake.path().join("prd.json"), "{}").expect("prd");
    std::fs::write(
        fake.path().join(".gitignore"),
        "script.json\nrecord.jsonl\n",
    )
    .expect("ignore");
    git(fake.path(), &["add", "."]);
    git(
        fake.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ],
    );

    let out = fake.run(CLAUDE_ARGS, "prompt", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = git(fake.path(), &["log", "--format=%s", "--name-only"]);
    assert!(log.contains("US-1: add a\n\nsrc/a.txt"), "{log}");
    assert!(log.contains("fake: touch prd.json\n\nprd.json"), "{log}");
    assert_eq!(
        git(fake.path(), &["status", "--porcelain"]),
        "?? left-over.txt\n"
    );
    let tools: Vec<Value> = stdout_events(&out)
        .iter()
        .filter(|e| e["type"] == "assistant")
        .map(|e| e["message"]["content"][0]["name"].clone())
        .collect();
    assert!(tools.contains(&Value::from("Bash")) && tools.contains(&Value::from("Write")));
}

#[test]
fn without_bypass_a_commit_is_silently_denied_as_claude_does() {
    let fake = Fake::new(Some(&Script::always(vec![Step::Commit {
        path: "a.txt".into(),
        content: None,
        message: None,
    }])));
    let args = ["-p", "--output-format", "stream-json", "--verbose"];
    let out = fake.run(&args, "prompt", &[]);
    assert!(out.status.success());
    let result = result_event(&out);
    assert_eq!(result["is_error"], false);
    assert_eq!(result["permission_denials"][0]["tool_name"], "Write");
    assert!(!fake.path().join("a.txt").exists());
}

#[test]
fn not_logged_in_fails_exactly_like_claude() {
    let fake = Fake::new(Some(&Script::always(vec![Step::NotLoggedIn])));
    let out = fake.run(CLAUDE_ARGS, "prompt", &[]);
    assert_eq!(out.status.code(), Some(1));
    let events = stdout_events(&out);
    let assistant = events
        .iter()
        .find(|e| e["type"] == "assistant")
        .expect("assistant");
    assert_eq!(assistant["error"], "authentication_failed");
    assert_eq!(assistant["message"]["model"], "<synthetic>");
    let result = result_event(&out);
    assert_eq!(result["is_error"], true);
    assert_eq!(result["terminal_reason"], "api_error");
    assert_eq!(result["result"], "Not logged in · Please run /login");

    let text = fake.run(&["-p"], "prompt", &[]);
    assert_eq!(text.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&text.stdout),
        "Not logged in · Please run /login\n"
    );
}

#[test]
fn usage_limit_and_results_can_be_scripted() {
    let fake = Fake::new(Some(&Script::always(vec![Step::UsageLimit(
        UsageLimitSpec {
            message: None,
            resets_at: Some(1_750_708_800),
        },
    )])));
    let out = fake.run(CLAUDE_ARGS, "prompt", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        result_event(&out)["result"],
        "Claude AI usage limit reached|1750708800"
    );

    let fake = Fake::new(Some(&Script::always(vec![
        Step::Verdict(
            serde_json::json!({"verdict": "fail", "criteria": [], "feedback": "add tests"}),
        ),
        Step::Result(ResultSpec {
            cost_usd: Some(1.5),
            output_tokens: Some(7),
            ..ResultSpec::default()
        }),
        Step::PermissionDenial("WebFetch".into()),
    ])));
    let result = result_event(&fake.run(CLAUDE_ARGS, "prompt", &[]));
    let text = result["result"].as_str().expect("text");
    let fenced = text
        .split("```json\n")
        .nth(1)
        .and_then(|t| t.split("\n```").next());
    let verdict: Value = serde_json::from_str(fenced.expect("a json fence")).expect("verdict json");
    assert_eq!(verdict["feedback"], "add tests");
    assert_eq!(result["total_cost_usd"], 1.5);
    assert_eq!(result["usage"]["output_tokens"], 7);
    assert_eq!(result["permission_denials"][0]["tool_name"], "WebFetch");
}

#[test]
fn garbage_exit_and_no_result_steps() {
    let fake = Fake::new(Some(&Script::always(vec![
        Step::Garbage(3),
        Step::Stderr("warning: x".into()),
        Step::Exit(42),
    ])));
    let out = fake.run(CLAUDE_ARGS, "prompt", &[]);
    assert_eq!(out.status.code(), Some(42));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).is_err())
            .count(),
        3
    );
    assert!(!stdout.contains("\"result\""));
    assert_eq!(stderr(&out), "warning: x\n");

    let fake = Fake::new(Some(&Script::always(vec![Step::NoResult])));
    let out = fake.run(CLAUDE_ARGS, "prompt", &[]);
    assert!(out.status.success());
    assert!(stdout_events(&out).iter().all(|e| e["type"] != "result"));
}

#[test]
fn scripts_round_trip_through_json() {
    let json = r#"{
      "rules": [{"match": {"role": "builder", "attempt": 1, "prompt_contains": "US-1"},
                 "steps": ["ignore_sigterm", {"sleep_ms": 5}, {"flood": {"mb": 1}},
                           "spawn_grandchild", "hang"], "exit_code": 3}],
      "default": {"steps": [{"exit": 2}]},
      "logged_in": true
    }"#;
    let script: Script = serde_json::from_str(json).expect("the documented format parses");
    assert_eq!(script.rules[0].steps[0], Step::IgnoreSigterm);
    assert_eq!(script.rules[0].exit_code, Some(3));
    let again: Script =
        serde_json::from_str(&serde_json::to_string(&script).expect("ser")).expect("de");
    assert_eq!(again.rules[0].steps, script.rules[0].steps);
    assert!(serde_json::from_str::<Script>(r#"{"rules": [{"steps": ["no_such_step"]}]}"#).is_err());
}

#[test]
fn an_interactive_session_asks_and_uses_the_answer() {
    let script = Script::always(vec![
        Step::Ask("Project name?".into()),
        Step::Write {
            path: "name.txt".into(),
            content: Some("name: {{answer}}\n".into()),
        },
        Step::Final("wrote {{answer}}".into()),
    ]);
    let fake = Fake::new(Some(&script));
    let out = fake.run(&["first prompt"], "Pty Shop\r\nignored\n", &[]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Project name?\n"), "{stdout}");
    assert!(stdout.contains("wrote Pty Shop"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(fake.path().join("name.txt")).unwrap(),
        "name: Pty Shop\n"
    );
    let runs = fake.invocations();
    assert_eq!(runs[0].mode, "interactive");
    assert_eq!(runs[0].prompt, "first prompt");
    assert_eq!(runs[0].answers, ["Pty Shop"]);
}
