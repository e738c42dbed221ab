//! Consistency checks of `backlog.json` that need the whole file: unique IDs, dependencies that
//! exist (backlog items, or epics of `prd.json`) and do not loop, acceptance criteria on every
//! item, sprints that name real items, and at most one open sprint.

use std::collections::{BTreeSet, HashMap};

use crate::json::LineIndex;
use crate::plan::dag;
use crate::prd::problem::{Problems, closest};
use crate::prd::validate::{blank, id_chars, is_blank};

use super::extract::SourceMap;
use super::model::{Backlog, SprintStatus};

/// The IDs of `prd.json`, for dependencies on epics and for clashes with PRD IDs. `None` where the
/// PRD could not be read: then a dependency that is not an item is not checked.
#[derive(Debug, Clone, Default)]
pub struct PrdIds {
    pub epics: BTreeSet<String>,
    pub stories: BTreeSet<String>,
}

impl PrdIds {
    pub fn from_prd(prd: &crate::prd::Prd) -> PrdIds {
        PrdIds {
            epics: prd.epics.iter().map(|e| e.id.to_string()).collect(),
            stories: prd
                .epics
                .iter()
                .flat_map(|e| e.stories.iter().map(|s| s.id.to_string()))
                .collect(),
        }
    }
}

pub(crate) fn validate(
    backlog: &Backlog,
    source: &SourceMap,
    text: &[u8],
    prd: Option<&PrdIds>,
    problems: &mut Problems,
) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut index: Option<LineIndex> = None;
    for (i, (item, is)) in backlog.items.iter().zip(&source.items).enumerate() {
        blank(is.id, &item.id, &is.path, "id", problems);
        id_chars(is.id, &item.id, &is.path, problems);
        blank(is.title, &item.title, &is.path, "title", problems);
        if let (Some(span), true) = (is.criteria_field, item.acceptance_criteria.is_empty()) {
            problems.push(
                span,
                format!("{}.acceptanceCriteria", is.path),
                "the item has no acceptance criteria; the validator needs at least one to check",
            );
        }
        for (j, (criterion, span)) in item
            .acceptance_criteria
            .iter()
            .zip(&is.criteria)
            .enumerate()
        {
            if is_blank(criterion) {
                problems.push(
                    *span,
                    format!("{}.acceptanceCriteria[{j}]", is.path),
                    "must not be blank",
                );
            }
        }
        let Some(span) = is.id else { continue };
        if is_blank(&item.id) {
            continue;
        }
        if let Some(&earlier) = first.get(item.id.as_str()) {
            let at = source.items[earlier].id.map_or(String::new(), |s| {
                let index = index.get_or_insert_with(|| LineIndex::new(text));
                format!(" ({})", index.position(text, s.start))
            });
            problems.push(
                span,
                format!("{}.id", is.path),
                format!(
                    "duplicate ID `{}`: the item at {}{at} already uses it",
                    item.id, source.items[earlier].path
                ),
            );
        } else {
            first.insert(&item.id, i);
        }
        if let Some(prd) = prd
            && (prd.epics.contains(&item.id) || prd.stories.contains(&item.id))
        {
            problems.push(
                span,
                format!("{}.id", is.path),
                format!(
                    "ID `{}` is also used in prd.json; backlog items and PRD IDs share branch names, so they must differ",
                    item.id
                ),
            );
        }
    }
    check_dependencies(backlog, source, &first, prd, problems);
    check_sprints(backlog, source, &first, problems);
}

fn check_dependencies(
    backlog: &Backlog,
    source: &SourceMap,
    first: &HashMap<&str, usize>,
    prd: Option<&PrdIds>,
    problems: &mut Problems,
) {
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); backlog.items.len()];
    let mut edge_span = HashMap::new();
    for (i, (item, is)) in backlog.items.iter().zip(&source.items).enumerate() {
        for (j, (dep, span)) in item.depends_on.iter().zip(&is.depends_on).enumerate() {
            let path = format!("{}.dependsOn[{j}]", is.path);
            if is_blank(dep) {
                problems.push(*span, path, "must not be blank");
            } else if dep == &item.id {
                problems.push(*span, path, format!("item `{dep}` depends on itself"));
            } else if let Some(&target) = first.get(dep.as_str()) {
                deps[i].push(target);
                edge_span.entry((i, target)).or_insert((*span, j));
            } else if let Some(prd) = prd {
                if prd.stories.contains(dep) {
                    problems.push(
                        *span,
                        path,
                        format!("`{dep}` is a story of prd.json; `dependsOn` names items or epics"),
                    );
                } else if !prd.epics.contains(dep) {
                    // Sorted, so a tie between two suggestions always picks the same one.
                    let candidates: BTreeSet<&str> = first
                        .keys()
                        .copied()
                        .chain(prd.epics.iter().map(String::as_str))
                        .collect();
                    let suggestion = closest(dep, candidates)
                        .map(|id| format!("; did you mean `{id}`?"))
                        .unwrap_or_default();
                    problems.push(
                        *span,
                        path,
                        format!("unknown item or epic `{dep}`{suggestion}"),
                    );
                }
            }
        }
        if let (Some(target), Some(span)) = (&item.carry_over_of, is.carry_over_of)
            && !first.contains_key(target.as_str())
        {
            problems.push(
                span,
                format!("{}.carryOverOf", is.path),
                format!("unknown item `{target}`"),
            );
        }
    }
    for cycle in dag::cycles(&deps) {
        let mut nodes = cycle.0;
        if let Some(lowest) = nodes
            .iter()
            .enumerate()
            .min_by_key(|&(_, &n)| n)
            .map(|(i, _)| i)
        {
            nodes.rotate_left(lowest);
        }
        let (Some(&from), Some(&to)) = (nodes.first(), nodes.get(1).or(nodes.first())) else {
            continue;
        };
        let mut names: Vec<&str> = nodes
            .iter()
            .map(|&n| backlog.items[n].id.as_str())
            .collect();
        names.push(backlog.items[from].id.as_str());
        let (span, j) = edge_span
            .get(&(from, to))
            .copied()
            .unwrap_or((source.items[from].span, 0));
        problems.push(
            span,
            format!("{}.dependsOn[{j}]", source.items[from].path),
            format!(
                "dependency cycle: {} (each item depends on the next)",
                names.join(" → ")
            ),
        );
    }
}

fn check_sprints(
    backlog: &Backlog,
    source: &SourceMap,
    items: &HashMap<&str, usize>,
    problems: &mut Problems,
) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut open: Option<&str> = None;
    for (sprint, ss) in backlog.sprints.iter().zip(&source.sprints) {
        if let Some(span) = ss.id {
            if is_blank(&sprint.id) {
                problems.push(span, format!("{}.id", ss.path), "must not be blank");
            } else if !seen.insert(&sprint.id) {
                problems.push(
                    span,
                    format!("{}.id", ss.path),
                    format!("duplicate sprint ID `{}`", sprint.id),
                );
            }
            if sprint.status != SprintStatus::Closed {
                if let Some(other) = open {
                    problems.push(
                        span,
                        format!("{}.status", ss.path),
                        format!(
                            "sprint `{}` is {} while `{other}` is open too; only one sprint may be open",
                            sprint.id, sprint.status
                        ),
                    );
                } else {
                    open = Some(&sprint.id);
                }
            }
        }
        for (j, (todo, span)) in sprint.todos.iter().zip(&ss.todos).enumerate() {
            if !items.contains_key(todo.as_str()) {
                problems.push(
                    *span,
                    format!("{}.todos[{j}]", ss.path),
                    format!("unknown item `{todo}`"),
                );
            }
        }
    }
}
