//! The sprint lifecycle on a real `backlog.json`.

use crate::backlog::{BacklogDocument, ItemFields, ItemStatus, PrdIds, SprintStatus};

use super::clock::Moment;
use super::*;

const NOW: Moment = Moment(1_763_775_000); // 2025-11-22T01:30:00Z

fn backlog(dir: &std::path::Path) -> BacklogDocument {
    let mut doc = BacklogDocument::empty(&dir.join("backlog.json"));
    for (title, rank, deps) in [("A", 1, vec![]), ("B", 2, vec!["B-001"]), ("C", 0, vec![])] {
        doc.add_item(
            ItemFields {
                title: Some(title.into()),
                acceptance: vec![format!("{title} works")],
                rank: Some(rank),
                depends_on: deps.into_iter().map(String::from).collect(),
                ..ItemFields::default()
            },
            None,
        )
        .unwrap();
    }
    doc
}

fn request(items: &[&str]) -> SprintStart {
    SprintStart {
        milestone: "Ship it".into(),
        brief: "small fixes".into(),
        requirements: vec!["keep the API".into()],
        items: items.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[test]
fn start_selects_pending_items_and_refuses_a_second_sprint() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = backlog(dir.path());
    let id = start(&mut doc, &request(&[]), None, NOW).unwrap();
    assert_eq!(id, "S-20251122-1");
    let sprint = doc.backlog().sprint(&id).unwrap();
    assert_eq!(sprint.todos, ["B-001", "B-002", "B-003"]);
    assert!(
        doc.backlog()
            .items
            .iter()
            .all(|i| i.status == ItemStatus::Selected)
    );
    let again = start(&mut doc, &request(&[]), None, NOW).unwrap_err();
    assert!(matches!(again, SprintError::AlreadyOpen { .. }), "{again}");
}

#[test]
fn start_refuses_what_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = backlog(dir.path());
    // B-002 needs B-001, which is neither selected nor done.
    let err = start(&mut doc, &request(&["B-002"]), None, NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "item B-002 depends on B-001, which is pending and not selected in this sprint"
    );
    let err = start(&mut doc, &request(&["B-404"]), None, NOW).unwrap_err();
    assert_eq!(err, SprintError::UnknownItem("B-404".into()));
    let blank = SprintStart {
        milestone: " ".into(),
        ..request(&[])
    };
    assert_eq!(
        start(&mut doc, &blank, None, NOW),
        Err(SprintError::BlankMilestone)
    );
    // A dependency on an epic of prd.json is allowed; an unknown one is not.
    let prd = PrdIds {
        epics: ["EPIC-1".to_owned()].into_iter().collect(),
        ..PrdIds::default()
    };
    doc.edit_item_fields(
        "B-003",
        ItemFields {
            depends_on: vec!["EPIC-1".into()],
            ..ItemFields::default()
        },
        Some(&prd),
    )
    .unwrap();
    assert!(start(&mut doc.clone(), &request(&["B-003"]), Some(&prd), NOW).is_ok());
    let other = PrdIds::default();
    let err = start(&mut doc, &request(&["B-003"]), Some(&other), NOW).unwrap_err();
    assert!(
        err.to_string().contains("neither an item nor an epic"),
        "{err}"
    );
    // With nothing pending there is nothing to select.
    let mut empty = BacklogDocument::empty(&dir.path().join("other.json"));
    assert_eq!(
        start(&mut empty, &request(&[]), None, NOW),
        Err(SprintError::NothingPending)
    );
}

#[test]
fn a_failed_todo_is_carried_over_once_and_the_sprint_closes_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = backlog(dir.path());
    let id = start(&mut doc, &request(&["B-001", "B-002"]), None, NOW).unwrap();
    let failed = TodoResult {
        passed: false,
        commit_sha: None,
        attempts: 2,
        failure_reason: Some("criterion not met".into()),
        cost_usd: 0.5,
    };
    let copy = record_todo(&mut doc, "B-001", &failed).unwrap();
    assert_eq!(copy, "B-004");
    // Recording the same end again (a resumed run) makes no second copy.
    assert_eq!(record_todo(&mut doc, "B-001", &failed).unwrap(), "B-004");
    let blocked = TodoResult {
        failure_reason: Some("blocked: dependency B-001 is failed".into()),
        attempts: 0,
        cost_usd: 0.0,
        ..failed
    };
    let copy2 = record_todo(&mut doc, "B-002", &blocked).unwrap();
    let b = doc.backlog();
    assert_eq!(b.item("B-001").unwrap().status, ItemStatus::CarriedOver);
    assert_eq!(
        b.item("B-004").unwrap().carry_over_of.as_deref(),
        Some("B-001")
    );
    assert_eq!(b.item("B-004").unwrap().status, ItemStatus::Pending);
    // The copy of B-002 depends on the copy of B-001.
    assert_eq!(b.item(&copy2).unwrap().depends_on, ["B-004"]);
    let sprint = b.sprint(&id).unwrap().clone();
    assert!(all_todos_ended(&doc, &sprint));
    let teams = dir.path().join(".teams");
    let report = close_sprint(&mut doc, &id, &teams, Moment(NOW.0 + 90), &|_| None)
        .unwrap()
        .unwrap();
    assert_eq!(report.tally(), "done 0/2, carried over 2");
    assert_eq!(report.duration_secs, 90);
    let history = std::fs::read_to_string(history_path(&teams, &id)).unwrap();
    assert!(
        history.contains("| B-001 | A | carried-over | 2 | — | $0.50 |"),
        "{history}"
    );
    assert!(history.contains("(carried over as B-004)"), "{history}");
    let current = std::fs::read_to_string(current_sprint_path(&teams)).unwrap();
    assert!(current.contains("no active sprint"));
    let saved = BacklogDocument::load(doc.path(), None).unwrap();
    assert_eq!(
        saved.backlog().sprint(&id).unwrap().status,
        SprintStatus::Closed
    );
}

#[test]
fn stop_restart_and_closing_a_stopped_sprint_returns_unstarted_todos() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = backlog(dir.path());
    let id = start(&mut doc, &request(&[]), None, NOW).unwrap();
    assert_eq!(
        restart(&mut doc).unwrap_err().to_string(),
        format!("sprint {id} is active; only a stopped sprint can be restarted")
    );
    stop(&mut doc).unwrap();
    assert_eq!(
        doc.backlog().open_sprint().unwrap().status,
        SprintStatus::Stopped
    );
    restart(&mut doc).unwrap();
    stop(&mut doc).unwrap();
    let passed = TodoResult {
        passed: true,
        commit_sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        attempts: 1,
        failure_reason: None,
        cost_usd: 0.0,
    };
    assert_eq!(record_todo(&mut doc, "B-001", &passed), None);
    let teams = dir.path().join(".teams");
    let report = close_sprint(&mut doc, &id, &teams, NOW, &|_| {
        Some("[S] B-001 a.rs: works".into())
    })
    .unwrap()
    .unwrap();
    assert_eq!(report.tally(), "done 1/3, not finished 2");
    let b = doc.backlog();
    assert_eq!(b.item("B-001").unwrap().status, ItemStatus::Done);
    assert_eq!(b.item("B-002").unwrap().status, ItemStatus::Pending);
    assert_eq!(b.item("B-002").unwrap().sprint_id, None);
    let history = std::fs::read_to_string(history_path(&teams, &id)).unwrap();
    assert!(
        history.contains("`0123456` [S] B-001 a.rs: works"),
        "{history}"
    );
    assert_eq!(stop(&mut doc), Err(SprintError::NoOpenSprint));
}

#[test]
fn a_reset_todo_runs_again_in_its_sprint_and_its_copy_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = backlog(dir.path());
    start(&mut doc, &request(&["B-001"]), None, NOW).unwrap();
    let failed = TodoResult {
        passed: false,
        commit_sha: None,
        attempts: 2,
        failure_reason: Some("no".into()),
        cost_usd: 0.0,
    };
    let copy = record_todo(&mut doc, "B-001", &failed).unwrap();
    assert_eq!(reset_item(&mut doc, "B-001"), Some(ItemStatus::Selected));
    let b = doc.backlog();
    assert_eq!(b.item("B-001").unwrap().status, ItemStatus::Selected);
    assert_eq!(b.item("B-001").unwrap().failure_reason, None);
    assert_eq!(b.item(&copy).unwrap().status, ItemStatus::Dropped);
    // Outside an open sprint, an ended item goes back to pending.
    stop(&mut doc).unwrap();
    let id = doc.backlog().sprints[0].id.clone();
    close_sprint(&mut doc, &id, &dir.path().join(".teams"), NOW, &|_| None).unwrap();
    assert_eq!(reset_item(&mut doc, "B-001"), Some(ItemStatus::Pending));
    assert_eq!(reset_item(&mut doc, "B-404"), None);
}
