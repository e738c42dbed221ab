//! Sprint todos run as units by `teams run` (spec §8), end to end with the fake agent on real
//! repositories: beside two epics with `--parallel=2`, rank order, a todo depending on an epic,
//! a todo failing twice (carried over), the sprint closing with its history; stop and restart
//! while a run works; SIGKILL and Ctrl-C in a sprint run, then `teams resume`.

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/fake_discord.rs"]
mod fake_discord;

use durable::*;
use serde_json::{Value, json};
use teams_fake_agent::{Invocation, Match, Script, Step, read_invocations};

const NO_PLANNER: &str = "planner = \"never\"\n";

/// EPIC-1 (US-1) and EPIC-2 (US-2), independent.
fn two_epics() -> Value {
    json!({
        "project": "Proj",
        "epics": [
            {"id": "EPIC-1", "title": "First", "userStories": [story("US-1", "One")]},
            {"id": "EPIC-2", "title": "Second", "userStories": [story("US-2", "Two")]}
        ]
    })
}

fn builds(path: &str, message: Option<String>) -> Vec<Step> {
    vec![
        Step::Commit {
            path: path.into(),
            content: Some(format!("content of {path}\n")),
            message,
        },
        Step::Final(HANDOFF.into()),
    ]
}

/// Builders commit `<story>.txt` (todo commits in the sprint form when `sprint` is known);
/// `failing` todos fail validation every time; everything else passes.
fn script(sprint: Option<&str>, failing: &[&str], first: Script) -> Script {
    let mut script = first;
    for id in ["US-1", "US-2"] {
        script = script.rule(
            Match::role("builder").story(id),
            builds(&format!("{id}.txt"), None),
        );
    }
    for id in ["B-001", "B-002", "B-003"] {
        let message = sprint.map(|s| format!("[{s}] {id} {id}.fix: fix {id}"));
        script = script.rule(
            Match::role("builder").story(id).attempt(2),
            builds(&format!("{id}.fix"), message),
        );
        let message = sprint.map(|s| format!("[{s}] {id} {id}.txt: add {id}"));
        script = script.rule(
            Match::role("builder").story(id),
            builds(&format!("{id}.txt"), message),
        );
    }
    for id in failing {
        script = script.rule(
            Match::role("validator").story(id),
            vec![verdict(false, "not met")],
        );
    }
    script.rule(Match::role("validator"), vec![verdict(true, "")])
}

fn ok(p: &Project, args: &[&str]) -> String {
    let out = p.teams(args).output().unwrap();
    assert!(out.status.success(), "teams {args:?}: {}", describe(&out));
    text(&out.stdout)
}

fn add(p: &Project, title: &str, extra: &[&str]) -> String {
    let criterion = format!("{title} works");
    let mut args = vec![
        "backlog",
        "add",
        "--title",
        title,
        "--acceptance",
        &criterion,
    ];
    args.extend_from_slice(extra);
    ok(p, &args).trim().to_owned()
}

fn backlog(p: &Project) -> Value {
    serde_json::from_slice(&p.env.read("backlog.json")).unwrap()
}

fn item(p: &Project, id: &str) -> Value {
    backlog(p)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no item {id}"))
}

fn sprint_id(p: &Project) -> String {
    backlog(p)["sprints"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn records(p: &Project) -> Vec<Invocation> {
    read_invocations(&p.env.root().join("record.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|r| r.mode == "print")
        .collect()
}

/// Where in start order the first and last agent of `story` ran.
fn span(records: &[Invocation], story: &str) -> (usize, usize) {
    let at: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.story == story)
        .map(|(i, _)| i)
        .collect();
    (*at.first().unwrap(), *at.last().unwrap())
}

fn read(p: &Project, rel: &str) -> String {
    String::from_utf8(p.env.read(rel)).unwrap()
}

#[test]
fn todos_run_beside_epics_and_the_sprint_closes_with_its_history() {
    let p = Project::with_prd(
        &two_epics(),
        NO_PLANNER,
        &script(None, &[], Script::default()),
    );
    add(&p, "Fix the crash", &["--kind", "bug", "--rank", "1"]);
    add(&p, "Tidy up", &["--rank", "2", "--summary", "small things"]);
    add(&p, "Needs the first epic", &["--depends-on", "EPIC-1"]);
    ok(
        &p,
        &[
            "sprint",
            "start",
            "--milestone",
            "Stable core",
            "--brief",
            "fix what users hit",
            "--requirement",
            "no new dependencies",
        ],
    );
    let id = sprint_id(&p);
    // B-002's commits do not follow the sprint form: it passes, with a warning.
    p.set_script(&script(
        Some(&id),
        &["B-003"],
        Script::default().rule(
            Match::role("builder").story("B-002"),
            builds("B-002.txt", Some("tidy things".into())),
        ),
    ));
    let discord = fake_discord::FakeDiscord::ok();
    let out = p
        .teams(&["run", "--parallel=2"])
        .env(
            "TEAMS_DISCORD_WEBHOOK",
            format!(
                "https://discord.com/api/webhooks/123456789012345678/{}",
                "T".repeat(60)
            ),
        )
        .env("TEAMS_DISCORD_API_BASE", discord.base())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", describe(&out));
    // The sprint report reached Discord through the run's event stream.
    let posted: Vec<String> = discord
        .delivered()
        .iter()
        .map(|r| r.body["content"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        posted.iter().any(
            |c| c.contains(&format!("sprint {id} closed: done 2/3, carried over 1"))
                && c.contains("- B-003 Needs the first epic: carried-over → B-004")
        ),
        "{posted:?}"
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains(&format!("sprint {id} closed: done 2/3, carried over 1")),
        "{all}"
    );
    assert!(all.contains("B-002: commit"), "{all}");
    assert!(
        all.contains("does not follow the sprint commit form"),
        "{all}"
    );

    // Results on the items: done with the validated commit, or carried over with a copy.
    let b1 = item(&p, "B-001");
    assert_eq!(b1["status"], "done");
    let sha = b1["commitSha"].as_str().unwrap().to_owned();
    p.git(&["merge-base", "--is-ancestor", &sha, INTEGRATION]);
    assert_eq!(item(&p, "B-002")["status"], "done");
    let b3 = item(&p, "B-003");
    assert_eq!(b3["status"], "carried-over");
    assert_eq!(b3["attempts"], 2);
    assert!(
        b3["failureReason"].as_str().unwrap().contains("not met"),
        "{b3}"
    );
    let copy = item(&p, "B-004");
    assert_eq!(copy["status"], "pending");
    assert_eq!(copy["carryOverOf"], "B-003");
    assert_eq!(copy["acceptanceCriteria"], b3["acceptanceCriteria"]);
    assert_eq!(copy["dependsOn"], json!(["EPIC-1"]));
    assert_eq!(backlog(&p)["sprints"][0]["status"], "closed");
    // Epics are recorded in prd.json as usual; no todo leaks into it.
    let prd: Value = serde_json::from_slice(&p.env.read("prd.json")).unwrap();
    assert_eq!(prd["epics"][0]["status"], "completed");
    assert!(!read(&p, "prd.json").contains("B-00"));
    // Each todo had its own branch.
    p.git(&["rev-parse", "--verify", "teams/proj/unit/B-001"]);

    // The views.
    let history = read(&p, &format!(".teams/sprint_history/{id}.md"));
    assert!(history.contains("- milestone: Stable core"), "{history}");
    assert!(
        history.contains(&format!(
            "| B-001 | Fix the crash | done | 1 | `{}` [{id}] B-001 B-001.txt: add B-001 |",
            &sha[..7]
        )),
        "{history}"
    );
    assert!(
        history.contains("| B-003 | Needs the first epic | carried-over | 2 | — |"),
        "{history}"
    );
    assert!(history.contains("(carried over as B-004)"), "{history}");
    assert!(read(&p, ".teams/current_sprint.md").contains("no active sprint"));
    assert!(logged(&p, "\"event\":\"sprint_closed\""));

    // Order: B-002 (rank 2) only after B-001 (rank 1); B-003 only after EPIC-1 merged.
    let recs = records(&p);
    assert!(span(&recs, "B-002").0 > span(&recs, "B-001").1);
    assert!(span(&recs, "B-003").0 > span(&recs, "US-1").1);
    // Both roles of a todo see the sprint's milestone, brief and requirements.
    for role in ["builder", "validator"] {
        let prompt = &recs
            .iter()
            .find(|r| r.role == role && r.story == "B-001")
            .unwrap()
            .prompt;
        for needle in [
            "Stable core",
            "fix what users hit",
            "no new dependencies",
            &format!("[{id}] B-001"),
        ] {
            assert!(
                prompt.contains(needle),
                "{role} prompt lacks {needle}:\n{prompt}"
            );
        }
    }
    // The status command shows no open sprint; the next sprint picks up the carried-over copy.
    assert!(ok(&p, &["sprint", "status"]).contains("no active sprint"));
    assert!(ok(&p, &["sprint", "start", "--milestone", "Next"]).contains("1 todo (B-004)"));
}

/// Two unranked todos, run one at a time; B-001's builder waits for `release` before committing.
fn held_project() -> (Project, std::path::PathBuf) {
    let release = tempfile::NamedTempFile::new()
        .unwrap()
        .into_temp_path()
        .to_path_buf();
    let first = Script::default().rule(
        Match::role("builder").story("B-001"),
        vec![
            Step::WaitFor(release.display().to_string()),
            Step::Commit {
                path: "B-001.txt".into(),
                content: Some("one\n".into()),
                message: None,
            },
            Step::Final(HANDOFF.into()),
        ],
    );
    let p = Project::with_prd(&two_epics(), NO_PLANNER, &script(None, &[], first));
    add(&p, "One", &[]);
    add(&p, "Two", &[]);
    ok(&p, &["sprint", "start", "--milestone", "M"]);
    (p, release)
}

fn wait_sprint_status(p: &Project, status: &str) {
    wait_until(|| backlog(p)["sprints"][0]["status"] == status, status);
}

#[test]
fn a_sprint_stopped_while_a_run_works_finishes_its_running_todo_and_closes() {
    let (p, release) = held_project();
    let child = p.spawn(&["run", "--sprint"]);
    wait_until(
        || records(&p).iter().any(|r| r.story == "B-001"),
        "the B-001 builder",
    );
    let out = ok(&p, &["sprint", "stop"]);
    assert!(out.contains("the run with PID"), "{out}");
    wait_sprint_status(&p, "stopped");
    std::fs::write(&release, "go").unwrap();
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(10), "{}", describe(&out));
    assert_eq!(item(&p, "B-001")["status"], "done");
    // B-002 never started and went back to the backlog.
    assert_eq!(item(&p, "B-002")["status"], "pending");
    assert!(!records(&p).iter().any(|r| r.story == "B-002"));
    let id = sprint_id(&p);
    let history = read(&p, &format!(".teams/sprint_history/{id}.md"));
    assert!(
        history.contains("| B-002 | Two | not finished |"),
        "{history}"
    );
}

#[test]
fn a_sprint_stopped_and_restarted_while_a_run_works_runs_every_todo() {
    let (p, release) = held_project();
    let child = p.spawn(&["run", "--sprint"]);
    wait_until(
        || records(&p).iter().any(|r| r.story == "B-001"),
        "the B-001 builder",
    );
    ok(&p, &["sprint", "stop"]);
    wait_sprint_status(&p, "stopped");
    let status = ok(&p, &["sprint", "status"]);
    assert!(status.contains("- status: stopped"), "{status}");
    ok(&p, &["sprint", "restart"]);
    wait_sprint_status(&p, "active");
    std::fs::write(&release, "go").unwrap();
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(item(&p, "B-001")["status"], "done");
    assert_eq!(item(&p, "B-002")["status"], "done");
    assert_eq!(backlog(&p)["sprints"][0]["status"], "closed");
}

#[test]
fn ctrl_c_in_a_sprint_run_then_resume_loses_nothing() {
    let (p, release) = held_project();
    let child = p.spawn(&["run", "--sprint"]);
    wait_until(
        || records(&p).iter().any(|r| r.story == "B-001"),
        "the B-001 builder",
    );
    sigint(&child);
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(20), "{}", describe(&out));
    assert_eq!(item(&p, "B-001")["status"], "selected");
    assert_eq!(backlog(&p)["sprints"][0]["status"], "active");
    std::fs::write(&release, "go").unwrap();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(item(&p, "B-001")["status"], "done");
    assert_eq!(item(&p, "B-002")["status"], "done");
    assert_eq!(backlog(&p)["sprints"][0]["status"], "closed");
    // The interrupted build did not count; each todo was validated once.
    let validations = |s: &str| {
        records(&p)
            .iter()
            .filter(|r| r.story == s && r.role == "validator")
            .count()
    };
    assert_eq!((validations("B-001"), validations("B-002")), (1, 1));
}

/// SIGKILL right after each durable step of a todo's end, then `teams resume`: the same backlog
/// as an uninterrupted run, nothing built twice, one carried-over copy.
#[test]
fn sigkill_in_a_sprint_run_then_resume_runs_nothing_twice() {
    let expected = |p: &Project| -> Value {
        let mut b = backlog(p);
        for item in b["items"].as_array_mut().unwrap() {
            if item.get("commitSha").is_some() {
                item["commitSha"] = json!("<sha>");
            }
            // A builder killed with teams never reported its cost (its build may still be
            // adopted and validated on resume), so only "something was spent" is comparable.
            if let Some(cost) = item.get("costUsd").and_then(Value::as_f64) {
                assert!(cost > 0.0, "{item}");
                item["costUsd"] = json!("<cost>");
            }
        }
        let sprint = &mut b["sprints"][0];
        sprint["id"] = json!("<id>");
        sprint["startedAt"] = json!("<t>");
        sprint["closedAt"] = json!("<t>");
        for item in b["items"].as_array_mut().unwrap() {
            if item.get("sprintId").is_some() {
                item["sprintId"] = json!("<id>");
            }
        }
        b
    };
    let setup = || {
        let p = Project::with_prd(
            &two_epics(),
            NO_PLANNER,
            &script(None, &["B-002"], Script::default()),
        );
        add(&p, "One", &[]);
        add(&p, "Two", &[]);
        ok(&p, &["sprint", "start", "--milestone", "M"]);
        p
    };
    let baseline = setup();
    let out = baseline
        .teams(&["run", "--sprint", "--max-attempts", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", describe(&out));
    let want = expected(&baseline);
    assert_eq!(want["items"][2]["carryOverOf"], "B-002");
    for point in [
        "story-recorded",
        "merge-done",
        "unit-finished",
        "unit-finished@2",
    ] {
        let p = setup();
        let out = p
            .teams(&["run", "--sprint", "--max-attempts", "1"])
            .env("__TEAMS_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&out.status),
            Some(9),
            "not killed at {point}: {}",
            describe(&out)
        );
        let builds = |s: &str| {
            records(&p)
                .iter()
                .filter(|r| r.story == s && r.role == "builder")
                .count()
        };
        // With the merge queue the next todo's builder may be mid-call when the kill lands; that
        // attempt was interrupted, so resume may build it again. A story that had ended before
        // the kill is never built again.
        let ended = p.stories_in_store(&["passed", "failed"]);
        let before: Vec<usize> = ["B-001", "B-002"].map(builds).to_vec();
        let out = p.teams(&["resume"]).output().unwrap();
        assert_eq!(out.status.code(), Some(10), "{point}: {}", describe(&out));
        assert_eq!(expected(&p), want, "after a kill at {point}");
        for (story, before) in ["B-001", "B-002"].into_iter().zip(before) {
            let after = builds(story);
            if ended.iter().any(|s| s == story) {
                assert_eq!(after, before, "{point}: {story} ended before the kill");
            } else {
                // One interrupted call (its record may be written after `before` was read) and
                // one by resume.
                assert!(
                    (1..=2).contains(&after),
                    "{point}: {story} built {after} times"
                );
            }
        }
        let id = sprint_id(&p);
        assert!(
            p.env
                .repo()
                .join(format!(".teams/sprint_history/{id}.md"))
                .exists(),
            "{point}"
        );
    }
}

#[test]
fn a_reset_todo_runs_again_in_its_open_sprint() {
    let release = tempfile::NamedTempFile::new()
        .unwrap()
        .into_temp_path()
        .to_path_buf();
    // B-001 fails; B-002 (rank 2, after B-001) is held until `release` exists.
    let held = |failing: &[&str]| {
        script(
            None,
            failing,
            Script::default().rule(
                Match::role("builder").story("B-002"),
                vec![
                    Step::WaitFor(release.display().to_string()),
                    Step::Commit {
                        path: "B-002.txt".into(),
                        content: Some("two\n".into()),
                        message: None,
                    },
                    Step::Final(HANDOFF.into()),
                ],
            ),
        )
    };
    let p = Project::with_prd(&two_epics(), NO_PLANNER, &held(&["B-001"]));
    add(&p, "One", &["--rank", "1"]);
    add(&p, "Two", &["--rank", "2"]);
    ok(&p, &["sprint", "start", "--milestone", "M"]);
    let child = p.spawn(&["run", "--sprint", "--max-attempts", "1"]);
    wait_until(
        || records(&p).iter().any(|r| r.story == "B-002"),
        "the B-002 builder",
    );
    assert_eq!(item(&p, "B-001")["status"], "carried-over");
    assert_eq!(item(&p, "B-003")["carryOverOf"], "B-001");
    sigint(&child);
    let out = wait_for_exit(child);
    assert_eq!(out.status.code(), Some(20), "{}", describe(&out));
    // The sprint is still open: the reset todo goes back into it, its copy is dropped.
    let out = ok(&p, &["reset", "B-001"]);
    assert!(out.contains("reset to pending: B-001"), "{out}");
    assert_eq!(item(&p, "B-001")["status"], "selected");
    assert!(
        item(&p, "B-001")
            .get("failureReason")
            .is_none_or(Value::is_null)
    );
    assert_eq!(item(&p, "B-003")["status"], "dropped");
    p.set_script(&held(&[]));
    std::fs::write(&release, "go").unwrap();
    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(item(&p, "B-001")["status"], "done");
    assert_eq!(item(&p, "B-002")["status"], "done");
    let builds = records(&p)
        .iter()
        .filter(|r| r.story == "B-001" && r.role == "builder")
        .count();
    assert_eq!(builds, 2, "built once, reset, built again");
    // Outside an open sprint an ended item goes back to pending.
    ok(&p, &["reset", "B-002"]);
    assert_eq!(item(&p, "B-002")["status"], "pending");
    assert!(item(&p, "B-002").get("sprintId").is_none());
}
