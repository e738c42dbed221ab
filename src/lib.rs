//! `teams` turns a PRD into committed, independently validated code by driving coding-agent CLIs.
//!
//! The library never prints: commands return values and a [`error::TeamsError`]; the `cli` module
//! (through [`ui::Ui`]) is the only place that talks to the terminal. Dependency direction: `cli` →
//! (`agent`, `config`, `prd`, `plan`, …) → plain data. See `docs/design.md` for the architecture.

pub mod agent;
pub mod backlog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod error;
pub mod exit_code;
pub mod git;
pub mod helpers;
pub mod json;
pub mod logging;
pub mod plan;
pub mod prd;
pub mod report;
pub mod roles;
pub mod run;
pub mod sim;
pub mod sprint;
pub mod store;
pub mod supervisor;
pub mod talk;
pub mod ui;
