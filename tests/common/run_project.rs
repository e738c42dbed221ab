//! A repository with a PRD, the fake agent as `claude` and a script for it: the fixture of the
//! `teams run` end-to-end tests (`tests/run_loop.rs`, `tests/run_validator.rs`).

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::process::Output;

use super::common::TestEnv;
use super::fake_agent;
use serde_json::{Value, json};
use teams_fake_agent::{Invocation, Match, Script, Step, read_invocations};

/// A repository with a PRD, the fake agent installed as `claude`, and a script for it.
pub struct Project {
    pub env: TestEnv,
    pub initial: String,
}

pub const HANDOFF: &str = "done: the change; evidence: ran the tests; risk: low; next: nothing";

impl Project {
    pub fn new(prd: Value, toml: &str, script: Script) -> Project {
        let env = TestEnv::new();
        env.git_init();
        env.write(
            "prd.json",
            serde_json::to_string_pretty(&prd).unwrap() + "\n",
        );
        env.write("teams.toml", toml);
        let git = |args: &[&str]| {
            assert!(env.command("git").args(args).status().unwrap().success());
        };
        git(&["add", "prd.json", "teams.toml"]);
        git(&["commit", "-q", "-m", "the PRD"]);
        fake_agent::install_as_claude(&env.root().join("bin"));
        script.write_to(&env.root().join("script.json")).unwrap();
        let initial = run_git(&env, &["rev-parse", "main"]);
        Project { env, initial }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.env
            .teams()
            .arg("run")
            .args(args)
            .env("PATH", fake_agent::path_with(&self.env.root().join("bin")))
            .env("TEAMS_FAKE_SCRIPT", self.env.root().join("script.json"))
            .env("TEAMS_FAKE_RECORD", self.env.root().join("record.jsonl"))
            .env("CI", "true")
            .env("__TEAMS_BACKOFF_MS", "10")
            .output()
            .unwrap()
    }

    pub fn prd(&self) -> Value {
        serde_json::from_slice(&self.env.read("prd.json")).unwrap()
    }

    pub fn story(&self, id: &str) -> Value {
        let prd = self.prd();
        for epic in prd["epics"].as_array().unwrap() {
            for story in epic["userStories"].as_array().unwrap() {
                if story["id"] == id {
                    return story.clone();
                }
            }
        }
        panic!("no story {id}");
    }

    pub fn epic(&self, id: &str) -> Value {
        let prd = self.prd();
        prd["epics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap()
    }

    pub fn git(&self, args: &[&str]) -> String {
        run_git(&self.env, args)
    }

    pub fn git_ok(&self, args: &[&str]) -> bool {
        self.env
            .command("git")
            .args(args)
            .status()
            .unwrap()
            .success()
    }

    pub fn records(&self) -> Vec<Invocation> {
        read_invocations(&self.env.root().join("record.jsonl"))
            .unwrap()
            .into_iter()
            .filter(|r| r.mode == "print")
            .collect()
    }

    pub fn prompts(&self, role: &str, story: &str) -> Vec<String> {
        self.records()
            .into_iter()
            .filter(|r| r.role == role && r.story == story)
            .map(|r| r.prompt)
            .collect()
    }

    /// The user's checkout is as it was, apart from `prd.json` (which `teams` writes back).
    pub fn assert_user_checkout_untouched(&self) {
        assert_eq!(self.git(&["rev-parse", "main"]), self.initial);
        assert_eq!(self.git(&["symbolic-ref", "--short", "HEAD"]), "main");
        let status = self.git(&["status", "--porcelain"]);
        assert!(
            status.is_empty() || status == "M prd.json",
            "unexpected changes in the user's checkout: {status:?}"
        );
    }

    /// Whether a file exists at the tip of `rev`.
    pub fn has_file(&self, rev: &str, path: &str) -> bool {
        self.git_ok(&["cat-file", "-e", &format!("{rev}:{path}")])
    }
}

pub fn run_git(env: &TestEnv, args: &[&str]) -> String {
    let out = env.command("git").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn story(id: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "description": format!("{title}."),
           "acceptanceCriteria": [format!("{id} works")], "passes": false})
}

/// Two epics: EPIC-1 (US-1, US-2) and EPIC-2 (US-3), which depends on EPIC-1.
pub fn two_epics() -> Value {
    json!({
        "project": "Proj",
        "epics": [
            {"id": "EPIC-1", "title": "First", "dependsOn": [],
             "userStories": [story("US-1", "One"), story("US-2", "Two")]},
            {"id": "EPIC-2", "title": "Second", "dependsOn": ["EPIC-1"],
             "userStories": [story("US-3", "Three")]}
        ]
    })
}

pub const NO_PLANNER: &str = "planner = \"never\"\n";

pub fn builds(path: &str) -> Vec<Step> {
    vec![
        Step::Text("SECRET-REASONING of the builder".into()),
        Step::Commit {
            path: path.into(),
            content: Some(format!("content of {path}\n")),
            message: None,
        },
        Step::Final(format!("I reasoned a lot (SECRET-REASONING).\n\n{HANDOFF}")),
    ]
}

pub fn verdict(pass: bool, feedback: &str) -> Vec<Step> {
    vec![Step::Verdict(json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": [{"criterion": "it works", "met": pass, "evidence": "read the diff"}],
        "feedback": feedback,
    }))]
}

/// Every builder commits `<story>.txt`; every validator passes.
pub fn happy_script() -> Script {
    let mut script = Script::default();
    for id in ["US-1", "US-2", "US-3"] {
        script = script.rule(
            Match::role("builder").story(id),
            builds(&format!("{id}.txt")),
        );
    }
    script.rule(Match::role("validator"), verdict(true, ""))
}
