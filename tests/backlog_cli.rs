//! `teams backlog …`, `teams sprint …` and `teams validate` on a real repository: item edits,
//! malformed `backlog.json` messages, and the sprint lifecycle without a run.

mod common;
#[path = "common/fake_discord.rs"]
mod fake_discord;

use common::TestEnv;
use serde_json::{Value, json};

fn project() -> TestEnv {
    let env = TestEnv::new();
    env.git_init();
    env.write(
        "prd.json",
        serde_json::to_string_pretty(&json!({
            "project": "Proj",
            "epics": [{"id": "EPIC-1", "title": "First",
                       "userStories": [{"id": "US-1", "title": "One", "acceptanceCriteria": ["ok"]}]}]
        }))
        .unwrap(),
    );
    env
}

fn run(env: &TestEnv, args: &[&str]) -> (i32, String, String) {
    let out = env.teams().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(env, args);
    assert_eq!(
        code, 0,
        "teams {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

fn backlog(env: &TestEnv) -> Value {
    serde_json::from_slice(&env.read("backlog.json")).unwrap()
}

fn add(env: &TestEnv, title: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "backlog",
        "add",
        "--title",
        title,
        "--acceptance",
        "it works",
    ];
    args.extend_from_slice(extra);
    ok(env, &args).trim().to_owned()
}

#[test]
fn items_are_added_listed_shown_edited_and_dropped() {
    let env = project();
    assert_eq!(
        add(&env, "Fix the crash", &["--kind", "bug", "--rank", "1"]),
        "B-001"
    );
    assert_eq!(
        add(
            &env,
            "Tidy",
            &[
                "--depends-on",
                "B-001",
                "--depends-on",
                "EPIC-1",
                "--summary",
                "small"
            ]
        ),
        "B-002"
    );
    let list = ok(&env, &["backlog", "list"]);
    assert!(
        list.contains("B-001  pending       bug          rank 1    Fix the crash"),
        "{list}"
    );
    let json: Value =
        serde_json::from_str(&ok(&env, &["--json", "backlog", "list", "--kind", "bug"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["acceptanceCriteria"], json!(["it works"]));
    let shown = ok(&env, &["backlog", "show", "B-002"]);
    assert!(shown.contains("depends on: B-001, EPIC-1"), "{shown}");
    ok(
        &env,
        &[
            "backlog",
            "edit",
            "B-002",
            "--acceptance",
            "one",
            "--acceptance",
            "two",
            "--rank",
            "3",
        ],
    );
    let item = &backlog(&env)["items"][1];
    assert_eq!(item["acceptanceCriteria"], json!(["one", "two"]));
    assert_eq!(item["rank"], json!(3));
    ok(&env, &["backlog", "drop", "B-001"]);
    assert_eq!(backlog(&env)["items"][0]["status"], "dropped");
    assert!(!ok(&env, &["backlog", "list"]).contains("B-001"));
    assert!(ok(&env, &["backlog", "list", "--status", "dropped"]).contains("B-001"));
    // Refused edits name the problem and change nothing.
    let before = env.read("backlog.json");
    let (code, _, stderr) = run(
        &env,
        &[
            "backlog",
            "add",
            "--title",
            "X",
            "--acceptance",
            "a",
            "--depends-on",
            "B-09",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown item or epic `B-09`"), "{stderr}");
    let (code, _, stderr) = run(&env, &["backlog", "edit", "B-001", "--depends-on", "B-002"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("dependency cycle: B-001 → B-002 → B-001"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&env, &["backlog", "show", "B-404"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the backlog has no item `B-404`"),
        "{stderr}"
    );
    assert_eq!(env.read("backlog.json"), before);
    // `--acceptance` is required.
    let (code, _, _) = run(&env, &["backlog", "add", "--title", "No criteria"]);
    assert_eq!(code, 2);
}

#[test]
fn a_malformed_backlog_is_reported_with_line_and_column() {
    let env = project();
    env.write(
        "backlog.json",
        "{\n  \"items\": [\n    {\"id\": \"B-001\" \"title\": \"x\"}\n  ]\n}\n",
    );
    let (code, _, stderr) = run(&env, &["backlog", "list"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("backlog.json:3:20: invalid JSON"),
        "{stderr}"
    );
    env.write(
        "backlog.json",
        r#"{"items": [
  {"id": "B-001", "title": "A", "acceptanceCriteria": []},
  {"id": "B-001", "title": "B", "acceptanceCriteria": ["ok"], "dependsOn": ["EPIC-9"]}
]}"#,
    );
    let (code, stdout, stderr) = run(&env, &["validate"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("backlog.json is invalid: 3 problems"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "backlog.json:2:55: items[0].acceptanceCriteria: the item has no acceptance criteria"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("backlog.json:3:10: items[1].id: duplicate ID `B-001`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown item or epic `EPIC-9`; did you mean `EPIC-1`?"),
        "{stderr}"
    );
    // A sprint cannot start on it either.
    let (code, _, stderr) = run(&env, &["sprint", "start", "--milestone", "M"]);
    assert_eq!(code, 3, "{stderr}");
    env.write(
        "backlog.json",
        r#"{"items": [{"id": "B-001", "title": "A", "acceptanceCriteria": ["ok"], "dependsOn": ["EPIC-1"]}]}"#,
    );
    let out = ok(&env, &["validate"]);
    assert!(out.contains("backlog.json is valid: 1 item"), "{out}");
}

#[test]
fn a_sprint_starts_refuses_a_second_and_closes_when_stopped() {
    let env = project();
    let (code, _, stderr) = run(&env, &["sprint", "start", "--milestone", "M"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("there are no pending items to select as todos"),
        "{stderr}"
    );
    add(&env, "A", &[]);
    add(&env, "B", &["--depends-on", "B-001"]);
    add(&env, "C", &[]);
    let (code, _, stderr) = run(
        &env,
        &["sprint", "start", "--milestone", "M", "--item", "B-002"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "item B-002 depends on B-001, which is pending and not selected in this sprint"
        ),
        "{stderr}"
    );
    let out = ok(
        &env,
        &[
            "sprint",
            "start",
            "--milestone",
            "Faster builds",
            "--brief",
            "cut the build time",
            "--requirement",
            "no new dependencies",
            "--item",
            "B-001",
            "--item",
            "B-002",
        ],
    );
    assert!(out.contains(": 2 todos (B-001, B-002)"), "{out}");
    let b = backlog(&env);
    let sprint = b["sprints"][0].clone();
    let id = sprint["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("S-") && id.ends_with("-1"), "{id}");
    assert_eq!(sprint["status"], "active");
    assert_eq!(b["items"][0]["status"], "selected");
    assert_eq!(b["items"][2]["status"], "pending");
    let current = String::from_utf8(env.read(".teams/current_sprint.md")).unwrap();
    assert!(current.contains(&format!("- sprint: {id}")), "{current}");
    assert!(current.contains("- milestone: Faster builds"), "{current}");
    assert!(current.contains("- no new dependencies"), "{current}");
    // One open sprint at a time.
    let (code, _, stderr) = run(&env, &["sprint", "start", "--milestone", "M2"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!(
            "sprint {id} is active; only one sprint may be open"
        )),
        "{stderr}"
    );
    // A todo of the open sprint cannot be dropped.
    let (code, _, stderr) = run(&env, &["backlog", "drop", "B-001"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is a todo of the open sprint"), "{stderr}");
    let overall = ok(&env, &["status"]);
    assert!(
        overall.contains(&format!("sprint {id} (active): Faster builds")),
        "{overall}"
    );
    assert!(overall.contains("B-002  B"), "{overall}");
    let overall: Value = serde_json::from_str(&ok(&env, &["--json", "status"])).unwrap();
    assert_eq!(overall["sprint"]["todos"][0]["state"], "to-do");
    let status: Value = serde_json::from_str(&ok(&env, &["--json", "sprint", "status"])).unwrap();
    assert_eq!(status["sprint"]["milestone"], "Faster builds");
    assert_eq!(status["todos"].as_array().unwrap().len(), 2);
    let (code, _, stderr) = run(&env, &["sprint", "restart"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("only a stopped sprint can be restarted"),
        "{stderr}"
    );
    // No run works: stop closes it at once, the todos go back to pending.
    let out = ok(&env, &["sprint", "stop"]);
    assert!(
        out.contains("stopped and closed: done 0/2, not finished 2"),
        "{out}"
    );
    let b = backlog(&env);
    assert_eq!(b["sprints"][0]["status"], "closed");
    assert_eq!(b["items"][0]["status"], "pending");
    let history = String::from_utf8(env.read(&format!(".teams/sprint_history/{id}.md"))).unwrap();
    assert!(
        history.contains("| B-001 | A | not finished | 0 | — | $0.00 |"),
        "{history}"
    );
    let current = String::from_utf8(env.read(".teams/current_sprint.md")).unwrap();
    assert!(current.contains("no active sprint"), "{current}");
    // The next sprint of the day gets the next number.
    let out = ok(&env, &["sprint", "start", "--milestone", "Again"]);
    assert!(out.contains("-2: 3 todos"), "{out}");
}

#[test]
fn a_sprint_is_not_started_while_a_run_works() {
    let env = project();
    add(&env, "A", &[]);
    // The lock of a live teams: this test process stands in for it.
    env.write(".teams/lock", format!("{}\n", std::process::id()));
    let (code, _, stderr) = run(&env, &["sprint", "start", "--milestone", "M"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot start a sprint while another teams"),
        "{stderr}"
    );
    assert!(
        backlog(&env)["sprints"]
            .as_array()
            .is_none_or(|s| s.is_empty())
    );
}

#[test]
fn sprint_start_and_a_stop_that_closes_post_to_discord() {
    let env = project();
    add(&env, "A", &[]);
    let server = fake_discord::FakeDiscord::ok();
    let webhook = format!(
        "https://discord.com/api/webhooks/123456789012345678/{}",
        "T".repeat(60)
    );
    let with_discord = |args: &[&str]| {
        let out = env
            .teams()
            .args(args)
            .env("TEAMS_DISCORD_WEBHOOK", &webhook)
            .env("TEAMS_DISCORD_API_BASE", server.base())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    with_discord(&["sprint", "start", "--milestone", "Ship the fix"]);
    with_discord(&["sprint", "stop"]);
    let contents: Vec<String> = server
        .delivered()
        .iter()
        .map(|r| r.body["content"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
    assert!(
        contents[0].contains("started: 1 todo") && contents[0].contains("Ship the fix"),
        "{contents:?}"
    );
    assert!(
        contents[1].contains("closed: done 0/1, not finished 1"),
        "{contents:?}"
    );
    assert!(
        contents[1].contains("- B-001 A: not finished"),
        "{contents:?}"
    );
}
