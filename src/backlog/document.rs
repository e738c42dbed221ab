//! [`BacklogDocument`]: a loaded `backlog.json`, kept as its JSON tree plus the typed view.
//!
//! Like `prd.json` the file belongs to the team (it is committed), so edits change only the values
//! `teams` means to change: unknown fields and key order survive, and every save is atomic (temp
//! file, fsync, rename). Edits go to the tree; the typed view is re-read from the tree after each
//! one, which for a backlog of a few hundred items costs microseconds and keeps one source of truth.

use std::path::{Path, PathBuf};

use crate::json::{self, Member, Node, NodeKind, PrintOptions, Span};
use crate::prd::LoadError;
use crate::prd::SaveError;
use crate::prd::load::{detect_style, parse_tree, read_limited, refuse_problems};
use crate::prd::problem::Problems;
use crate::prd::save::write_atomically;

use super::extract::{SourceMap, extract};
use super::model::Backlog;
use super::validate::{PrdIds, validate};

/// The file name, at the repository root (spec §3).
pub const BACKLOG_FILE: &str = "backlog.json";

/// A loaded, valid `backlog.json` (or an empty one not yet written).
#[derive(Debug, Clone)]
pub struct BacklogDocument {
    path: PathBuf,
    tree: Node,
    view: Backlog,
    source: SourceMap,
    style: PrintOptions,
    modified: bool,
    exists: bool,
}

/// An edit named an ID the backlog does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacklogEditError {
    #[error("the backlog has no item `{0}`")]
    UnknownItem(String),
    #[error("the backlog has no sprint `{0}`")]
    UnknownSprint(String),
}

impl BacklogDocument {
    /// Reads and checks the backlog at `path`; a missing file is an empty backlog (the first
    /// `teams backlog add` creates it). `prd` gives the PRD's IDs for dependencies on epics.
    pub fn load_or_empty(path: &Path, prd: Option<&PrdIds>) -> Result<BacklogDocument, LoadError> {
        match read_limited(path) {
            Ok(bytes) => BacklogDocument::parse(bytes, path, prd),
            Err(LoadError::NotFound { .. }) => Ok(BacklogDocument::empty(path)),
            Err(err) => Err(err),
        }
    }

    /// Reads and checks an existing backlog at `path`.
    pub fn load(path: &Path, prd: Option<&PrdIds>) -> Result<BacklogDocument, LoadError> {
        let bytes = read_limited(path)?;
        BacklogDocument::parse(bytes, path, prd)
    }

    /// An empty backlog that will be written to `path`.
    pub fn empty(path: &Path) -> BacklogDocument {
        let tree = Node::synthetic(NodeKind::Object(vec![
            member("items", Node::synthetic(NodeKind::Array(Vec::new()))),
            member("sprints", Node::synthetic(NodeKind::Array(Vec::new()))),
        ]));
        BacklogDocument {
            path: path.to_owned(),
            tree,
            view: Backlog::default(),
            source: SourceMap::default(),
            style: PrintOptions {
                indent: "  ".to_owned(),
                trailing_newline: true,
            },
            modified: false,
            exists: false,
        }
    }

    /// Parses and checks backlog bytes.
    pub fn parse(
        bytes: impl Into<Vec<u8>>,
        path: impl Into<PathBuf>,
        prd: Option<&PrdIds>,
    ) -> Result<BacklogDocument, LoadError> {
        let bytes = bytes.into();
        let path = path.into();
        let tree = parse_tree(&bytes, &path)?;
        let mut problems = Problems::default();
        let (view, source) = extract(&tree, &mut problems);
        validate(&view, &source, &bytes, prd, &mut problems);
        refuse_problems(problems, &bytes, &path)?;
        Ok(BacklogDocument {
            path,
            tree,
            view,
            source,
            style: detect_style(&bytes),
            modified: false,
            exists: true,
        })
    }

    pub fn backlog(&self) -> &Backlog {
        &self.view
    }

    /// The JSON tree (unknown fields included).
    pub fn tree(&self) -> &Node {
        &self.tree
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists on disk (an empty backlog is not written until something changes).
    pub fn exists(&self) -> bool {
        self.exists
    }

    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// Writes the backlog atomically when it changed.
    pub fn save(&mut self) -> Result<(), SaveError> {
        if !self.modified {
            return Ok(());
        }
        let text = json::print(&self.tree, &self.style);
        write_atomically(&self.path, text.as_bytes())?;
        self.modified = false;
        self.exists = true;
        Ok(())
    }

    /// Appends an item object (its members in the order given) to `items`.
    pub(crate) fn push_item(&mut self, item: Node) {
        self.push_into("items", item);
    }

    /// Appends a sprint object to `sprints` (created when the file has none).
    pub(crate) fn push_sprint(&mut self, sprint: Node) {
        self.push_into("sprints", sprint);
    }

    fn push_into(&mut self, key: &str, value: Node) {
        if self.tree.get(key).and_then(Node::as_array).is_none() {
            self.tree
                .set_member(key, Node::synthetic(NodeKind::Array(Vec::new())));
        }
        if let Some(NodeKind::Array(items)) = member_mut(&mut self.tree, key).map(|n| &mut n.kind) {
            items.push(value);
        }
        self.modified = true;
        self.refresh();
    }

    /// Applies `change` to the item's object; `change` returns whether it changed anything.
    pub(crate) fn edit_item(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Node) -> bool,
    ) -> Result<(), BacklogEditError> {
        let index = self
            .view
            .items
            .iter()
            .position(|i| i.id == id)
            .ok_or_else(|| BacklogEditError::UnknownItem(id.to_owned()))?;
        let tree_index = self.source.items[index].tree_index;
        self.edit_element("items", tree_index, change);
        Ok(())
    }

    /// Applies `change` to each of these items' objects and re-reads the view once (a sprint
    /// start or close edits every todo; one refresh per item would be quadratic). Unknown IDs
    /// are skipped.
    pub(crate) fn edit_items(&mut self, ids: &[String], change: impl Fn(&mut Node) -> bool) {
        let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        let indexes: Vec<usize> = self
            .view
            .items
            .iter()
            .zip(&self.source.items)
            .filter(|(item, _)| wanted.contains(item.id.as_str()))
            .map(|(_, source)| source.tree_index)
            .collect();
        for tree_index in indexes {
            if let Some(node) = element_mut(&mut self.tree, "items", tree_index) {
                self.modified |= change(node);
            }
        }
        self.refresh();
    }

    /// Applies `change` to the sprint's object.
    pub(crate) fn edit_sprint(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Node) -> bool,
    ) -> Result<(), BacklogEditError> {
        let index = self
            .view
            .sprints
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| BacklogEditError::UnknownSprint(id.to_owned()))?;
        let tree_index = self.source.sprints[index].tree_index;
        self.edit_element("sprints", tree_index, change);
        Ok(())
    }

    /// Applies `change` to element `tree_index` of the array `key`, then re-reads the view.
    fn edit_element(
        &mut self,
        key: &str,
        tree_index: usize,
        change: impl FnOnce(&mut Node) -> bool,
    ) {
        if let Some(node) = element_mut(&mut self.tree, key, tree_index) {
            self.modified |= change(node);
        }
        self.refresh();
    }

    /// Re-reads the typed view from the tree after an edit. Edits only write well-typed values,
    /// so this finds no problems; any it did find would be reported by the next load.
    fn refresh(&mut self) {
        let mut problems = Problems::default();
        let (view, source) = extract(&self.tree, &mut problems);
        self.view = view;
        self.source = source;
    }
}

fn member(key: &str, value: Node) -> Member {
    Member {
        key: key.to_owned(),
        key_span: Span::default(),
        value,
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

fn element_mut<'a>(root: &'a mut Node, key: &str, index: usize) -> Option<&'a mut Node> {
    match &mut member_mut(root, key)?.kind {
        NodeKind::Array(items) => items.get_mut(index),
        _ => None,
    }
}

/// An object node from `(key, value)` pairs, in that order.
pub(crate) fn object(members: Vec<(&str, Node)>) -> Node {
    Node::synthetic(NodeKind::Object(
        members.into_iter().map(|(k, v)| member(k, v)).collect(),
    ))
}

/// An array of strings.
pub(crate) fn strings<S: AsRef<str>>(values: &[S]) -> Node {
    Node::synthetic(NodeKind::Array(
        values.iter().map(|v| Node::string(v.as_ref())).collect(),
    ))
}

/// Sets `key` to a string, or clears it (to `null` when the key exists, absent otherwise).
pub(crate) fn set_text(object: &mut Node, key: &str, value: Option<&str>) -> bool {
    match value {
        Some(text) => object.set_member(key, Node::string(text)),
        None if object.get(key).is_some() => object.set_member(key, Node::null()),
        None => false,
    }
}
