//! Builds the typed [`Prd`] view from the JSON tree, collecting every schema problem at once.
//!
//! A user fixing a hand-written PRD should see all its problems in one `teams validate`, not one
//! per run, so nothing here stops at the first problem: a bad field is reported and replaced by
//! its default, and the rest of the document is still read. The [`SourceMap`] remembers where each
//! piece came from, for the consistency checks in `validate.rs` and for edits.

use crate::json::{Member, Node, NodeKind, Span};

use super::model::{Epic, EpicId, EpicStatus, Prd, Story, StoryId};
use super::problem::{Problems, edit_distance};

/// Where the parts of the typed view are in the tree. Vectors line up with the typed view.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMap {
    /// The `epics` array, when present as an array.
    pub epics_field: Option<Span>,
    pub epics: Vec<EpicSource>,
}

#[derive(Debug, Clone)]
pub(crate) struct EpicSource {
    /// Index of this epic in the tree's `epics` array (differs from the typed index only when an
    /// earlier element was not an object, and then the document is invalid anyway).
    pub tree_index: usize,
    pub path: String,
    pub span: Span,
    /// Present-and-a-string spans; `None` when the field was missing or of the wrong type, which
    /// already produced a problem, so the consistency checks skip it.
    pub id: Option<Span>,
    pub title: Option<Span>,
    pub stories_field: Option<Span>,
    /// One span per entry of `Epic::depends_on`.
    pub depends_on: Vec<Span>,
    pub stories: Vec<StorySource>,
}

#[derive(Debug, Clone)]
pub(crate) struct StorySource {
    pub tree_index: usize,
    pub path: String,
    pub id: Option<Span>,
    pub title: Option<Span>,
    pub criteria_field: Option<Span>,
    /// One span per entry of `Story::acceptance_criteria`.
    pub criteria: Vec<Span>,
}

const ROOT_KEYS: &[&str] = &["project", "branchName", "description", "epics"];
const EPIC_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "status",
    "planned",
    "dependsOn",
    "userStories",
    "checks",
    "backend",
    "model",
    "failureReason",
];
const STORY_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "acceptanceCriteria",
    "priority",
    "passes",
    "failureReason",
    "commitSha",
    "attempts",
    "checks",
    "sim",
];
const SIM_KEYS: &[&str] = &["failFirst"];

/// Reads the typed view out of `root`, reporting every schema problem into `problems`.
pub(crate) fn extract(root: &Node, problems: &mut Problems) -> (Prd, SourceMap) {
    let mut source = SourceMap::default();
    let mut prd = Prd {
        project: String::new(),
        branch_name: None,
        description: None,
        epics: Vec::new(),
    };
    if root.as_object().is_none() {
        problems.push(
            root.span,
            "",
            format!(
                "prd.json must be a JSON object with `project` and `epics`; found {}",
                root.type_name()
            ),
        );
        return (prd, source);
    }
    let fields = Fields::new(root, "", ROOT_KEYS, problems);
    if let Some((project, _)) = fields.required_string("project", problems) {
        prd.project = project;
    }
    prd.branch_name = fields.optional_string("branchName", problems);
    prd.description = fields.optional_string("description", problems);
    if let Some(epics) = fields.required_array("epics", problems) {
        source.epics_field = Some(epics.span);
        for (index, node) in epics.as_array().unwrap_or_default().iter().enumerate() {
            let path = format!("epics[{index}]");
            if let Some((epic, epic_source)) = extract_epic(node, index, path, problems) {
                prd.epics.push(epic);
                source.epics.push(epic_source);
            }
        }
    }
    (prd, source)
}

fn extract_epic(
    node: &Node,
    tree_index: usize,
    path: String,
    problems: &mut Problems,
) -> Option<(Epic, EpicSource)> {
    if node.as_object().is_none() {
        problems.push(
            node.span,
            path,
            format!("expected an epic object, found {}", node.type_name()),
        );
        return None;
    }
    let fields = Fields::new(node, &path, EPIC_KEYS, problems);
    let id = fields.required_string("id", problems);
    let title = fields.required_string("title", problems);
    let status = match fields.get("status") {
        None => EpicStatus::Pending,
        Some(value) if matches!(value.kind, NodeKind::Null) => EpicStatus::Pending,
        Some(value) => match value.as_str() {
            Some(text) => EpicStatus::parse(text).unwrap_or_else(|| {
                let allowed: Vec<&str> = EpicStatus::ALL.iter().map(|s| s.as_str()).collect();
                problems.push(
                    value.span,
                    format!("{path}.status"),
                    format!(
                        "unknown status `{text}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
                EpicStatus::Pending
            }),
            None => {
                fields.wrong_type("status", value, "a string", problems);
                EpicStatus::Pending
            }
        },
    };
    let (depends_on, depends_on_spans) = fields
        .string_array("dependsOn", false, problems)
        .unwrap_or_default();
    let mut stories = Vec::new();
    let mut story_sources = Vec::new();
    let stories_node = fields.required_array("userStories", problems);
    if let Some(array) = stories_node {
        for (index, story) in array.as_array().unwrap_or_default().iter().enumerate() {
            let story_path = format!("{path}.userStories[{index}]");
            if let Some((story, story_source)) = extract_story(story, index, story_path, problems) {
                stories.push(story);
                story_sources.push(story_source);
            }
        }
    }
    let epic = Epic {
        id: EpicId::new(id.as_ref().map(|(s, _)| s.clone()).unwrap_or_default()),
        title: title.as_ref().map(|(s, _)| s.clone()).unwrap_or_default(),
        description: fields
            .optional_string("description", problems)
            .unwrap_or_default(),
        status,
        planned: fields.optional_bool("planned", problems).unwrap_or(false),
        depends_on: depends_on.into_iter().map(EpicId::new).collect(),
        stories,
        checks: fields
            .string_array("checks", false, problems)
            .map(|(c, _)| c)
            .unwrap_or_default(),
        backend: fields.optional_string("backend", problems),
        model: fields.optional_string("model", problems),
        failure_reason: fields.optional_string("failureReason", problems),
    };
    let source = EpicSource {
        tree_index,
        span: node.span,
        id: id.map(|(_, span)| span),
        title: title.map(|(_, span)| span),
        stories_field: stories_node.map(|n| n.span),
        depends_on: depends_on_spans,
        stories: story_sources,
        path,
    };
    Some((epic, source))
}

fn extract_story(
    node: &Node,
    tree_index: usize,
    path: String,
    problems: &mut Problems,
) -> Option<(Story, StorySource)> {
    if node.as_object().is_none() {
        problems.push(
            node.span,
            path,
            format!("expected a story object, found {}", node.type_name()),
        );
        return None;
    }
    let fields = Fields::new(node, &path, STORY_KEYS, problems);
    let id = fields.required_string("id", problems);
    let title = fields.required_string("title", problems);
    let criteria = fields.string_array("acceptanceCriteria", true, problems);
    let criteria_field = fields
        .get("acceptanceCriteria")
        .filter(|_| criteria.is_some())
        .map(|n| n.span);
    let (criteria, criteria_spans) = criteria.unwrap_or_default();
    let attempts = fields
        .optional_integer("attempts", problems)
        .and_then(|(n, span)| {
            u32::try_from(n).ok().or_else(|| {
                problems.push(
                    span,
                    format!("{path}.attempts"),
                    format!("expected a count from 0 to {}, found {n}", u32::MAX),
                );
                None
            })
        });
    let sim_fail_first = match fields.get("sim") {
        None => false,
        Some(sim) if matches!(sim.kind, NodeKind::Null) => false,
        Some(sim) if sim.as_object().is_some() => {
            let sim_path = format!("{path}.sim");
            Fields::new(sim, &sim_path, SIM_KEYS, problems)
                .optional_bool("failFirst", problems)
                .unwrap_or(false)
        }
        Some(sim) => {
            fields.wrong_type("sim", sim, "an object", problems);
            false
        }
    };
    let story = Story {
        id: StoryId::new(id.as_ref().map(|(s, _)| s.clone()).unwrap_or_default()),
        title: title.as_ref().map(|(s, _)| s.clone()).unwrap_or_default(),
        description: fields
            .optional_string("description", problems)
            .unwrap_or_default(),
        acceptance_criteria: criteria,
        priority: fields
            .optional_integer("priority", problems)
            .map(|(n, _)| n),
        passes: fields.optional_bool("passes", problems).unwrap_or(false),
        failure_reason: fields.optional_string("failureReason", problems),
        commit_sha: fields.optional_string("commitSha", problems),
        attempts: attempts.unwrap_or(0),
        checks: fields
            .string_array("checks", false, problems)
            .map(|(c, _)| c)
            .unwrap_or_default(),
        sim_fail_first,
    };
    let source = StorySource {
        tree_index,
        id: id.map(|(_, span)| span),
        title: title.map(|(_, span)| span),
        criteria_field,
        criteria: criteria_spans,
        path,
    };
    Some((story, source))
}

/// Typed access to one object's members, reporting problems with the member's path.
pub(crate) struct Fields<'a> {
    members: &'a [Member],
    path: &'a str,
    span: Span,
}

impl<'a> Fields<'a> {
    /// Wraps an object node and reports its duplicate keys and likely misspelled keys.
    pub(crate) fn new(
        node: &'a Node,
        path: &'a str,
        known: &[&str],
        problems: &mut Problems,
    ) -> Self {
        let fields = Fields {
            members: node.as_object().unwrap_or_default(),
            path,
            span: node.span,
        };
        for (i, member) in fields.members.iter().enumerate() {
            if fields.members[..i].iter().any(|m| m.key == member.key) {
                problems.push(
                    member.key_span,
                    fields.field_path(&member.key),
                    format!(
                        "duplicate key `{}`; JSON tools disagree on which one counts",
                        member.key
                    ),
                );
            }
            let meant = if known.contains(&member.key.as_str()) {
                None
            } else {
                misspelling_of(&member.key, known)
            };
            if let Some(meant) = meant {
                problems.push(
                    member.key_span,
                    fields.field_path(&member.key),
                    format!("unknown field `{}`; did you mean `{meant}`?", member.key),
                );
            }
        }
        fields
    }

    pub(crate) fn field_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.members.iter().find(|m| m.key == key).map(|m| &m.value)
    }

    pub(crate) fn missing(&self, key: &str, problems: &mut Problems) {
        problems.push(
            self.span,
            self.path,
            format!("missing required field `{key}`"),
        );
    }

    pub(crate) fn wrong_type(
        &self,
        key: &str,
        value: &Node,
        expected: &str,
        problems: &mut Problems,
    ) {
        problems.push(
            value.span,
            self.field_path(key),
            format!("expected {expected}, found {}", value.type_name()),
        );
    }

    pub(crate) fn required_string(
        &self,
        key: &str,
        problems: &mut Problems,
    ) -> Option<(String, Span)> {
        match self.get(key) {
            None => {
                self.missing(key, problems);
                None
            }
            Some(value) => match value.as_str() {
                Some(s) => Some((s.to_owned(), value.span)),
                None => {
                    self.wrong_type(key, value, "a string", problems);
                    None
                }
            },
        }
    }

    /// A string that may be missing or `null`.
    pub(crate) fn optional_string(&self, key: &str, problems: &mut Problems) -> Option<String> {
        let value = self.get(key)?;
        match &value.kind {
            NodeKind::Null => None,
            NodeKind::String(s) => Some(s.clone()),
            _ => {
                self.wrong_type(key, value, "a string or null", problems);
                None
            }
        }
    }

    /// A boolean that may be missing (`null` is not accepted: `passes: null` is more likely a bug
    /// than a deliberate "false").
    pub(crate) fn optional_bool(&self, key: &str, problems: &mut Problems) -> Option<bool> {
        let value = self.get(key)?;
        match value.kind {
            NodeKind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(key, value, "a boolean", problems);
                None
            }
        }
    }

    /// An integer that may be missing or `null`.
    pub(crate) fn optional_integer(
        &self,
        key: &str,
        problems: &mut Problems,
    ) -> Option<(i64, Span)> {
        let value = self.get(key)?;
        match &value.kind {
            NodeKind::Null => None,
            NodeKind::Number(raw) => match raw.parse::<i64>() {
                Ok(n) => Some((n, value.span)),
                Err(_) => {
                    problems.push(
                        value.span,
                        self.field_path(key),
                        format!("expected an integer, found {raw}"),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(key, value, "an integer", problems);
                None
            }
        }
    }

    pub(crate) fn required_array(&self, key: &str, problems: &mut Problems) -> Option<&'a Node> {
        match self.get(key) {
            None => {
                self.missing(key, problems);
                None
            }
            Some(value) if value.as_array().is_some() => Some(value),
            Some(value) => {
                self.wrong_type(key, value, "an array", problems);
                None
            }
        }
    }

    /// An array of strings with each element's span; elements of other types are reported and
    /// left out. A missing optional array (or `null`) is `None`.
    pub(crate) fn string_array(
        &self,
        key: &str,
        required: bool,
        problems: &mut Problems,
    ) -> Option<(Vec<String>, Vec<Span>)> {
        let value = match self.get(key) {
            None if required => {
                self.missing(key, problems);
                return None;
            }
            None => return None,
            Some(value) if !required && matches!(value.kind, NodeKind::Null) => return None,
            Some(value) => value,
        };
        let Some(items) = value.as_array() else {
            self.wrong_type(key, value, "an array of strings", problems);
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut spans = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => {
                    strings.push(s.to_owned());
                    spans.push(item.span);
                }
                None => problems.push(
                    item.span,
                    format!("{}[{i}]", self.field_path(key)),
                    format!("expected a string, found {}", item.type_name()),
                ),
            }
        }
        Some((strings, spans))
    }
}

/// The known key an unknown key was probably meant to be: same letters ignoring case, `_` and `-`
/// (`depends_on`), a small typo in a long key (`acceptanceCriterias`), or `stories`. A misspelled
/// `dependsOn` would otherwise silently drop a dependency, so these are errors, while other
/// unknown keys are kept and ignored.
fn misspelling_of<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let normalize = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = normalize(key);
    if wanted == "stories" && known.contains(&"userStories") {
        return Some("userStories");
    }
    known.iter().copied().find(|k| {
        let k_norm = normalize(k);
        k_norm == wanted || (k.len() >= 6 && edit_distance(&wanted, &k_norm) <= 2)
    })
}
