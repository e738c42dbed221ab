//! End-to-end tests of the conversation commands in their non-interactive forms (`teams init
//! --yes`, `teams plan --auto`, `teams discuss --message --yes`) and of `teams config role set`,
//! with the fake agent as `claude` on real temporary repositories. The interactive forms are
//! driven through a pseudo-terminal in `tests/talk_pty.rs`.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use std::process::Output;

use common::TestEnv;
use serde_json::{Value, json};
use teams_fake_agent::{Invocation, Match, Script, Step, read_invocations};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A git repository with the fake agent installed as `claude`.
struct Repo {
    env: TestEnv,
}

impl Repo {
    fn new(script: Script) -> Repo {
        let env = TestEnv::new();
        env.git_init();
        fake_agent::install_as_claude(&env.root().join("bin"));
        script.write_to(&env.root().join("script.json")).unwrap();
        Repo { env }
    }

    fn script(&self, script: Script) {
        script
            .write_to(&self.env.root().join("script.json"))
            .unwrap();
    }

    fn teams(&self, args: &[&str]) -> Output {
        self.env
            .teams()
            .args(args)
            .env("PATH", fake_agent::path_with(&self.env.root().join("bin")))
            .env("TEAMS_FAKE_SCRIPT", self.env.root().join("script.json"))
            .env("TEAMS_FAKE_RECORD", self.env.root().join("record.jsonl"))
            .env("CI", "true")
            .output()
            .unwrap()
    }

    fn records(&self, role: &str) -> Vec<Invocation> {
        read_invocations(&self.env.root().join("record.jsonl"))
            .unwrap()
            .into_iter()
            .filter(|r| r.role == role)
            .collect()
    }

    fn prd(&self) -> Value {
        serde_json::from_slice(&self.env.read("prd.json")).unwrap()
    }

    fn commit_all(&self, message: &str) {
        for args in [&["add", "-A"][..], &["commit", "-q", "-m", message]] {
            assert!(
                self.env
                    .command("git")
                    .args(args)
                    .status()
                    .unwrap()
                    .success()
            );
        }
    }
}

fn valid_prd() -> Value {
    json!({
        "project": "Greeter",
        "branchName": "main",
        "description": "Says hello.",
        "epics": [{
            "id": "EPIC-001", "title": "Greeting", "description": "The greeting.",
            "status": "pending", "planned": false, "dependsOn": [],
            "userStories": [{
                "id": "US-001", "title": "Say hello", "description": "As a user I am greeted.",
                "acceptanceCriteria": ["hello.txt contains `hello`"],
                "priority": 1, "passes": false, "failureReason": null
            }]
        }]
    })
}

fn write_prd(prd: &Value) -> Step {
    Step::Write {
        path: "prd.json".into(),
        content: Some(serde_json::to_string_pretty(prd).unwrap() + "\n"),
    }
}

#[test]
fn init_from_a_description_scaffolds_and_gets_a_valid_prd_from_the_agent() {
    let repo = Repo::new(Script::default().rule(
        Match::role("init"),
        vec![
            write_prd(&valid_prd()),
            Step::Final("wrote prd.json".into()),
        ],
    ));
    let out = repo.teams(&["init", "--description", "a program that greets", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("created teams.toml"), "{stdout}");
    assert!(
        stdout.contains("prd.json is valid: 1 epic, 1 story"),
        "{stdout}"
    );
    assert!(stdout.contains("next: `teams plan`"), "{stdout}");
    assert_eq!(repo.prd()["project"], "Greeter");
    assert_eq!(repo.env.read(".teams/.gitignore"), b"*\n");
    let toml = text(&repo.env.read("teams.toml"));
    assert!(toml.contains("# backend = \"claude\""), "{toml}");

    let runs = repo.records("init");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].mode, "print");
    assert!(runs[0].prompt.contains("a program that greets"));
    assert!(runs[0].prompt.contains("Nobody will answer"));
    assert!(runs[0].prompt.contains("\"acceptanceCriteria\""));
    assert!(!runs[0].prompt.contains("is not valid yet"));
    // The agent works in the repository itself, with its prompt kept under .teams/talk/.
    let root = repo.env.repo().canonicalize().unwrap();
    assert_eq!(
        std::path::Path::new(&runs[0].cwd).canonicalize().unwrap(),
        root
    );
    assert!(
        repo.env
            .repo()
            .join(".teams/talk/prd.init.1.prompt.md")
            .is_file()
    );
    assert!(repo.env.repo().join(".teams/talk/prd.init.1.log").is_file());
}

#[test]
fn an_invalid_prd_sends_the_agent_back_with_the_problems() {
    let mut broken = valid_prd();
    broken["epics"][0]["userStories"][0]["acceptanceCriteria"] = json!([]);
    broken["epics"][0]["dependsOn"] = json!(["EPIC-404"]);
    let repo = Repo::new(
        Script::default()
            .rule(Match::role("init").call(1), vec![write_prd(&broken)])
            .rule(Match::role("init").call(2), vec![write_prd(&valid_prd())]),
    );
    let out = repo.teams(&["init", "--description", "greeter", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("prd.json is not valid yet"),
        "{}",
        show(&out)
    );
    let runs = repo.records("init");
    assert_eq!(runs.len(), 2);
    let retry = &runs[1].prompt;
    assert!(retry.contains("is not valid yet"), "{retry}");
    assert!(retry.contains("EPIC-404"), "{retry}");
    assert!(retry.contains("acceptanceCriteria"), "{retry}");
    assert!(retry.contains("greeter"), "{retry}");
    assert_eq!(repo.prd()["epics"][0]["dependsOn"], json!([]));
}

#[test]
fn an_agent_that_never_gets_it_right_ends_with_exit_3_and_the_problems() {
    let repo = Repo::new(Script::default().rule(
        Match::role("init"),
        vec![Step::Write {
            path: "prd.json".into(),
            content: Some("{\"project\": \n".into()),
        }],
    ));
    let out = repo.teams(&["init", "--from", "brief.md", "--yes"]);
    // --from names a missing file: a usage error before any agent runs.
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("failed to read --from brief.md"));
    assert!(repo.records("init").is_empty());

    repo.env.write("brief.md", "A shop.\n");
    let out = repo.teams(&["init", "--from", "brief.md", "--yes"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("still invalid after 3 agent runs"),
        "{stderr}"
    );
    assert!(stderr.contains("invalid JSON"), "{stderr}");
    assert_eq!(repo.records("init").len(), 3);
    assert!(repo.records("init")[0].prompt.contains("A shop."));
}

#[test]
fn init_refuses_to_replace_a_prd_or_to_ask_without_a_terminal() {
    let repo = Repo::new(Script::default());
    let out = repo.teams(&["init"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("needs a terminal"), "{stderr}");
    assert!(stderr.contains("--description TEXT --yes"), "{stderr}");

    let out = repo.teams(&["init", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));

    repo.env.write("prd.json", "{}\n");
    let out = repo.teams(&["init", "--description", "x", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("prd.json already exists"));
    assert!(text(&out.stderr).contains("--force"));
    assert_eq!(repo.env.read("prd.json"), b"{}\n");
    assert!(repo.records("init").is_empty());

    repo.script(Script::default().rule(Match::role("init"), vec![write_prd(&valid_prd())]));
    let out = repo.teams(&[
        "init",
        "--description",
        "x",
        "--yes",
        "--force",
        "--install-agents",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(repo.env.read(".teams/prd.json.before-init"), b"{}\n");
    assert_eq!(repo.prd()["project"], "Greeter");
    assert!(
        repo.env
            .repo()
            .join(".claude/agents/teams-builder.md")
            .is_file()
    );
}

#[test]
fn plan_auto_writes_the_plan_and_marks_the_epic_planned() {
    let plan = "## US-001: Say hello\n\nWrite hello.txt.\n";
    let repo =
        Repo::new(Script::default().rule(Match::role("planner"), vec![Step::Final(plan.into())]));
    repo.env.write(
        "prd.json",
        serde_json::to_string_pretty(&valid_prd()).unwrap() + "\n",
    );
    let out = repo.teams(&["plan"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("`--auto`"));

    let out = repo.teams(&["plan", "EPIC-9", "--auto"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("has no epic `EPIC-9`"));

    let out = repo.teams(&["plan", "--auto"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("planned EPIC-001"),
        "{}",
        show(&out)
    );
    assert!(
        !text(&out.stderr).contains("changed files"),
        "{}",
        show(&out)
    );
    assert_eq!(
        repo.env.read(".teams/plans/plan-EPIC-001.md"),
        plan.as_bytes()
    );
    assert_eq!(repo.prd()["epics"][0]["planned"], true);
    let runs = repo.records("planner");
    assert_eq!(runs.len(), 1);
    assert!(runs[0].prompt.contains("US-001: Say hello"));
    assert_eq!(runs[0].env["TEAMS_UNIT_ID"], "EPIC-001");

    // Everything planned: nothing to do.
    let out = repo.teams(&["plan", "--auto"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("every epic is already planned"));
    assert_eq!(repo.records("planner").len(), 1);
}

#[test]
fn a_one_shot_planner_that_edits_the_checkout_is_reported() {
    let repo = Repo::new(Script::default().rule(
        Match::role("planner"),
        vec![
            Step::Write {
                path: "stray.txt".into(),
                content: None,
            },
            Step::Final("## US-001: Say hello\n".into()),
        ],
    ));
    repo.env.write(
        "prd.json",
        serde_json::to_string_pretty(&valid_prd()).unwrap() + "\n",
    );
    let out = repo.teams(&["plan", "--auto"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("the EPIC-001 planner changed files in your checkout"),
        "{}",
        show(&out)
    );
    assert!(repo.env.repo().join("stray.txt").exists());
}

#[test]
fn a_planner_without_a_plan_leaves_the_epic_unplanned() {
    let repo = Repo::new(Script::default().rule(Match::role("planner"), vec![Step::Exit(3)]));
    repo.env.write(
        "prd.json",
        serde_json::to_string_pretty(&valid_prd()).unwrap() + "\n",
    );
    let out = repo.teams(&["plan", "--auto"]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("EPIC-001 is not planned"), "{stderr}");
    assert!(stderr.contains("planned 0 of 1 epics"), "{stderr}");
    assert_eq!(repo.prd()["epics"][0]["planned"], false);
    assert!(
        !repo
            .env
            .repo()
            .join(".teams/plans/plan-EPIC-001.md")
            .exists()
    );
}

const GUIDANCE: &str = "# Guidance for US-001\n\nWrite `hello` in lowercase into hello.txt.\n";

#[test]
fn discuss_writes_guidance_resets_the_story_and_the_retry_builder_reads_it() {
    // A run in which both attempts at US-001 fail validation.
    let build = |content: &str| {
        vec![
            Step::Commit {
                path: "hello.txt".into(),
                content: Some(format!("{content}\n")),
                message: None,
            },
            Step::Final("done: hello; evidence: none; risk: low; next: none".into()),
        ]
    };
    let failing = Script::default()
        .rule(Match::role("builder").attempt(1), build("HELLO-ATTEMPT"))
        .rule(Match::role("builder").attempt(2), build("HELLO-AGAIN"))
        .rule(
            Match::role("validator"),
            vec![Step::Verdict(json!({
                "verdict": "fail",
                "criteria": [{"criterion": "hello", "met": false, "evidence": "uppercase"}],
                "feedback": "FEEDBACK-LOWERCASE: hello.txt must say hello in lowercase"
            }))],
        );
    let repo = Repo::new(failing);
    repo.env.write(
        "prd.json",
        serde_json::to_string_pretty(&valid_prd()).unwrap() + "\n",
    );
    repo.env.write("teams.toml", "planner = \"never\"\n");
    repo.commit_all("the PRD");
    let out = repo.teams(&["run"]);
    assert_eq!(out.status.code(), Some(10), "{}", show(&out));
    assert!(repo.prd()["epics"][0]["userStories"][0]["failureReason"].is_string());

    // No terminal and no --yes: a clear usage error, nothing runs.
    let out = repo.teams(&["discuss"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("--message TEXT --yes"));
    let out = repo.teams(&["discuss", "US-404", "--message", "m", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("failed stories: US-001"));

    repo.script(
        Script::default()
            .rule(
                Match::role("discuss"),
                vec![
                    Step::Write {
                        path: ".teams/guidance/guidance-US-001.md".into(),
                        content: Some(GUIDANCE.into()),
                    },
                    Step::Final("guidance written".into()),
                ],
            )
            .rule(
                Match::role("builder"),
                vec![
                    Step::Commit {
                        path: "hello.txt".into(),
                        content: Some("hello\n".into()),
                        message: None,
                    },
                    Step::Final("done: hello; evidence: cat; risk: low; next: none".into()),
                ],
            )
            .rule(
                Match::role("validator"),
                vec![Step::Verdict(
                    json!({"verdict": "pass", "criteria": [], "feedback": ""}),
                )],
            ),
    );
    // The only failed story is chosen without naming it.
    let out = repo.teams(&[
        "discuss",
        "--message",
        "USER-SAYS: lowercase please",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("US-001 is pending again"),
        "{}",
        show(&out)
    );
    let discussion = &repo.records("discuss")[0];
    assert_eq!(discussion.story, "US-001");
    let prompt = &discussion.prompt;
    for expected in [
        "USER-SAYS: lowercase please",
        "hello.txt contains `hello`",
        "FEEDBACK-LOWERCASE",
        "### Attempt 1",
        "### Attempt 2",
        "refs/teams/failed/US-001/2",
        "+HELLO-ATTEMPT",
        "+HELLO-AGAIN",
        "End of the transcript `US-001.builder.1.log`",
        ".teams/guidance/guidance-US-001.md",
        "Nobody will answer",
    ] {
        assert!(
            prompt.contains(expected),
            "missing {expected:?} in:\n{prompt}"
        );
    }
    let story = &repo.prd()["epics"][0]["userStories"][0];
    assert_eq!(story["passes"], false);
    assert!(story["failureReason"].is_null(), "{story}");
    assert!(story.get("attempts").is_none(), "{story}");
    assert_eq!(repo.prd()["epics"][0]["status"], "pending");

    let out = repo.teams(&["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let builders = repo.records("builder");
    let retry = builders.last().unwrap();
    assert!(
        retry.prompt.contains("Write `hello` in lowercase"),
        "{}",
        retry.prompt
    );
    assert_eq!(repo.prd()["epics"][0]["userStories"][0]["passes"], true);

    // Nothing failed any more.
    let out = repo.teams(&["discuss"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("no story has failed"));
}

#[test]
fn a_discussion_that_writes_no_guidance_leaves_the_story_failed() {
    let mut prd = valid_prd();
    prd["epics"][0]["userStories"][0]["failureReason"] = json!("validator: no test");
    prd["epics"][0]["userStories"][0]["attempts"] = json!(2);
    let repo = Repo::new(Script::default().rule(
        Match::role("discuss"),
        vec![Step::Final("I have no idea".into())],
    ));
    repo.env.write(
        "prd.json",
        serde_json::to_string_pretty(&prd).unwrap() + "\n",
    );
    let out = repo.teams(&["discuss", "US-001", "--message", "why?", "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("without writing .teams/guidance/guidance-US-001.md"),
        "{stderr}"
    );
    assert_eq!(
        repo.prd()["epics"][0]["userStories"][0]["failureReason"],
        "validator: no test"
    );
    // With no logs or refs, the agent still gets the recorded reason.
    let prompt = &repo.records("discuss")[0].prompt;
    assert!(prompt.contains("validator: no test"), "{prompt}");
    assert!(prompt.contains("No record of the attempts"), "{prompt}");
}

#[test]
fn config_role_set_changes_only_the_value_in_a_commented_file() {
    let repo = Repo::new(Script::default());
    let original = "# Project settings.\nbackend = \"claude\"  # default for all roles\n\n[roles.builder]\n# Fast and cheap.\nmodel = \"sonnet\"   # keep in sync with CI\ntimeout = \"60m\"\n";
    repo.env.write("teams.toml", original);
    let out = repo.teams(&[
        "config", "role", "set", "--role", "builder", "--model", "opus",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("roles.builder.model = \"opus\""));
    assert_eq!(
        text(&repo.env.read("teams.toml")),
        original.replace("\"sonnet\"", "\"opus\"")
    );

    let out = repo.teams(&[
        "config",
        "role",
        "set",
        "--role",
        "validator",
        "--backend",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("nope"));
    assert_eq!(
        text(&repo.env.read("teams.toml")),
        original.replace("\"sonnet\"", "\"opus\"")
    );
    let out = repo.teams(&["config", "role", "set", "--role", "validator"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));

    let out = repo.teams(&[
        "config",
        "role",
        "set",
        "--role",
        "validator",
        "--backend",
        "codex",
        "--reasoning",
        "high",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let show_out = repo.teams(&["config", "show"]);
    let shown = text(&show_out.stdout);
    assert!(shown.contains("roles.validator.backend"), "{shown}");
    assert!(
        text(&repo.env.read("teams.toml"))
            .ends_with("\n[roles.validator]\nbackend = \"codex\"\nreasoning = \"high\"\n")
    );
}

#[test]
fn ctrl_c_during_plan_auto_stops_the_planner_and_plans_nothing() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let repo = Repo::new(Script::default().rule(Match::role("planner"), vec![Step::Hang]));
    repo.env.write(
        "prd.json",
        serde_json::to_string_pretty(&valid_prd()).unwrap() + "\n",
    );
    let mut teams = repo.env.command(env!("CARGO_BIN_EXE_teams"));
    let child = teams
        .args(["plan", "--auto"])
        .env("PATH", fake_agent::path_with(&repo.env.root().join("bin")))
        .env("TEAMS_FAKE_SCRIPT", repo.env.root().join("script.json"))
        .env("TEAMS_FAKE_RECORD", repo.env.root().join("record.jsonl"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The planner has started once its record exists.
    let planner = (0..3000)
        .find_map(|_| {
            let found = repo.records("planner").into_iter().next();
            if found.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            found
        })
        .expect("the planner never started");
    let teams_pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(teams_pid, Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(20), "{}", show(&out));
    assert!(text(&out.stderr).contains("interrupted; the planner agent was stopped"));
    // The planner's process group was stopped with it, not left behind.
    let planner_pid = Pid::from_raw(i32::try_from(planner.pid).unwrap());
    let gone = (0..3000).any(|_| {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", planner.pid));
        let zombie = stat.is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        });
        let dead = kill(planner_pid, None).is_err() || zombie;
        if !dead {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        dead
    });
    assert!(gone, "the planner {} is still running", planner.pid);
    assert_eq!(repo.prd()["epics"][0]["planned"], false);
}
