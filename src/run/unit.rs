//! Units: what gets its own branch and worktree: an epic, or a sprint todo, which is a unit with
//! one story (spec §8, built in `crate::sprint::todo`), so the loop is written against [`Unit`] and never against
//! [`Epic`] directly.

use std::fmt;

use serde::Serialize;

use crate::prd::{Epic, EpicStatus, Prd, Story};

/// A unit's ID: the epic's (or todo's) ID, unique across the PRD.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnitId(String);

impl UnitId {
    pub fn new(id: impl Into<String>) -> Self {
        UnitId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of work a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Epic,
    /// A sprint backlog todo (spec §8): one story.
    Todo,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Epic => "epic",
            UnitKind::Todo => "todo",
        }
    }
}

/// One unit of a run, with everything the loop needs to work on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: UnitId,
    pub kind: UnitKind,
    pub title: String,
    pub description: String,
    /// Units that must be completed and merged first.
    pub depends_on: Vec<UnitId>,
    /// Units that must have ended first, whatever their result: a ranked sprint todo waits for
    /// the todos of lower rank (spec §8). Ordering only; a failure here blocks nothing.
    pub after: Vec<UnitId>,
    /// The stories, in the order they run (priority, then file order).
    pub stories: Vec<Story>,
    /// Commands that must pass in the worktree after every build (the unit's own).
    pub checks: Vec<String>,
    /// A plan exists (`"planned": true`).
    pub planned: bool,
    /// The status recorded in `prd.json` when the run started.
    pub status: EpicStatus,
    /// A backend override for this unit's agents.
    pub backend: Option<String>,
    /// A model override for this unit's agents.
    pub model: Option<String>,
}

impl Unit {
    /// The unit for an epic.
    pub fn from_epic(epic: &Epic) -> Unit {
        Unit {
            id: UnitId::new(epic.id.as_str()),
            kind: UnitKind::Epic,
            title: epic.title.clone(),
            description: epic.description.clone(),
            depends_on: epic
                .depends_on
                .iter()
                .map(|d| UnitId::new(d.as_str()))
                .collect(),
            after: Vec::new(),
            stories: epic.stories_in_run_order().into_iter().cloned().collect(),
            checks: epic.checks.clone(),
            planned: epic.planned,
            status: epic.status,
            backend: epic.backend.clone(),
            model: epic.model.clone(),
        }
    }

    /// Every epic of the PRD as a unit, in file order.
    pub fn all_from_prd(prd: &Prd) -> Vec<Unit> {
        prd.epics.iter().map(Unit::from_epic).collect()
    }

    /// Stories not yet decided: neither passed nor failed in an earlier run. A failed story
    /// waits for `teams reset` or `teams discuss` (which write guidance first), so a plain rerun
    /// does not spend money repeating the same failure.
    pub fn pending_stories(&self) -> impl Iterator<Item = &Story> {
        self.stories.iter().filter(|s| story_is_pending(s))
    }
}

/// A story neither passed nor failed yet.
pub fn story_is_pending(story: &Story) -> bool {
    !story.passes && story.failure_reason.is_none()
}
