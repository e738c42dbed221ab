//! The exit codes of `teams` (spec §10).
//!
//! This file is a stable contract: scripts and CI jobs branch on these numbers, so a code never
//! changes meaning. The README carries the same table.

/// Everything asked for passed.
pub const SUCCESS: i32 = 0;
/// Internal error: a bug in `teams`. Please report it.
pub const INTERNAL: i32 = 1;
/// Usage or configuration error (bad flag, bad `teams.toml`).
pub const USAGE: i32 = 2;
/// `prd.json` or `backlog.json` is invalid (unreadable, not JSON, wrong schema, bad references).
pub const INVALID_INPUT: i32 = 3;
/// The environment is not ready: not a git repository, git or an agent CLI missing or logged out.
pub const ENVIRONMENT: i32 = 4;
/// The run finished, but some stories or units failed or were blocked.
pub const RUN_FAILED: i32 = 10;
/// The run was interrupted; `teams resume` continues it.
pub const INTERRUPTED: i32 = 20;
/// The run stopped because the budget was reached.
pub const BUDGET_REACHED: i32 = 21;
