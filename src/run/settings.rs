//! The settings a run uses, resolved once from the configuration and the command line.

use std::time::Duration;

use crate::config::{Config, PlannerMode};

use super::unit::UnitId;

/// A run's settings.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub parallel: u32,
    pub max_attempts: u32,
    pub planner: PlannerMode,
    pub auto_commit: bool,
    /// Stop new attempts once the spend reaches this (US dollars).
    pub budget_usd: Option<f64>,
    /// Checks that run after every build, before the unit's and story's own.
    pub checks: Vec<String>,
    /// Fast-forward the base branch to the integration branch after a fully successful run.
    pub land: bool,
    /// Only these units and what they depend on (`--epic`); empty: every unit.
    pub only: Vec<UnitId>,
    /// Only the open sprint's todos and the epics they need (`--sprint`).
    pub sprint_only: bool,
    /// How long the `sim` agent pretends to work per call.
    pub sim_delay: Duration,
    /// The first wait after a usage limit that named no reset time; it doubles each time.
    pub backoff: Duration,
    /// Wall-clock limit for the checks of one build (the builder's timeout).
    pub check_timeout: Option<Duration>,
}

impl RunSettings {
    pub fn from_config(config: &Config) -> RunSettings {
        let builder_timeout = config.role(crate::config::Role::Builder).timeout.value;
        RunSettings {
            parallel: config.parallel.value.max(1),
            max_attempts: config.max_attempts.value.max(1),
            planner: config.planner.value,
            auto_commit: config.auto_commit.value,
            budget_usd: config.budget_cap(),
            checks: config.checks.value.clone(),
            land: config.land.value,
            only: Vec::new(),
            sprint_only: false,
            sim_delay: Duration::ZERO,
            backoff: test_duration("__TEAMS_BACKOFF_MS").unwrap_or(Duration::from_secs(60)),
            check_timeout: Some(builder_timeout.as_std()).filter(|d| !d.is_zero()),
        }
    }
}

/// A duration in milliseconds from a test-only variable (spelt with two underscores, as
/// nextest's `__NEXTEST_*` are), so tests never wait minutes for a backoff.
fn test_duration(var: &str) -> Option<Duration> {
    std::env::var(var)
        .ok()?
        .parse::<u64>()
        .ok()
        .map(Duration::from_millis)
}
