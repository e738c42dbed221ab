//! [`PrdDocument`]: a loaded `prd.json`, kept as its original bytes plus its JSON tree.
//!
//! The tree, not the typed view, is the source of truth for writing back: unknown fields, key
//! order and formatting belong to the user (or to ralph-teams, which reads the same file), and a
//! save must not rewrite what `teams` did not change. The typed [`Prd`] is kept in step with every
//! edit for the scheduler to read.

use std::path::{Path, PathBuf};

use crate::json::{self, Node, PrintOptions};

use super::extract::SourceMap;
use super::model::Prd;

/// A loaded, valid `prd.json`.
#[derive(Debug, Clone)]
pub struct PrdDocument {
    pub(crate) path: PathBuf,
    /// The bytes as last loaded or saved.
    pub(crate) original: Vec<u8>,
    pub(crate) tree: Node,
    pub(crate) prd: Prd,
    pub(crate) source: SourceMap,
    /// How to print the tree once it has changed: the file's own indentation and final newline.
    pub(crate) style: PrintOptions,
    /// Whether an edit changed the tree since the last load or save.
    pub(crate) modified: bool,
}

impl PrdDocument {
    pub(crate) fn from_parts(
        path: PathBuf,
        original: Vec<u8>,
        tree: Node,
        prd: Prd,
        source: SourceMap,
        style: PrintOptions,
    ) -> Self {
        PrdDocument {
            path,
            original,
            tree,
            prd,
            source,
            style,
            modified: false,
        }
    }

    /// The typed view.
    pub fn prd(&self) -> &Prd {
        &self.prd
    }

    /// Where the document was read from and will be saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The JSON tree (unknown fields included).
    pub fn tree(&self) -> &Node {
        &self.tree
    }

    /// Whether an edit changed the document since it was loaded or last saved.
    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// The bytes a save would write: the loaded bytes when nothing changed, so loading and saving
    /// an untouched PRD never reformats it; otherwise the tree printed in the file's own
    /// indentation (two spaces by default) with its own choice of final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.modified && !self.same_as_original() {
            json::print(&self.tree, &self.style).into_bytes()
        } else {
            self.original.clone()
        }
    }

    /// Whether the tree still holds what the original bytes hold (edits can undo each other).
    fn same_as_original(&self) -> bool {
        json::parse(&self.original).is_ok_and(|original| original.same_value(&self.tree))
    }
}
