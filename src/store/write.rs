//! The store's transitions. Each public method is one transaction, committed (and with
//! `synchronous=FULL`, on disk) when it returns: the dispatcher calls it before the step it
//! records is allowed to go on.
//!
//! Some writes are committed without waiting for the disk (`Store::exec_unsynced`): the rule is
//! that a record must be on disk before an effect that depends on it can no longer be undone (an
//! agent spawned, a branch moved, a result reported), and a later synced commit flushes the WAL
//! with every earlier frame in it. So these need no fsync of their own:
//! - an agent's pid and the event log: they matter only when `teams` dies and the machine lives
//!   on (to kill the agent left behind; to read the log), and then the committed frames are in
//!   the page cache and read back like any other; a power cut kills the agents anyway and the
//!   log loses at most its last lines, never the state;
//! - a unit's start, a story's start and a build's verified commit: each is followed by an
//!   attempt start (synced) before any agent runs, and losing one to a power cut leaves exactly
//!   the state of a crash just before it, which `teams resume` already handles (the kill points
//!   `worktree-created`, `story-started` and `commit-seen` in `tests/durable.rs`);
//! - a builder's or validator's end, and a passed story's record when another story of the unit
//!   follows ([`StoryUpdate::synced`]): the next synced commit comes before anything depends on
//!   them (the full list and why: `docs/design/durable.md`).
//!
//! That leaves two synced commits per attempt, the two attempt starts (about thirteen before any
//! of these; `docs/PERFORMANCE.md`, issue 4).

use rusqlite::params;

use super::{Store, StoreError, now_ms};

/// A new run and everything it will work on.
pub struct NewRun<'a> {
    pub id: &'a str,
    pub base: &'a str,
    pub integration_branch: &'a str,
    pub prd_path: &'a str,
    pub settings_json: &'a str,
    pub pid: u32,
    pub units: Vec<NewUnit<'a>>,
}

pub struct NewUnit<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub status: &'a str,
    pub planned: bool,
    pub stories: Vec<NewStory<'a>>,
}

pub struct NewStory<'a> {
    pub id: &'a str,
    /// pending | passed | failed, as `prd.json` says when the run starts.
    pub status: &'a str,
    pub attempts: u32,
    pub commit_sha: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
}

/// An agent about to start.
pub struct AttemptStart<'a> {
    pub run_id: &'a str,
    pub unit_id: &'a str,
    pub story_id: Option<&'a str>,
    pub role: &'a str,
    pub attempt: u32,
    pub reask: bool,
    pub backend: &'a str,
    pub model: Option<&'a str>,
    pub start_sha: Option<&'a str>,
}

/// How an agent process ended.
#[derive(Debug, Clone, Default)]
pub struct AgentEnd {
    pub exit_code: Option<i32>,
    pub failure: Option<String>,
    pub cost_usd: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub session_id: Option<String>,
    /// Set for a validator: its verdict (`pass`/`fail`) and feedback.
    pub verdict: Option<String>,
    pub feedback: Option<String>,
}

/// A story's result as recorded (see [`Store::story_result`]).
pub struct StoryUpdate<'a> {
    pub run_id: &'a str,
    pub unit_id: &'a str,
    pub story_id: &'a str,
    /// running (an attempt failed, more to come) | passed | failed
    pub status: &'a str,
    pub attempts: u32,
    pub commit_sha: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
    pub decision: Option<AttemptDecision<'a>>,
    /// Where the unit branch is once this is recorded.
    pub tip: &'a str,
    /// On disk before this returns; `false` when a synced commit always follows before anything
    /// depends on it (a passed story with another story after it: the next attempt's start).
    pub synced: bool,
}

/// The decision on one build attempt (recorded on the builder's row).
pub struct AttemptDecision<'a> {
    pub attempt_id: i64,
    pub result_sha: Option<&'a str>,
    pub passed: bool,
    pub feedback: Option<&'a str>,
}

impl Store {
    /// Records a new run with its units and stories (one transaction).
    pub fn create_run(&mut self, run: &NewRun<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        let path = self.path.clone();
        let e = |source| super::classify(&path, source);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "INSERT INTO runs (id, status, base, integration_branch, prd_path, settings, pid, started_at, updated_at)
             VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![run.id, run.base, run.integration_branch, run.prd_path, run.settings_json, run.pid, now],
        )
        .map_err(e)?;
        for (position, unit) in run.units.iter().enumerate() {
            insert_unit(&tx, run.id, position, unit).map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// Adds units (or stories of known units) that `prd.json` gained since the run started.
    pub fn add_units(&mut self, run_id: &str, units: &[NewUnit<'_>]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e = |source| super::classify(&path, source);
        let tx = self.conn.transaction().map_err(e)?;
        let base: i64 = tx
            .query_row(
                "SELECT coalesce(max(position) + 1, 0) FROM units WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .map_err(e)?;
        for (i, unit) in units.iter().enumerate() {
            insert_unit(&tx, run_id, base as usize + i, unit).map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// The run's status; `outcome` once it has one. `pid` is the process now driving it.
    pub fn set_run_status(
        &self,
        run_id: &str,
        status: &str,
        outcome: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let finished = (status == "finished").then_some(now);
        self.exec(
            "UPDATE runs SET status = ?2, outcome = ?3, updated_at = ?4,
                finished_at = coalesce(?5, finished_at) WHERE id = ?1",
            params![run_id, status, outcome, now, finished],
        )
    }

    /// A resumed run: running again, driven by `pid`, with these settings.
    pub fn reopen_run(
        &self,
        run_id: &str,
        pid: u32,
        settings_json: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE runs SET status = 'running', outcome = NULL, pid = ?2, settings = ?3, updated_at = ?4
             WHERE id = ?1",
            params![run_id, pid, settings_json, now_ms()],
        )
    }

    pub fn unit_started(
        &self,
        run_id: &str,
        unit_id: &str,
        branch: &str,
        tip: &str,
    ) -> Result<(), StoreError> {
        // Not synced: the unit's first agent call is a synced attempt start (module docs).
        self.exec_unsynced(
            "UPDATE units SET status = 'running', reason = NULL, branch = ?3, tip = ?4,
                started_at = coalesce(started_at, ?5), finished_at = NULL
             WHERE run_id = ?1 AND unit_id = ?2",
            params![run_id, unit_id, branch, tip, now_ms()],
        )
    }

    /// Where the unit branch must be from now on.
    pub fn set_unit_tip(&self, run_id: &str, unit_id: &str, tip: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE units SET tip = ?3 WHERE run_id = ?1 AND unit_id = ?2",
            params![run_id, unit_id, tip],
        )
    }

    pub fn unit_planned(&self, run_id: &str, unit_id: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE units SET planned = 1 WHERE run_id = ?1 AND unit_id = ?2",
            params![run_id, unit_id],
        )
    }

    pub fn unit_merged(
        &self,
        run_id: &str,
        unit_id: &str,
        merge_commit: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE units SET merge_commit = ?3 WHERE run_id = ?1 AND unit_id = ?2",
            params![run_id, unit_id, merge_commit],
        )
    }

    /// A unit's status (`pending` again after an interruption, or its final one).
    pub fn set_unit_status(
        &self,
        run_id: &str,
        unit_id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let finished = (status != "pending" && status != "running").then(now_ms);
        self.exec(
            "UPDATE units SET status = ?3, reason = ?4, finished_at = ?5
             WHERE run_id = ?1 AND unit_id = ?2",
            params![run_id, unit_id, status, reason, finished],
        )
    }

    /// A story starts (or continues after a resume: its first start SHA is kept).
    pub fn story_started(
        &self,
        run_id: &str,
        story_id: &str,
        start_sha: &str,
    ) -> Result<(), StoreError> {
        self.exec_unsynced(
            "UPDATE stories SET status = 'running', start_sha = coalesce(start_sha, ?3)
             WHERE run_id = ?1 AND story_id = ?2",
            params![run_id, story_id, start_sha],
        )
    }

    /// A story's recorded result and the decision on the build that led to it, in one
    /// transaction, with where the unit branch is afterwards.
    pub fn story_result(&mut self, u: &StoryUpdate<'_>) -> Result<(), StoreError> {
        if u.synced {
            self.story_result_tx(u)
        } else {
            self.unsynced(|| self.story_result_tx(u))
        }
    }

    fn story_result_tx(&self, u: &StoryUpdate<'_>) -> Result<(), StoreError> {
        let e = |source| super::classify(&self.path, source);
        // No other transaction can be open: every write of the store commits before it returns.
        let tx = self.conn.unchecked_transaction().map_err(e)?;
        tx.execute(
            "UPDATE stories SET status = ?3, attempts = ?4, commit_sha = ?5, failure_reason = ?6,
                feedback = coalesce(?7, feedback)
             WHERE run_id = ?1 AND story_id = ?2",
            params![
                u.run_id,
                u.story_id,
                u.status,
                u.attempts,
                u.commit_sha,
                u.failure_reason,
                u.decision.as_ref().and_then(|d| d.feedback)
            ],
        )
        .map_err(e)?;
        if let Some(d) = &u.decision {
            tx.execute(
                "UPDATE attempts SET verdict = ?2, feedback = coalesce(?3, feedback), counted = 1,
                    result_sha = coalesce(?4, result_sha)
                 WHERE id = ?1",
                params![
                    d.attempt_id,
                    if d.passed { "pass" } else { "fail" },
                    d.feedback,
                    d.result_sha
                ],
            )
            .map_err(e)?;
        }
        tx.execute(
            "UPDATE units SET tip = ?3 WHERE run_id = ?1 AND unit_id = ?2",
            params![u.run_id, u.unit_id, u.tip],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Puts stories back to pending (`teams reset`, `teams discuss`).
    pub fn reset_story(&self, run_id: &str, story_id: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE stories SET status = 'pending', attempts = 0, commit_sha = NULL,
                failure_reason = NULL, feedback = NULL, start_sha = NULL
             WHERE run_id = ?1 AND story_id = ?2",
            params![run_id, story_id],
        )
    }

    /// Puts a unit and all its stories back to pending (`teams reset EPIC`).
    pub fn reset_unit(&self, run_id: &str, unit_id: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE stories SET status = 'pending', attempts = 0, commit_sha = NULL,
                failure_reason = NULL, feedback = NULL, start_sha = NULL
             WHERE run_id = ?1 AND unit_id = ?2",
            params![run_id, unit_id],
        )?;
        self.set_unit_status(run_id, unit_id, "pending", None)
    }

    /// An agent is about to start; returns the attempt's row id.
    pub fn attempt_started(&self, a: &AttemptStart<'_>) -> Result<i64, StoreError> {
        self.exec(
            "INSERT INTO attempts (run_id, unit_id, story_id, role, attempt, reask, backend, model,
                state, started_at, start_sha)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'running', ?9, ?10)",
            params![
                a.run_id,
                a.unit_id,
                a.story_id,
                a.role,
                a.attempt,
                a.reask,
                a.backend,
                a.model,
                now_ms(),
                a.start_sha
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The agent's process exists: its pid leads its own process group.
    pub fn attempt_spawned(&self, attempt_id: i64, pid: u32) -> Result<(), StoreError> {
        self.exec_unsynced(
            "UPDATE attempts SET pid = ?2, pgid = ?2 WHERE id = ?1",
            params![attempt_id, pid],
        )
    }

    pub fn attempt_finished(&self, attempt_id: i64, end: &AgentEnd) -> Result<(), StoreError> {
        self.finish_attempt(attempt_id, end, true)
    }

    /// [`Store::attempt_finished`] without an fsync of its own, for an end that a synced commit
    /// always follows before anything depends on it: a builder's (the validator's start, or the
    /// story's record, comes next) and a validator's (the story's record or the re-ask's start).
    pub fn attempt_finished_unsynced(
        &self,
        attempt_id: i64,
        end: &AgentEnd,
    ) -> Result<(), StoreError> {
        self.finish_attempt(attempt_id, end, false)
    }

    fn finish_attempt(
        &self,
        attempt_id: i64,
        end: &AgentEnd,
        synced: bool,
    ) -> Result<(), StoreError> {
        let sql =
            "UPDATE attempts SET state = 'finished', ended_at = ?2, exit_code = ?3, failure = ?4,
                cost_usd = ?5, input_tokens = ?6, output_tokens = ?7, session_id = ?8,
                verdict = ?9, feedback = ?10
             WHERE id = ?1";
        let params = params![
            attempt_id,
            now_ms(),
            end.exit_code,
            end.failure,
            end.cost_usd,
            end.input_tokens.map(|t| t as i64),
            end.output_tokens.map(|t| t as i64),
            end.session_id,
            end.verdict,
            end.feedback
        ];
        if synced {
            self.exec(sql, params)
        } else {
            self.exec_unsynced(sql, params)
        }
    }

    /// An attempt that `teams` cut short (Ctrl-C, a crash found by resume): it does not count.
    pub fn attempt_discarded(&self, attempt_id: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE attempts SET state = 'discarded', ended_at = coalesce(ended_at, ?2), counted = 0
             WHERE id = ?1",
            params![attempt_id, now_ms()],
        )
    }

    /// Verification found the build's commit.
    pub fn attempt_commit(&self, attempt_id: i64, sha: &str) -> Result<(), StoreError> {
        self.exec_unsynced(
            "UPDATE attempts SET result_sha = ?2 WHERE id = ?1",
            params![attempt_id, sha],
        )
    }

    /// Appends one event to the run's log.
    pub fn append_event(
        &self,
        run_id: &str,
        elapsed_ms: u64,
        kind: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        self.exec_unsynced(
            "INSERT INTO events (run_id, at, elapsed_ms, kind, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![run_id, now_ms(), elapsed_ms as i64, kind, body],
        )
    }

    /// Attempts still marked running (their agents may have outlived a crashed `teams`).
    pub fn running_attempts(&self, run_id: &str) -> Result<Vec<(i64, Option<u32>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, pgid FROM attempts WHERE run_id = ?1 AND state = 'running'")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.execute(params).map(|_| ()).map_err(|e| self.err(e))
    }

    /// One statement committed with `synchronous=NORMAL`: in WAL mode the commit is written but
    /// not fsynced; the next `FULL` commit's fsync of the WAL makes it durable too (module docs).
    fn exec_unsynced(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        self.unsynced(|| self.exec(sql, params))
    }

    /// Runs `write` with `synchronous=NORMAL`: its commits are written but not fsynced (the
    /// next `FULL` commit's fsync of the WAL makes them durable too, module docs).
    fn unsynced<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.conn
            .execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(|e| self.err(e))?;
        let result = write();
        // Back to FULL whatever happened: every other write must reach the disk.
        self.conn
            .execute_batch("PRAGMA synchronous=FULL")
            .map_err(|e| self.err(e))?;
        result
    }
}

fn insert_unit(
    tx: &rusqlite::Transaction<'_>,
    run_id: &str,
    position: usize,
    unit: &NewUnit<'_>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO units (run_id, unit_id, kind, position, title, status, planned)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (run_id, unit_id) DO NOTHING",
        params![
            run_id,
            unit.id,
            unit.kind,
            position as i64,
            unit.title,
            unit.status,
            unit.planned
        ],
    )?;
    for (position, story) in unit.stories.iter().enumerate() {
        tx.execute(
            "INSERT INTO stories (run_id, story_id, unit_id, position, status, attempts, commit_sha, failure_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (run_id, story_id) DO NOTHING",
            params![
                run_id,
                story.id,
                unit.id,
                position as i64,
                story.status,
                story.attempts,
                story.commit_sha,
                story.failure_reason
            ],
        )?;
    }
    Ok(())
}
