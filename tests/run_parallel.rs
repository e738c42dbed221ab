//! Parallel runs (spec §4.1–4.2) with the fake agent: units overlap up to `--parallel`, a unit
//! starts only once its dependencies are merged, and conflicting units are merged one at a time
//! through the merge queue, by the merger agent when git cannot. Every timing claim is read from
//! the fake agent's own start/end records and the store's event order, never from a clock.

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/units.rs"]
mod units;

use durable::*;
use serde_json::Value;
use teams::store::Store;
use teams_fake_agent::{Invocation, Match, Script, Step, read_invocations};
use units::*;

const NO_PLANNER: &str = "planner = \"never\"\n";

fn records(p: &Project) -> Vec<Invocation> {
    read_invocations(&p.env.root().join("record.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|r| r.mode == "print")
        .collect()
}

fn epic_of<'a>(prd: &'a Value, id: &str) -> &'a Value {
    prd["epics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
}

/// The store's event kinds with their unit, in order.
fn event_order(p: &Project) -> Vec<(String, String)> {
    let store = Store::open_read_only(&p.env.repo().join(".teams/state.db"))
        .unwrap()
        .unwrap();
    let run = store.latest_run().unwrap().unwrap();
    store
        .events(&run.id, 0, None)
        .unwrap()
        .into_iter()
        .map(|e| {
            let body: Value = serde_json::from_str(&e.body).unwrap();
            (e.kind, body["unit"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

fn position(order: &[(String, String)], kind: &str, unit: &str) -> usize {
    order
        .iter()
        .position(|(k, u)| k == kind && u == unit)
        .unwrap_or_else(|| panic!("no {kind} of {unit} in {order:?}"))
}

/// The most agents running at one instant, from their recorded start and end times.
fn max_overlap(runs: &[Invocation]) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for r in runs {
        edges.push((r.start_ms, 1));
        edges.push((r.end_ms.expect("every agent ended by itself"), -1));
    }
    // At equal times an end comes before a start: touching intervals do not overlap.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

#[test]
fn six_independent_units_run_three_at_a_time() {
    let ids = ["E1", "E2", "E3", "E4", "E5", "E6"];
    let epics = ids
        .iter()
        .map(|id| epic(id, &[], &[&format!("US-{id}")]))
        .collect();
    let mut script = Script::default();
    for id in ids {
        script = script.rule(
            Match::role("builder").story(&format!("US-{id}")),
            build(700, &format!("{id}.txt"), id),
        );
    }
    let script = script.rule(Match::role("validator"), vec![verdict(true, "")]);
    let p = Project::with_prd(&prd_of(epics), NO_PLANNER, &script);
    let out = p.teams(&["run", "--parallel=3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let runs = records(&p);
    assert_eq!(runs.len(), 12, "a builder and a validator per unit");
    assert_eq!(
        max_overlap(&runs),
        3,
        "never more, and at some point exactly, three units"
    );
    // The first three builders overlap each other; each later unit starts after one ended.
    let mut builders: Vec<&Invocation> = runs.iter().filter(|r| r.role == "builder").collect();
    builders.sort_by_key(|r| r.start_ms);
    let first_end = builders[..3]
        .iter()
        .map(|r| r.end_ms.unwrap())
        .min()
        .unwrap();
    assert!(
        builders[..3].iter().all(|r| r.start_ms < first_end),
        "the first three builders run together"
    );
    assert!(
        builders[3].start_ms >= first_end,
        "the fourth waits for a slot"
    );
    for id in ids {
        assert_eq!(p.git(&["show", &format!("{INTEGRATION}:{id}.txt")]), id);
    }
}

#[test]
fn a_diamond_starts_its_last_unit_after_both_middle_units_merged() {
    let prd = prd_of(vec![
        epic("A", &[], &["US-A"]),
        epic("B", &["A"], &["US-B"]),
        epic("C", &["A"], &["US-C"]),
        epic("D", &["B", "C"], &["US-D"]),
    ]);
    let mut script = Script::default();
    for id in ["A", "B", "C", "D"] {
        script = script.rule(
            Match::role("builder").story(&format!("US-{id}")),
            build(150, &format!("{id}.txt"), id),
        );
    }
    let script = script.rule(Match::role("validator"), vec![verdict(true, "")]);
    let p = Project::with_prd(&prd, NO_PLANNER, &script);
    let out = p.teams(&["run", "--parallel", "3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    let order = event_order(&p);
    let d_started = position(&order, "unit_started", "D");
    for middle in ["B", "C"] {
        assert!(
            position(&order, "unit_merged", middle) < d_started,
            "{order:?}"
        );
        assert!(position(&order, "unit_merged", "A") < position(&order, "unit_started", middle));
    }
    // B and C ran side by side.
    let runs = records(&p);
    let agents_of =
        |unit: &str| -> Vec<&Invocation> { runs.iter().filter(|r| r.unit == unit).collect() };
    let (b, c) = (agents_of("B"), agents_of("C"));
    assert!(b[0].start_ms < c[0].end_ms.unwrap() && c[0].start_ms < b[0].end_ms.unwrap());
    // D's agents start after every agent of B and C ended.
    let d_first = agents_of("D").iter().map(|r| r.start_ms).min().unwrap();
    let middle_last = b.iter().chain(&c).map(|r| r.end_ms.unwrap()).max().unwrap();
    assert!(d_first > middle_last);
    // D's branch started from an integration tip holding A, B and C.
    let d_start = "teams/proj/unit/D~1";
    for file in ["A.txt", "B.txt", "C.txt"] {
        assert!(
            p.env
                .command("git")
                .args(["cat-file", "-e", &format!("{d_start}:{file}")])
                .status()
                .unwrap()
                .success(),
            "D's worktree lacked {file}"
        );
    }
    assert_eq!(p.git(&["show", &format!("{INTEGRATION}:D.txt")]), "D");
}

#[test]
fn two_units_writing_the_same_file_are_merged_by_the_merger() {
    let p = Project::with_prd(
        &conflicting_prd(),
        NO_PLANNER,
        &conflicting_script(resolving_merger()),
    );
    let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    for id in ["EPIC-1", "EPIC-2", "EPIC-3"] {
        assert_eq!(epic_of(&p.prd(), id)["status"], "completed", "{id}");
    }
    assert_eq!(
        p.git(&["show", &format!("{INTEGRATION}:shared.txt")]),
        "one\ntwo"
    );
    let runs = records(&p);
    let mergers: Vec<&Invocation> = runs.iter().filter(|r| r.role == "merger").collect();
    assert_eq!(mergers.len(), 1, "one conflict, one merger");
    let merger = mergers[0];
    assert!(
        merger.cwd.ends_with("@merge"),
        "a dedicated merge worktree: {}",
        merger.cwd
    );
    assert!(merger.prompt.contains("shared.txt"), "{}", merger.prompt);
    // Its merge joins both units and is on the integration branch; EPIC-3 started after it.
    for unit in ["EPIC-1", "EPIC-2"] {
        let branch = format!("teams/proj/unit/{unit}");
        assert!(
            p.env
                .command("git")
                .args(["merge-base", "--is-ancestor", &branch, INTEGRATION])
                .status()
                .unwrap()
                .success()
        );
    }
    let three = runs.iter().find(|r| r.unit == "EPIC-3").unwrap();
    assert!(three.start_ms > merger.end_ms.unwrap());
    // The store recorded the merger's call as an attempt of its own.
    let store = Store::open_read_only(&p.env.repo().join(".teams/state.db"))
        .unwrap()
        .unwrap();
    let run = store.latest_run().unwrap().unwrap();
    let state = store.run_state(&run.id).unwrap().unwrap();
    let rows: Vec<_> = state
        .attempts
        .iter()
        .filter(|a| a.role == "merger")
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "finished");
    assert_eq!(rows[0].unit_id, merger.unit);
    // The merge worktree is gone.
    assert!(!worktree_has(&p, &format!("{}@merge", merger.unit)));
}

/// Runs the conflicting PRD with `merger` and checks the unit it had to merge is `merge-failed`
/// with `why` in its reason, its branch kept, the integration branch without it, and EPIC-3
/// blocked.
fn refused_merge(toml: &str, merger: Vec<Step>, why: &str) {
    let p = Project::with_prd(&conflicting_prd(), toml, &conflicting_script(merger));
    let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", describe(&out));
    let prd = p.prd();
    let failed = records(&p)
        .into_iter()
        .find(|r| r.role == "merger")
        .expect("the merger ran")
        .unit;
    let merged = if failed == "EPIC-1" {
        "EPIC-2"
    } else {
        "EPIC-1"
    };
    assert_eq!(epic_of(&prd, merged)["status"], "completed");
    let failed_epic = epic_of(&prd, &failed);
    assert_eq!(failed_epic["status"], "merge-failed");
    let reason = failed_epic["failureReason"].as_str().unwrap();
    assert!(reason.contains("conflicts in shared.txt"), "{reason}");
    assert!(reason.contains(why), "{reason}");
    assert!(reason.contains("is kept"), "{reason}");
    let branch = format!("teams/proj/unit/{failed}");
    assert!(
        !p.git(&["rev-parse", "--verify", &branch]).is_empty(),
        "branch kept"
    );
    let on_integration = p
        .env
        .command("git")
        .args(["merge-base", "--is-ancestor", &branch, INTEGRATION])
        .status()
        .unwrap()
        .success();
    assert!(
        !on_integration,
        "nothing of the refused merge reached {INTEGRATION}"
    );
    let blocked = epic_of(&prd, "EPIC-3");
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(
        blocked["failureReason"],
        format!("blocked: dependency {failed} is merge-failed")
    );
    assert!(
        records(&p).iter().all(|r| r.unit != "EPIC-3"),
        "EPIC-3 never ran"
    );
    assert!(
        text(&out.stdout).contains("merge-failed"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_merger_that_leaves_conflict_markers_fails_the_merge_and_blocks_dependents() {
    let merger = vec![
        Step::Git(vec!["commit".into(), "-a".into(), "--no-edit".into()]),
        Step::Final("done".into()),
    ];
    refused_merge(NO_PLANNER, merger, "conflict markers remain in shared.txt");
}

#[test]
fn a_merger_that_does_not_conclude_the_merge_fails_it() {
    refused_merge(
        NO_PLANNER,
        vec![Step::Final("I give up".into())],
        "the merge was not concluded",
    );
}

#[test]
fn a_merge_whose_checks_fail_after_the_merger_is_refused() {
    // The check passes on every build and fails on the merger's result.
    let toml = "planner = \"never\"\nchecks = [\"test ! -f merged-marker\"]\n";
    let merger = vec![
        Step::Write {
            path: "shared.txt".into(),
            content: Some("one\ntwo\n".into()),
        },
        Step::Write {
            path: "merged-marker".into(),
            content: None,
        },
        Step::Git(vec!["add".into(), "-A".into()]),
        Step::Git(vec!["commit".into(), "--no-edit".into()]),
        Step::Final("resolved".into()),
    ];
    refused_merge(toml, merger, "test ! -f merged-marker");
}

/// The fake agent as a second backend, `other`: a `command` backend that runs the same binary
/// with `--model via-other`, so its calls can be told apart in the record.
fn with_other_backend(p: &Project, toml: &str) -> String {
    let fake = p.env.root().join("bin/claude");
    format!(
        "{toml}[backends.other]\ncommand = [{:?}, \"-p\", \"--output-format\", \"stream-json\", \"--verbose\", \"--permission-mode\", \"acceptEdits\", \"--model\", \"via-other\"]\noutput = \"claude-stream-json\"\n",
        fake.display().to_string()
    )
}

fn on_other(r: &Invocation) -> bool {
    r.argv.iter().any(|a| a == "via-other")
}

#[test]
fn a_usage_limit_pauses_only_its_backend_for_every_unit() {
    // Builders run on claude, validators on `other`. A's first builder hits claude's limit after
    // a moment; B's first builder is still at work then, and its second builder must wait for the
    // pause, while B's validation on `other` goes on during it.
    let prd = prd_of(vec![
        epic("A", &[], &["US-A"]),
        epic("B", &[], &["US-B1", "US-B2"]),
    ]);
    let script = Script::default()
        .rule(
            Match::role("builder").story("US-A").call(1),
            vec![
                Step::SleepMs(300),
                Step::UsageLimit(teams_fake_agent::UsageLimitSpec {
                    message: Some("You've hit your limit".into()),
                    resets_at: None,
                }),
            ],
        )
        .rule(
            Match::role("builder").story("US-A"),
            build(10, "A.txt", "A"),
        )
        .rule(
            Match::role("builder").story("US-B1"),
            build(700, "B1.txt", "B1"),
        )
        .rule(
            Match::role("builder").story("US-B2"),
            build(10, "B2.txt", "B2"),
        )
        .rule(Match::role("validator"), vec![verdict(true, "")]);
    let p = Project::with_prd(&prd, NO_PLANNER, &script);
    let toml = with_other_backend(
        &p,
        "planner = \"never\"\n[roles.validator]\nbackend = \"other\"\n",
    );
    p.env.write("teams.toml", toml);
    p.git(&["commit", "-q", "-am", "a second backend"]);
    const PAUSE_MS: u64 = 2500;
    let out = p
        .teams(&["run", "--parallel", "2"])
        .env("__TEAMS_BACKOFF_MS", PAUSE_MS.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("claude hit a usage or rate limit; it is paused"),
        "{}",
        describe(&out)
    );
    let runs = records(&p);
    let a_builds: Vec<&Invocation> = runs
        .iter()
        .filter(|r| r.role == "builder" && r.story == "US-A")
        .collect();
    assert_eq!(
        a_builds.len(),
        2,
        "the limited call and its retry: {:?}\n{}",
        a_builds
            .iter()
            .map(|r| (&r.rule, &r.attempt, r.start_ms, r.end_ms, r.exit_code))
            .collect::<Vec<_>>(),
        describe(&out)
    );
    let limited = a_builds[0].end_ms.unwrap();
    let retried = a_builds[1].start_ms;
    // Every claude call after the limit waited for the pause: A's retry and B's second builder.
    let later_claude: Vec<&Invocation> = runs
        .iter()
        .filter(|r| !on_other(r) && r.start_ms > limited)
        .collect();
    assert!(later_claude.iter().any(|r| r.story == "US-B2"), "{runs:#?}");
    for r in &later_claude {
        assert!(
            r.start_ms >= limited + PAUSE_MS,
            "{} {} started during claude's pause",
            r.role,
            r.story
        );
    }
    // The other backend went on meanwhile.
    assert!(
        runs.iter()
            .any(|r| on_other(r) && r.start_ms > limited && r.start_ms < retried),
        "no call on `other` during claude's pause ({limited}..{retried}): {:?}",
        runs.iter()
            .map(|r| (&r.role, &r.story, on_other(r), r.start_ms, r.end_ms))
            .collect::<Vec<_>>()
    );
    // The lost attempt does not count.
    assert_eq!(epic_of(&p.prd(), "A")["userStories"][0]["attempts"], 1);
}

#[test]
fn a_budget_reached_mid_run_stops_new_attempts_with_exit_21() {
    // Two units side by side; each builder reports $0.06 against a $0.05 budget, so whichever
    // build ends first crosses it: the other build (already running) finishes, and no validator
    // or later story starts. (One build crosses it so the order the two ends arrive in does not
    // matter; each works a second, so both have started before either ends.)
    let prd = prd_of(vec![
        epic("E1", &[], &["US-1", "US-2"]),
        epic("E2", &[], &["US-3"]),
    ]);
    let costly = |path: &str| {
        let mut steps = build(1000, path, path);
        steps.push(Step::Result(teams_fake_agent::ResultSpec {
            cost_usd: Some(0.06),
            ..Default::default()
        }));
        steps
    };
    let script = Script::default()
        .rule(Match::role("builder").story("US-1"), costly("1.txt"))
        .rule(Match::role("builder").story("US-3"), costly("3.txt"))
        .rule(Match::role("builder"), costly("other.txt"))
        .rule(Match::role("validator"), vec![verdict(true, "")]);
    let p = Project::with_prd(&prd, "planner = \"never\"\nbudget_usd = 0.05\n", &script);
    let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(21), "{}", describe(&out));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stderr.contains("the budget of $0.05 is reached ($0.06 spent); no new attempts start"),
        "{}",
        describe(&out)
    );
    assert!(stdout.contains("budget reached"), "{stdout}");
    assert!(stdout.contains("spent $0.12"), "{stdout}");
    // Spend per unit and per story in the summary.
    let line = |id: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == id))
            .unwrap_or_else(|| panic!("no {id} in {stdout}"))
            .to_owned()
    };
    assert!(line("E1").ends_with("$0.06"), "{stdout}");
    assert!(line("US-1").ends_with("$0.06"), "{stdout}");
    assert!(!line("US-2").contains('$'), "{stdout}");
    let runs = records(&p);
    assert_eq!(
        runs.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(),
        ["builder", "builder"],
        "nothing started after the budget was reached"
    );
    assert_eq!(
        run_status(&p),
        "interrupted",
        "resumable once the budget is raised"
    );
}
