//! `prd.json` (spec §3.1): loading with precise problems, the typed model, write-back and atomic
//! saves.
//!
//! ```text
//! bytes ──json::parse──▶ Node tree ──extract──▶ Prd (typed view) ──validate──▶ problems
//!   ▲                        │  edits (set_story_result, …) update tree and view together
//!   └────── save (atomic) ◀──┘  unchanged tree ⇒ original bytes; changed ⇒ reprinted
//! ```

mod document;
mod edit;
pub(crate) mod extract;
pub(crate) mod load;
mod model;
pub(crate) mod problem;
pub(crate) mod save;
pub(crate) mod validate;

pub use document::PrdDocument;
pub use edit::{EditError, StoryResult};
pub use load::{LoadError, MAX_PRD_BYTES};
pub use model::{Epic, EpicId, EpicStatus, Prd, Story, StoryId};
pub use problem::Problem;
pub use save::SaveError;
pub(crate) use save::write_atomically;

#[cfg(test)]
mod tests;
