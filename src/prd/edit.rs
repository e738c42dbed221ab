//! Write-back: the changes a run records in `prd.json`, applied to the tree and the typed view
//! together.
//!
//! Existing keys are updated where they are; new keys are appended at the end of their object,
//! so a diff of `prd.json` after a run shows only the values that changed and the fields `teams`
//! adds (`commitSha`, `attempts`, `failureReason`). An edit that sets a value it already has
//! changes nothing, so the file is left byte-identical.

use crate::json::{Node, NodeKind};

use super::document::PrdDocument;
use super::model::{EpicId, EpicStatus, StoryId};

/// The result of working on a story, as recorded in `prd.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryResult {
    /// Whether the story passed validation.
    pub passes: bool,
    /// The validated commit; `None` removes a stale `commitSha`.
    pub commit_sha: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed; `None` clears it (to `null` when the key exists).
    pub failure_reason: Option<String>,
}

/// An edit named an ID the PRD does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// No epic has this ID.
    #[error("failed to find epic `{0}` in the PRD")]
    UnknownEpic(EpicId),
    /// No story has this ID.
    #[error("failed to find story `{0}` in the PRD")]
    UnknownStory(StoryId),
}

/// Sets `key` to a string, or clears it: to `null` when the key exists (ralph-teams writes
/// `"failureReason": null`), and by leaving it absent otherwise.
fn set_optional_text(object: &mut Node, key: &str, value: Option<&str>) -> bool {
    match value {
        Some(text) => object.set_member(key, Node::string(text)),
        None if object.get(key).is_some() => object.set_member(key, Node::null()),
        None => false,
    }
}

fn member_mut<'a>(object: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut object.kind {
        NodeKind::Object(members) => members
            .iter_mut()
            .find(|m| m.key == key)
            .map(|m| &mut m.value),
        _ => None,
    }
}

fn element_mut(array: &mut Node, index: usize) -> Option<&mut Node> {
    match &mut array.kind {
        NodeKind::Array(items) => items.get_mut(index),
        _ => None,
    }
}

impl PrdDocument {
    fn epic_index(&self, id: &EpicId) -> Result<usize, EditError> {
        self.prd
            .epics
            .iter()
            .position(|e| &e.id == id)
            .ok_or_else(|| EditError::UnknownEpic(id.clone()))
    }

    fn story_index(&self, id: &StoryId) -> Result<(usize, usize), EditError> {
        self.prd
            .epics
            .iter()
            .enumerate()
            .find_map(|(e, epic)| {
                epic.stories
                    .iter()
                    .position(|s| &s.id == id)
                    .map(|s| (e, s))
            })
            .ok_or_else(|| EditError::UnknownStory(id.clone()))
    }

    fn epic_node(&mut self, epic: usize) -> Option<&mut Node> {
        let tree_index = self.source.epics.get(epic)?.tree_index;
        element_mut(member_mut(&mut self.tree, "epics")?, tree_index)
    }

    fn story_node(&mut self, epic: usize, story: usize) -> Option<&mut Node> {
        let tree_index = self.source.epics.get(epic)?.stories.get(story)?.tree_index;
        let epic_node = self.epic_node(epic)?;
        element_mut(member_mut(epic_node, "userStories")?, tree_index)
    }

    /// Applies `change` to a story's object in the tree and records whether it changed anything.
    fn edit_story_node(
        &mut self,
        epic: usize,
        story: usize,
        change: impl FnOnce(&mut Node) -> bool,
    ) {
        // The source map was built from this tree, so the node exists; if it somehow did not, the
        // typed view would still be updated and the file printed from the tree without the edit.
        if let Some(node) = self.story_node(epic, story) {
            let changed = change(node);
            self.modified |= changed;
        }
    }

    fn edit_epic_node(&mut self, epic: usize, change: impl FnOnce(&mut Node) -> bool) {
        if let Some(node) = self.epic_node(epic) {
            let changed = change(node);
            self.modified |= changed;
        }
    }

    /// Records a story's result: `passes`, `commitSha`, `attempts` and `failureReason`.
    pub fn set_story_result(&mut self, id: &StoryId, result: StoryResult) -> Result<(), EditError> {
        let (e, s) = self.story_index(id)?;
        self.edit_story_node(e, s, |node| {
            let mut changed = node.set_member("passes", Node::bool(result.passes));
            changed |= match &result.commit_sha {
                Some(sha) => node.set_member("commitSha", Node::string(sha.as_str())),
                None => node.remove_member("commitSha"),
            };
            changed |= node.set_member("attempts", Node::integer(result.attempts));
            changed |= set_optional_text(node, "failureReason", result.failure_reason.as_deref());
            changed
        });
        let story = &mut self.prd.epics[e].stories[s];
        story.passes = result.passes;
        story.commit_sha = result.commit_sha;
        story.attempts = result.attempts;
        story.failure_reason = result.failure_reason;
        Ok(())
    }

    /// Puts a story back to pending: `passes` false, `failureReason` cleared, `commitSha` and
    /// `attempts` removed (so a reset story looks as it did before `teams` ran it).
    pub fn reset_story(&mut self, id: &StoryId) -> Result<(), EditError> {
        let (e, s) = self.story_index(id)?;
        self.reset_story_at(e, s);
        Ok(())
    }

    fn reset_story_at(&mut self, e: usize, s: usize) {
        self.edit_story_node(e, s, |node| {
            let mut changed = node.set_member("passes", Node::bool(false));
            changed |= node.remove_member("commitSha");
            changed |= node.remove_member("attempts");
            changed |= set_optional_text(node, "failureReason", None);
            changed
        });
        let story = &mut self.prd.epics[e].stories[s];
        story.passes = false;
        story.commit_sha = None;
        story.attempts = 0;
        story.failure_reason = None;
    }

    /// Sets an epic's `status` and its `failureReason` (`None` clears it).
    pub fn set_epic_status(
        &mut self,
        id: &EpicId,
        status: EpicStatus,
        failure_reason: Option<String>,
    ) -> Result<(), EditError> {
        let e = self.epic_index(id)?;
        self.edit_epic_node(e, |node| {
            let changed = node.set_member("status", Node::string(status.as_str()));
            changed | set_optional_text(node, "failureReason", failure_reason.as_deref())
        });
        let epic = &mut self.prd.epics[e];
        epic.status = status;
        epic.failure_reason = failure_reason;
        Ok(())
    }

    /// Sets an epic's `planned` flag.
    pub fn set_epic_planned(&mut self, id: &EpicId, planned: bool) -> Result<(), EditError> {
        let e = self.epic_index(id)?;
        self.edit_epic_node(e, |node| node.set_member("planned", Node::bool(planned)));
        self.prd.epics[e].planned = planned;
        Ok(())
    }

    /// Puts an epic and all its stories back to pending (`teams reset EPIC`); `planned` is kept,
    /// because the plan file still exists.
    pub fn reset_epic(&mut self, id: &EpicId) -> Result<(), EditError> {
        let e = self.epic_index(id)?;
        self.set_epic_status(id, EpicStatus::Pending, None)?;
        for s in 0..self.prd.epics[e].stories.len() {
            self.reset_story_at(e, s);
        }
        Ok(())
    }
}
