//! The schedule view of a PRD: dependency layers ("waves") and the critical path, for
//! `--dry-run`, `teams validate` and `teams status`.
//!
//! The run itself does not wait for waves (spec §4.2: a freed slot starts the next ready unit at
//! once); waves are how the order is shown. Everything here is pure and O(V + E).

pub mod dag;
pub mod ready;
mod waves;

pub use dag::Cycle;
pub use waves::{CycleError, critical_path, waves};
