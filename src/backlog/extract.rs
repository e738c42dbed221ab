//! Builds the typed [`Backlog`] from the JSON tree, collecting every schema problem at once (the
//! same way, and with the same field helpers, as `prd.json`: a bad field is reported and the rest
//! is still read, so one `teams validate` lists everything).

use crate::json::{Node, NodeKind, Span};
use crate::prd::extract::Fields;
use crate::prd::problem::Problems;

use super::model::{Backlog, Item, ItemKind, ItemStatus, Sprint, SprintStatus};

/// Where the parts of the typed view are in the tree; vectors line up with the typed view.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMap {
    pub items: Vec<ItemSource>,
    pub sprints: Vec<SprintSource>,
}

#[derive(Debug, Clone)]
pub(crate) struct ItemSource {
    /// Index in the tree's `items` array.
    pub tree_index: usize,
    pub path: String,
    pub span: Span,
    pub id: Option<Span>,
    pub title: Option<Span>,
    pub criteria_field: Option<Span>,
    pub criteria: Vec<Span>,
    pub depends_on: Vec<Span>,
    pub carry_over_of: Option<Span>,
}

#[derive(Debug, Clone)]
pub(crate) struct SprintSource {
    pub tree_index: usize,
    pub path: String,
    pub id: Option<Span>,
    pub todos: Vec<Span>,
}

const ROOT_KEYS: &[&str] = &["items", "sprints"];
const ITEM_KEYS: &[&str] = &[
    "id",
    "title",
    "summary",
    "kind",
    "acceptanceCriteria",
    "rank",
    "dependsOn",
    "status",
    "origin",
    "carryOverOf",
    "sprintId",
    "commitSha",
    "attempts",
    "failureReason",
    "costUsd",
];
const SPRINT_KEYS: &[&str] = &[
    "id",
    "milestone",
    "brief",
    "requirements",
    "status",
    "todos",
    "startedAt",
    "closedAt",
];

/// Reads the typed view out of `root`, reporting every schema problem into `problems`.
pub(crate) fn extract(root: &Node, problems: &mut Problems) -> (Backlog, SourceMap) {
    let mut backlog = Backlog::default();
    let mut source = SourceMap::default();
    if root.as_object().is_none() {
        problems.push(
            root.span,
            "",
            format!(
                "backlog.json must be a JSON object with `items`; found {}",
                root.type_name()
            ),
        );
        return (backlog, source);
    }
    let fields = Fields::new(root, "", ROOT_KEYS, problems);
    if let Some(items) = fields.required_array("items", problems) {
        for (index, node) in items.as_array().unwrap_or_default().iter().enumerate() {
            if let Some((item, item_source)) = extract_item(node, index, problems) {
                backlog.items.push(item);
                source.items.push(item_source);
            }
        }
    }
    match fields.get("sprints") {
        None => {}
        Some(node) if node.as_array().is_some() => {
            for (index, node) in node.as_array().unwrap_or_default().iter().enumerate() {
                if let Some((sprint, sprint_source)) = extract_sprint(node, index, problems) {
                    backlog.sprints.push(sprint);
                    source.sprints.push(sprint_source);
                }
            }
        }
        Some(node) => fields.wrong_type("sprints", node, "an array", problems),
    }
    (backlog, source)
}

/// An enum-valued string field: missing or `null` is the default.
fn enum_field<T: Copy + Default>(
    fields: &Fields<'_>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
    problems: &mut Problems,
) -> T {
    match fields.get(key) {
        None => T::default(),
        Some(value) if matches!(value.kind, NodeKind::Null) => T::default(),
        Some(value) => match value.as_str() {
            Some(text) => parse(text).unwrap_or_else(|| {
                problems.push(
                    value.span,
                    fields.field_path(key),
                    format!(
                        "unknown {key} `{text}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
                T::default()
            }),
            None => {
                fields.wrong_type(key, value, "a string", problems);
                T::default()
            }
        },
    }
}

fn extract_item(
    node: &Node,
    tree_index: usize,
    problems: &mut Problems,
) -> Option<(Item, ItemSource)> {
    let path = format!("items[{tree_index}]");
    if node.as_object().is_none() {
        problems.push(
            node.span,
            path,
            format!("expected an item object, found {}", node.type_name()),
        );
        return None;
    }
    let fields = Fields::new(node, &path, ITEM_KEYS, problems);
    let id = fields.required_string("id", problems);
    let title = fields.required_string("title", problems);
    let criteria = fields.string_array("acceptanceCriteria", true, problems);
    let criteria_field = fields
        .get("acceptanceCriteria")
        .filter(|_| criteria.is_some())
        .map(|n| n.span);
    let (criteria, criteria_spans) = criteria.unwrap_or_default();
    let (depends_on, depends_on_spans) = fields
        .string_array("dependsOn", false, problems)
        .unwrap_or_default();
    let kinds: Vec<&str> = ItemKind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = enum_field(&fields, "kind", ItemKind::parse, &kinds, problems);
    let statuses: Vec<&str> = ItemStatus::ALL.iter().map(|k| k.as_str()).collect();
    let status = enum_field(&fields, "status", ItemStatus::parse, &statuses, problems);
    let count = |key: &str, problems: &mut Problems| -> u32 {
        fields
            .optional_integer(key, problems)
            .and_then(|(n, span)| {
                u32::try_from(n).ok().or_else(|| {
                    problems.push(
                        span,
                        fields.field_path(key),
                        format!("expected a whole number from 0, found {n}"),
                    );
                    None
                })
            })
            .unwrap_or(0)
    };
    let rank = count("rank", problems);
    let attempts = count("attempts", problems);
    let cost_usd = match fields.get("costUsd") {
        None => None,
        Some(value) => match &value.kind {
            NodeKind::Null => None,
            NodeKind::Number(raw) => raw.parse::<f64>().ok(),
            _ => {
                fields.wrong_type("costUsd", value, "a number", problems);
                None
            }
        },
    };
    let carry_over_span = fields
        .get("carryOverOf")
        .filter(|n| n.as_str().is_some())
        .map(|n| n.span);
    let item = Item {
        id: id.as_ref().map(|(s, _)| s.clone()).unwrap_or_default(),
        title: title.as_ref().map(|(s, _)| s.clone()).unwrap_or_default(),
        summary: fields
            .optional_string("summary", problems)
            .unwrap_or_default(),
        kind,
        acceptance_criteria: criteria,
        rank,
        depends_on,
        status,
        // Free text or refs: any JSON is kept; the view shows it when it is text.
        origin: fields
            .get("origin")
            .and_then(Node::as_str)
            .map(str::to_owned),
        carry_over_of: fields.optional_string("carryOverOf", problems),
        sprint_id: fields.optional_string("sprintId", problems),
        commit_sha: fields.optional_string("commitSha", problems),
        attempts,
        failure_reason: fields.optional_string("failureReason", problems),
        cost_usd,
    };
    let source = ItemSource {
        tree_index,
        span: node.span,
        id: id.map(|(_, span)| span),
        title: title.map(|(_, span)| span),
        criteria_field,
        criteria: criteria_spans,
        depends_on: depends_on_spans,
        carry_over_of: carry_over_span,
        path,
    };
    Some((item, source))
}

fn extract_sprint(
    node: &Node,
    tree_index: usize,
    problems: &mut Problems,
) -> Option<(Sprint, SprintSource)> {
    let path = format!("sprints[{tree_index}]");
    if node.as_object().is_none() {
        problems.push(
            node.span,
            path,
            format!("expected a sprint object, found {}", node.type_name()),
        );
        return None;
    }
    let fields = Fields::new(node, &path, SPRINT_KEYS, problems);
    let id = fields.required_string("id", problems);
    let milestone = fields.required_string("milestone", problems);
    let statuses: Vec<&str> = SprintStatus::ALL.iter().map(|k| k.as_str()).collect();
    let status = match fields.get("status") {
        None => {
            fields.missing("status", problems);
            SprintStatus::Closed
        }
        Some(value) => match value.as_str().map(SprintStatus::parse) {
            Some(Some(status)) => status,
            Some(None) => {
                problems.push(
                    value.span,
                    fields.field_path("status"),
                    format!(
                        "unknown status `{}`; expected one of: {}",
                        value.as_str().unwrap_or_default(),
                        statuses.join(", ")
                    ),
                );
                SprintStatus::Closed
            }
            None => {
                fields.wrong_type("status", value, "a string", problems);
                SprintStatus::Closed
            }
        },
    };
    let (todos, todo_spans) = fields
        .string_array("todos", true, problems)
        .unwrap_or_default();
    let sprint = Sprint {
        id: id.as_ref().map(|(s, _)| s.clone()).unwrap_or_default(),
        milestone: milestone.map(|(s, _)| s).unwrap_or_default(),
        brief: fields
            .optional_string("brief", problems)
            .unwrap_or_default(),
        requirements: fields
            .string_array("requirements", false, problems)
            .map(|(r, _)| r)
            .unwrap_or_default(),
        status,
        todos,
        started_at: fields
            .optional_string("startedAt", problems)
            .unwrap_or_default(),
        closed_at: fields.optional_string("closedAt", problems),
    };
    let source = SprintSource {
        tree_index,
        path,
        id: id.map(|(_, span)| span),
        todos: todo_spans,
    };
    Some((sprint, source))
}
