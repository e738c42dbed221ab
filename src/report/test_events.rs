//! Events and summaries for the reporter tests, so each test reads as the story it checks.

use std::time::Duration;

use crate::agent::Role;
use crate::prd::{EpicStatus, StoryId};
use crate::run::{EventKind, RunEvent, RunOutcome, RunSummary, StorySummary, UnitId, UnitSummary};

pub(crate) fn at(secs: u64, kind: EventKind) -> RunEvent {
    RunEvent {
        elapsed: Duration::from_secs(secs),
        kind,
    }
}

pub(crate) fn run_started(simulated: bool) -> EventKind {
    EventKind::RunStarted {
        run_id: "20250101-120000".into(),
        base: "main".into(),
        integration_branch: "teams/shop/main".into(),
        units: 2,
        stories: 3,
        parallel: 2,
        max_attempts: 2,
        simulated,
    }
}

pub(crate) fn agent_started(
    unit: &str,
    story: Option<&str>,
    role: Role,
    attempt: u32,
) -> EventKind {
    EventKind::AgentStarted {
        unit: UnitId::new(unit),
        story: story.map(StoryId::new),
        role,
        attempt,
        backend: "claude".into(),
        model: Some("sonnet".into()),
    }
}

pub(crate) fn agent_finished(
    unit: &str,
    story: Option<&str>,
    role: Role,
    attempt: u32,
    secs: u64,
    failure: Option<&str>,
) -> EventKind {
    EventKind::AgentFinished {
        unit: UnitId::new(unit),
        story: story.map(StoryId::new),
        role,
        attempt,
        duration: Duration::from_secs(secs),
        cost_usd: Some(0.42),
        failure: failure.map(str::to_owned),
    }
}

/// A small run: one unit passes its story after a failed attempt, another fails its story and
/// ends partial after its first story passed.
pub(crate) fn sample_run() -> Vec<RunEvent> {
    use Role::{Builder, Validator};
    vec![
        at(0, run_started(false)),
        at(
            1,
            EventKind::UnitStarted {
                unit: UnitId::new("EPIC-1"),
                title: "Accounts".into(),
                branch: "teams/shop/unit/EPIC-1".into(),
                worktree: ".teams/worktrees/r/EPIC-1".into(),
            },
        ),
        at(2, agent_started("EPIC-1", Some("US-001"), Builder, 1)),
        at(
            30,
            EventKind::AgentActivity {
                unit: UnitId::new("EPIC-1"),
                story: Some(StoryId::new("US-001")),
                role: Builder,
                activity: "Edit src/signup.rs".into(),
            },
        ),
        at(
            62,
            agent_finished("EPIC-1", Some("US-001"), Builder, 1, 60, None),
        ),
        at(63, agent_started("EPIC-1", Some("US-001"), Validator, 1)),
        at(
            90,
            agent_finished("EPIC-1", Some("US-001"), Validator, 1, 27, None),
        ),
        at(
            90,
            EventKind::AttemptFailed {
                unit: UnitId::new("EPIC-1"),
                story: StoryId::new("US-001"),
                attempt: 1,
                counted: true,
                reason: "the form accepts an empty e-mail address".into(),
            },
        ),
        at(91, agent_started("EPIC-1", Some("US-001"), Builder, 2)),
        at(
            150,
            agent_finished("EPIC-1", Some("US-001"), Builder, 2, 59, None),
        ),
        at(
            180,
            EventKind::StoryFinished {
                unit: UnitId::new("EPIC-1"),
                story: StoryId::new("US-001"),
                title: "Sign-up form".into(),
                passed: true,
                attempts: 2,
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                reason: None,
            },
        ),
        at(
            181,
            EventKind::UnitMerged {
                unit: UnitId::new("EPIC-1"),
                merge_commit: "89abcdef0123456789abcdef0123456789abcdef".into(),
            },
        ),
        at(
            181,
            EventKind::UnitFinished {
                unit: UnitId::new("EPIC-1"),
                status: EpicStatus::Completed,
                reason: None,
            },
        ),
        at(
            182,
            EventKind::Warning {
                message: "no git identity configured; merges use teams <teams@localhost>".into(),
            },
        ),
        at(
            400,
            EventKind::StoryFinished {
                unit: UnitId::new("EPIC-2"),
                story: StoryId::new("US-003"),
                title: "Payment".into(),
                passed: false,
                attempts: 2,
                commit: None,
                reason: Some("validator: declined cards are not handled".into()),
            },
        ),
        at(
            401,
            EventKind::UnitFinished {
                unit: UnitId::new("EPIC-2"),
                status: EpicStatus::Partial,
                reason: Some("1 story failed".into()),
            },
        ),
        at(
            402,
            EventKind::RunFinished {
                summary: some_failed(),
            },
        ),
    ]
}

pub(crate) fn passed(id: &str, title: &str, attempts: u32, sha: &str) -> StorySummary {
    StorySummary {
        id: StoryId::new(id),
        title: title.into(),
        passed: true,
        attempts,
        commit: Some(sha.into()),
        reason: None,
        cost_usd: 0.0,
    }
}

pub(crate) fn failed(id: &str, title: &str, attempts: u32, reason: &str) -> StorySummary {
    StorySummary {
        id: StoryId::new(id),
        title: title.into(),
        passed: false,
        attempts,
        commit: None,
        reason: Some(reason.into()),
        cost_usd: 0.0,
    }
}

pub(crate) fn not_run(id: &str, title: &str) -> StorySummary {
    StorySummary {
        id: StoryId::new(id),
        title: title.into(),
        passed: false,
        attempts: 0,
        commit: None,
        reason: None,
        cost_usd: 0.0,
    }
}

pub(crate) fn unit(
    id: &str,
    title: &str,
    status: EpicStatus,
    reason: Option<&str>,
    cost_usd: f64,
    stories: Vec<StorySummary>,
) -> UnitSummary {
    UnitSummary {
        id: UnitId::new(id),
        title: title.into(),
        status,
        reason: reason.map(str::to_owned),
        stories,
        cost_usd,
    }
}

pub(crate) fn summary_of(outcome: RunOutcome, units: Vec<UnitSummary>) -> RunSummary {
    RunSummary {
        run_id: "20250101-120000".into(),
        base: "main".into(),
        integration_branch: "teams/shop/main".into(),
        cost_usd: units.iter().map(|u| u.cost_usd).sum(),
        units,
        duration: Duration::from_secs(724),
        simulated: false,
        outcome,
        landed: false,
    }
}

pub(crate) fn all_passed() -> RunSummary {
    summary_of(
        RunOutcome::Succeeded,
        vec![
            unit(
                "EPIC-1",
                "Accounts",
                EpicStatus::Completed,
                None,
                1.2,
                vec![
                    passed("US-001", "Sign-up form", 1, "0123456789abcdef"),
                    passed("US-002", "Log in and log out", 2, "fedcba9876543210"),
                ],
            ),
            unit(
                "EPIC-2",
                "Checkout",
                EpicStatus::Completed,
                None,
                0.8,
                vec![passed("US-003", "Cart", 1, "a1b2c3d4e5f6a7b8")],
            ),
        ],
    )
}

pub(crate) fn some_failed() -> RunSummary {
    summary_of(
        RunOutcome::SomeFailed,
        vec![
            unit(
                "EPIC-1",
                "Accounts",
                EpicStatus::Completed,
                None,
                1.2,
                vec![passed("US-001", "Sign-up form", 2, "0123456789abcdef")],
            ),
            unit(
                "EPIC-2",
                "Checkout, with a title long enough to be cut short in the summary",
                EpicStatus::Partial,
                None,
                2.05,
                vec![
                    passed("US-002", "Cart", 1, "a1b2c3d4e5f6a7b8"),
                    failed(
                        "US-003",
                        "Payment",
                        2,
                        "validator: declined cards are not handled; the acceptance criterion \
                         \"a declined card shows a message and keeps the cart\" fails because \
                         checkout() panics on PaymentError::Declined",
                    ),
                ],
            ),
            unit(
                "EPIC-3",
                "Shipping",
                EpicStatus::Blocked,
                Some("depends on EPIC-2, which ended partial"),
                0.0,
                vec![not_run("US-004", "Shipping labels")],
            ),
        ],
    )
}
