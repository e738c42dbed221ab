use super::*;

fn new_run(store: &mut Store, id: &str) {
    store
        .create_run(&NewRun {
            id,
            base: "main",
            integration_branch: "teams/demo/main",
            prd_path: "prd.json",
            settings_json: "{}",
            pid: 42,
            units: vec![NewUnit {
                id: "E1",
                kind: "epic",
                title: "First",
                status: "pending",
                planned: false,
                stories: vec![
                    NewStory {
                        id: "US-001",
                        status: "pending",
                        attempts: 0,
                        commit_sha: None,
                        failure_reason: None,
                    },
                    NewStory {
                        id: "US-002",
                        status: "passed",
                        attempts: 1,
                        commit_sha: Some("abc"),
                        failure_reason: None,
                    },
                ],
            }],
        })
        .unwrap();
}

#[test]
fn a_new_store_is_created_in_wal_mode_with_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".teams/state.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.user_version().unwrap(), schema::VERSION);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Opening again migrates nothing and keeps the data.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.user_version().unwrap(), schema::VERSION);
    // Built under a temporary name and linked into place: nothing else is left beside it.
    let left: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".state.db.new-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A temporary store a crash left mid-creation is removed by the next creation, and a store
/// that exists is never replaced by a new one.
#[test]
fn creating_a_store_cleans_up_after_a_crash_and_never_replaces_one() {
    let dir = tempfile::tempdir().unwrap();
    let teams = dir.path().join(".teams");
    std::fs::create_dir_all(&teams).unwrap();
    let stray = teams.join(".state.db.new-999999");
    std::fs::write(&stray, "half a database").unwrap();
    let path = teams.join("state.db");
    let mut store = Store::open(&path).unwrap();
    assert!(!stray.exists());
    new_run(&mut store, "r1");
    drop(store);
    let store = Store::open(&path).unwrap();
    assert!(store.unfinished_run().unwrap().is_some(), "the run is kept");
}

#[test]
fn transitions_round_trip_through_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut store = Store::open(&path).unwrap();
    new_run(&mut store, "20260101-000000");
    store
        .unit_started("20260101-000000", "E1", "teams/demo/unit/E1", "aaa")
        .unwrap();
    store
        .story_started("20260101-000000", "US-001", "aaa")
        .unwrap();
    let id = store
        .attempt_started(&AttemptStart {
            run_id: "20260101-000000",
            unit_id: "E1",
            story_id: Some("US-001"),
            role: "builder",
            attempt: 1,
            reask: false,
            backend: "claude",
            model: None,
            start_sha: Some("aaa"),
        })
        .unwrap();
    store.attempt_spawned(id, 1234).unwrap();
    store
        .attempt_finished(
            id,
            &AgentEnd {
                exit_code: Some(0),
                cost_usd: Some(0.25),
                ..AgentEnd::default()
            },
        )
        .unwrap();
    store.attempt_commit(id, "bbb").unwrap();
    store
        .story_result(&StoryUpdate {
            run_id: "20260101-000000",
            unit_id: "E1",
            story_id: "US-001",
            status: "passed",
            attempts: 1,
            commit_sha: Some("bbb"),
            failure_reason: None,
            decision: Some(AttemptDecision {
                attempt_id: id,
                result_sha: Some("bbb"),
                passed: true,
                feedback: None,
            }),
            tip: "bbb",
            synced: true,
        })
        .unwrap();
    store
        .append_event("20260101-000000", 5, "run_started", "{}")
        .unwrap();

    let reader = Store::open_read_only(&path).unwrap().unwrap();
    let state = reader.run_state("20260101-000000").unwrap().unwrap();
    assert_eq!(state.run.status, "running");
    assert_eq!(state.units[0].tip.as_deref(), Some("bbb"));
    let story = state.story("US-001").unwrap();
    assert_eq!(
        (
            story.status.as_str(),
            story.attempts,
            story.start_sha.as_deref()
        ),
        ("passed", 1, Some("aaa"))
    );
    assert_eq!(state.story("US-002").unwrap().status, "passed");
    let attempt = &state.attempts[0];
    assert_eq!(attempt.pid, Some(1234));
    assert_eq!(attempt.state, "finished");
    assert_eq!(attempt.verdict.as_deref(), Some("pass"));
    assert!(attempt.counted);
    assert_eq!(state.cost_usd(), 0.25);
    assert_eq!(reader.events("20260101-000000", 0, None).unwrap().len(), 1);
    assert_eq!(
        reader.unfinished_run().unwrap().unwrap().id,
        "20260101-000000"
    );
}

#[test]
fn the_event_log_cannot_be_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db")).unwrap();
    new_run(&mut store, "r1");
    store.append_event("r1", 0, "warning", "{}").unwrap();
    let update = store.conn.execute("UPDATE events SET body = 'x'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = store.conn.execute("DELETE FROM events", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[test]
fn a_foreign_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the foreign file changed"
    );
    let teams: TeamsError = err.into();
    assert!(teams.to_string().contains("not a teams state store"));
}

#[test]
fn a_store_from_a_newer_teams_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(Store::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version={}", schema::VERSION + 1))
            .unwrap();
    }
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
}

#[test]
fn a_damaged_file_is_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(
        &path,
        b"this is not sqlite at all, just some bytes that are long enough",
    )
    .unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    let read = Store::open_read_only(&path).err().unwrap();
    assert!(matches!(read, StoreError::Corrupt { .. }), "{read}");
}

#[test]
fn a_missing_store_reads_as_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        Store::open_read_only(&dir.path().join("state.db"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn unsynced_writes_are_committed_and_leave_the_connection_fully_synced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut store = Store::open(&path).unwrap();
    new_run(&mut store, "r1");
    let synchronous = |store: &Store| -> i64 {
        store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(synchronous(&store), 2, "FULL before");
    store.append_event("r1", 5, "warning", "{\"n\":1}").unwrap();
    assert_eq!(synchronous(&store), 2, "FULL again after an event");
    // A failed unsynced write (the log refuses an unknown run) still restores FULL.
    assert!(store.append_event("nope", 5, "warning", "{}").is_err());
    assert_eq!(synchronous(&store), 2, "FULL again after a failed event");
    // Committed: another connection (a `teams logs` reader) sees it at once.
    let reader = Store::open_read_only(&path).unwrap().unwrap();
    let events = reader.events("r1", 0, None).unwrap();
    assert_eq!(events.len(), 1);
    // The process that wrote it may die now: the WAL holds it, and it is read back.
    drop(store);
    drop(reader);
    let reopened = Store::open(&path).unwrap();
    assert_eq!(reopened.events("r1", 0, None).unwrap().len(), 1);
}
