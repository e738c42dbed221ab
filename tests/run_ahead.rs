//! The next unit's branch and worktree made ahead (`src/run/ahead.rs`): while the only running
//! unit builds its last story, the unit that will take its slot gets its worktree, and still
//! starts from the integration tip of its start; a run that ends before that unit starts leaves
//! nothing of it behind.

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use durable::*;
use serde_json::{Value, json};
use teams_fake_agent::{Match, Script, Step};

const NO_PLANNER: &str = "planner = \"never\"\n";

/// EPIC-1 and EPIC-2, independent, one story each.
fn two_epics() -> Value {
    json!({"project": "Proj", "epics": [
        {"id": "EPIC-1", "title": "One", "dependsOn": [], "userStories": [story("US-1", "One")]},
        {"id": "EPIC-2", "title": "Two", "dependsOn": [], "userStories": [story("US-2", "Two")]}
    ]})
}

/// US-1's builder waits for `go` before it commits; the rest passes at once.
fn held_script(go: &std::path::Path) -> Script {
    let build = |file: &str| {
        vec![
            Step::Commit {
                path: file.into(),
                content: Some(format!("{file}\n")),
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    let mut held = vec![Step::WaitFor(go.display().to_string())];
    held.extend(build("one.txt"));
    Script::default()
        .rule(Match::role("builder").story("US-1"), held)
        .rule(Match::role("builder").story("US-2"), build("two.txt"))
        .rule(Match::role("validator"), vec![verdict(true, "")])
}

const EPIC2_BRANCH: &str = "teams/proj/unit/EPIC-2";

/// A `teams run` of [`two_epics`] held in US-1's build once EPIC-2's worktree was made ahead;
/// writing the returned path lets the build go on.
fn made_ahead() -> (
    Project,
    std::process::Child,
    std::path::PathBuf,
    tempfile::TempDir,
) {
    let release = tempfile::tempdir().unwrap();
    let go = release.path().join("go");
    let p = Project::with_prd(&two_epics(), NO_PLANNER, &held_script(&go));
    let child = p.spawn(&["run"]);
    wait_until(
        || worktree_has(&p, "EPIC-2/prd.json"),
        "EPIC-2's worktree to be made ahead",
    );
    (p, child, go, release)
}

/// The integration branch moves (as another unit's merge would move it) after EPIC-2's worktree
/// was made ahead and before EPIC-2 starts: EPIC-2 still starts from the tip of its start.
#[test]
fn a_unit_made_ahead_starts_from_the_integration_tip_of_its_start() {
    let (p, child, go, _release) = made_ahead();
    assert!(
        p.calls().iter().all(|(_, story)| story != "US-2"),
        "made ahead, not started"
    );
    // A commit lands on the integration branch meanwhile.
    let tip = p.git(&["rev-parse", INTEGRATION]);
    let tree = p.git(&["rev-parse", &format!("{tip}^{{tree}}")]);
    let moved = p.git(&["commit-tree", &tree, "-p", &tip, "-m", "landed meanwhile"]);
    p.git(&[
        "update-ref",
        &format!("refs/heads/{INTEGRATION}"),
        &moved,
        &tip,
    ]);
    std::fs::write(&go, "").unwrap();
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // EPIC-2's branch holds the commit that landed before it started, and its own.
    let first_of_epic2 = p.git(&["rev-list", "--reverse", &format!("{moved}..{EPIC2_BRANCH}")]);
    let first = first_of_epic2.lines().next().expect("EPIC-2 made a commit");
    assert_eq!(p.git(&["rev-parse", &format!("{first}^")]), moved);
    assert_eq!(
        p.git(&["show", &format!("{INTEGRATION}:two.txt")]),
        "two.txt"
    );
    assert_eq!(
        p.git(&["show", &format!("{INTEGRATION}:one.txt")]),
        "one.txt"
    );
    for epic in p.prd()["epics"].as_array().unwrap() {
        assert_eq!(epic["status"], "completed", "{epic}");
    }
}

/// Ctrl-C while EPIC-1 builds, after EPIC-2's worktree was made ahead: the run stops, EPIC-2's
/// worktree and its empty branch are gone, and resume runs both epics.
#[test]
fn a_unit_made_ahead_that_never_starts_leaves_nothing_behind() {
    let (p, child, go, _release) = made_ahead();
    sigint(&child);
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(20), "{}", describe(&out));
    assert!(!worktree_has(&p, "EPIC-2"), "EPIC-2's worktree is left");
    assert!(
        p.git(&["branch", "--list", EPIC2_BRANCH]).is_empty(),
        "EPIC-2's empty branch is left"
    );
    std::fs::write(&go, "").unwrap();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    for epic in p.prd()["epics"].as_array().unwrap() {
        assert_eq!(epic["status"], "completed", "{epic}");
    }
}
