//! The project, PRD, agent script and helpers the crash-safety suites share (tests/durable.rs,
//! tests/durable_cases.rs): a repository whose `teams run` can be killed at a kill point,
//! compared with an uninterrupted run, signalled, and inspected through the store.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use teams::store::Store;
use teams_fake_agent::{Match, Script, Step, read_invocations};

use crate::common::TestEnv;
use crate::fake_agent;

pub const HANDOFF: &str = "done: the change; evidence: ran the tests; risk: low; next: nothing";
pub const INTEGRATION: &str = "teams/proj/main";

pub struct Project {
    pub env: TestEnv,
}

impl Project {
    pub fn new(toml: &str, script: &Script) -> Project {
        Project::with_prd(&prd(), toml, script)
    }

    pub fn with_prd(prd: &Value, toml: &str, script: &Script) -> Project {
        let env = TestEnv::new();
        env.git_init();
        env.write(
            "prd.json",
            serde_json::to_string_pretty(prd).unwrap() + "\n",
        );
        env.write("teams.toml", toml);
        let p = Project { env };
        p.git(&["add", "prd.json", "teams.toml"]);
        p.git(&["commit", "-q", "-m", "the PRD"]);
        fake_agent::install_as_claude(&p.env.root().join("bin"));
        p.set_script(script);
        p
    }

    pub fn set_script(&self, script: &Script) {
        script
            .write_to(&self.env.root().join("script.json"))
            .unwrap();
    }

    pub fn teams(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.env.teams();
        cmd.args(args)
            .env("PATH", fake_agent::path_with(&self.env.root().join("bin")))
            .env("TEAMS_FAKE_SCRIPT", self.env.root().join("script.json"))
            .env("TEAMS_FAKE_RECORD", self.env.root().join("record.jsonl"))
            .env("CI", "true");
        cmd
    }

    /// `teams` as a child process, for sending it real signals.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_teams"));
        cmd.env_clear();
        for (k, v) in self.env.command("true").get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.args(args)
            .current_dir(self.env.repo())
            .env("PATH", fake_agent::path_with(&self.env.root().join("bin")))
            .env("TEAMS_FAKE_SCRIPT", self.env.root().join("script.json"))
            .env("TEAMS_FAKE_RECORD", self.env.root().join("record.jsonl"))
            .env("CI", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = self.env.command("git").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn prd(&self) -> Value {
        serde_json::from_slice(&self.env.read("prd.json")).unwrap()
    }

    /// `prd.json` with the commit SHAs replaced (they hold commit times), after checking each one
    /// is on the integration branch.
    pub fn normalized_prd(&self) -> Value {
        let mut prd = self.prd();
        for epic in prd["epics"].as_array_mut().unwrap() {
            for story in epic["userStories"].as_array_mut().unwrap() {
                if let Some(sha) = story["commitSha"].as_str() {
                    let on = self
                        .env
                        .command("git")
                        .args(["merge-base", "--is-ancestor", sha, INTEGRATION])
                        .status()
                        .unwrap()
                        .success();
                    assert!(on, "{sha} of {} is not on {INTEGRATION}", story["id"]);
                    story["commitSha"] = json!("<sha>");
                }
            }
        }
        prd
    }

    pub fn integration_tree(&self) -> String {
        self.git(&["rev-parse", &format!("{INTEGRATION}^{{tree}}")])
    }

    /// (role, story) of every agent call so far.
    pub fn calls(&self) -> Vec<(String, String)> {
        let path = self.env.root().join("record.jsonl");
        if !path.exists() {
            return Vec::new();
        }
        read_invocations(&path)
            .unwrap()
            .into_iter()
            .filter(|r| r.mode == "print")
            .map(|r| (r.role, r.story))
            .collect()
    }

    /// Stories the store has as passed.
    pub fn passed_in_store(&self) -> Vec<String> {
        self.stories_in_store(&["passed"])
    }

    /// Stories the store has with one of `statuses` in the latest run.
    pub fn stories_in_store(&self, statuses: &[&str]) -> Vec<String> {
        let Some(store) = Store::open_read_only(&self.env.repo().join(".teams/state.db")).unwrap()
        else {
            return Vec::new();
        };
        let Some(run) = store.latest_run().unwrap() else {
            return Vec::new();
        };
        let state = store.run_state(&run.id).unwrap().unwrap();
        state
            .stories
            .iter()
            .filter(|s| statuses.contains(&s.status.as_str()))
            .map(|s| s.id.clone())
            .collect()
    }

    /// Processes that are agents of a run in this repository (by the `TEAMS_*` variables every
    /// agent gets).
    pub fn live_agents(&self) -> Vec<u32> {
        let repo = format!("TEAMS_REPO_ROOT={}", self.env.repo().display());
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
                continue;
            };
            // A zombie has no environment; it is no longer running.
            if environ.split(|b| *b == 0).any(|v| v == repo.as_bytes()) {
                found.push(pid);
            }
        }
        found
    }
}

pub fn story(id: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "description": format!("{title}."),
           "acceptanceCriteria": [format!("{id} works")], "passes": false})
}

/// EPIC-1 (US-1, US-2) and EPIC-2 (US-3), which depends on EPIC-1.
pub fn prd() -> Value {
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

/// Every epic is planned; every builder takes a moment and commits `<story>.txt`; US-2's first
/// validation fails, so the run also has a counted failure and a second attempt.
pub fn script() -> Script {
    script_after(Script::default())
}

/// [`script`]'s rules after those of `first` (rules match in order).
pub fn script_after(first: Script) -> Script {
    let plan = "# Plan\n\n## US-1\nDo one.\n\n## US-2\nDo two.\n\n## US-3\nDo three.\n";
    let mut script = first
        .rule(Match::role("planner"), vec![Step::Final(plan.into())])
        .rule(
            Match::role("builder").story("US-2").attempt(2),
            vec![
                Step::SleepMs(40),
                Step::Commit {
                    path: "US-2.txt".into(),
                    content: Some("content of US-2, every criterion met\n".into()),
                    message: None,
                },
                Step::Final(HANDOFF.into()),
            ],
        );
    for id in ["US-1", "US-2", "US-3", "US-4"] {
        script = script.rule(
            Match::role("builder").story(id),
            vec![
                Step::SleepMs(40),
                Step::Commit {
                    path: format!("{id}.txt"),
                    content: Some(format!("content of {id}\n")),
                    message: None,
                },
                Step::Final(HANDOFF.into()),
            ],
        );
    }
    script
        .rule(
            Match::role("validator").story("US-2").attempt(1),
            vec![verdict(false, "US-2 misses a criterion")],
        )
        .rule(Match::role("validator"), vec![verdict(true, "")])
}

pub fn verdict(pass: bool, feedback: &str) -> Step {
    Step::Verdict(json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": [{"criterion": "it works", "met": pass, "evidence": "read the diff"}],
        "feedback": feedback,
    }))
}

pub const TOML: &str = "planner = \"always\"\n";

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The uninterrupted run every crash is compared with (computed once per test binary).
pub fn baseline() -> &'static (Value, String) {
    static BASELINE: std::sync::OnceLock<(Value, String)> = std::sync::OnceLock::new();
    BASELINE.get_or_init(|| {
        let p = Project::new(TOML, &script());
        let out = p.teams(&["run"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        (p.normalized_prd(), p.integration_tree())
    })
}

/// Whether a run's worktree holds `rel` (`<unit>/<path>`).
pub fn worktree_has(p: &Project, rel: &str) -> bool {
    std::fs::read_dir(p.env.repo().join(".teams/worktrees"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|run| run.path().join(rel).exists())
}

pub fn wait_until(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` to exit (bounded, so a hang fails the test instead of blocking it).
pub fn wait_for_exit(mut child: std::process::Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("teams did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

pub fn sigint(child: &std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
}

/// Whether the run's event log in the store holds `needle`.
pub fn logged(p: &Project, needle: &str) -> bool {
    let Ok(Some(store)) = Store::open_read_only(&p.env.repo().join(".teams/state.db")) else {
        return false;
    };
    let Ok(Some(run)) = store.latest_run() else {
        return false;
    };
    store
        .events(&run.id, 0, None)
        .unwrap_or_default()
        .iter()
        .any(|e| e.body.contains(needle))
}

pub fn run_status(p: &Project) -> String {
    let store = Store::open_read_only(&p.env.repo().join(".teams/state.db"))
        .unwrap()
        .unwrap();
    store.latest_run().unwrap().unwrap().status
}

/// Crashes in the middle of EPIC-1 (US-1 passed, US-2 started).
pub fn crashed_mid_unit() -> Project {
    crashed_at("story-started@2")
}

/// A project whose `teams run` was killed (SIGKILL) at the kill point `point`.
pub fn crashed_at(point: &str) -> Project {
    crashed_run(&prd(), &["run"], point)
}

/// A project with `prd` whose `teams <args>` was killed (SIGKILL) at the kill point `point`.
pub fn crashed_run(prd: &Value, args: &[&str], point: &str) -> Project {
    crashed_with(prd, &script(), args, point)
}

/// [`crashed_run`] with another agent script.
pub fn crashed_with(prd: &Value, script: &Script, args: &[&str], point: &str) -> Project {
    let p = Project::with_prd(prd, TOML, script);
    let out = p
        .teams(args)
        .env("__TEAMS_FAILPOINT", point)
        .output()
        .unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(9),
        "teams was not killed at {point}: {}",
        describe(&out)
    );
    p
}

/// EPIC-1 (US-1, US-2) and EPIC-2 (US-3) are independent and run side by side; EPIC-3 (US-4)
/// needs both.
pub fn parallel_prd() -> Value {
    json!({
        "project": "Proj",
        "epics": [
            {"id": "EPIC-1", "title": "First", "dependsOn": [],
             "userStories": [story("US-1", "One"), story("US-2", "Two")]},
            {"id": "EPIC-2", "title": "Second", "dependsOn": [],
             "userStories": [story("US-3", "Three")]},
            {"id": "EPIC-3", "title": "Third", "dependsOn": ["EPIC-1", "EPIC-2"],
             "userStories": [story("US-4", "Four")]}
        ]
    })
}

pub fn parallel_baseline() -> &'static (Value, String) {
    static BASELINE: std::sync::OnceLock<(Value, String)> = std::sync::OnceLock::new();
    BASELINE.get_or_init(|| {
        let p = Project::with_prd(&parallel_prd(), TOML, &script());
        let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        (p.normalized_prd(), p.integration_tree())
    })
}

/// [`script`] where US-1 and US-3 both write `shared.txt`, so the second of EPIC-1 and EPIC-2 to
/// merge conflicts, and a merger that keeps both lines.
pub fn conflict_script() -> Script {
    let writes = |content: &str| {
        vec![
            Step::SleepMs(40),
            Step::Commit {
                path: "shared.txt".into(),
                content: Some(content.into()),
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    script_after(
        Script::default()
            .rule(
                Match::role("merger"),
                vec![
                    Step::SleepMs(100),
                    Step::Commit {
                        path: "shared.txt".into(),
                        content: Some("one\nthree\n".into()),
                        message: Some("teams: merge, both kept".into()),
                    },
                    Step::Final("kept both lines".into()),
                ],
            )
            .rule(Match::role("builder").story("US-1"), writes("one\n"))
            .rule(Match::role("builder").story("US-3"), writes("three\n")),
    )
}

/// The uninterrupted `--parallel 2` run of [`parallel_prd`] with [`conflict_script`].
pub fn conflict_baseline() -> &'static (Value, String) {
    static BASELINE: std::sync::OnceLock<(Value, String)> = std::sync::OnceLock::new();
    BASELINE.get_or_init(|| {
        let p = Project::with_prd(&parallel_prd(), TOML, &conflict_script());
        let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        (p.normalized_prd(), p.integration_tree())
    })
}
