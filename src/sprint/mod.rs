//! Sprints (spec §8): a milestone and the backlog items it selected as todos, which `teams run`
//! executes as units beside the PRD's epics (see `docs/design/sprint.md`).
//!
//! `backlog.json` is the record of a sprint; `.teams/current_sprint.md` and
//! `.teams/sprint_history/<id>.md` are views written from it. Only one `teams` writes
//! `backlog.json` at a time: the commands take the run lock, and while a run holds it,
//! `sprint stop`/`restart` leave a request file that the run applies (see [`requests`]).

pub mod clock;
mod lifecycle;
pub mod requests;
pub mod todo;
mod views;

use std::path::Path;

pub use lifecycle::{
    SprintError, SprintStart, TodoResult, all_todos_ended, record_todo, reset_item, restart, start,
    stop,
};
pub use views::{
    SprintReport, TodoReport, current_sprint_path, history_path, render_current, write_view,
};

use crate::backlog::BacklogDocument;
use crate::prd::SaveError;

use clock::Moment;

/// Why closing a sprint failed to write its record.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error(transparent)]
    Save(#[from] SaveError),
    #[error("failed to write {path}: {source}")]
    View {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Closes sprint `id`: writes its history file, saves `backlog.json` (the todos that never ended
/// go back to pending, the sprint is `closed`), and rewrites `current_sprint.md`. The history is
/// written first, so a crash in between leaves an open sprint that the next run closes again
/// (rewriting the same history), never a closed sprint without its history.
pub fn close_sprint(
    doc: &mut BacklogDocument,
    id: &str,
    teams_dir: &Path,
    now: Moment,
    subject: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<SprintReport>, CloseError> {
    let mut closed = doc.clone();
    let Some((sprint, returned)) = lifecycle::close(&mut closed, id, now) else {
        return Ok(None);
    };
    let report = SprintReport::build(closed.backlog(), &sprint, &returned, now, subject);
    let history = history_path(teams_dir, id);
    write_view(&history, &report.render()).map_err(|source| CloseError::View {
        path: history.display().to_string(),
        source,
    })?;
    closed.save()?;
    *doc = closed;
    write_current(doc, teams_dir)?;
    Ok(Some(report))
}

/// Rewrites `.teams/current_sprint.md` from the backlog.
pub fn write_current(doc: &BacklogDocument, teams_dir: &Path) -> Result<(), CloseError> {
    let path = current_sprint_path(teams_dir);
    write_view(&path, &render_current(doc.backlog())).map_err(|source| CloseError::View {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests;
