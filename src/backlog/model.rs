//! The typed view of `backlog.json` (spec §8): items, and the sprints that select them as todos.
//!
//! As with `prd.json`, the JSON tree of [`super::BacklogDocument`] is the source of truth for
//! writing back (unknown fields and key order survive); this view holds what `teams` reads.

use std::fmt;

use serde::Serialize;

/// What kind of work an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Bug,
    Feature,
    #[default]
    Enhancement,
    Chore,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Bug,
        ItemKind::Feature,
        ItemKind::Enhancement,
        ItemKind::Chore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Bug => "bug",
            ItemKind::Feature => "feature",
            ItemKind::Enhancement => "enhancement",
            ItemKind::Chore => "chore",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an item is in its life (spec §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// Waiting to be selected into a sprint.
    #[default]
    Pending,
    /// A todo of the active sprint.
    Selected,
    /// Its todo passed and merged.
    Done,
    /// Set aside by the team (never selected by default).
    Blocked,
    /// Its todo failed or was blocked; a pending copy (`carryOverOf`) carries the work on.
    CarriedOver,
    /// `teams backlog drop`: kept for history, never selected.
    Dropped,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 6] = [
        ItemStatus::Pending,
        ItemStatus::Selected,
        ItemStatus::Done,
        ItemStatus::Blocked,
        ItemStatus::CarriedOver,
        ItemStatus::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Pending => "pending",
            ItemStatus::Selected => "selected",
            ItemStatus::Done => "done",
            ItemStatus::Blocked => "blocked",
            ItemStatus::CarriedOver => "carried-over",
            ItemStatus::Dropped => "dropped",
        }
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One backlog item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub kind: ItemKind,
    pub acceptance_criteria: Vec<String>,
    /// 1 runs first; 0 = unranked (never waits for others).
    pub rank: u32,
    /// Items (or PRD epics) that must be done first.
    pub depends_on: Vec<String>,
    pub status: ItemStatus,
    /// Free text (where the item came from), when it is a string.
    pub origin: Option<String>,
    /// The item this one carries over (a failed todo of an earlier sprint).
    pub carry_over_of: Option<String>,
    /// The sprint that selected it as a todo.
    pub sprint_id: Option<String>,
    /// The validated commit of its todo.
    pub commit_sha: Option<String>,
    /// Attempts its todo made.
    pub attempts: u32,
    /// Why its todo did not pass.
    pub failure_reason: Option<String>,
    /// What its todo's agents cost (US dollars).
    pub cost_usd: Option<f64>,
}

/// Where a sprint is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SprintStatus {
    /// Its todos run with `teams run`.
    Active,
    /// `teams sprint stop`: running todos finish, no new ones start; then it closes.
    Stopped,
    /// Every todo ended (or it was stopped): history written.
    Closed,
}

impl SprintStatus {
    pub const ALL: [SprintStatus; 3] = [
        SprintStatus::Active,
        SprintStatus::Stopped,
        SprintStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SprintStatus::Active => "active",
            SprintStatus::Stopped => "stopped",
            SprintStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<SprintStatus> {
        SprintStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for SprintStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sprint: a milestone and the items it selected as todos.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sprint {
    /// `S-<yyyymmdd>-<n>`.
    pub id: String,
    pub milestone: String,
    pub brief: String,
    pub requirements: Vec<String>,
    pub status: SprintStatus,
    /// The items selected as todos, in selection order.
    pub todos: Vec<String>,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub closed_at: Option<String>,
}

/// The whole backlog.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Backlog {
    pub items: Vec<Item>,
    pub sprints: Vec<Sprint>,
}

impl Backlog {
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn sprint(&self, id: &str) -> Option<&Sprint> {
        self.sprints.iter().find(|s| s.id == id)
    }

    /// The sprint that is not closed (at most one: active or stopped).
    pub fn open_sprint(&self) -> Option<&Sprint> {
        self.sprints
            .iter()
            .find(|s| s.status != SprintStatus::Closed)
    }

    /// The next free item ID, `B-001` style: one more than the highest `B-<n>` in use.
    pub fn next_item_id(&self) -> String {
        let highest = self
            .items
            .iter()
            .filter_map(|i| i.id.strip_prefix("B-")?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        format!("B-{:03}", highest + 1)
    }

    /// The next sprint ID for a day (`yyyymmdd`): `S-<day>-<n>`.
    pub fn next_sprint_id(&self, day: &str) -> String {
        let prefix = format!("S-{day}-");
        let highest = self
            .sprints
            .iter()
            .filter_map(|s| s.id.strip_prefix(&prefix)?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        format!("{prefix}{}", highest + 1)
    }
}
