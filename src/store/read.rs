//! Reading the store: what `teams resume` reconciles from and what `teams status` and `teams
//! logs` show. Readers use their own connection and never block the run (WAL).

use rusqlite::{OptionalExtension, Row};

use super::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: String,
    pub status: String,
    pub outcome: Option<String>,
    pub base: String,
    pub integration_branch: String,
    pub prd_path: String,
    pub settings_json: String,
    pub pid: u32,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct UnitRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub reason: Option<String>,
    pub branch: Option<String>,
    pub tip: Option<String>,
    pub planned: bool,
    pub merge_commit: Option<String>,
    pub started_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct StoryRow {
    pub id: String,
    pub unit_id: String,
    pub status: String,
    pub attempts: u32,
    pub start_sha: Option<String>,
    pub commit_sha: Option<String>,
    pub failure_reason: Option<String>,
    pub feedback: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: i64,
    pub unit_id: String,
    pub story_id: Option<String>,
    pub role: String,
    pub attempt: u32,
    pub reask: bool,
    pub backend: String,
    pub model: Option<String>,
    pub state: String,
    pub pid: Option<u32>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub failure: Option<String>,
    pub start_sha: Option<String>,
    pub result_sha: Option<String>,
    pub verdict: Option<String>,
    pub feedback: Option<String>,
    pub cost_usd: Option<f64>,
    pub counted: bool,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub body: String,
}

/// Everything recorded about one run.
#[derive(Debug, Clone)]
pub struct RunState {
    pub run: RunRow,
    /// In run order.
    pub units: Vec<UnitRow>,
    /// In run order (unit, then story position).
    pub stories: Vec<StoryRow>,
    /// In the order they started.
    pub attempts: Vec<AttemptRow>,
}

impl RunState {
    pub fn unit(&self, id: &str) -> Option<&UnitRow> {
        self.units.iter().find(|u| u.id == id)
    }

    pub fn story(&self, id: &str) -> Option<&StoryRow> {
        self.stories.iter().find(|s| s.id == id)
    }

    /// Total reported spend.
    pub fn cost_usd(&self) -> f64 {
        self.attempts.iter().filter_map(|a| a.cost_usd).sum()
    }

    /// Spend of one unit.
    pub fn unit_cost_usd(&self, unit: &str) -> f64 {
        self.attempts
            .iter()
            .filter(|a| a.unit_id == unit)
            .filter_map(|a| a.cost_usd)
            .sum()
    }
}

/// What `teams status` shows of a run, read with a few indexed queries (it must stay fast on a
/// store holding many runs and attempts, and never block the run).
#[derive(Debug, Clone)]
pub struct RunOverview {
    pub run: RunRow,
    /// Agents running now.
    pub running: Vec<AttemptRow>,
    pub cost_usd: f64,
    pub attempts: i64,
}

impl Store {
    /// The most recent run with its running agents and spend.
    pub fn latest_overview(&self) -> Result<Option<RunOverview>, StoreError> {
        let Some(run) = self.latest_run()? else {
            return Ok(None);
        };
        let (cost_usd, attempts): (f64, i64) = self
            .conn
            .query_row(
                "SELECT coalesce(sum(cost_usd), 0), count(*) FROM attempts WHERE run_id = ?1",
                [&run.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        let running = self.rows(
            &format!("{ATTEMPT_COLUMNS} WHERE run_id = ?1 AND state = 'running' ORDER BY id"),
            &run.id,
            attempt_row,
        )?;
        Ok(Some(RunOverview {
            run,
            running,
            cost_usd,
            attempts,
        }))
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{RUN_COLUMNS} ORDER BY started_at DESC, id DESC"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], run_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The most recent run, if any.
    pub fn latest_run(&self) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(
                &format!("{RUN_COLUMNS} ORDER BY started_at DESC, id DESC LIMIT 1"),
                [],
                run_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The most recent run that did not finish (interrupted, or crashed while `running`).
    pub fn unfinished_run(&self) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "{RUN_COLUMNS} WHERE status IN ('running', 'interrupted')
                     ORDER BY started_at DESC, id DESC LIMIT 1"
                ),
                [],
                run_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// One run's row (cheap: `logs --follow` polls it).
    pub fn run(&self, run_id: &str) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(&format!("{RUN_COLUMNS} WHERE id = ?1"), [run_id], run_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn run_state(&self, run_id: &str) -> Result<Option<RunState>, StoreError> {
        let Some(run) = self.run(run_id)? else {
            return Ok(None);
        };
        let units = self.rows(
            "SELECT unit_id, kind, title, status, reason, branch, tip, planned, merge_commit, started_at
             FROM units WHERE run_id = ?1 ORDER BY position",
            run_id,
            |r| {
                Ok(UnitRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    title: r.get(2)?,
                    status: r.get(3)?,
                    reason: r.get(4)?,
                    branch: r.get(5)?,
                    tip: r.get(6)?,
                    planned: r.get(7)?,
                    merge_commit: r.get(8)?,
                    started_at: r.get(9)?,
                })
            },
        )?;
        let stories = self.rows(
            "SELECT s.story_id, s.unit_id, s.status, s.attempts, s.start_sha, s.commit_sha,
                    s.failure_reason, s.feedback
             FROM stories s JOIN units u ON u.run_id = s.run_id AND u.unit_id = s.unit_id
             WHERE s.run_id = ?1 ORDER BY u.position, s.position",
            run_id,
            |r| {
                Ok(StoryRow {
                    id: r.get(0)?,
                    unit_id: r.get(1)?,
                    status: r.get(2)?,
                    attempts: r.get(3)?,
                    start_sha: r.get(4)?,
                    commit_sha: r.get(5)?,
                    failure_reason: r.get(6)?,
                    feedback: r.get(7)?,
                })
            },
        )?;
        let attempts = self.rows(
            &format!("{ATTEMPT_COLUMNS} WHERE run_id = ?1 ORDER BY id"),
            run_id,
            attempt_row,
        )?;
        Ok(Some(RunState {
            run,
            units,
            stories,
            attempts,
        }))
    }

    /// Events of a run after `after_seq`, oldest first; at most `limit` of the newest when given.
    pub fn events(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: Option<usize>,
    ) -> Result<Vec<EventRow>, StoreError> {
        let limit = limit.map_or(-1, |l| l as i64);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at, kind, body FROM (
                     SELECT seq, at, kind, body FROM events WHERE run_id = ?1 AND seq > ?2
                     ORDER BY seq DESC LIMIT ?3
                 ) ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params![run_id, after_seq, limit], |r| {
                Ok(EventRow {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    body: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn rows<T>(
        &self,
        sql: &str,
        run_id: &str,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([run_id], map).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

const ATTEMPT_COLUMNS: &str =
    "SELECT id, unit_id, story_id, role, attempt, reask, backend, model, state,
        pid, started_at, ended_at, exit_code, failure, start_sha, result_sha, verdict, feedback,
        cost_usd, counted FROM attempts";

fn attempt_row(r: &Row<'_>) -> rusqlite::Result<AttemptRow> {
    Ok(AttemptRow {
        id: r.get(0)?,
        unit_id: r.get(1)?,
        story_id: r.get(2)?,
        role: r.get(3)?,
        attempt: r.get(4)?,
        reask: r.get(5)?,
        backend: r.get(6)?,
        model: r.get(7)?,
        state: r.get(8)?,
        pid: r.get(9)?,
        started_at: r.get(10)?,
        ended_at: r.get(11)?,
        exit_code: r.get(12)?,
        failure: r.get(13)?,
        start_sha: r.get(14)?,
        result_sha: r.get(15)?,
        verdict: r.get(16)?,
        feedback: r.get(17)?,
        cost_usd: r.get(18)?,
        counted: r.get(19)?,
    })
}

const RUN_COLUMNS: &str =
    "SELECT id, status, outcome, base, integration_branch, prd_path, settings, pid,
        started_at, updated_at, finished_at FROM runs";

fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        status: r.get(1)?,
        outcome: r.get(2)?,
        base: r.get(3)?,
        integration_branch: r.get(4)?,
        prd_path: r.get(5)?,
        settings_json: r.get(6)?,
        pid: r.get(7)?,
        started_at: r.get(8)?,
        updated_at: r.get(9)?,
        finished_at: r.get(10)?,
    })
}
