//! The sprint part of `teams status`: the open sprint and its todos (spec §2: "epics, stories,
//! todos"), with the todos a run works on now. Read-only, like the rest of `status`.

use serde::Serialize;

use super::CommandContext;
use super::status_run::RunView;
use crate::backlog::{BACKLOG_FILE, BacklogDocument, ItemStatus};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SprintView {
    pub id: String,
    pub status: String,
    pub milestone: String,
    pub todos: Vec<TodoView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoView {
    pub id: String,
    pub title: String,
    pub rank: u32,
    /// to-do | running | done | carried-over | pending (returned by a stop)
    pub state: String,
    pub commit_sha: Option<String>,
    pub failure_reason: Option<String>,
}

/// The open sprint, if `backlog.json` has one. A backlog that does not load is left to
/// `teams validate`; status still shows the PRD.
pub fn load(ctx: &CommandContext, run: Option<&RunView>) -> Option<SprintView> {
    let doc = BacklogDocument::load(&ctx.repo_root.join(BACKLOG_FILE), None).ok()?;
    let backlog = doc.backlog();
    let sprint = backlog.open_sprint()?;
    let running = |id: &str| {
        run.is_some_and(|r| r.state == "running" && r.agents.iter().any(|a| a.unit == id))
    };
    let todos = sprint
        .todos
        .iter()
        .filter_map(|id| backlog.item(id))
        .map(|item| TodoView {
            id: item.id.clone(),
            title: item.title.clone(),
            rank: item.rank,
            state: match item.status {
                ItemStatus::Selected if running(&item.id) => "running".to_owned(),
                ItemStatus::Selected => "to-do".to_owned(),
                other => other.to_string(),
            },
            commit_sha: item.commit_sha.clone(),
            failure_reason: item.failure_reason.clone(),
        })
        .collect();
    Some(SprintView {
        id: sprint.id.clone(),
        status: sprint.status.to_string(),
        milestone: sprint.milestone.clone(),
        todos,
    })
}

pub fn format(view: &SprintView) -> String {
    let mut out = format!("sprint {} ({}): {}\n", view.id, view.status, view.milestone);
    let width = crate::helpers::column_width(view.todos.iter().map(|t| t.id.as_str()));
    for t in &view.todos {
        let detail = match (&t.commit_sha, &t.failure_reason) {
            (Some(sha), _) if t.state == "done" => sha[..sha.len().min(7)].to_owned(),
            (_, Some(reason)) => crate::helpers::truncate(reason, 70),
            _ => String::new(),
        };
        let line = format!(
            "  {:width$}  {:40}  {:12} {detail}",
            t.id,
            crate::helpers::truncate(&t.title, 40),
            t.state
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
