//! Crash safety (spec §6): `teams` is killed with SIGKILL right after each durable transition of a
//! run (the test-only kill points of `teams::run::failpoint`), then `teams resume` finishes the
//! run. The result must equal an uninterrupted run's: the same `prd.json` (commit SHAs aside,
//! which carry timestamps), the same tree on the integration branch, no passed story built again,
//! and no agent process left behind. Real signals (SIGINT once, twice) and damaged inputs are
//! covered at the end.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use serde_json::{Value, json};
use teams::run::failpoint::KILL_POINTS;
use teams::store::Store;
use teams_fake_agent::{Match, Script, Step, read_invocations};

const HANDOFF: &str = "done: the change; evidence: ran the tests; risk: low; next: nothing";
const INTEGRATION: &str = "teams/proj/main";

struct Project {
    env: TestEnv,
}

impl Project {
    fn new(toml: &str, script: &Script) -> Project {
        Project::with_prd(&prd(), toml, script)
    }

    fn with_prd(prd: &Value, toml: &str, script: &Script) -> Project {
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

    fn set_script(&self, script: &Script) {
        script
            .write_to(&self.env.root().join("script.json"))
            .unwrap();
    }

    fn teams(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.env.teams();
        cmd.args(args)
            .env("PATH", fake_agent::path_with(&self.env.root().join("bin")))
            .env("TEAMS_FAKE_SCRIPT", self.env.root().join("script.json"))
            .env("TEAMS_FAKE_RECORD", self.env.root().join("record.jsonl"))
            .env("CI", "true");
        cmd
    }

    /// `teams` as a child process, for sending it real signals.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
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

    fn git(&self, args: &[&str]) -> String {
        let out = self.env.command("git").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn prd(&self) -> Value {
        serde_json::from_slice(&self.env.read("prd.json")).unwrap()
    }

    /// `prd.json` with the commit SHAs replaced (they hold commit times), after checking each one
    /// is on the integration branch.
    fn normalized_prd(&self) -> Value {
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

    fn integration_tree(&self) -> String {
        self.git(&["rev-parse", &format!("{INTEGRATION}^{{tree}}")])
    }

    /// (role, story) of every agent call so far.
    fn calls(&self) -> Vec<(String, String)> {
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
    fn passed_in_store(&self) -> Vec<String> {
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
            .filter(|s| s.status == "passed")
            .map(|s| s.id.clone())
            .collect()
    }

    /// Processes that are agents of a run in this repository (by the `TEAMS_*` variables every
    /// agent gets).
    fn live_agents(&self) -> Vec<u32> {
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

fn story(id: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "description": format!("{title}."),
           "acceptanceCriteria": [format!("{id} works")], "passes": false})
}

/// EPIC-1 (US-1, US-2) and EPIC-2 (US-3), which depends on EPIC-1.
fn prd() -> Value {
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
fn script() -> Script {
    script_after(Script::default())
}

/// [`script`]'s rules after those of `first` (rules match in order).
fn script_after(first: Script) -> Script {
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

fn verdict(pass: bool, feedback: &str) -> Step {
    Step::Verdict(json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": [{"criterion": "it works", "met": pass, "evidence": "read the diff"}],
        "feedback": feedback,
    }))
}

const TOML: &str = "planner = \"always\"\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The uninterrupted run every crash is compared with (computed once per test binary).
fn baseline() -> &'static (Value, String) {
    static BASELINE: std::sync::OnceLock<(Value, String)> = std::sync::OnceLock::new();
    BASELINE.get_or_init(|| {
        let p = Project::new(TOML, &script());
        let out = p.teams(&["run"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        (p.normalized_prd(), p.integration_tree())
    })
}

/// Kills `teams` at `point`, resumes, and checks the result equals the uninterrupted run's.
fn crash_and_resume(point: &str) {
    let (want_prd, want_tree) = baseline();
    let p = crashed_at(point);
    let passed_before = p.passed_in_store();
    let calls_before = p.calls().len();

    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{point}: {}", describe(&out));
    assert_eq!(&p.normalized_prd(), want_prd, "{point}: prd.json differs");
    assert_eq!(
        &p.integration_tree(),
        want_tree,
        "{point}: integration tree differs"
    );
    let rebuilt: Vec<_> = p.calls()[calls_before..]
        .iter()
        .filter(|(role, story)| role == "builder" && passed_before.contains(story))
        .cloned()
        .collect();
    assert!(
        rebuilt.is_empty(),
        "{point}: passed stories built again: {rebuilt:?}"
    );
    assert_eq!(
        p.live_agents(),
        Vec::<u32>::new(),
        "{point}: agents left behind"
    );
    // The run is recorded as finished: another resume has nothing to do.
    let again = p.teams(&["resume"]).output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("nothing to resume"),
        "{}",
        describe(&again)
    );
}

macro_rules! kill_point_tests {
    ($($name:ident => $point:expr,)*) => {
        $(#[test] fn $name() { crash_and_resume($point); })*

        /// Every kill point the binary defines is exercised above.
        #[test]
        fn every_kill_point_is_covered() {
            let covered: Vec<&str> = vec![$($point),*];
            for point in KILL_POINTS {
                assert!(
                    covered.iter().any(|c| c.split('@').next() == Some(*point)),
                    "kill point {point} has no test"
                );
            }
        }
    };
}

kill_point_tests! {
    killed_after_the_run_is_created => "run-created",
    killed_after_a_worktree_is_created => "worktree-created",
    killed_after_the_second_unit_starts => "worktree-created@2",
    killed_after_a_unit_starts => "unit-started",
    killed_after_the_plan_is_recorded => "planner-finished",
    killed_after_a_story_starts => "story-started",
    killed_after_the_second_story_starts => "story-started@2",
    killed_before_an_agent_spawns => "attempt-started",
    killed_while_the_planner_runs => "agent-spawned",
    killed_while_the_first_builder_runs => "agent-spawned@2",
    killed_while_a_validator_runs => "agent-spawned@3",
    killed_while_the_second_attempt_builds => "agent-spawned@6",
    killed_after_a_builder_finishes => "builder-finished",
    killed_after_the_commit_is_seen => "commit-seen",
    killed_after_a_failing_verdict => "validator-finished@2",
    killed_after_a_verdict => "validator-finished",
    killed_after_a_story_is_recorded => "story-recorded",
    killed_after_a_counted_failure_is_recorded => "story-recorded@2",
    killed_after_prd_json_is_written => "prd-written",
    killed_after_a_merge => "merge-done",
    killed_after_a_unit_finishes => "unit-finished",
    killed_after_the_last_merge => "merge-done@2",
}

/// A build that committed but was not yet checked when `teams` died: resume validates its commit
/// instead of building the story again.
#[test]
fn a_commit_made_before_the_crash_is_adopted_and_validated() {
    let p = crashed_at("builder-finished");
    let calls_before = p.calls().len();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("US-1: the builder of attempt 1 committed"),
        "{}",
        describe(&out)
    );
    let after = &p.calls()[calls_before..];
    assert!(
        !after
            .iter()
            .any(|(role, story)| role == "builder" && story == "US-1")
    );
    assert!(
        after
            .iter()
            .any(|(role, story)| role == "validator" && story == "US-1")
    );
    assert_eq!(p.prd()["epics"][0]["userStories"][0]["attempts"], 1);
    assert_eq!(&p.normalized_prd(), &baseline().0);
}

/// A builder that is silent when `teams` is killed lives on (an agent dies of SIGPIPE only when
/// it next writes); resume must stop it before going on.
#[test]
fn an_agent_left_running_by_a_crash_is_stopped_by_resume() {
    let hanging = script_after(Script::default().rule(
        Match::role("builder").story("US-1"),
        vec![
            Step::Write {
                path: "working".into(),
                content: None,
            },
            Step::Hang,
        ],
    ));
    let p = Project::new(TOML, &hanging);
    let mut child = p.spawn(&["run"]);
    wait_until(
        || worktree_has(&p, "EPIC-1/working"),
        "the builder to be at work",
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let orphans = p.live_agents();
    assert!(!orphans.is_empty(), "the silent builder outlives teams");

    p.set_script(&script());
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("stopped 1 agent process left running"),
        "{}",
        describe(&out)
    );
    assert_eq!(p.live_agents(), Vec::<u32>::new());
    assert_eq!(&p.normalized_prd(), &baseline().0);
}

/// Whether a run's worktree holds `rel` (`<unit>/<path>`).
fn worktree_has(p: &Project, rel: &str) -> bool {
    std::fs::read_dir(p.env.repo().join(".teams/worktrees"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|run| run.path().join(rel).exists())
}

fn wait_until(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` to exit (bounded, so a hang fails the test instead of blocking it).
fn wait_for_exit(mut child: std::process::Child) -> Output {
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

fn sigint(child: &std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
}

/// Whether the run's event log in the store holds `needle`.
fn logged(p: &Project, needle: &str) -> bool {
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

fn run_status(p: &Project) -> String {
    let store = Store::open_read_only(&p.env.repo().join(".teams/state.db"))
        .unwrap()
        .unwrap();
    store.latest_run().unwrap().unwrap().status
}

#[test]
fn one_ctrl_c_stops_the_agents_records_the_run_and_resume_finishes_it() {
    let hanging = script_after(
        Script::default().rule(Match::role("builder").story("US-1"), vec![Step::Hang]),
    );
    let p = Project::new(TOML, &hanging);
    let child = p.spawn(&["run"]);
    wait_until(
        || {
            p.calls()
                .iter()
                .any(|(role, story)| role == "builder" && story == "US-1")
        },
        "the builder to be running",
    );
    // While it runs: a second teams is refused and names the first; status still answers.
    let second = p.teams(&["run"]).output().unwrap();
    assert_eq!(second.status.code(), Some(4), "{}", describe(&second));
    assert!(
        text(&second.stderr).contains(&format!("another teams (PID {}) is working", child.id())),
        "{}",
        describe(&second)
    );
    let status = p.teams(&["status"]).output().unwrap();
    assert!(status.status.success(), "{}", describe(&status));
    let shown = text(&status.stdout);
    assert!(
        shown.contains(&format!(": running (PID {})", child.id())),
        "{shown}"
    );
    assert!(
        shown.contains("now: EPIC-1 US-1 builder attempt 1 (claude), for "),
        "{shown}"
    );
    assert!(shown.contains("next: teams logs --follow"), "{shown}");
    let json: Value =
        serde_json::from_slice(&p.teams(&["status", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(json["run"]["state"], "running");
    assert_eq!(json["run"]["agents"][0]["story"], "US-1");
    let follower = p.spawn(&["logs", "--follow"]);

    sigint(&child);
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(20), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("run interrupted — continue with: teams resume"),
        "{}",
        describe(&out)
    );
    assert_eq!(p.live_agents(), Vec::<u32>::new());
    assert_eq!(run_status(&p), "interrupted");
    assert!(!p.env.repo().join(".teams/lock").exists());
    // The follower saw the run to its end and stopped by itself.
    let followed = wait_for_exit(follower);
    assert!(followed.status.success(), "{}", describe(&followed));
    let lines = text(&followed.stdout);
    assert!(lines.contains("run_started"), "{lines}");
    assert!(
        lines.lines().last().unwrap_or("").contains("run_finished"),
        "{lines}"
    );
    let status = text(&p.teams(&["status"]).output().unwrap().stdout);
    assert!(status.contains(": interrupted"), "{status}");
    assert!(status.contains("next: teams resume"), "{status}");

    p.set_script(&script());
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // The interrupted attempt did not count.
    assert_eq!(p.prd()["epics"][0]["userStories"][0]["attempts"], 1);
    assert_eq!(&p.normalized_prd(), &baseline().0);
    assert_eq!(run_status(&p), "finished");
}

#[test]
fn a_second_ctrl_c_kills_agents_that_ignore_the_first() {
    let stubborn = script_after(Script::default().rule(
        Match::role("builder").story("US-1"),
        vec![
            Step::IgnoreSigint,
            Step::Write {
                path: "ignoring-sigint".into(),
                content: None,
            },
            Step::Hang,
        ],
    ));
    // A grace period far longer than the test: only the second Ctrl-C can end it in time.
    let p = Project::new("planner = \"always\"\ngrace_period = \"1h\"\n", &stubborn);
    let child = p.spawn(&["run"]);
    // The builder writes this file once it ignores SIGINT.
    wait_until(
        || worktree_has(&p, "EPIC-1/ignoring-sigint"),
        "the builder to ignore SIGINT",
    );
    sigint(&child);
    // The first Ctrl-C is forwarded; this builder shrugs it off and waits for the grace period.
    wait_until(
        || logged(&p, "press Ctrl-C again"),
        "teams to forward the first Ctrl-C",
    );
    assert!(!p.live_agents().is_empty(), "the builder ignores SIGINT");
    sigint(&child);
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(20), "{}", describe(&out));
    assert_eq!(p.live_agents(), Vec::<u32>::new());
    assert_eq!(run_status(&p), "interrupted");
}

/// Crashes in the middle of EPIC-1 (US-1 passed, US-2 started).
fn crashed_mid_unit() -> Project {
    crashed_at("story-started@2")
}

/// A project whose `teams run` was killed (SIGKILL) at the kill point `point`.
fn crashed_at(point: &str) -> Project {
    let p = Project::new(TOML, &script());
    let out = p
        .teams(&["run"])
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

#[test]
fn a_deleted_worktree_is_recreated_from_its_branch() {
    let p = crashed_mid_unit();
    let worktrees = p.env.repo().join(".teams/worktrees");
    std::fs::remove_dir_all(&worktrees).unwrap();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(&p.normalized_prd(), &baseline().0);
    assert_eq!(&p.integration_tree(), &baseline().1);
}

#[test]
fn a_branch_moved_by_hand_is_refused_with_the_way_back() {
    let p = crashed_mid_unit();
    let branch = "teams/proj/unit/EPIC-1";
    let tip = p.git(&["rev-parse", branch]);
    p.git(&["update-ref", &format!("refs/heads/{branch}"), "main"]);
    let prd_before = p.env.read("prd.json");
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("the unit branch `{branch}` was moved")),
        "{err}"
    );
    assert!(err.contains("US-1 is no longer on it"), "{err}");
    assert!(
        err.contains(&format!("git branch -f {branch} {tip}")),
        "{err}"
    );
    assert_eq!(p.env.read("prd.json"), prd_before, "prd.json changed");
    // Put back as the hint says, the run finishes.
    p.git(&["update-ref", &format!("refs/heads/{branch}"), &tip]);
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(&p.normalized_prd(), &baseline().0);
}

#[test]
fn stories_added_and_removed_by_hand_between_crash_and_resume() {
    let p = crashed_mid_unit();
    let mut prd = p.prd();
    let epic2 = &mut prd["epics"][1]["userStories"];
    *epic2 = json!([story("US-4", "Four")]);
    p.env.write(
        "prd.json",
        serde_json::to_string_pretty(&prd).unwrap() + "\n",
    );
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("US-3 is in the interrupted run but no longer in"),
        "{err}"
    );
    let prd = p.prd();
    let s4 = &prd["epics"][1]["userStories"][0];
    assert_eq!(
        (s4["id"].as_str(), s4["passes"].as_bool()),
        (Some("US-4"), Some(true))
    );
    assert_eq!(prd["epics"][0]["userStories"][0]["passes"], true);
    assert!(
        !p.calls().iter().any(|(_, story)| story == "US-3"),
        "the removed story ran"
    );
}

#[test]
fn damaged_foreign_and_newer_stores_are_refused_untouched() {
    let p = Project::new(TOML, &script());
    let db = p.env.repo().join(".teams/state.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();

    std::fs::write(
        &db,
        b"not a database, just bytes that are long enough to look like one",
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = p.teams(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let err = text(&out.stderr);
    assert!(err.contains("state.db is damaged"), "{err}");
    assert!(
        err.contains("teams never deletes it; move it aside"),
        "{err}"
    );
    assert!(std::fs::read(&db).unwrap() == before);

    std::fs::remove_file(&db).unwrap();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .unwrap();
    }
    let out = p.teams(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("is not a teams state store"),
        "{}",
        describe(&out)
    );

    std::fs::remove_file(&db).unwrap();
    drop(Store::open(&db).unwrap());
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
    }
    let out = p.teams(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("written by a newer teams"),
        "{}",
        describe(&out)
    );
    // Nothing ran: no agent was called, no branch was made.
    assert!(p.calls().is_empty());
    assert!(p.git(&["branch", "--list", "teams/*"]).is_empty());
}

#[test]
fn status_after_a_crash_says_so_and_names_resume() {
    let p = crashed_mid_unit();
    let status = text(&p.teams(&["status"]).output().unwrap().stdout);
    assert!(status.contains(": crashed"), "{status}");
    assert!(status.contains("next: teams resume"), "{status}");
}

#[test]
fn logs_show_the_event_log_and_transcripts() {
    let p = Project::new(TOML, &script());
    let out = p.teams(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    let log = text(&p.teams(&["logs"]).output().unwrap().stdout);
    assert!(log.starts_with("+0m 00s  run_started"), "{log}");
    assert!(
        log.lines().any(|l| l.contains("story_finished")
            && l.contains("story=US-2")
            && l.contains("attempts=2")),
        "{log}"
    );
    assert!(log.contains("attempt_failed"), "{log}");
    let tail = text(&p.teams(&["logs", "--tail", "1"]).output().unwrap().stdout);
    assert_eq!(tail.lines().count(), 1, "{tail}");
    assert!(tail.contains("run_finished"), "{tail}");
    let json = p.teams(&["logs", "--json"]).output().unwrap().stdout;
    for line in text(&json).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert!(event["event"].is_string(), "{line}");
    }

    let transcript = p
        .teams(&[
            "logs",
            "--story",
            "US-2",
            "--attempt",
            "1",
            "--role",
            "validator",
        ])
        .output()
        .unwrap();
    assert!(transcript.status.success(), "{}", describe(&transcript));
    assert!(text(&transcript.stdout).contains("US-2 misses a criterion"));
    let planner = p
        .teams(&["logs", "--story", "EPIC-1", "--role", "planner"])
        .output()
        .unwrap();
    assert!(
        text(&planner.stdout).contains("Do two."),
        "{}",
        describe(&planner)
    );
    let unknown = p.teams(&["logs", "--story", "US-9"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2), "{}", describe(&unknown));
    assert!(text(&unknown.stderr).contains("has no story or epic `US-9`"));
}

#[test]
fn clean_keeps_unfinished_and_dirty_worktrees_and_deletes_merged_branches() {
    let p = crashed_mid_unit();
    let worktree = std::fs::read_dir(p.env.repo().join(".teams/worktrees"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path()
        .join("EPIC-1");
    assert!(worktree.exists());
    let out = p.teams(&["clean"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        text(&out.stdout).contains("is not finished"),
        "{}",
        describe(&out)
    );
    assert!(worktree.exists());

    std::fs::write(worktree.join("notes.txt"), "mine\n").unwrap();
    let out = p.teams(&["clean", "--all"]).output().unwrap();
    assert!(
        text(&out.stdout).contains("uncommitted work (notes.txt)"),
        "{}",
        describe(&out)
    );
    assert!(worktree.join("notes.txt").exists());
    let out = p.teams(&["clean", "--all", "--force"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!worktree.exists());

    // Resume recreates what clean removed and finishes; then the unit branches are merged and go.
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(&p.normalized_prd(), &baseline().0);
    let out = p.teams(&["clean"]).output().unwrap();
    assert!(
        text(&out.stdout).contains("deleted 2 merged branches"),
        "{}",
        describe(&out)
    );
    assert!(p.git(&["branch", "--list", "teams/proj/unit/*"]).is_empty());
    assert!(!p.git(&["branch", "--list", INTEGRATION]).is_empty());
}

#[test]
fn a_reset_between_crash_and_resume_is_kept() {
    let p = crashed_mid_unit();
    // US-1's first build is still on the unit branch: its second build writes something new.
    let mut again = Match::role("builder").story("US-1");
    again.call = Some(2);
    p.set_script(&script_after(Script::default().rule(
        again,
        vec![
            Step::Commit {
                path: "US-1.txt".into(),
                content: Some("content of US-1, built again\n".into()),
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ],
    )));
    let out = p.teams(&["reset", "US-1"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let before = p.calls().len();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        p.calls()[before..]
            .iter()
            .any(|(role, story)| role == "builder" && story == "US-1"),
        "US-1 was not built again"
    );
    assert_eq!(p.prd()["epics"][0]["userStories"][0]["passes"], true);
}

/// EPIC-1 (US-1, US-2) and EPIC-2 (US-3) are independent and run side by side; EPIC-3 (US-4)
/// needs both.
fn parallel_prd() -> Value {
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

fn parallel_baseline() -> &'static (Value, String) {
    static BASELINE: std::sync::OnceLock<(Value, String)> = std::sync::OnceLock::new();
    BASELINE.get_or_init(|| {
        let p = Project::with_prd(&parallel_prd(), TOML, &script());
        let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        (p.normalized_prd(), p.integration_tree())
    })
}

/// The same proof with two units running at once: the kill lands while the other unit is
/// somewhere else in its work, and resume (which keeps `--parallel 2` from the saved settings)
/// must bring both to the uninterrupted result.
fn parallel_crash_and_resume(point: &str) {
    let (want_prd, want_tree) = parallel_baseline();
    let p = Project::with_prd(&parallel_prd(), TOML, &script());
    let out = p
        .teams(&["run", "--parallel", "2"])
        .env("__TEAMS_FAILPOINT", point)
        .output()
        .unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(9),
        "teams was not killed at {point}: {}",
        describe(&out)
    );
    let passed_before = p.passed_in_store();
    let calls_before = p.calls().len();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{point}: {}", describe(&out));
    assert!(
        text(&out.stderr).contains("2 at a time"),
        "{point}: the saved --parallel was not reused: {}",
        describe(&out)
    );
    assert_eq!(&p.normalized_prd(), want_prd, "{point}: prd.json differs");
    assert_eq!(
        &p.integration_tree(),
        want_tree,
        "{point}: integration tree differs"
    );
    let rebuilt: Vec<_> = p.calls()[calls_before..]
        .iter()
        .filter(|(role, story)| role == "builder" && passed_before.contains(story))
        .cloned()
        .collect();
    assert!(
        rebuilt.is_empty(),
        "{point}: passed stories built again: {rebuilt:?}"
    );
    assert_eq!(
        p.live_agents(),
        Vec::<u32>::new(),
        "{point}: agents left behind"
    );
}

#[test]
fn parallel_killed_when_the_second_unit_starts() {
    parallel_crash_and_resume("unit-started@2");
}

#[test]
fn parallel_killed_while_agents_of_both_units_run() {
    parallel_crash_and_resume("agent-spawned@4");
}

#[test]
fn parallel_killed_after_a_build_of_one_unit() {
    parallel_crash_and_resume("builder-finished@2");
}

#[test]
fn parallel_killed_after_a_story_is_recorded() {
    parallel_crash_and_resume("story-recorded@2");
}

#[test]
fn parallel_killed_after_the_first_merge() {
    parallel_crash_and_resume("merge-done");
}
