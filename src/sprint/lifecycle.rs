//! The sprint lifecycle on `backlog.json` (spec §8): start (items become todos), the result of each
//! todo (done, or carried over with a pending copy), stop/restart, and closing.
//!
//! Every function here only edits the document; callers save it (atomically) and write the
//! markdown views. The run and the `teams sprint` commands share these functions, so a sprint is
//! closed the same way whether its last todo ended in a run or `sprint stop` closed it.

use std::collections::BTreeMap;

use crate::backlog::{
    BacklogDocument, ItemStatus, PrdIds, Sprint, SprintStatus, object, set_text, strings,
};
use crate::json::Node;

use super::clock::Moment;

/// What `teams sprint start` asks for.
#[derive(Debug, Clone, Default)]
pub struct SprintStart {
    pub milestone: String,
    pub brief: String,
    pub requirements: Vec<String>,
    /// The items to select; empty: every pending item.
    pub items: Vec<String>,
}

/// Why a sprint cannot start (or change).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SprintError {
    #[error("sprint {id} is {status}; only one sprint may be open at a time")]
    AlreadyOpen { id: String, status: SprintStatus },
    #[error("there are no pending items to select as todos")]
    NothingPending,
    #[error("the backlog has no item `{0}`")]
    UnknownItem(String),
    #[error("item {id} is {status}, not pending; only pending items can become todos")]
    NotPending { id: String, status: ItemStatus },
    #[error("item {0} has no acceptance criteria; the validator needs at least one to check")]
    NoCriteria(String),
    #[error("item {id} depends on {dep}, which is {what}")]
    DependencyOutside {
        id: String,
        dep: String,
        what: String,
    },
    #[error(
        "item {id} (rank {rank}) depends on {dep} (rank {dep_rank}), which by rank runs after it"
    )]
    RankOrder {
        id: String,
        rank: u32,
        dep: String,
        dep_rank: u32,
    },
    #[error("the milestone must not be blank")]
    BlankMilestone,
    #[error("there is no open sprint")]
    NoOpenSprint,
    #[error("sprint {id} is {status}; only a stopped sprint can be restarted")]
    NotStopped { id: String, status: SprintStatus },
}

/// Creates the sprint and selects its todos; returns the sprint's ID.
pub fn start(
    doc: &mut BacklogDocument,
    request: &SprintStart,
    prd: Option<&PrdIds>,
    now: Moment,
) -> Result<String, SprintError> {
    if request.milestone.trim().is_empty() {
        return Err(SprintError::BlankMilestone);
    }
    let backlog = doc.backlog();
    if let Some(open) = backlog.open_sprint() {
        return Err(SprintError::AlreadyOpen {
            id: open.id.clone(),
            status: open.status,
        });
    }
    let todos: Vec<String> = if request.items.is_empty() {
        backlog
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Pending)
            .map(|i| i.id.clone())
            .collect()
    } else {
        let mut chosen = Vec::new();
        for id in &request.items {
            let item = backlog
                .item(id)
                .ok_or_else(|| SprintError::UnknownItem(id.clone()))?;
            if item.status != ItemStatus::Pending {
                return Err(SprintError::NotPending {
                    id: id.clone(),
                    status: item.status,
                });
            }
            if !chosen.contains(id) {
                chosen.push(id.clone());
            }
        }
        chosen
    };
    if todos.is_empty() {
        return Err(SprintError::NothingPending);
    }
    for id in &todos {
        let Some(item) = backlog.item(id) else {
            continue;
        };
        if item.acceptance_criteria.iter().all(|c| c.trim().is_empty()) {
            return Err(SprintError::NoCriteria(id.clone()));
        }
        for dep in &item.depends_on {
            if todos.contains(dep) {
                let dep_rank = backlog.item(dep).map_or(0, |d| d.rank);
                if item.rank > 0 && dep_rank > item.rank {
                    return Err(SprintError::RankOrder {
                        id: id.clone(),
                        rank: item.rank,
                        dep: dep.clone(),
                        dep_rank,
                    });
                }
                continue;
            }
            let what = match backlog.item(dep) {
                Some(d) if d.status == ItemStatus::Done => continue,
                Some(d) => format!("{} and not selected in this sprint", d.status),
                // An epic of prd.json: the run waits for it (see docs/design/sprint.md).
                None if prd.is_none_or(|p| p.epics.contains(dep)) => continue,
                None => "neither an item nor an epic of prd.json".to_owned(),
            };
            return Err(SprintError::DependencyOutside {
                id: id.clone(),
                dep: dep.clone(),
                what,
            });
        }
    }
    let id = backlog.next_sprint_id(&now.day());
    doc.push_sprint(object(vec![
        ("id", Node::string(&id)),
        ("milestone", Node::string(request.milestone.trim())),
        ("brief", Node::string(&request.brief)),
        ("requirements", strings(&request.requirements)),
        ("status", Node::string(SprintStatus::Active.as_str())),
        ("todos", strings(&todos)),
        ("startedAt", Node::string(now.rfc3339())),
    ]));
    doc.edit_items(&todos, |node| {
        let mut changed = node.set_member("status", Node::string(ItemStatus::Selected.as_str()));
        changed |= node.set_member("sprintId", Node::string(&id));
        changed |= node.remove_member("commitSha");
        changed |= node.remove_member("attempts");
        changed |= node.remove_member("costUsd");
        changed | set_text(node, "failureReason", None)
    });
    Ok(id)
}

/// How a todo ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TodoResult {
    pub passed: bool,
    pub commit_sha: Option<String>,
    pub attempts: u32,
    pub failure_reason: Option<String>,
    pub cost_usd: f64,
}

/// Records a todo's end on its item: `done`, or `carried-over` plus a pending copy
/// (`carryOverOf`). Returns the copy's ID. Recording the same end twice (a resumed run) changes
/// nothing and creates no second copy.
pub fn record_todo(doc: &mut BacklogDocument, todo: &str, result: &TodoResult) -> Option<String> {
    let status = if result.passed {
        ItemStatus::Done
    } else {
        ItemStatus::CarriedOver
    };
    let _ = doc.edit_item(todo, |node| {
        let mut changed = node.set_member("status", Node::string(status.as_str()));
        changed |= match &result.commit_sha {
            Some(sha) if result.passed => node.set_member("commitSha", Node::string(sha)),
            _ => node.remove_member("commitSha"),
        };
        changed |= node.set_member("attempts", Node::integer(result.attempts));
        changed |= set_text(node, "failureReason", result.failure_reason.as_deref());
        if result.cost_usd > 0.0 {
            changed |= node.set_member(
                "costUsd",
                Node::synthetic(crate::json::NodeKind::Number(format!(
                    "{:.4}",
                    result.cost_usd
                ))),
            );
        }
        changed
    });
    if result.passed {
        return None;
    }
    carry_over(doc, todo)
}

/// The pending copy of a carried-over item; an existing copy is reused.
fn carry_over(doc: &mut BacklogDocument, todo: &str) -> Option<String> {
    let backlog = doc.backlog();
    if let Some(copy) = backlog
        .items
        .iter()
        .find(|i| i.carry_over_of.as_deref() == Some(todo))
    {
        return Some(copy.id.clone());
    }
    let item = backlog.item(todo)?.clone();
    // A dependency that was itself carried over points at its copy, so the copies keep their order.
    let copies: BTreeMap<&str, &str> = backlog
        .items
        .iter()
        .filter_map(|i| Some((i.carry_over_of.as_deref()?, i.id.as_str())))
        .collect();
    let depends_on: Vec<String> = item
        .depends_on
        .iter()
        .map(|d| {
            copies
                .get(d.as_str())
                .map_or(d.clone(), |c| (*c).to_owned())
        })
        .collect();
    let id = backlog.next_item_id();
    let mut members = vec![
        ("id", Node::string(&id)),
        ("title", Node::string(&item.title)),
    ];
    if !item.summary.is_empty() {
        members.push(("summary", Node::string(&item.summary)));
    }
    members.push(("kind", Node::string(item.kind.as_str())));
    members.push(("acceptanceCriteria", strings(&item.acceptance_criteria)));
    members.push(("rank", Node::integer(item.rank)));
    members.push(("dependsOn", strings(&depends_on)));
    members.push(("status", Node::string(ItemStatus::Pending.as_str())));
    if let Some(origin) = &item.origin {
        members.push(("origin", Node::string(origin)));
    }
    members.push(("carryOverOf", Node::string(todo)));
    doc.push_item(object(members));
    Some(id)
}

/// `teams sprint stop`: the open sprint stops starting todos. Returns its ID.
pub fn stop(doc: &mut BacklogDocument) -> Result<String, SprintError> {
    let sprint = doc
        .backlog()
        .open_sprint()
        .ok_or(SprintError::NoOpenSprint)?
        .clone();
    set_status(doc, &sprint.id, SprintStatus::Stopped);
    Ok(sprint.id)
}

/// `teams sprint restart`: a stopped (not closed) sprint becomes active again.
pub fn restart(doc: &mut BacklogDocument) -> Result<String, SprintError> {
    let sprint = doc
        .backlog()
        .open_sprint()
        .ok_or(SprintError::NoOpenSprint)?
        .clone();
    if sprint.status != SprintStatus::Stopped {
        return Err(SprintError::NotStopped {
            id: sprint.id,
            status: sprint.status,
        });
    }
    set_status(doc, &sprint.id, SprintStatus::Active);
    Ok(sprint.id)
}

fn set_status(doc: &mut BacklogDocument, id: &str, status: SprintStatus) {
    let _ = doc.edit_sprint(id, |node| {
        node.set_member("status", Node::string(status.as_str()))
    });
}

/// Whether every todo of the sprint has ended (its item is no longer `selected`).
pub fn all_todos_ended(doc: &BacklogDocument, sprint: &Sprint) -> bool {
    sprint.todos.iter().all(|t| {
        doc.backlog()
            .item(t)
            .is_none_or(|i| i.status != ItemStatus::Selected)
    })
}

/// Closes the sprint: todos that never ended go back to `pending` (their work was not started or
/// not finished; nothing is carried over for them), the sprint is `closed`. Returns the sprint as
/// it was just before, with the todos that went back.
pub fn close(doc: &mut BacklogDocument, id: &str, now: Moment) -> Option<(Sprint, Vec<String>)> {
    let sprint = doc.backlog().sprint(id)?.clone();
    let returned: Vec<String> = sprint
        .todos
        .iter()
        .filter(|t| {
            doc.backlog()
                .item(t)
                .is_some_and(|i| i.status == ItemStatus::Selected)
        })
        .cloned()
        .collect();
    doc.edit_items(&returned, |node| {
        let changed = node.set_member("status", Node::string(ItemStatus::Pending.as_str()));
        changed | node.remove_member("sprintId")
    });
    let _ = doc.edit_sprint(id, |node| {
        let changed = node.set_member("status", Node::string(SprintStatus::Closed.as_str()));
        changed | node.set_member("closedAt", Node::string(now.rfc3339()))
    });
    Some((sprint, returned))
}

/// `teams reset <todo>`: a todo of the open sprint that ended goes back to `selected` (the next
/// run builds it again) and its pending carry-over copy is `dropped` (kept, for history); any
/// other ended item goes back to `pending`. Returns the new status.
pub fn reset_item(doc: &mut BacklogDocument, id: &str) -> Option<ItemStatus> {
    let item = doc.backlog().item(id)?.clone();
    let open = doc.backlog().open_sprint().map(|s| s.id.clone());
    let in_open_sprint = open.is_some() && item.sprint_id == open;
    let status = if in_open_sprint {
        ItemStatus::Selected
    } else {
        ItemStatus::Pending
    };
    let copies: Vec<String> = doc
        .backlog()
        .items
        .iter()
        .filter(|i| i.carry_over_of.as_deref() == Some(id) && i.status == ItemStatus::Pending)
        .map(|i| i.id.clone())
        .collect();
    if in_open_sprint {
        for copy in copies {
            let _ = doc.edit_item(&copy, |node| {
                node.set_member("status", Node::string(ItemStatus::Dropped.as_str()))
            });
        }
    }
    let _ = doc.edit_item(id, |node| {
        let mut changed = node.set_member("status", Node::string(status.as_str()));
        changed |= node.remove_member("commitSha");
        changed |= node.remove_member("attempts");
        changed |= node.remove_member("costUsd");
        if !in_open_sprint {
            changed |= node.remove_member("sprintId");
        }
        changed | set_text(node, "failureReason", None)
    });
    Some(status)
}
