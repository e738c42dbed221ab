use std::fmt::Write as _;

use super::*;
use crate::report::test_events::{all_passed, at, run_started, sample_run, summary_of};

fn composer(wanted: &[DiscordEvent]) -> Composer {
    Composer::new(
        wanted.to_vec(),
        RunContext {
            project: "Shop".into(),
            waves: Some(2),
            titles: [("EPIC-2".to_owned(), "Checkout".to_owned())].into(),
        },
    )
}

/// Every message of `events`, as a reader would see them, one block per message.
fn render(composer: &mut Composer, events: &[RunEvent]) -> String {
    let mut out = String::new();
    for message in events.iter().flat_map(|e| composer.compose(e)) {
        let _ = writeln!(out, "--- message");
        if !message.content.is_empty() {
            let _ = writeln!(out, "{}", message.content);
        }
        if let Some(embed) = &message.embed {
            let _ = writeln!(out, "[embed #{:06X}] {}", embed.colour, embed.title);
            for field in &embed.fields {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    field.name,
                    field.value.replace('\n', "\n    ")
                );
            }
            let _ = writeln!(out, "  footer: {}", embed.footer);
        }
    }
    out
}

#[test]
fn a_run_becomes_a_few_messages_for_a_phone() {
    let text = render(&mut composer(&DiscordEvent::ALL), &sample_run());
    insta::assert_snapshot!(text, @r#"
    --- message
    ▶️ **Shop**: run started: 2 units in 2 waves, 3 stories, parallel 2, up to 2 attempts per story
    run 20250101-120000 · main → teams/shop/main
    --- message
    ✅ **Shop**: EPIC-1 Accounts completed: 1/1 stories passed, $1.26
    ✓ US-001 `0123456`
    --- message
    ❌ **Shop**: US-003 Payment failed after 2 attempts (EPIC-2)
    validator: declined cards are not handled
    --- message
    ❌ **Shop**: EPIC-2 Checkout partial: 0/1 stories passed
    ✗ US-003: validator: declined cards are not handled
    --- message
    ❌ **Shop**: 2/4 stories passed, finished with failures
    [embed #E74C3C] run 20250101-120000: finished with failures
      Passed: 2/4
      Duration: 12m 04s
      Spend: $3.25
      Failures: **US-003** Payment: validator: declined cards are not handled; the acceptance criterion "a declined card shows a message and keeps the cart" fails because checkout() panics on Pay…
        **EPIC-3** blocked: depends on EPIC-2, which ended partial
      Next: retry a failed story: `teams reset US-003 && teams run`
      footer: teams · integration branch teams/shop/main
"#);
}

#[test]
fn the_events_list_picks_the_messages() {
    let only_failures = render(&mut composer(&[DiscordEvent::Failure]), &sample_run());
    assert_eq!(
        only_failures.matches("--- message").count(),
        1,
        "{only_failures}"
    );
    assert!(only_failures.contains("US-003 Payment failed after 2 attempts"));

    let only_run = render(&mut composer(&[DiscordEvent::Run]), &sample_run());
    assert_eq!(only_run.matches("--- message").count(), 2, "{only_run}");
    assert!(only_run.contains("run started"));
    assert!(only_run.contains("2/4 stories passed"));

    assert!(render(&mut composer(&[]), &sample_run()).is_empty());
}

#[test]
fn an_interrupted_run_says_how_to_continue() {
    let mut summary = all_passed();
    summary.outcome = RunOutcome::Interrupted;
    let text = render(
        &mut composer(&[DiscordEvent::Run]),
        &[at(9, EventKind::RunFinished { summary })],
    );
    assert!(
        text.contains(
            "⏸️ **Shop**: 3/3 stories passed, interrupted; continue with: `teams resume`"
        ),
        "{text}"
    );
    assert!(text.contains("[embed #95A5A6]"), "{text}");
}

#[test]
fn a_merge_conflict_is_its_own_message() {
    let events = [
        at(
            1,
            EventKind::UnitStarted {
                unit: UnitId::new("EPIC-1"),
                title: "Accounts".into(),
                branch: "b".into(),
                worktree: "w".into(),
            },
        ),
        at(
            2,
            EventKind::UnitFinished {
                unit: UnitId::new("EPIC-1"),
                status: EpicStatus::MergeFailed,
                reason: Some(
                    "merge-failed: merging into `teams/shop/main` conflicts in a.txt".into(),
                ),
            },
        ),
    ];
    let text = render(&mut composer(&[DiscordEvent::Merge]), &events);
    assert!(
        text.contains("⚠️ **Shop**: merge conflict: EPIC-1 Accounts\nmerge-failed"),
        "{text}"
    );
}

#[test]
fn a_huge_failure_reason_is_cut_and_every_message_fits() {
    let events = [
        at(0, run_started(true)),
        at(
            5,
            EventKind::StoryFinished {
                unit: UnitId::new("EPIC-1"),
                story: "US-1".into(),
                title: "t".repeat(5000),
                passed: false,
                attempts: 2,
                commit: None,
                reason: Some("why ".repeat(5000)),
            },
        ),
        at(
            6,
            EventKind::RunFinished {
                summary: summary_of(RunOutcome::SomeFailed, Vec::new()),
            },
        ),
    ];
    let mut composer = composer(&DiscordEvent::ALL);
    for event in &events {
        for message in composer.compose(event) {
            assert!(
                super::super::message::within_limits(&message),
                "{message:?}"
            );
        }
    }
}

#[test]
fn a_closed_sprint_is_one_report_when_sprint_events_are_wanted() {
    let report = crate::sprint::SprintReport {
        id: "S-20260101-1".into(),
        milestone: "Stable core".into(),
        brief: String::new(),
        requirements: Vec::new(),
        started_at: "2026-01-01T10:00:00Z".into(),
        closed_at: "2026-01-01T11:00:00Z".into(),
        duration_secs: 3600,
        spend_usd: 1.5,
        todos: vec![
            crate::sprint::TodoReport {
                id: "B-001".into(),
                title: "Fix the crash".into(),
                result: "done".into(),
                attempts: 1,
                commit: Some("0123456".into()),
                subject: None,
                cost_usd: 1.0,
                reason: None,
                carried_to: None,
            },
            crate::sprint::TodoReport {
                id: "B-002".into(),
                title: "Tidy".into(),
                result: "carried-over".into(),
                attempts: 2,
                commit: None,
                subject: None,
                cost_usd: 0.5,
                reason: Some("not met".into()),
                carried_to: Some("B-003".into()),
            },
        ],
    };
    let events = [at(1, EventKind::SprintClosed { report })];
    insta::assert_snapshot!(render(&mut composer(&[DiscordEvent::Sprint]), &events), @r"
    --- message
    🏁 **Shop**: sprint S-20260101-1 closed: done 1/2, carried over 1 · $1.50
    milestone: Stable core
    - B-001 Fix the crash: done `0123456`
    - B-002 Tidy: carried-over → B-003
    ");
    assert_eq!(render(&mut composer(&[DiscordEvent::Run]), &events), "");
}
