//! The interactive forms of `teams init` and `teams discuss`, driven through a real
//! pseudo-terminal (rexpect): dialoguer's questions are answered with keys, the agent (the fake,
//! in its interactive mode) gets the terminal, asks the user a question and uses the answer, and
//! `teams` takes the terminal back and checks the result. The init test goes on into the
//! interactive `teams plan` that init offers at its end.
//!
//! Waits are bounded by rexpect's timeout (a test that hangs fails); nothing measures time.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use common::TestEnv;
use rexpect::session::{PtySession, spawn_command};
use serde_json::{Value, json};
use teams_fake_agent::{Match, Script, Step, read_invocations};

/// The longest rexpect waits for an expected text before the test fails.
const WAIT_MS: u64 = 60_000;

fn spawn(env: &TestEnv, args: &[&str]) -> PtySession {
    let mut command = env.command(env!("CARGO_BIN_EXE_teams"));
    command
        .args(args)
        .env("PATH", fake_agent::path_with(&env.root().join("bin")))
        .env("TEAMS_FAKE_SCRIPT", env.root().join("script.json"))
        .env("TEAMS_FAKE_RECORD", env.root().join("record.jsonl"))
        // dialoguer draws its lists with cursor movement, which a `dumb` terminal lacks.
        .env("TERM", "xterm");
    spawn_command(command, Some(WAIT_MS)).expect("spawn teams on a pseudo-terminal")
}

/// Types `text` on the terminal (rexpect buffers what is sent until a flush).
fn keys(p: &mut PtySession, text: &str) {
    p.send(text).unwrap();
    p.flush().unwrap();
}

fn prd_with(project: &str) -> Value {
    json!({
        "project": project,
        "branchName": "main",
        "epics": [{
            "id": "EPIC-001", "title": "Shop", "status": "pending", "planned": false,
            "dependsOn": [],
            "userStories": [{
                "id": "US-001", "title": "List items", "description": "As a buyer I see items.",
                "acceptanceCriteria": ["GET /items returns 200"],
                "priority": 1, "passes": false, "failureReason": null
            }]
        }]
    })
}

#[test]
fn init_asks_hands_the_terminal_to_the_agent_validates_what_it_wrote_and_plans() {
    let env = TestEnv::new();
    env.git_init();
    fake_agent::install_as_claude(&env.root().join("bin"));
    let prd = serde_json::to_string_pretty(&prd_with("{{answer}}")).unwrap();
    Script::default()
        .rule(
            Match::role("init"),
            vec![
                Step::Ask("AGENT: what is the project called?".into()),
                Step::Write {
                    path: "prd.json".into(),
                    content: Some(prd + "\n"),
                },
                Step::Final("prd.json is written; end the session.".into()),
            ],
        )
        .rule(
            Match::role("planner"),
            vec![
                Step::Ask("AGENT: which storage?".into()),
                Step::Write {
                    path: ".teams/plans/plan-EPIC-001.md".into(),
                    content: Some("## US-001: List items\n\nStore items in {{answer}}.\n".into()),
                },
            ],
        )
        .write_to(&env.root().join("script.json"))
        .unwrap();

    let mut p = spawn(&env, &["init"]);
    p.exp_string("Which agent should write the PRD with you?")
        .unwrap();
    p.exp_string("claude").unwrap();
    keys(&mut p, "\r");
    p.exp_string("Install the teams sub-agent definitions")
        .unwrap();
    keys(&mut p, "n");
    p.exp_string("What do you want to build?").unwrap();
    keys(&mut p, "a small shop\r");
    p.exp_string("handing the terminal to claude").unwrap();
    p.exp_string("AGENT: what is the project called?").unwrap();
    keys(&mut p, "Pty Shop\r");
    p.exp_string("prd.json is valid: 1 epic, 1 story").unwrap();
    p.exp_string("Plan the epics now?").unwrap();
    keys(&mut p, "y");
    p.exp_string("planning EPIC-001: Shop").unwrap();
    p.exp_string("AGENT: which storage?").unwrap();
    keys(&mut p, "sqlite\r");
    p.exp_string("planned EPIC-001: .teams/plans/plan-EPIC-001.md")
        .unwrap();
    p.exp_string("next: `teams run`").unwrap();
    p.exp_eof().unwrap();

    let written: Value = serde_json::from_slice(&env.read("prd.json")).unwrap();
    assert_eq!(written["project"], "Pty Shop");
    assert_eq!(written["epics"][0]["planned"], true);
    assert_eq!(
        env.read(".teams/plans/plan-EPIC-001.md"),
        b"## US-001: List items\n\nStore items in sqlite.\n"
    );
    let runs = read_invocations(&env.root().join("record.jsonl")).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].role, "planner");
    assert_eq!(runs[1].mode, "interactive");
    assert!(runs[1].prompt.contains("This is an interactive session"));
    assert_eq!(runs[0].mode, "interactive");
    assert_eq!(runs[0].role, "init");
    assert_eq!(runs[0].answers, ["Pty Shop"]);
    assert!(
        runs[0].prompt.contains("a small shop"),
        "{}",
        runs[0].prompt
    );
    assert!(runs[0].prompt.contains("The user is at the terminal"));
    assert!(!env.repo().join(".claude").exists());
}

#[test]
fn discuss_lists_the_failed_stories_and_the_agent_writes_guidance_with_the_user() {
    let env = TestEnv::new();
    env.git_init();
    fake_agent::install_as_claude(&env.root().join("bin"));
    let mut prd = prd_with("Shop");
    let stories = prd["epics"][0]["userStories"].as_array_mut().unwrap();
    let mut second = stories[0].clone();
    second["id"] = json!("US-002");
    second["title"] = json!("Pay");
    second["failureReason"] = json!("validator: the card is never charged");
    stories[0]["failureReason"] = json!("validator: the list is empty");
    stories.push(second);
    env.write(
        "prd.json",
        serde_json::to_string_pretty(&prd).unwrap() + "\n",
    );
    Script::default()
        .rule(
            Match::role("discuss"),
            vec![
                Step::Ask("AGENT: what should the next builder do?".into()),
                Step::Write {
                    path: ".teams/guidance/guidance-US-002.md".into(),
                    content: Some("# Guidance\n\n{{answer}}\n".into()),
                },
            ],
        )
        .write_to(&env.root().join("script.json"))
        .unwrap();

    let mut p = spawn(&env, &["discuss"]);
    p.exp_string("Which failed story do you want to discuss?")
        .unwrap();
    p.exp_string("US-002: Pay").unwrap();
    // Down to the second story, then Enter.
    keys(&mut p, "\x1b[B");
    keys(&mut p, "\r");
    p.exp_string("discussing US-002").unwrap();
    p.exp_string("AGENT: what should the next builder do?")
        .unwrap();
    keys(&mut p, "Charge the card with the test key\r");
    p.exp_string("US-002 is pending again").unwrap();
    p.exp_eof().unwrap();

    assert_eq!(
        env.read(".teams/guidance/guidance-US-002.md"),
        b"# Guidance\n\nCharge the card with the test key\n"
    );
    let after: Value = serde_json::from_slice(&env.read("prd.json")).unwrap();
    let stories = &after["epics"][0]["userStories"];
    assert!(stories[1]["failureReason"].is_null(), "{stories}");
    assert_eq!(stories[0]["failureReason"], "validator: the list is empty");
    let runs = read_invocations(&env.root().join("record.jsonl")).unwrap();
    assert_eq!(runs[0].mode, "interactive");
    assert_eq!(runs[0].story, "US-002");
    assert!(runs[0].prompt.contains("the card is never charged"));
}
