//! Merging into the integration branch without a checkout of it (`src/run/merge.rs`): merges are
//! made in memory by `git merge-tree --write-tree` and `git commit-tree`, the branch moves only
//! while nobody has it checked out, and an older git that lacks `--write-tree` still merges, in a
//! worktree of the integration branch as before. Every git command `teams` and the agents run
//! goes through a logging wrapper placed first on `PATH`, which can also play an old git.

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/units.rs"]
mod units;

use std::path::{Path, PathBuf};

use durable::*;
use serde_json::json;
use teams_fake_agent::{Match, Script, Step};
use units::*;

const NO_PLANNER: &str = "planner = \"never\"\n";

/// A `git` first on `PATH` that logs its arguments and runs the real one; with `old` set it
/// answers `merge-tree --write-tree` the way git before 2.38 does (a usage error, exit 129; git
/// before 2.42 answers `--attr-source` the same way).
struct GitWrapper {
    dir: PathBuf,
    log: PathBuf,
}

impl GitWrapper {
    fn install(p: &Project, old: bool) -> GitWrapper {
        let real = String::from_utf8(
            std::process::Command::new("sh")
                .args(["-c", "command -v git"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let dir = p.env.root().join("git-wrapper");
        std::fs::create_dir_all(&dir).unwrap();
        let log = p.env.root().join("git-calls.log");
        let old_git = if old {
            r#"for a in "$@"; do
  if [ "$a" = "--write-tree" ]; then echo "error: unknown option \`write-tree'" >&2; exit 129; fi
done
"#
        } else {
            ""
        };
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n{old_git}exec '{}' \"$@\"\n",
            log.display(),
            real.trim()
        );
        let path = dir.join("git");
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        GitWrapper { dir, log }
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn run(&self, p: &Project, args: &[&str]) -> std::process::Output {
        let path = std::env::join_paths(std::iter::once(self.dir.clone()).chain(
            std::env::split_paths(&fake_agent::path_with(&p.env.root().join("bin"))),
        ))
        .unwrap();
        p.teams(args).env("PATH", path).output().unwrap()
    }
}

/// (subject, number of parents) of every merge commit on the integration branch.
fn merge_commits(p: &Project) -> Vec<(String, usize)> {
    p.git(&["log", "--merges", "--format=%P%x09%s", INTEGRATION])
        .lines()
        .map(|line| {
            let (parents, subject) = line.split_once('\t').unwrap();
            (subject.to_owned(), parents.split_whitespace().count())
        })
        .collect()
}

fn assert_merged_run(p: &Project, out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", describe(out));
    for epic in p.prd()["epics"].as_array().unwrap() {
        assert_eq!(epic["status"], "completed", "{epic}");
    }
    assert_eq!(
        p.git(&["show", &format!("{INTEGRATION}:shared.txt")]),
        "one\ntwo"
    );
    assert_eq!(
        p.git(&["show", &format!("{INTEGRATION}:three.txt")]),
        "three"
    );
    // Two units merged by git, one (whichever came second of EPIC-1 and EPIC-2) by the merger,
    // every merge with both parents.
    let merges = merge_commits(p);
    assert_eq!(merges.len(), 3, "{merges:?}");
    assert!(
        merges.iter().all(|(_, parents)| *parents == 2),
        "{merges:?}"
    );
    let by_git = merges
        .iter()
        .filter(|(s, _)| s.starts_with("teams: merge EPIC-"))
        .count();
    let by_merger = merges
        .iter()
        .filter(|(s, _)| s == "teams: merge, both kept")
        .count();
    assert_eq!((by_git, by_merger), (2, 1), "{merges:?}");
    assert!(
        merges
            .iter()
            .any(|(s, _)| s == "teams: merge EPIC-3 Epic EPIC-3")
    );
    // The user's checkout is untouched and no worktree is left.
    assert!(
        p.git(&["status", "--porcelain"])
            .lines()
            .all(|l| l.ends_with("prd.json"))
    );
    assert_eq!(p.git(&["worktree", "list"]).lines().count(), 1);
}

fn integration_checkouts(calls: &[String]) -> Vec<&String> {
    calls
        .iter()
        .filter(|c| c.contains("worktree add") && c.ends_with(INTEGRATION))
        .collect()
}

#[test]
fn merges_are_made_without_a_checkout_of_the_integration_branch() {
    let p = Project::with_prd(
        &conflicting_prd(),
        NO_PLANNER,
        &conflicting_script(resolving_merger()),
    );
    let git = GitWrapper::install(&p, false);
    let out = git.run(&p, &["run", "--parallel", "2"]);
    assert_merged_run(&p, &out);
    let calls = git.calls();
    assert!(
        integration_checkouts(&calls).is_empty(),
        "the integration branch was checked out: {:?}",
        integration_checkouts(&calls)
    );
    assert!(
        calls.iter().any(|c| c.contains("merge-tree --write-tree")),
        "{calls:#?}"
    );
    // The merge commits' parents are in `git merge` order: the integration tip, then the unit.
    let epic3_parent = p.git(&["rev-parse", &format!("{INTEGRATION}^2")]);
    assert_eq!(
        epic3_parent,
        p.git(&["rev-parse", "teams/proj/unit/EPIC-3"]),
        "the second parent of the last merge is the unit's tip"
    );
}

#[test]
fn a_git_without_merge_tree_write_tree_merges_in_a_worktree_as_before() {
    let p = Project::with_prd(
        &conflicting_prd(),
        NO_PLANNER,
        &conflicting_script(resolving_merger()),
    );
    let git = GitWrapper::install(&p, true);
    let out = git.run(&p, &["run", "--parallel", "2"]);
    assert_merged_run(&p, &out);
    let calls = git.calls();
    assert_eq!(
        integration_checkouts(&calls).len(),
        1,
        "one worktree of the integration branch for the run: {calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.contains("merge --no-ff")),
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.contains("merge --ff-only")),
        "{calls:#?}"
    );
}

/// Someone checks the integration branch out during the run: `teams` does not move it under
/// them; the unit is `merge-failed`, its branch kept, and the reason names the checkout.
#[test]
fn an_integration_branch_checked_out_during_the_run_is_not_moved() {
    let release = tempfile::tempdir().unwrap();
    let go = release.path().join("go");
    let script = Script::default()
        .rule(
            Match::role("builder").story("US-1"),
            vec![
                Step::WaitFor(go.display().to_string()),
                Step::Commit {
                    path: "one.txt".into(),
                    content: Some("one\n".into()),
                    message: None,
                },
                Step::Final(HANDOFF.into()),
            ],
        )
        .rule(Match::role("validator"), vec![verdict(true, "")]);
    let prd = json!({"project": "Proj", "epics": [
        {"id": "EPIC-1", "title": "One", "dependsOn": [], "userStories": [story("US-1", "One")]}
    ]});
    let p = Project::with_prd(&prd, NO_PLANNER, &script);
    let child = p.spawn(&["run"]);
    // Once the builder is under way, teams makes the validator checkout in the background; a
    // `git worktree add` of ours while git writes that one's files could read them half-written.
    wait_until(
        || worktree_has(&p, "EPIC-1@validator/prd.json"),
        "the builder to start and its validator checkout to be made",
    );
    let theirs = p.env.root().join("their-checkout");
    p.git(&["worktree", "add", "-q", path_str(&theirs), INTEGRATION]);
    let before = p.git(&["rev-parse", INTEGRATION]);
    std::fs::write(&go, "").unwrap();
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(10), "{}", describe(&out));
    let epic = &p.prd()["epics"][0];
    assert_eq!(epic["status"], "merge-failed", "{epic}");
    let reason = epic["failureReason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("is checked out at") && reason.contains("their-checkout"),
        "{epic}"
    );
    assert_eq!(
        p.git(&["rev-parse", INTEGRATION]),
        before,
        "the branch moved"
    );
    assert!(
        !p.git(&["branch", "--list", "teams/proj/unit/EPIC-1"])
            .is_empty(),
        "the unit branch is kept"
    );
    assert!(p.env.root().join("their-checkout/.git").exists());
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A merge reads `.gitattributes` from the integration branch, as `git merge` in a checkout of it
/// would (not from the user's own checkout, here the base without the file): both units add the
/// same `shared.txt merge=union` and different `shared.txt` lines, so whichever merges second
/// finds the attribute on the integration branch and merges cleanly, both lines kept, no merger.
#[test]
fn merges_read_gitattributes_from_the_integration_branch() {
    let union = |line: &str| {
        vec![
            Step::Commit {
                path: ".gitattributes".into(),
                content: Some("shared.txt merge=union\n".into()),
                message: None,
            },
            Step::Commit {
                path: "shared.txt".into(),
                content: Some(format!("{line}\n")),
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ]
    };
    let script = Script::default()
        .rule(Match::role("builder").story("US-1"), union("one"))
        .rule(Match::role("builder").story("US-2"), union("two"))
        .rule(Match::role("validator"), vec![verdict(true, "")])
        .rule(Match::role("merger"), vec![Step::Exit(1)]);
    let prd = prd_of(vec![
        epic("EPIC-1", &[], &["US-1"]),
        epic("EPIC-2", &[], &["US-2"]),
    ]);
    let p = Project::with_prd(&prd, NO_PLANNER, &script);
    let out = p.teams(&["run", "--parallel", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let shared = p.git(&["show", &format!("{INTEGRATION}:shared.txt")]);
    let mut lines: Vec<&str> = shared.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["one", "two"], "{shared}");
    assert!(
        p.calls().iter().all(|(role, _)| role != "merger"),
        "no merger: {:?}",
        p.calls()
    );
}
