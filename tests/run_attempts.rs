//! `teams run` end to end with the fake agent as `claude`, one scenario in depth: a failed then
//! passed attempt, the exact diff the validator reads, the unit branch put back after a validator
//! moved it, and an empty commit.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use common::TestEnv;
use teams_fake_agent::{Match, Script, Step, read_invocations};

const PRD: &str = r#"{
  "project": "App",
  "branchName": "main",
  "epics": [
    {
      "id": "EPIC-001",
      "title": "Core",
      "description": "The core.",
      "status": "pending",
      "planned": false,
      "dependsOn": [],
      "userStories": [
        {"id": "US-001", "title": "One", "description": "As a user I want one.",
         "acceptanceCriteria": ["one is v2"], "priority": 1, "passes": false, "failureReason": null},
        {"id": "US-002", "title": "Two", "description": "As a user I want two.",
         "acceptanceCriteria": ["nothing changes"], "priority": 2, "passes": false, "failureReason": null}
      ]
    }
  ]
}
"#;

const BRANCH: &str = "teams/app/unit/EPIC-001";

fn commit(path: &str, content: &str, message: &str) -> Step {
    Step::Commit {
        path: path.into(),
        content: Some(content.into()),
        message: Some(message.into()),
    }
}

fn verdict(pass: bool, feedback: &str) -> Step {
    Step::Verdict(serde_json::json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": [{"criterion": "the story", "met": pass, "evidence": "read the diff"}],
        "feedback": feedback,
    }))
}

fn handoff(what: &str) -> Step {
    Step::Final(format!(
        "done: {what}; evidence: none; risk: low; next: none"
    ))
}

#[test]
fn a_story_fails_once_then_passes_and_the_validator_cannot_move_the_branch() {
    let env = TestEnv::new();
    env.git_init();
    env.write("prd.json", PRD);
    env.write("teams.toml", "planner = \"never\"\nmax_attempts = 2\n");
    let git = |args: &[&str]| {
        let out = env.command("git").args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    git(&["add", "prd.json", "teams.toml"]);
    git(&["commit", "-q", "-m", "the PRD"]);

    let script = Script::default()
        .rule(
            Match::role("builder").story("US-001").attempt(1),
            vec![commit("src/one.txt", "v1\n", "US-001: v1"), handoff("v1")],
        )
        .rule(
            Match::role("validator").story("US-001").attempt(1),
            vec![verdict(false, "one must be v2")],
        )
        .rule(
            Match::role("builder").story("US-001").attempt(2),
            vec![commit("src/one.txt", "v2\n", "US-001: v2"), handoff("v2")],
        )
        .rule(
            Match::role("validator").story("US-001").attempt(2),
            vec![
                // A validator that moves the unit branch from its own checkout.
                Step::Git(vec![
                    "update-ref".into(),
                    format!("refs/heads/{BRANCH}"),
                    "HEAD~1".into(),
                ]),
                verdict(true, ""),
            ],
        )
        .rule(
            Match::role("builder").story("US-002"),
            vec![
                Step::Git(vec![
                    "commit".into(),
                    "-q".into(),
                    "--allow-empty".into(),
                    "-m".into(),
                    "US-002: nothing to change".into(),
                ]),
                handoff("nothing"),
            ],
        )
        .rule(
            Match::role("validator").story("US-002"),
            vec![verdict(true, "")],
        );
    let script_path = env.root().join("script.json");
    script.write_to(&script_path).unwrap();
    let record = env.root().join("record.jsonl");
    let bin = fake_agent::install_as_claude(&env.root().join("bin"));

    let out = env
        .teams()
        .args(["-q", "run"])
        .env("PATH", fake_agent::path_with(&bin))
        .env("TEAMS_FAKE_SCRIPT", &script_path)
        .env("TEAMS_FAKE_RECORD", &record)
        .env("__TEAMS_RUN_ID", "run-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::transcript(&env, &out));

    let prd: serde_json::Value = serde_json::from_slice(&env.read("prd.json")).unwrap();
    let stories = &prd["epics"][0]["userStories"];
    assert_eq!(prd["epics"][0]["status"], "completed");
    assert_eq!(stories[0]["passes"], true);
    assert_eq!(stories[0]["attempts"], 2);
    assert_eq!(stories[1]["passes"], true);
    assert_eq!(stories[1]["attempts"], 1);

    // The branch was put back on the validated commit: v2 on top of v1, then the empty commit.
    let one = stories[0]["commitSha"].as_str().unwrap().to_owned();
    let two = stories[1]["commitSha"].as_str().unwrap().to_owned();
    assert_eq!(git(&["rev-parse", &format!("{two}~1")]), one);
    assert_eq!(git(&["show", &format!("{one}:src/one.txt")]), "v2");
    assert_eq!(git(&["rev-parse", BRANCH]), two);
    let failed = git(&["rev-parse", "refs/teams/failed/US-001/1"]);
    assert_eq!(git(&["rev-parse", &format!("{one}~1")]), failed);
    let events = String::from_utf8(env.read(".teams/logs/run-1/events.jsonl")).unwrap();
    assert!(events.contains("moved during validation"), "{events}");

    // Each validator read the story's whole change: the stat, a blank line, the patch.
    let runs = read_invocations(&record).unwrap();
    let validators: Vec<_> = runs.iter().filter(|r| r.role == "validator").collect();
    assert_eq!(validators.len(), 3);
    let start = git(&["rev-parse", "main"]);
    for (validator, to) in [(validators[0], &failed), (validators[1], &one)] {
        let stat = git(&["diff", "--stat", "--no-color", &start, to]);
        let patch = git(&["diff", "--no-color", "--no-ext-diff", &start, to]);
        assert!(
            validator.prompt.contains(&format!("{stat}\n\n{patch}")),
            "{}",
            validator.prompt
        );
    }
    assert!(validators[1].prompt.contains("+v2"));
    assert!(
        !validators[1].prompt.contains("+v1"),
        "the diff starts at the story's start"
    );
}
