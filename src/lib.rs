//! `teams` turns a PRD into committed, independently validated code by driving coding-agent CLIs.
//!
//! The library never prints: commands return values and a [`error::TeamsError`]; the `cli` module
//! is the only place that talks to the terminal. Dependency direction: `cli` → (`agent`, `config`,
//! `prd`, `plan`, …) → plain data. See `docs/design/` for the architecture.

pub mod agent;
pub mod cli;
pub mod error;
pub mod exit_code;
pub mod supervisor;
