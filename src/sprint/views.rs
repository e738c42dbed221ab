//! The markdown views of a sprint (spec §3): `.teams/current_sprint.md` (the open sprint, or "no
//! active sprint") and `.teams/sprint_history/<sprint-id>.md` (written when a sprint closes), and
//! the [`SprintReport`] that the event stream carries to the reporters and Discord.
//!
//! Both files are views: `backlog.json` is the record, and the views are rewritten from it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::backlog::{Backlog, ItemStatus, Sprint};
use crate::git::Sha;

use super::clock::Moment;

/// `.teams/current_sprint.md`.
pub fn current_sprint_path(teams_dir: &Path) -> PathBuf {
    teams_dir.join("current_sprint.md")
}

/// `.teams/sprint_history/<sprint-id>.md`.
pub fn history_path(teams_dir: &Path, sprint: &str) -> PathBuf {
    teams_dir
        .join("sprint_history")
        .join(format!("{sprint}.md"))
}

/// The text of `current_sprint.md`.
pub fn render_current(backlog: &Backlog) -> String {
    let Some(sprint) = backlog.open_sprint() else {
        return "# Current sprint\n\nno active sprint\n".to_owned();
    };
    let mut out = format!(
        "# Current sprint\n\n- sprint: {}\n- status: {}\n- milestone: {}\n- started: {}\n",
        sprint.id, sprint.status, sprint.milestone, sprint.started_at
    );
    push_kickoff(&mut out, sprint);
    out.push_str("\n## Todos\n\n");
    for todo in &sprint.todos {
        let Some(item) = backlog.item(todo) else {
            continue;
        };
        let state = match item.status {
            ItemStatus::Selected => "to do".to_owned(),
            ItemStatus::Done => format!(
                "done{}",
                item.commit_sha
                    .as_deref()
                    .map(|s| format!(" ({})", Sha::new(s).short()))
                    .unwrap_or_default()
            ),
            other => other.to_string(),
        };
        let rank = if item.rank > 0 {
            format!(" [rank {}]", item.rank)
        } else {
            String::new()
        };
        out.push_str(&format!("- {} {}{rank}: {state}\n", item.id, item.title));
    }
    out
}

fn push_kickoff(out: &mut String, sprint: &Sprint) {
    if !sprint.brief.is_empty() {
        out.push_str(&format!("\n## Brief\n\n{}\n", sprint.brief));
    }
    if !sprint.requirements.is_empty() {
        out.push_str("\n## Requirements\n\n");
        for r in &sprint.requirements {
            out.push_str(&format!("- {r}\n"));
        }
    }
}

/// One todo in a sprint report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TodoReport {
    pub id: String,
    pub title: String,
    /// `done`, `carried-over`, or `not finished` (the sprint was stopped first).
    pub result: String,
    pub attempts: u32,
    pub commit: Option<String>,
    pub subject: Option<String>,
    pub cost_usd: f64,
    pub reason: Option<String>,
    /// The pending copy that carries a failed todo over.
    pub carried_to: Option<String>,
}

/// What a closed sprint did: for the history file, the event log and Discord.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SprintReport {
    pub id: String,
    pub milestone: String,
    pub brief: String,
    pub requirements: Vec<String>,
    pub started_at: String,
    pub closed_at: String,
    pub duration_secs: i64,
    pub spend_usd: f64,
    pub todos: Vec<TodoReport>,
}

impl SprintReport {
    /// The report of `sprint` (as it was before closing) from the closed backlog; `subject` gives
    /// a commit's subject line.
    pub fn build(
        backlog: &Backlog,
        sprint: &Sprint,
        returned: &[String],
        now: Moment,
        subject: &dyn Fn(&str) -> Option<String>,
    ) -> SprintReport {
        let todos: Vec<TodoReport> = sprint
            .todos
            .iter()
            .filter_map(|id| backlog.item(id))
            .map(|item| {
                let result = if returned.contains(&item.id) {
                    "not finished".to_owned()
                } else {
                    item.status.to_string()
                };
                TodoReport {
                    id: item.id.clone(),
                    title: item.title.clone(),
                    result,
                    attempts: item.attempts,
                    commit: item
                        .commit_sha
                        .as_deref()
                        .map(|s| Sha::new(s).short().to_owned()),
                    subject: item.commit_sha.as_deref().and_then(subject),
                    cost_usd: item.cost_usd.unwrap_or(0.0),
                    reason: item.failure_reason.clone(),
                    carried_to: backlog
                        .items
                        .iter()
                        .find(|i| i.carry_over_of.as_deref() == Some(item.id.as_str()))
                        .map(|i| i.id.clone()),
                }
            })
            .collect();
        let started = Moment::parse_rfc3339(&sprint.started_at).unwrap_or(now);
        SprintReport {
            id: sprint.id.clone(),
            milestone: sprint.milestone.clone(),
            brief: sprint.brief.clone(),
            requirements: sprint.requirements.clone(),
            started_at: sprint.started_at.clone(),
            closed_at: now.rfc3339(),
            duration_secs: (now.0 - started.0).max(0),
            spend_usd: todos.iter().map(|t| t.cost_usd).sum(),
            todos,
        }
    }

    /// `done 2/3, carried over 1`.
    pub fn tally(&self) -> String {
        let count = |r: &str| self.todos.iter().filter(|t| t.result == r).count();
        let mut out = format!("done {}/{}", count("done"), self.todos.len());
        let carried = count("carried-over");
        if carried > 0 {
            out.push_str(&format!(", carried over {carried}"));
        }
        let unfinished = count("not finished");
        if unfinished > 0 {
            out.push_str(&format!(", not finished {unfinished}"));
        }
        out
    }

    /// The text of `sprint_history/<id>.md`.
    pub fn render(&self) -> String {
        let mut out = format!(
            "# Sprint {}\n\n- milestone: {}\n- started: {}\n- closed: {}\n- duration: {}\n- spend: ${:.2}\n- result: {}\n",
            self.id,
            self.milestone,
            self.started_at,
            self.closed_at,
            duration(self.duration_secs),
            self.spend_usd,
            self.tally()
        );
        if !self.brief.is_empty() {
            out.push_str(&format!("\n## Brief\n\n{}\n", self.brief));
        }
        if !self.requirements.is_empty() {
            out.push_str("\n## Requirements\n\n");
            for r in &self.requirements {
                out.push_str(&format!("- {r}\n"));
            }
        }
        out.push_str("\n## Todos\n\n| todo | title | result | attempts | commit | spend |\n| --- | --- | --- | --- | --- | --- |\n");
        for t in &self.todos {
            let commit = match (&t.commit, &t.subject) {
                (Some(c), Some(s)) => format!("`{c}` {}", s.replace('|', "\\|")),
                (Some(c), None) => format!("`{c}`"),
                _ => "—".to_owned(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {commit} | ${:.2} |\n",
                t.id,
                t.title.replace('|', "\\|"),
                t.result,
                t.attempts,
                t.cost_usd
            ));
        }
        let notes: Vec<&TodoReport> = self
            .todos
            .iter()
            .filter(|t| t.reason.is_some() || t.carried_to.is_some() || t.result == "not finished")
            .collect();
        if !notes.is_empty() {
            out.push_str("\n## Notes\n\n");
            for t in notes {
                let mut line = format!("- {}:", t.id);
                if let Some(reason) = &t.reason {
                    line.push_str(&format!(" {reason}"));
                }
                if let Some(to) = &t.carried_to {
                    line.push_str(&format!(" (carried over as {to})"));
                }
                if t.result == "not finished" {
                    line.push_str(" back in the backlog as pending (the sprint was stopped)");
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

fn duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}

/// Writes a view atomically (creating its directory).
pub fn write_view(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::prd::save::write_atomically(path, text.as_bytes())
        .map_err(|e| std::io::Error::new(e.source.kind(), e.to_string()))
}
