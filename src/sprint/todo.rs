//! Todos as run units (spec §8): a todo is a unit with one story, the item itself, so it runs
//! through exactly the machinery of an epic (worktree, builder, checks, validator, pushback, merge
//! queue).
//!
//! - The story's text carries the sprint's milestone, brief and requirements and the commit form,
//!   so both the builder and the validator prompts include them.
//! - `dependsOn` may name other items or epics of `prd.json`; both become unit dependencies
//!   (completed and merged first, else the todo is blocked). A dependency on an item that is
//!   already `done` outside the sprint is satisfied and dropped.
//! - A ranked todo (rank N > 0) waits until every todo of the sprint with a rank from 1 to N-1 has
//!   ended, whatever its result: rank orders work, `dependsOn` expresses need.

use crate::backlog::{Backlog, Item, ItemStatus, Sprint};
use crate::prd::{Epic, EpicId, EpicStatus, Story, StoryId};
use crate::run::{Unit, UnitId, UnitKind};

/// The commit subject form of a todo's commits (spec §8), for prompts and messages.
pub fn commit_form(sprint: &str, todo: &str) -> String {
    format!("[{sprint}] {todo} <main file>: <behaviour>")
}

/// Whether `subject` follows `[<sprint>] <todo> <main file>: <behaviour>`.
pub fn follows_commit_form(sprint: &str, todo: &str, subject: &str) -> bool {
    let Some(rest) = subject
        .strip_prefix(&format!("[{sprint}] {todo} "))
        .map(str::trim_start)
    else {
        return false;
    };
    match rest.split_once(": ") {
        Some((file, behaviour)) => {
            !file.is_empty() && !file.contains(char::is_whitespace) && !behaviour.trim().is_empty()
        }
        None => false,
    }
}

/// The story text of a todo: the item's summary, then what the sprint is for.
fn story_text(item: &Item, sprint: &Sprint) -> String {
    let mut text = String::new();
    if !item.summary.trim().is_empty() {
        text.push_str(item.summary.trim());
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "This is todo {} of sprint {} (a {} from the sprint backlog).\nSprint milestone: {}\n",
        item.id, sprint.id, item.kind, sprint.milestone
    ));
    if !sprint.brief.trim().is_empty() {
        text.push_str(&format!("Sprint brief: {}\n", sprint.brief.trim()));
    }
    if !sprint.requirements.is_empty() {
        text.push_str("Sprint requirements:\n");
        for r in &sprint.requirements {
            text.push_str(&format!("- {r}\n"));
        }
    }
    text.push_str(&format!(
        "Commit messages for this todo use the form `{}`.",
        commit_form(&sprint.id, &item.id)
    ));
    text
}

/// A todo as an epic with one story: how the run's records show it.
pub fn todo_epic(item: &Item, sprint: &Sprint) -> Epic {
    let status = match item.status {
        ItemStatus::Done => EpicStatus::Completed,
        ItemStatus::CarriedOver => EpicStatus::Failed,
        _ => EpicStatus::Pending,
    };
    let story = Story {
        id: StoryId::new(&item.id),
        title: item.title.clone(),
        description: story_text(item, sprint),
        acceptance_criteria: item.acceptance_criteria.clone(),
        priority: None,
        passes: item.status == ItemStatus::Done,
        failure_reason: item
            .failure_reason
            .clone()
            .filter(|_| item.status == ItemStatus::CarriedOver),
        commit_sha: item.commit_sha.clone(),
        attempts: item.attempts,
        checks: Vec::new(),
        sim_fail_first: false,
    };
    Epic {
        id: EpicId::new(&item.id),
        title: item.title.clone(),
        description: item.summary.clone(),
        status,
        planned: false,
        depends_on: item.depends_on.iter().map(EpicId::new).collect(),
        stories: vec![story],
        checks: Vec::new(),
        backend: None,
        model: None,
        failure_reason: item
            .failure_reason
            .clone()
            .filter(|_| item.status == ItemStatus::CarriedOver),
    }
}

/// Every todo of `sprint` as an epic (ended ones too: dependents read their status).
pub fn sprint_epics(backlog: &Backlog, sprint: &Sprint) -> Vec<Epic> {
    sprint
        .todos
        .iter()
        .filter_map(|id| backlog.item(id))
        .map(|item| todo_epic(item, sprint))
        .collect()
}

/// The units of the todos still to do, in the sprint's order.
pub fn todo_units(backlog: &Backlog, sprint: &Sprint) -> Vec<Unit> {
    let todo_items: Vec<&Item> = sprint
        .todos
        .iter()
        .filter_map(|id| backlog.item(id))
        .collect();
    todo_items
        .iter()
        .filter(|item| item.status == ItemStatus::Selected)
        .map(|item| {
            let mut unit = Unit::from_epic(&todo_epic(item, sprint));
            unit.kind = UnitKind::Todo;
            // A dependency on an item done before this sprint is met already.
            unit.depends_on.retain(|dep| {
                sprint.todos.iter().any(|t| t == dep.as_str())
                    || backlog
                        .item(dep.as_str())
                        .is_none_or(|d| d.status != ItemStatus::Done)
            });
            if item.rank > 0 {
                unit.after = todo_items
                    .iter()
                    .filter(|other| other.rank > 0 && other.rank < item.rank)
                    .map(|other| UnitId::new(&other.id))
                    .collect();
            }
            unit
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_form_is_checked() {
        let ok = |s: &str| follows_commit_form("S-20260101-1", "B-001", s);
        assert!(ok("[S-20260101-1] B-001 src/lib.rs: parse empty input"));
        assert!(!ok("[S-20260101-1] B-002 src/lib.rs: parse empty input"));
        assert!(!ok("B-001 src/lib.rs: parse empty input"));
        assert!(!ok("[S-20260101-1] B-001 fix the parser"));
        assert!(!ok("[S-20260101-1] B-001 src/lib.rs:"));
    }
}
