//! Durable runs beyond the kill points (spec §6, §2): real SIGINT once and twice, the lock, `teams
//! status`/`logs`/`clean`/`reset` around an interrupted run, and inputs changed or damaged between
//! a crash and `teams resume` (a deleted worktree, a branch moved by hand, stories added and
//! removed, damaged, foreign and newer stores).

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use durable::*;
use serde_json::{Value, json};
use teams::store::Store;
use teams_fake_agent::{Match, Script, Step};

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

/// teams makes worktrees in the background (validator checkouts, the next unit's worktree), so a
/// crash can land in the middle of `git worktree add`, which leaves the worktree locked
/// "initializing" (as `git worktree lock` does here). Resume removes it like any other worktree
/// of the interrupted run; it failed with "cannot remove a locked working tree" before.
#[test]
fn a_worktree_left_locked_by_an_interrupted_add_is_removed_by_resume() {
    let p = crashed_mid_unit();
    let runs = p.env.repo().join(".teams/worktrees");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let worktree = run.join("EPIC-1");
    assert!(worktree.exists(), "{}", worktree.display());
    p.git(&[
        "worktree",
        "lock",
        "--reason",
        "initializing",
        worktree.to_str().unwrap(),
    ]);
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(&p.normalized_prd(), &baseline().0);
    assert_eq!(&p.integration_tree(), &baseline().1);
    assert!(!p.git(&["worktree", "list"]).contains("locked"));
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

/// `prd.json` is written on a thread of its own while the next agent starts; when that write
/// fails (here: `prd.json` became a directory), the run still stops with the file named, and
/// once the file is back, resume writes every result the store holds.
#[test]
fn a_prd_json_that_cannot_be_written_stops_the_run_and_resume_restores_it() {
    let release = tempfile::tempdir().unwrap();
    let go = release.path().join("go");
    let held = script_after(Script::default().rule(
        Match::role("builder").story("US-2").attempt(1),
        vec![
            Step::WaitFor(go.display().to_string()),
            Step::Commit {
                path: "US-2.txt".into(),
                content: Some("content of US-2\n".into()),
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ],
    ));
    let p = Project::new(TOML, &held);
    let child = p.spawn(&["run"]);
    wait_until(
        || {
            p.calls()
                .iter()
                .any(|(role, story)| role == "builder" && story == "US-2")
        },
        "the builder of US-2 to start",
    );
    let prd_path = p.env.repo().join("prd.json");
    let saved = p.env.root().join("prd.json.saved");
    std::fs::rename(&prd_path, &saved).unwrap();
    std::fs::create_dir(&prd_path).unwrap();
    std::fs::write(prd_path.join("in-the-way"), "").unwrap();
    std::fs::write(&go, "").unwrap();
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("failed to save") && stderr.contains("prd.json"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr.contains("`teams run` again continues"),
        "{}",
        describe(&out)
    );

    std::fs::remove_dir_all(&prd_path).unwrap();
    std::fs::rename(&saved, &prd_path).unwrap();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let prd = p.prd();
    for story in prd["epics"][0]["userStories"].as_array().unwrap() {
        assert_eq!(story["passes"], true, "{story}");
    }
    assert_eq!(p.live_agents(), Vec::<u32>::new());
}
