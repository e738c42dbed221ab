//! End-to-end tests of `teams run` with the fake agent on real temporary repositories: the
//! pushback rule, verification against git, write-back, merges and blocked dependents.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/run_project.rs"]
mod run_project;

use run_project::*;
use serde_json::json;
use teams_fake_agent::{Match, Script, Step, UsageLimitSpec};

#[test]
fn every_story_passes_is_recorded_and_merged() {
    let p = Project::new(two_epics(), NO_PLANNER, happy_script());
    let out = p.run(&[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("DONE: 3/3 stories passed"), "{stdout}");

    let integration = "teams/proj/main";
    for id in ["US-1", "US-2", "US-3"] {
        let s = p.story(id);
        assert_eq!(s["passes"], true, "{s}");
        assert_eq!(s["attempts"], 1, "{s}");
        let sha = s["commitSha"].as_str().unwrap();
        assert!(p.git_ok(&["merge-base", "--is-ancestor", sha, integration]));
        assert!(p.has_file(integration, &format!("{id}.txt")));
    }
    assert_eq!(p.epic("EPIC-1")["status"], "completed");
    assert_eq!(p.epic("EPIC-2")["status"], "completed");
    let merges = p.git(&["log", "--merges", "--format=%s", integration]);
    assert_eq!(
        merges,
        "teams: merge EPIC-2 Second\nteams: merge EPIC-1 First"
    );
    p.assert_user_checkout_untouched();
    // Only the user's worktree is left; the unit branches stay.
    assert_eq!(
        p.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert!(p.git_ok(&["rev-parse", "--verify", "teams/proj/unit/EPIC-1"]));

    // Builders work in their unit's worktree, validators in a checkout of their own.
    let records = p.records();
    let builder = records.iter().find(|r| r.role == "builder").unwrap();
    let validator = records.iter().find(|r| r.role == "validator").unwrap();
    assert!(builder.cwd.ends_with("/EPIC-1"), "{}", builder.cwd);
    assert_ne!(builder.cwd, validator.cwd);
    assert_eq!(builder.env["TEAMS_ROLE"], "builder");
    assert_eq!(builder.env["TEAMS_STORY_ID"], "US-1");
    assert_eq!(builder.env["TEAMS_ATTEMPT"], "1");

    // The validator gets the criteria and the diff, never the builder's reasoning or handoff.
    let validator_prompt = &p.prompts("validator", "US-1")[0];
    assert!(validator_prompt.contains("US-1 works"));
    assert!(validator_prompt.contains("content of US-1.txt"));
    assert!(!validator_prompt.contains("SECRET-REASONING"));
    assert!(!validator_prompt.contains("ran the tests"));
    // Later builders of the unit get the earlier handoffs.
    assert!(p.prompts("builder", "US-2")[0].contains(HANDOFF));

    let progress = String::from_utf8(p.env.read(".teams/progress.md")).unwrap();
    assert_eq!(progress.matches("\n## US-").count(), 3, "{progress}");
    assert!(progress.contains("`US-1.txt`"));
    assert!(progress.contains(HANDOFF));
}

#[test]
fn a_failed_validation_goes_back_to_a_fresh_builder_with_the_feedback() {
    let script = Script::default()
        .rule(
            Match::role("builder").story("US-1").attempt(1),
            builds("US-1.txt"),
        )
        .rule(
            Match::role("builder").story("US-1").attempt(2),
            builds("US-1-fix.txt"),
        )
        .rule(
            Match::role("validator").story("US-1").attempt(1),
            verdict(false, "FEEDBACK-XYZ: handle the empty case"),
        )
        .rule(Match::role("builder"), builds("other.txt"))
        .rule(Match::role("validator"), verdict(true, ""));
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One")]}]});
    let p = Project::new(prd, NO_PLANNER, script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let prompts = p.prompts("builder", "US-1");
    assert_eq!(prompts.len(), 2);
    assert!(!prompts[0].contains("FEEDBACK-XYZ"));
    assert!(prompts[1].contains("FEEDBACK-XYZ: handle the empty case"));
    let s = p.story("US-1");
    assert_eq!(s["passes"], true);
    assert_eq!(s["attempts"], 2);
    // Attempt 2 built on attempt 1, and the validator saw the story's whole change.
    let sha = s["commitSha"].as_str().unwrap();
    assert!(p.has_file(sha, "US-1.txt") && p.has_file(sha, "US-1-fix.txt"));
    let second = &p.prompts("validator", "US-1")[1];
    assert!(second.contains("content of US-1.txt") && second.contains("content of US-1-fix.txt"));
    // The failed attempt is kept.
    assert!(p.git_ok(&["rev-parse", "--verify", "refs/teams/failed/US-1/1"]));
}

#[test]
fn two_failures_reset_the_story_keep_the_attempts_and_block_dependents() {
    let script = Script::default()
        .rule(
            Match::role("builder").story("US-1").attempt(1),
            builds("US-1.txt"),
        )
        .rule(
            Match::role("builder").story("US-1").attempt(2),
            builds("US-1-fix.txt"),
        )
        .rule(Match::role("builder").story("US-2"), builds("US-2.txt"))
        .rule(
            Match::role("validator").story("US-1"),
            verdict(false, "FEEDBACK: the criterion is not met"),
        )
        .rule(Match::role("validator"), verdict(true, ""));
    let p = Project::new(two_epics(), NO_PLANNER, script);
    let out = p.run(&[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(10),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("DONE: 1/3 stories passed"), "{stdout}");

    let s = p.story("US-1");
    assert_eq!(s["passes"], false);
    assert_eq!(s["attempts"], 2);
    assert!(s.get("commitSha").is_none(), "{s}");
    let reason = s["failureReason"].as_str().unwrap();
    assert!(
        reason.contains("FEEDBACK: the criterion is not met"),
        "{reason}"
    );
    // Both failed attempts are kept; the branch went back to where the story started.
    for n in [1, 2] {
        assert!(p.git_ok(&[
            "rev-parse",
            "--verify",
            &format!("refs/teams/failed/US-1/{n}")
        ]));
    }
    assert!(!p.has_file("teams/proj/unit/EPIC-1", "US-1.txt"));
    assert!(!p.has_file("teams/proj/unit/EPIC-1", "US-1-fix.txt"));
    assert!(p.has_file("teams/proj/unit/EPIC-1", "US-2.txt"));
    assert!(p.has_file("teams/proj/main", "US-2.txt"));
    assert!(!p.has_file("teams/proj/main", "US-1.txt"));

    let first = p.epic("EPIC-1");
    assert_eq!(first["status"], "partial");
    assert!(first["failureReason"].as_str().unwrap().contains("US-1"));
    let second = p.epic("EPIC-2");
    assert_eq!(second["status"], "blocked");
    assert_eq!(
        second["failureReason"],
        "blocked: dependency EPIC-1 is partial"
    );
    // The blocked epic's agents never ran.
    assert!(p.records().iter().all(|r| r.unit != "EPIC-2"));
    p.assert_user_checkout_untouched();

    // A second run does not spend money repeating the failure: failed stories wait for a reset.
    let before = p.records().len();
    let again = p.run(&[]);
    assert_eq!(again.status.code(), Some(10));
    assert_eq!(p.records().len(), before);

    // `teams reset` is the explicit retry: the story runs again from a clean slate.
    let reset = p.env.teams().args(["reset", "US-1"]).output().unwrap();
    assert_eq!(reset.status.code(), Some(0), "{}", text(&reset.stderr));
    let s = p.story("US-1");
    assert!(
        s.get("attempts").is_none() && s["failureReason"].is_null(),
        "{s}"
    );
    assert_eq!(p.epic("EPIC-1")["status"], "pending");
    let third = p.run(&[]);
    assert_eq!(third.status.code(), Some(10));
    assert_eq!(p.prompts("builder", "US-1").len(), 4);
    assert_eq!(p.story("US-1")["attempts"], 2);
    let unknown = p
        .env
        .teams()
        .args(["reset", "US-9", "US-1"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no epic or story `US-9`"));
}

/// One builder misbehaviour, repeated on both attempts (each attempt's steps from `builder`, so
/// attempt 2 can build on attempt 1), and the reason it must produce.
fn assert_builder_fault(builder: impl Fn(u32) -> Vec<Step>, toml: &str, expected: &str) {
    let script = Script::default()
        .rule(Match::role("builder").attempt(1), builder(1))
        .rule(Match::role("builder").attempt(2), builder(2))
        .rule(Match::role("validator"), verdict(true, ""));
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One")]}]});
    let p = Project::new(prd, &format!("{NO_PLANNER}{toml}"), script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let s = p.story("US-1");
    assert_eq!(s["passes"], false, "{s}");
    assert_eq!(s["attempts"], 2, "{s}");
    let reason = s["failureReason"].as_str().unwrap();
    assert!(
        reason.contains(expected),
        "expected {expected:?} in {reason:?}"
    );
    assert_eq!(p.epic("EPIC-1")["status"], "failed");
    // Nothing of the failed work reached the unit or integration branch; the user's is intact.
    for rev in ["teams/proj/unit/EPIC-1", "teams/proj/main"] {
        assert_eq!(p.git(&["rev-parse", rev]), p.initial, "{rev} moved");
    }
    p.assert_user_checkout_untouched();
    // The validator never ran on work that failed verification.
    if !expected.contains("validator") {
        assert!(p.records().iter().all(|r| r.role != "validator"));
    }
}

#[test]
fn a_builder_that_commits_nothing_fails_its_attempts() {
    assert_builder_fault(|_| vec![Step::Final(HANDOFF.into())], "", "made no commit");
}

#[test]
fn a_builder_that_leaves_uncommitted_work_fails_its_attempts() {
    let steps = |n: u32| {
        vec![
            Step::Commit {
                path: format!("a{n}.txt"),
                content: None,
                message: None,
            },
            Step::Write {
                path: "scratch.txt".into(),
                content: None,
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    assert_builder_fault(
        steps,
        "",
        "left uncommitted or untracked files: `scratch.txt`",
    );
}

#[test]
fn a_builder_that_only_writes_files_is_told_to_commit() {
    let steps = |_| {
        vec![
            Step::Write {
                path: "a.txt".into(),
                content: None,
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    assert_builder_fault(
        steps,
        "",
        "made no commit on `teams/proj/unit/EPIC-1` and left uncommitted changes in `a.txt`",
    );
}

#[test]
fn a_builder_that_touches_the_prd_fails_its_attempts() {
    let steps = |_| {
        vec![
            Step::Commit {
                path: "a.txt".into(),
                content: None,
                message: None,
            },
            Step::TouchProtected {
                path: Some("prd.json".into()),
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    assert_builder_fault(steps, "", "changed `prd.json`, which only teams may change");
}

/// Attempt 1 touches `prd.json` but is rejected for a dirty tree first, so its commits stay for
/// attempt 2; the protected-path check covers the whole story's change, so attempt 2 cannot pass
/// with them.
#[test]
fn a_protected_change_kept_from_a_dirty_attempt_still_fails() {
    let steps = |n| {
        if n == 1 {
            vec![
                Step::TouchProtected {
                    path: Some("prd.json".into()),
                },
                Step::Write {
                    path: "left-behind.txt".into(),
                    content: None,
                },
                Step::Final(HANDOFF.into()),
            ]
        } else {
            builds("a.txt")
        }
    };
    assert_builder_fault(steps, "", "changed `prd.json`, which only teams may change");
}

#[test]
fn a_builder_that_commits_on_another_branch_fails_its_attempts() {
    let steps = |n: u32| {
        vec![
            Step::Git(vec![
                "checkout".into(),
                "-q".into(),
                "-b".into(),
                format!("elsewhere-{n}"),
            ]),
            Step::Commit {
                path: "a.txt".into(),
                content: None,
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    assert_builder_fault(
        steps,
        "",
        "on branch `elsewhere-2` instead of the unit branch",
    );
}

#[test]
fn a_builder_that_crashes_fails_its_attempts() {
    let steps = |_| {
        vec![
            Step::Commit {
                path: "a.txt".into(),
                content: None,
                message: None,
            },
            Step::Exit(3),
        ]
    };
    assert_builder_fault(steps, "", "the builder crashed (exit code 3)");
}

#[test]
fn a_failing_check_fails_the_attempt_with_its_output() {
    let toml = "checks = [\"test -f never-there || { echo CHECK-OUTPUT-42; exit 1; }\"]\n";
    assert_builder_fault(|n| builds(&format!("a{n}.txt")), toml, "CHECK-OUTPUT-42");
}

#[test]
fn auto_commit_commits_a_builders_leftovers() {
    let script = Script::default()
        .rule(
            Match::role("builder"),
            vec![
                Step::Write {
                    path: "a.txt".into(),
                    content: None,
                },
                Step::Final(HANDOFF.into()),
            ],
        )
        .rule(Match::role("validator"), verdict(true, ""));
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One")]}]});
    let p = Project::new(prd, &format!("{NO_PLANNER}auto_commit = true\n"), script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(p.has_file("teams/proj/main", "a.txt"));
}

#[test]
fn an_attempt_lost_to_a_usage_limit_is_not_counted() {
    let script = Script::default()
        .rule(
            Match::role("builder").attempt(1).call(1),
            vec![Step::UsageLimit(UsageLimitSpec {
                message: None,
                resets_at: Some(1),
            })],
        )
        .rule(Match::role("builder"), builds("a.txt"))
        .rule(Match::role("validator"), verdict(true, ""));
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One")]}]});
    let p = Project::new(prd, NO_PLANNER, script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(p.story("US-1")["attempts"], 1);
    assert_eq!(p.prompts("builder", "US-1").len(), 2);
    assert!(text(&out.stderr).contains("usage or rate limit"));
}

#[test]
fn a_planner_writes_the_plan_and_builders_get_their_section() {
    let script = Script::default()
        .rule(
            Match::role("planner"),
            vec![Step::Final(
                "# Plan\n\n## US-1: One\n\nPLAN-FOR-US-1\n\n## US-2: Two\n\nPLAN-FOR-US-2\n".into(),
            )],
        )
        .rule(Match::role("builder").story("US-1"), builds("US-1.txt"))
        .rule(Match::role("builder").story("US-2"), builds("US-2.txt"))
        .rule(Match::role("validator"), verdict(true, ""));
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One"), story("US-2", "Two")]}]});
    let p = Project::new(prd, "planner = \"always\"\n", script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(p.epic("EPIC-1")["planned"], true);
    let plan = String::from_utf8(p.env.read(".teams/plans/plan-EPIC-1.md")).unwrap();
    assert!(plan.contains("PLAN-FOR-US-2"));
    let first = &p.prompts("builder", "US-1")[0];
    assert!(first.contains("PLAN-FOR-US-1") && !first.contains("PLAN-FOR-US-2"));
}

#[test]
fn land_fast_forwards_the_base_and_keeps_the_recorded_results() {
    let p = Project::new(
        two_epics(),
        &format!("{NO_PLANNER}backend = \"sim\"\n"),
        Script::default(),
    );
    let out = p.run(&["--land"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("landed"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        p.git(&["rev-parse", "main"]),
        p.git(&["rev-parse", "teams/proj/main"])
    );
    // The checkout moved with its branch; the results teams wrote are still there.
    assert!(p.env.repo().join("sim/US-3.txt").exists());
    assert_eq!(p.git(&["status", "--porcelain"]), "M prd.json");
    assert_eq!(p.story("US-3")["passes"], true);
}
