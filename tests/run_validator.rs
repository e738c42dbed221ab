//! End-to-end tests of the validator's side of `teams run` with the fake agent: the verdict and
//! its re-ask, and the validator's own checkout (read-only in effect, shared by a unit's
//! validators, restored between them, removed with the unit).

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/run_project.rs"]
mod run_project;

use run_project::*;
use serde_json::{Value, json};
use teams_fake_agent::{Match, Script, Step};

#[test]
fn a_validator_without_a_verdict_is_asked_once_more_then_fails_the_attempt() {
    let script = Script::default()
        .rule(Match::role("builder").attempt(1), builds("a1.txt"))
        .rule(Match::role("builder").attempt(2), builds("a2.txt"))
        .rule(
            Match::role("validator"),
            vec![Step::Final("Looks fine to me.".into())],
        );
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One")]}]});
    let p = Project::new(prd, NO_PLANNER, script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(10));
    let s = p.story("US-1");
    assert_eq!(s["failureReason"], "validator gave no verdict");
    assert_eq!(s["attempts"], 2);
    // Two attempts, each with the validator asked twice.
    let validators = p.prompts("validator", "US-1");
    assert_eq!(validators.len(), 4);
    assert!(
        validators[1].len() > validators[0].len(),
        "the re-ask says what was wrong"
    );
}

#[test]
fn what_a_validator_changes_is_discarded() {
    let script = Script::default()
        .rule(Match::role("builder"), builds("a.txt"))
        .rule(
            Match::role("validator"),
            vec![
                Step::Commit { path: "validator-was-here.txt".into(), content: None, message: None },
                Step::Write { path: "scratch.txt".into(), content: None },
                Step::Verdict(json!({"verdict": "pass",
                    "criteria": [{"criterion": "c", "met": true, "evidence": "e"}], "feedback": ""})),
            ],
        );
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One")]}]});
    let p = Project::new(prd, NO_PLANNER, script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(p.has_file("teams/proj/main", "a.txt"));
    assert!(!p.has_file("teams/proj/main", "validator-was-here.txt"));
    assert_eq!(
        p.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
}

/// A unit's validators share one checkout, forced onto each story's commit with nothing of the
/// previous validation left; it goes when the unit ends, also when the unit stops on a fatal
/// error in the middle of a validation.
#[test]
fn validators_share_one_checkout_that_goes_when_the_unit_stops() {
    let scribble = vec![
        Step::Commit {
            path: "validator-was-here.txt".into(),
            content: None,
            message: None,
        },
        Step::Write {
            path: "scratch.txt".into(),
            content: None,
        },
        Step::Git(vec![
            "checkout".into(),
            "-q".into(),
            "-b".into(),
            "validator-branch".into(),
        ]),
        Step::Verdict(json!({"verdict": "pass",
            "criteria": [{"criterion": "c", "met": true, "evidence": "e"}], "feedback": ""})),
    ];
    let script = Script::default()
        .rule(Match::role("builder").story("US-1"), builds("a.txt"))
        .rule(Match::role("builder").story("US-2"), builds("b.txt"))
        .rule(Match::role("validator").story("US-1"), scribble)
        .rule(
            Match::role("validator").story("US-2"),
            vec![Step::NotLoggedIn],
        );
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One"), story("US-2", "Two")]}]});
    let p = Project::new(prd, NO_PLANNER, script);
    let out = p.run(&[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(p.story("US-1")["passes"], true);
    assert_ne!(p.story("US-2")["passes"], true);

    let records = p.records();
    let validators: Vec<_> = records.iter().filter(|r| r.role == "validator").collect();
    assert_eq!(validators.len(), 2);
    assert_eq!(
        validators[0].cwd, validators[1].cwd,
        "one checkout per unit"
    );
    assert!(
        validators[0].cwd.ends_with("/EPIC-1@validator"),
        "{}",
        validators[0].cwd
    );
    assert!(!std::path::Path::new(&validators[0].cwd).exists());
    let list = p.git(&["worktree", "list", "--porcelain"]);
    assert!(!list.contains("@validator"), "{list}");
    // The branch the validator made stays (git branches are shared), the unit branch has only
    // the builders' work.
    assert!(!p.has_file("teams/proj/unit/EPIC-1", "validator-was-here.txt"));
}

/// Between validations the checkout is restored in the background and moved ahead while the
/// build is verified (`src/run/validator_checkout.rs`): each later validator still sees exactly
/// its commit, however the one before left the checkout (a commit on a new branch, a changed
/// tracked file, untracked and ignored files).
#[test]
fn every_validator_sees_exactly_its_commit_however_the_last_one_left_the_checkout() {
    // git branches are shared between worktrees: each scribbler makes its own.
    let scribble = |branch: &str| {
        vec![
            Step::Write {
                path: "a.txt".into(),
                content: Some("changed by a validator\n".into()),
            },
            Step::Write {
                path: "scratch.txt".into(),
                content: None,
            },
            Step::Write {
                path: "ignored/out.bin".into(),
                content: None,
            },
            Step::Git(vec![
                "checkout".into(),
                "-q".into(),
                "-b".into(),
                branch.into(),
            ]),
            Step::Commit {
                path: "validator-was-here.txt".into(),
                content: None,
                message: None,
            },
            Step::Write {
                path: "scratch-2.txt".into(),
                content: None,
            },
        ]
    };
    let look = || {
        let mut steps = vec![
            Step::Git(vec![
                "status".into(),
                "--porcelain=v1".into(),
                "--ignored".into(),
                "--untracked-files=all".into(),
            ]),
            Step::Git(vec!["rev-parse".into(), "HEAD".into()]),
            Step::Git(vec!["ls-files".into()]),
        ];
        steps.extend(verdict(true, ""));
        steps
    };
    let mut first_validator = look();
    first_validator.splice(0..0, scribble("validator-1"));
    let mut second_validator = look();
    second_validator.splice(3..3, scribble("validator-2"));
    let script = Script::default()
        .rule(
            Match::role("builder").story("US-1"),
            vec![
                Step::Commit {
                    path: ".gitignore".into(),
                    content: Some("ignored/\n".into()),
                    message: None,
                },
                Step::Commit {
                    path: "a.txt".into(),
                    content: Some("a\n".into()),
                    message: None,
                },
                Step::Final(HANDOFF.into()),
            ],
        )
        .rule(Match::role("builder").story("US-2"), builds("b.txt"))
        .rule(Match::role("builder").story("US-3"), builds("c.txt"))
        .rule(Match::role("validator").story("US-1"), first_validator)
        .rule(Match::role("validator").story("US-2"), second_validator)
        .rule(Match::role("validator").story("US-3"), look());
    let prd = json!({"project": "Proj", "epics": [{"id": "EPIC-1", "title": "First",
        "userStories": [story("US-1", "One"), story("US-2", "Two"), story("US-3", "Three")]}]});
    let p = Project::new(prd, NO_PLANNER, script);
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let run = std::fs::read_dir(p.env.repo().join(".teams/logs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for id in ["US-2", "US-3"] {
        let log =
            std::fs::read_to_string(run.join(format!("EPIC-1/{id}.validator.1.log"))).unwrap();
        let results: Vec<String> = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "user")
            .filter_map(|v| {
                v["message"]["content"][0]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        assert!(results.len() >= 3, "{id}: {results:?}");
        let commit = p.story(id)["commitSha"].as_str().unwrap().to_owned();
        assert_eq!(
            results[0].trim(),
            "",
            "{id}: nothing but the commit's files"
        );
        assert_eq!(results[1].trim(), commit, "{id}: on the validated commit");
        let tracked = p.git(&["ls-tree", "-r", "--name-only", &commit]);
        assert_eq!(results[2].trim(), tracked.trim(), "{id}: exactly its files");
        assert!(!results[2].contains("validator-was-here"), "{id}");
    }
    assert!(!p.has_file("teams/proj/main", "validator-was-here.txt"));
    assert_eq!(
        p.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
}
