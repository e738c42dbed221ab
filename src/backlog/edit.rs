//! The edits `teams backlog add/edit/drop` make. Each edit is checked by validating the whole
//! edited backlog with the same checks a load runs, so an edit can never write a `backlog.json`
//! that `teams validate` would refuse (an item without criteria, a dependency cycle, …).

use crate::json::{self, Node};
use crate::prd::{LoadError, Problem};

use super::document::{BacklogDocument, object, set_text, strings};
use super::model::{ItemKind, ItemStatus};
use super::validate::PrdIds;

/// The fields `add` and `edit` take; `None` (or empty, for lists) leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ItemFields {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub kind: Option<ItemKind>,
    pub acceptance: Vec<String>,
    pub rank: Option<u32>,
    pub depends_on: Vec<String>,
    pub origin: Option<String>,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum BacklogError {
    #[error("the backlog has no item `{0}`")]
    UnknownItem(String),
    #[error("item `{id}` is a todo of the open sprint {sprint}")]
    InSprint { id: String, sprint: String },
    #[error("the edit would make the backlog invalid")]
    Invalid(Vec<Problem>),
}

impl BacklogDocument {
    /// Adds a pending item and returns its new ID (`B-001` style).
    pub fn add_item(
        &mut self,
        fields: ItemFields,
        prd: Option<&PrdIds>,
    ) -> Result<String, BacklogError> {
        let id = self.backlog().next_item_id();
        let mut members = vec![
            ("id", Node::string(&id)),
            ("title", Node::string(fields.title.unwrap_or_default())),
        ];
        if let Some(summary) = fields.summary {
            members.push(("summary", Node::string(summary)));
        }
        members.push((
            "kind",
            Node::string(fields.kind.unwrap_or_default().as_str()),
        ));
        members.push(("acceptanceCriteria", strings(&fields.acceptance)));
        members.push(("rank", Node::integer(fields.rank.unwrap_or(0))));
        members.push(("dependsOn", strings(&fields.depends_on)));
        members.push(("status", Node::string(ItemStatus::Pending.as_str())));
        if let Some(origin) = fields.origin {
            members.push(("origin", Node::string(origin)));
        }
        let before = self.clone();
        self.push_item(object(members));
        self.checked(before, prd)?;
        Ok(id)
    }

    /// Changes the given fields of an item (criteria and dependencies are replaced as a whole).
    pub fn edit_item_fields(
        &mut self,
        id: &str,
        fields: ItemFields,
        prd: Option<&PrdIds>,
    ) -> Result<(), BacklogError> {
        let before = self.clone();
        self.edit_item(id, |node| {
            let mut changed = false;
            if let Some(title) = &fields.title {
                changed |= node.set_member("title", Node::string(title));
            }
            if let Some(summary) = &fields.summary {
                changed |= node.set_member("summary", Node::string(summary));
            }
            if let Some(kind) = fields.kind {
                changed |= node.set_member("kind", Node::string(kind.as_str()));
            }
            if !fields.acceptance.is_empty() {
                changed |= node.set_member("acceptanceCriteria", strings(&fields.acceptance));
            }
            if let Some(rank) = fields.rank {
                changed |= node.set_member("rank", Node::integer(rank));
            }
            if !fields.depends_on.is_empty() {
                changed |= node.set_member("dependsOn", strings(&fields.depends_on));
            }
            if let Some(origin) = &fields.origin {
                changed |= set_text(node, "origin", Some(origin));
            }
            changed
        })
        .map_err(|_| BacklogError::UnknownItem(id.to_owned()))?;
        self.checked(before, prd)
    }

    /// Marks an item `dropped` (it stays in the file, for history).
    pub fn drop_item(&mut self, id: &str) -> Result<(), BacklogError> {
        let item = self
            .backlog()
            .item(id)
            .ok_or_else(|| BacklogError::UnknownItem(id.to_owned()))?;
        if let Some(sprint) = self.backlog().open_sprint()
            && item.status == ItemStatus::Selected
            && sprint.todos.iter().any(|t| t == id)
        {
            return Err(BacklogError::InSprint {
                id: id.to_owned(),
                sprint: sprint.id.clone(),
            });
        }
        self.edit_item(id, |node| {
            node.set_member("status", Node::string(ItemStatus::Dropped.as_str()))
        })
        .map_err(|_| BacklogError::UnknownItem(id.to_owned()))
    }

    /// Validates the edited backlog as a load would; on a problem, puts `before` back.
    fn checked(
        &mut self,
        before: BacklogDocument,
        prd: Option<&PrdIds>,
    ) -> Result<(), BacklogError> {
        let text = json::print(self.tree(), &crate::json::PrintOptions::default());
        match BacklogDocument::parse(text.into_bytes(), self.path().to_owned(), prd) {
            Ok(_) => Ok(()),
            Err(err) => {
                *self = before;
                Err(match err {
                    LoadError::Invalid { problems, .. } => BacklogError::Invalid(problems),
                    other => BacklogError::Invalid(vec![Problem {
                        line: 1,
                        column: 1,
                        path: String::new(),
                        message: other.to_string(),
                    }]),
                })
            }
        }
    }
}
