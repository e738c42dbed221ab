//! `backlog.json` (spec §8): the team's running backlog of small work (bugs, chores, follow-ups)
//! and the sprints that select its items as todos.
//!
//! It is read and written with the machinery of `prd.json`: the JSON parser that keeps positions
//! (every problem has a line and column), the same field helpers and consistency checks (duplicate
//! IDs, unknown or cyclic `dependsOn`, empty acceptance criteria), and the same atomic save. The
//! sprint lifecycle that changes items lives in [`crate::sprint`].

mod document;
mod edit;
mod extract;
mod model;
mod validate;

pub use document::{BACKLOG_FILE, BacklogDocument, BacklogEditError};
pub(crate) use document::{object, set_text, strings};
pub use edit::{BacklogError, ItemFields};
pub use model::{Backlog, Item, ItemKind, ItemStatus, Sprint, SprintStatus};
pub use validate::PrdIds;

#[cfg(test)]
mod tests;
