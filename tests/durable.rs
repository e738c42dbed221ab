//! Crash safety (spec §6): `teams` is killed with SIGKILL right after each durable transition of a
//! run (the test-only kill points of `teams::run::failpoint`), then `teams resume` finishes the
//! run. The result must equal an uninterrupted run's: the same `prd.json` (commit SHAs aside,
//! which carry timestamps), the same tree on the integration branch, no passed story built again,
//! and no agent process left behind — sequentially and with two units at once. Signals, the lock,
//! `status`/`logs`/`clean` and damaged inputs are in tests/durable_cases.rs.

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use durable::*;
use serde_json::Value;
use teams::run::failpoint::KILL_POINTS;
use teams_fake_agent::{Match, Script, Step};

/// Kills `teams` at `point`, resumes, and checks the result equals the uninterrupted run's.
fn crash_and_resume(point: &str) {
    let p = crashed_at(point);
    resume_and_compare(&p, point, baseline());
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

        /// Every kill point the binary defines is exercised above (or, for the merger's, by the
        /// conflict cases below).
        #[test]
        fn every_kill_point_is_covered() {
            let mut covered: Vec<&str> = vec![$($point),*];
            covered.extend(CONFLICT_KILL_POINTS);
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
    // The builder says it is at work only once its last output is written: a fake killed with
    // output still to write would die of the closed pipe instead of outliving teams.
    let marks = tempfile::tempdir().unwrap();
    let at_work = marks.path().join("at-work");
    let hanging = script_after(Script::default().rule(
        Match::role("builder").story("US-1"),
        vec![
            Step::Write {
                path: "working".into(),
                content: None,
            },
            Step::Signal(at_work.display().to_string()),
            Step::Hang,
        ],
    ));
    let p = Project::new(TOML, &hanging);
    let mut child = p.spawn(&["run"]);
    wait_until(|| at_work.exists(), "the builder to be at work");
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

/// The same proof with two units running at once: the kill lands while the other unit is
/// somewhere else in its work, and resume (which keeps `--parallel 2` from the saved settings)
/// must bring both to the uninterrupted result.
fn parallel_crash_and_resume(point: &str) {
    let p = crashed_run(&parallel_prd(), &["run", "--parallel", "2"], point);
    let out = resume_and_compare(&p, point, parallel_baseline());
    assert!(
        text(&out.stderr).contains("2 at a time"),
        "{point}: the saved --parallel was not reused: {}",
        describe(&out)
    );
}

/// Runs `teams resume` on a crashed project and checks it ends as the uninterrupted run `want`
/// did: exit 0, the same `prd.json` and integration tree, no story that had passed before the
/// crash built again, no agent left running.
fn resume_and_compare(p: &Project, point: &str, want: &(Value, String)) -> std::process::Output {
    let (want_prd, want_tree) = want;
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
    out
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

/// Kill points only a conflicted merge reaches, with the cases below.
const CONFLICT_KILL_POINTS: &[&str] = &["merger-finished"];

/// A `--parallel 2` run whose second merge conflicts, killed at `point` and resumed: the merger
/// runs again on a fresh merge worktree and the result equals the uninterrupted run's.
fn conflict_crash_and_resume(point: &str) {
    let p = crashed_with(
        &parallel_prd(),
        &conflict_script(),
        &["run", "--parallel", "2"],
        point,
    );
    resume_and_compare(&p, point, conflict_baseline());
    assert_eq!(
        p.git(&["show", &format!("{INTEGRATION}:shared.txt")]),
        "one\nthree"
    );
}

#[test]
fn killed_after_the_merger_finished() {
    conflict_crash_and_resume("merger-finished");
}

/// Two planners, six calls for EPIC-1 (US-2 fails once) and two for EPIC-2 come before the
/// merger, which is usually the eleventh agent; with two units at once the order of the last
/// calls depends on timing, so the kill goes to whichever of the eleventh or twelfth spawns is
/// the merger's. `teams` dies right after the spawn, before the fake agent it started may have
/// written its record, so the check waits for the n records first (the agents live on in their
/// own process groups).
#[test]
fn killed_while_the_merger_runs() {
    for n in [11, 12] {
        let point = format!("agent-spawned@{n}");
        let p = crashed_with(
            &parallel_prd(),
            &conflict_script(),
            &["run", "--parallel", "2"],
            &point,
        );
        wait_until(
            || p.calls().len() >= n,
            "every spawned agent to record its call",
        );
        // Nothing after the merge can start while the merger runs, so a merger among the first
        // n calls (and not among the first eleven, for n = 12) is the n-th spawn.
        if p.calls().iter().any(|(role, _)| role == "merger") {
            resume_and_compare(&p, &point, conflict_baseline());
            assert_eq!(
                p.git(&["show", &format!("{INTEGRATION}:shared.txt")]),
                "one\nthree"
            );
            return;
        }
    }
    panic!("neither the eleventh nor the twelfth agent was the merger");
}
