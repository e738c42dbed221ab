//! The typed view of `prd.json` (spec §3.1): what the scheduler and the roles read.
//!
//! The view is derived from the document's JSON tree (see [`super::PrdDocument`]), which stays the
//! source of truth for writing back, so this model only holds what `teams` uses; unknown fields
//! live on in the tree. Optional text fields that only feed prompts (`description`) default to
//! an empty string; fields whose absence means something (`branchName`, `backend`) are `Option`s.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an ID.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            /// The ID as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Lets maps keyed by this ID be queried with a plain `&str`.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }
    };
}

id_type!(
    /// An epic's ID, e.g. `EPIC-001`. Unique across the file, stories included.
    EpicId
);
id_type!(
    /// A story's ID, e.g. `US-001`. Unique across the file, epics included.
    StoryId
);

/// The PRD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prd {
    /// The project name; the integration branch is named after it.
    pub project: String,
    /// The base branch (default: the current branch).
    pub branch_name: Option<String>,
    /// What the project is.
    pub description: Option<String>,
    /// The epics, in file order.
    pub epics: Vec<Epic>,
}

/// Where an epic is in its life (spec §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpicStatus {
    /// Not started (also what a missing `status` means).
    #[default]
    Pending,
    /// Being worked on by a run.
    Running,
    /// Every story passed and the epic merged.
    Completed,
    /// Some stories failed.
    Partial,
    /// No story passed.
    Failed,
    /// A dependency did not complete.
    Blocked,
    /// Its stories passed but merging into the integration branch failed.
    MergeFailed,
}

impl EpicStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [EpicStatus; 7] = [
        EpicStatus::Pending,
        EpicStatus::Running,
        EpicStatus::Completed,
        EpicStatus::Partial,
        EpicStatus::Failed,
        EpicStatus::Blocked,
        EpicStatus::MergeFailed,
    ];

    /// The spelling used in `prd.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            EpicStatus::Pending => "pending",
            EpicStatus::Running => "running",
            EpicStatus::Completed => "completed",
            EpicStatus::Partial => "partial",
            EpicStatus::Failed => "failed",
            EpicStatus::Blocked => "blocked",
            EpicStatus::MergeFailed => "merge-failed",
        }
    }

    /// Parses the spelling used in `prd.json`.
    pub fn parse(s: &str) -> Option<EpicStatus> {
        EpicStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

impl fmt::Display for EpicStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An epic: a unit of work with its own branch and worktree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Epic {
    /// Its ID.
    pub id: EpicId,
    /// Its title.
    pub title: String,
    /// Its description (empty when absent).
    pub description: String,
    /// Its status (`pending` when absent).
    pub status: EpicStatus,
    /// Whether an agreed plan exists (`false` when absent).
    pub planned: bool,
    /// Epics that must complete and merge first.
    pub depends_on: Vec<EpicId>,
    /// Its stories, in file order; see [`Epic::stories_in_run_order`].
    pub stories: Vec<Story>,
    /// Shell commands that must pass in the worktree.
    pub checks: Vec<String>,
    /// Backend override.
    pub backend: Option<String>,
    /// Model override.
    pub model: Option<String>,
    /// Why the epic did not complete.
    pub failure_reason: Option<String>,
}

impl Epic {
    /// The stories in the order a run builds them: ascending `priority`, ties in file order;
    /// stories without a priority come after every prioritized one, in file order. (ralph-teams
    /// shows `priority` to agents but runs in file order; for a PRD without priorities, or with
    /// priorities that follow file order, both agree.)
    pub fn stories_in_run_order(&self) -> Vec<&Story> {
        let mut stories: Vec<&Story> = self.stories.iter().collect();
        // A stable sort keeps file order among equal keys.
        stories.sort_by_key(|story| (story.priority.is_none(), story.priority));
        stories
    }

    /// The story with this ID, if the epic has it.
    pub fn story(&self, id: &str) -> Option<&Story> {
        self.stories.iter().find(|story| story.id.as_str() == id)
    }
}

/// A user story: built and validated as one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Story {
    /// Its ID.
    pub id: StoryId,
    /// Its title.
    pub title: String,
    /// Its description (empty when absent).
    pub description: String,
    /// What the validator checks.
    pub acceptance_criteria: Vec<String>,
    /// Run order within the epic (lower first); see [`Epic::stories_in_run_order`].
    pub priority: Option<i64>,
    /// Whether a validated commit exists (`false` when absent).
    pub passes: bool,
    /// Why the last attempt failed.
    pub failure_reason: Option<String>,
    /// The validated commit.
    pub commit_sha: Option<String>,
    /// How many attempts were made (`0` when absent).
    pub attempts: u32,
    /// Shell commands that must pass for this story.
    pub checks: Vec<String>,
    /// `"sim": {"failFirst": true}`: the `sim` backend fails this story's first attempt (§5.4).
    pub sim_fail_first: bool,
}

impl Prd {
    /// The epic with this ID.
    pub fn epic(&self, id: &str) -> Option<&Epic> {
        self.epics.iter().find(|epic| epic.id.as_str() == id)
    }

    /// The story with this ID and the epic that holds it.
    pub fn story(&self, id: &str) -> Option<(&Epic, &Story)> {
        self.epics
            .iter()
            .find_map(|epic| epic.story(id).map(|story| (epic, story)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(id: &str, priority: Option<i64>) -> Story {
        Story {
            id: StoryId::new(id),
            title: id.to_owned(),
            description: String::new(),
            acceptance_criteria: vec!["works".to_owned()],
            priority,
            passes: false,
            failure_reason: None,
            commit_sha: None,
            attempts: 0,
            checks: Vec::new(),
            sim_fail_first: false,
        }
    }

    #[test]
    fn stories_run_by_priority_then_file_order_unprioritized_last() {
        let epic = Epic {
            id: EpicId::new("E"),
            title: "E".to_owned(),
            description: String::new(),
            status: EpicStatus::Pending,
            planned: false,
            depends_on: Vec::new(),
            stories: vec![
                story("a", None),
                story("b", Some(2)),
                story("c", Some(1)),
                story("d", None),
                story("e", Some(1)),
                story("f", Some(-3)),
            ],
            checks: Vec::new(),
            backend: None,
            model: None,
            failure_reason: None,
        };
        let order: Vec<&str> = epic
            .stories_in_run_order()
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(order, ["f", "c", "e", "b", "a", "d"]);
    }

    #[test]
    fn status_spellings_round_trip() {
        for status in EpicStatus::ALL {
            assert_eq!(EpicStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert_eq!(EpicStatus::parse("done"), None);
        assert_eq!(EpicId::new("EPIC-001").to_string(), "EPIC-001");
    }
}
