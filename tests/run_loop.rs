//! End-to-end tests of `teams run` with the fake agent on real temporary repositories: the
//! pushback rule, verification against git, write-back, merges and blocked dependents.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use std::process::Output;

use common::TestEnv;
use serde_json::{Value, json};
use teams_fake_agent::{Invocation, Match, Script, Step, UsageLimitSpec, read_invocations};

/// A repository with a PRD, the fake agent installed as `claude`, and a script for it.
struct Project {
    env: TestEnv,
    initial: String,
}

const HANDOFF: &str = "done: the change; evidence: ran the tests; risk: low; next: nothing";

impl Project {
    fn new(prd: Value, toml: &str, script: Script) -> Project {
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

    fn run(&self, args: &[&str]) -> Output {
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

    fn prd(&self) -> Value {
        serde_json::from_slice(&self.env.read("prd.json")).unwrap()
    }

    fn story(&self, id: &str) -> Value {
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

    fn epic(&self, id: &str) -> Value {
        let prd = self.prd();
        prd["epics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap()
    }

    fn git(&self, args: &[&str]) -> String {
        run_git(&self.env, args)
    }

    fn git_ok(&self, args: &[&str]) -> bool {
        self.env
            .command("git")
            .args(args)
            .status()
            .unwrap()
            .success()
    }

    fn records(&self) -> Vec<Invocation> {
        read_invocations(&self.env.root().join("record.jsonl"))
            .unwrap()
            .into_iter()
            .filter(|r| r.mode == "print")
            .collect()
    }

    fn prompts(&self, role: &str, story: &str) -> Vec<String> {
        self.records()
            .into_iter()
            .filter(|r| r.role == role && r.story == story)
            .map(|r| r.prompt)
            .collect()
    }

    /// The user's checkout is as it was, apart from `prd.json` (which `teams` writes back).
    fn assert_user_checkout_untouched(&self) {
        assert_eq!(self.git(&["rev-parse", "main"]), self.initial);
        assert_eq!(self.git(&["symbolic-ref", "--short", "HEAD"]), "main");
        let status = self.git(&["status", "--porcelain"]);
        assert!(
            status.is_empty() || status == "M prd.json",
            "unexpected changes in the user's checkout: {status:?}"
        );
    }

    /// Whether a file exists at the tip of `rev`.
    fn has_file(&self, rev: &str, path: &str) -> bool {
        self.git_ok(&["cat-file", "-e", &format!("{rev}:{path}")])
    }
}

fn run_git(env: &TestEnv, args: &[&str]) -> String {
    let out = env.command("git").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn story(id: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "description": format!("{title}."),
           "acceptanceCriteria": [format!("{id} works")], "passes": false})
}

/// Two epics: EPIC-1 (US-1, US-2) and EPIC-2 (US-3), which depends on EPIC-1.
fn two_epics() -> Value {
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

const NO_PLANNER: &str = "planner = \"never\"\n";

fn builds(path: &str) -> Vec<Step> {
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

fn verdict(pass: bool, feedback: &str) -> Vec<Step> {
    vec![Step::Verdict(json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": [{"criterion": "it works", "met": pass, "evidence": "read the diff"}],
        "feedback": feedback,
    }))]
}

/// Every builder commits `<story>.txt`; every validator passes.
fn happy_script() -> Script {
    let mut script = Script::default();
    for id in ["US-1", "US-2", "US-3"] {
        script = script.rule(
            Match::role("builder").story(id),
            builds(&format!("{id}.txt")),
        );
    }
    script.rule(Match::role("validator"), verdict(true, ""))
}

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
