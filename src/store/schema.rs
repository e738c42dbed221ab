//! The store's schema, as an append-only list of migrations: migration N brings a store from
//! version N-1 to N. Never edit a released migration; add the next one.

/// The version this binary writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

pub const MIGRATIONS: &[&str] = &[
    // 1: runs, units, stories, attempts, events.
    r#"
CREATE TABLE runs (
    id                 TEXT PRIMARY KEY,
    -- running | interrupted | finished | abandoned
    status             TEXT NOT NULL,
    -- succeeded | some-failed | interrupted | budget-reached (once finished or interrupted)
    outcome            TEXT,
    base               TEXT NOT NULL,
    integration_branch TEXT NOT NULL,
    prd_path           TEXT NOT NULL,
    -- the run's settings as JSON, reused by `teams resume`
    settings           TEXT NOT NULL,
    pid                INTEGER NOT NULL,
    started_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    finished_at        INTEGER
);

CREATE TABLE units (
    run_id       TEXT NOT NULL REFERENCES runs(id),
    unit_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    title        TEXT NOT NULL,
    -- the epic statuses of prd.json: pending | running | completed | partial | failed | blocked | merge-failed
    status       TEXT NOT NULL,
    reason       TEXT,
    branch       TEXT,
    -- where the unit branch must be after the last recorded transition (resume puts it back)
    tip          TEXT,
    planned      INTEGER NOT NULL DEFAULT 0,
    merge_commit TEXT,
    started_at   INTEGER,
    finished_at  INTEGER,
    PRIMARY KEY (run_id, unit_id)
);

CREATE TABLE stories (
    run_id         TEXT NOT NULL REFERENCES runs(id),
    story_id       TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    position       INTEGER NOT NULL,
    -- pending | running | passed | failed
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    -- HEAD when the story started: the base of the validator's diff
    start_sha      TEXT,
    commit_sha     TEXT,
    failure_reason TEXT,
    -- the last counted failure's feedback, for the next builder
    feedback       TEXT,
    PRIMARY KEY (run_id, story_id),
    FOREIGN KEY (run_id, unit_id) REFERENCES units(run_id, unit_id)
);

CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    run_id        TEXT NOT NULL REFERENCES runs(id),
    unit_id       TEXT NOT NULL,
    story_id      TEXT,
    role          TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    reask         INTEGER NOT NULL DEFAULT 0,
    backend       TEXT NOT NULL,
    model         TEXT,
    -- running | finished | discarded
    state         TEXT NOT NULL,
    pid           INTEGER,
    pgid          INTEGER,
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    exit_code     INTEGER,
    failure       TEXT,
    start_sha     TEXT,
    result_sha    TEXT,
    -- pass | fail, for a decided build (builder rows) or a validator's answer
    verdict       TEXT,
    feedback      TEXT,
    cost_usd      REAL,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    session_id    TEXT,
    counted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attempts_by_story ON attempts (run_id, story_id, attempt);
CREATE INDEX attempts_running ON attempts (run_id, state) WHERE state = 'running';
CREATE INDEX runs_by_start ON runs (started_at);

CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id),
    at         INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    -- the event as the JSON log writes it
    body       TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, seq);

-- The log is append-only: nothing updates or deletes an event.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"#,
];
