//! Consistency checks that need the whole document: unique IDs, dependencies that exist and do not
//! loop, and no empty parts.
//!
//! They run on the typed view even when the schema had problems, skipping the fields that were
//! missing or mistyped (already reported), so one `teams validate` lists everything. ralph-teams
//! checked duplicate IDs and cycles too; the additions here (blank text, empty criteria, self
//! dependencies, "did you mean") catch the mistakes agents make when they write a PRD.

use std::cell::OnceCell;
use std::collections::HashMap;

use crate::json::{LineIndex, Span};
use crate::plan::dag;

use super::extract::SourceMap;
use super::model::Prd;
use super::problem::{Problems, closest};

/// Runs every consistency check, reporting into `problems`.
///
/// `text` is the parsed input, used to give the position of the first definition of a duplicate.
pub(crate) fn validate(prd: &Prd, source: &SourceMap, text: &[u8], problems: &mut Problems) {
    check_non_empty(prd, source, problems);
    check_unique_ids(prd, source, text, problems);
    check_dependencies(prd, source, problems);
}

pub(crate) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn check_non_empty(prd: &Prd, source: &SourceMap, problems: &mut Problems) {
    if let (Some(span), true) = (source.epics_field, prd.epics.is_empty()) {
        problems.push(span, "epics", "the PRD has no epics; add at least one");
    }
    for (epic, es) in prd.epics.iter().zip(&source.epics) {
        blank(es.id, epic.id.as_str(), &es.path, "id", problems);
        id_chars(es.id, epic.id.as_str(), &es.path, problems);
        blank(es.title, &epic.title, &es.path, "title", problems);
        if let (Some(span), true) = (es.stories_field, epic.stories.is_empty()) {
            problems.push(
                span,
                format!("{}.userStories", es.path),
                "the epic has no stories; add at least one",
            );
        }
        for (story, ss) in epic.stories.iter().zip(&es.stories) {
            blank(ss.id, story.id.as_str(), &ss.path, "id", problems);
            id_chars(ss.id, story.id.as_str(), &ss.path, problems);
            blank(ss.title, &story.title, &ss.path, "title", problems);
            if let (Some(span), true) = (ss.criteria_field, story.acceptance_criteria.is_empty()) {
                problems.push(
                    span,
                    format!("{}.acceptanceCriteria", ss.path),
                    "the story has no acceptance criteria; the validator needs at least one to check",
                );
            }
            let criteria = story.acceptance_criteria.iter().zip(&ss.criteria);
            for (i, (criterion, span)) in criteria.enumerate() {
                if is_blank(criterion) {
                    problems.push(
                        *span,
                        format!("{}.acceptanceCriteria[{i}]", ss.path),
                        "must not be blank",
                    );
                }
            }
        }
    }
}

/// Reports a field that is present but empty or only whitespace.
pub(crate) fn blank(
    span: Option<Span>,
    text: &str,
    path: &str,
    key: &str,
    problems: &mut Problems,
) {
    if let (Some(span), true) = (span, is_blank(text)) {
        problems.push(span, format!("{path}.{key}"), "must not be blank");
    }
}

/// Reports an ID that cannot be used where `teams` uses IDs: in branch names
/// (`teams/<project>/unit/<ID>`), refs, worktree directories and log file names. Letters, digits,
/// `.`, `_` and `-` are safe in all of them; a leading `.` or `-` is not.
pub(crate) fn id_chars(span: Option<Span>, id: &str, path: &str, problems: &mut Problems) {
    let Some(span) = span else { return };
    if is_blank(id) {
        return;
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let bad_start = id.starts_with(['.', '-']);
    if !id.chars().all(safe) || bad_start || id.contains("..") || id.ends_with(".lock") {
        problems.push(
            span,
            format!("{path}.id"),
            format!(
                "ID `{id}` cannot be used in branch and file names; use letters, digits, `.`, `_` and `-` (e.g. `US-001`)"
            ),
        );
    }
}

/// Where an ID was first defined, to name both places of a duplicate.
struct Definition<'a> {
    what: &'static str,
    path: &'a str,
    span: Span,
}

fn check_unique_ids(prd: &Prd, source: &SourceMap, text: &[u8], problems: &mut Problems) {
    // Built only if there is a duplicate: most PRDs have none.
    let index = OnceCell::new();
    let epics = prd.epics.iter().zip(&source.epics);
    let definitions = epics.flat_map(|(epic, es)| {
        let stories = epic.stories.iter().zip(&es.stories);
        std::iter::once((epic.id.as_str(), "epic", es.path.as_str(), es.id))
            .chain(stories.map(|(story, ss)| (story.id.as_str(), "story", ss.path.as_str(), ss.id)))
    });
    let mut seen: HashMap<&str, Definition<'_>> = HashMap::new();
    for (id, what, path, span) in definitions {
        let Some(span) = span else { continue };
        if is_blank(id) {
            continue;
        }
        if let Some(first) = seen.get(id) {
            let at = index
                .get_or_init(|| LineIndex::new(text))
                .position(text, first.span.start);
            problems.push(
                span,
                format!("{path}.id"),
                format!(
                    "duplicate ID `{id}`: the {} at {} ({at}) already uses it (IDs are unique across epics and stories)",
                    first.what, first.path
                ),
            );
        } else {
            seen.insert(id, Definition { what, path, span });
        }
    }
}

fn check_dependencies(prd: &Prd, source: &SourceMap, problems: &mut Problems) {
    // The first epic with each ID; a duplicate is reported above and ignored here.
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (i, (epic, es)) in prd.epics.iter().zip(&source.epics).enumerate() {
        if es.id.is_some() {
            index_of.entry(epic.id.as_str()).or_insert(i);
        }
    }
    let story_ids: HashMap<&str, ()> = prd
        .epics
        .iter()
        .flat_map(|e| e.stories.iter().map(|s| (s.id.as_str(), ())))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); prd.epics.len()];
    // For each graph edge, where it is written, to point at it when it closes a cycle.
    let mut edge_span: HashMap<(usize, usize), (Span, usize)> = HashMap::new();
    for (i, (epic, es)) in prd.epics.iter().zip(&source.epics).enumerate() {
        for (j, (dep, span)) in epic.depends_on.iter().zip(&es.depends_on).enumerate() {
            let path = format!("{}.dependsOn[{j}]", es.path);
            let dep = dep.as_str();
            match index_of.get(dep) {
                _ if is_blank(dep) => problems.push(*span, path, "must not be blank"),
                Some(_) if dep == epic.id.as_str() => {
                    problems.push(*span, path, format!("epic `{dep}` depends on itself"));
                }
                Some(&target) => {
                    deps[i].push(target);
                    edge_span.entry((i, target)).or_insert((*span, j));
                }
                None if story_ids.contains_key(dep) => problems.push(
                    *span,
                    path,
                    format!("`{dep}` is a story; `dependsOn` names epics"),
                ),
                None => {
                    let suggestion = closest(dep, index_of.keys().copied())
                        .map(|id| format!("; did you mean `{id}`?"))
                        .unwrap_or_default();
                    problems.push(*span, path, format!("unknown epic `{dep}`{suggestion}"));
                }
            }
        }
    }
    for cycle in dag::cycles(&deps) {
        let mut nodes = cycle.0;
        // Start each cycle at its first epic in file order, so the message is stable.
        if let Some(first) = nodes
            .iter()
            .enumerate()
            .min_by_key(|&(_, &n)| n)
            .map(|(i, _)| i)
        {
            nodes.rotate_left(first);
        }
        let (Some(&from), Some(&to)) = (nodes.first(), nodes.get(1).or(nodes.first())) else {
            continue;
        };
        let mut names: Vec<&str> = nodes.iter().map(|&n| prd.epics[n].id.as_str()).collect();
        names.push(prd.epics[from].id.as_str());
        let (span, j) = edge_span
            .get(&(from, to))
            .copied()
            .unwrap_or((source.epics[from].span, 0));
        problems.push(
            span,
            format!("{}.dependsOn[{j}]", source.epics[from].path),
            format!(
                "dependency cycle: {} (each epic depends on the next)",
                names.join(" → ")
            ),
        );
    }
}
