use std::time::Duration;

use super::*;
use crate::agent::Role;
use crate::prd::StoryId;
use crate::report::test_events::*;
use crate::run::UnitId;

fn plain() -> Styles {
    Styles::plain()
}

/// The line of every event in the sample run, plus the few variants it lacks.
#[test]
fn event_lines() {
    let mut events = sample_run();
    events.push(at(
        5,
        EventKind::UnitStarted {
            unit: UnitId::new("EPIC-2"),
            title: "Checkout".into(),
            branch: "teams/shop/unit/EPIC-2".into(),
            worktree: ".teams/worktrees/r/EPIC-2".into(),
        },
    ));
    events.push(at(6, agent_started("EPIC-2", None, Role::Planner, 1)));
    events.push(at(
        66,
        agent_finished(
            "EPIC-2",
            None,
            Role::Planner,
            1,
            3725,
            Some("timed out after 1h (no output for 10m)"),
        ),
    ));
    events.push(at(
        70,
        EventKind::AttemptFailed {
            unit: UnitId::new("EPIC-2"),
            story: StoryId::new("US-003"),
            attempt: 1,
            counted: false,
            reason: "usage limit reached\nresets at 14:00".into(),
        },
    ));
    let lines: Vec<String> = events
        .iter()
        .map(|e| event_line(e, Some(2), &plain()).unwrap_or_else(|| "(none)".into()))
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @"
    run 20250101-120000: main → teams/shop/main
    2 units (2 at a time), 3 stories, up to 2 attempts each
    EPIC-1 started: Accounts (teams/shop/unit/EPIC-1)
    US-001 builder 1/2 started (claude, sonnet)
    (none)
    US-001 builder 1/2 finished in 1m 00s, $0.42
    US-001 validator 1/2 started (claude, sonnet)
    US-001 validator 1/2 finished in 27s, $0.42
    US-001 attempt 1/2 failed: the form accepts an empty e-mail address
    US-001 builder 2/2 started (claude, sonnet)
    US-001 builder 2/2 finished in 59s, $0.42
    ✓ US-001 Sign-up form: passed in 2 attempts (0123456)
    EPIC-1 merged (89abcde)
    EPIC-1 completed
    warning: no git identity configured; merges use teams <teams@localhost>
    ✗ US-003 Payment: failed after 2 attempts: validator: declined cards are not handled
    EPIC-2 partial: 1 story failed
    (none)
    EPIC-2 started: Checkout (teams/shop/unit/EPIC-2)
    EPIC-2 planner started (claude, sonnet)
    EPIC-2 planner failed after 1h 02m, $0.42: timed out after 1h (no output for 10m)
    US-003 attempt 1/2 failed (not counted): usage limit reached resets at 14:00
    ");
}

#[test]
fn attempts_without_a_known_limit() {
    let line = event_line(
        &at(0, agent_started("EPIC-1", Some("US-001"), Role::Builder, 2)),
        None,
        &plain(),
    );
    insta::assert_snapshot!(line.unwrap(), @"US-001 builder 2 started (claude, sonnet)");
}

#[test]
fn run_headers() {
    let real = run_started(false);
    let sim = run_started(true);
    let text = [&real, &sim]
        .map(|kind| run_header(&RunHeader::from_event(kind).unwrap(), &plain()))
        .join("\n");
    insta::assert_snapshot!(text, @"
    run 20250101-120000: main → teams/shop/main
    2 units (2 at a time), 3 stories, up to 2 attempts each
    run 20250101-120000: main → teams/shop/main — simulation (sim backend)
    2 units (2 at a time), 3 stories, up to 2 attempts each
    ");
    assert!(
        RunHeader::from_event(&EventKind::Warning {
            message: String::new()
        })
        .is_none()
    );
}

#[test]
fn summary_all_passed() {
    insta::assert_snapshot!(summary(&all_passed(), &plain()), @"
    run 20250101-120000: every unit completed and merged

    EPIC-1  Accounts                                  completed     2/2 passed  $1.20
      ✓ US-001  Sign-up form                              1 attempt   0123456
      ✓ US-002  Log in and log out                        2 attempts  fedcba9

    EPIC-2  Checkout                                  completed     1/1 passed  $0.80
      ✓ US-003  Cart                                      1 attempt   a1b2c3d

    took 12m 04s, spent $2.00
    integration branch: teams/shop/main
    land it: git switch main && git merge --ff-only teams/shop/main  (or: teams run --land)
    DONE: 3/3 stories passed
    ");
}

#[test]
fn summary_all_passed_and_landed() {
    let mut s = all_passed();
    s.landed = true;
    insta::assert_snapshot!(summary(&s, &plain()), @"
    run 20250101-120000: every unit completed and merged

    EPIC-1  Accounts                                  completed     2/2 passed  $1.20
      ✓ US-001  Sign-up form                              1 attempt   0123456
      ✓ US-002  Log in and log out                        2 attempts  fedcba9

    EPIC-2  Checkout                                  completed     1/1 passed  $0.80
      ✓ US-003  Cart                                      1 attempt   a1b2c3d

    took 12m 04s, spent $2.00
    landed: main now includes teams/shop/main
    DONE: 3/3 stories passed
    ");
}

#[test]
fn summary_with_failures_and_a_blocked_unit() {
    insta::assert_snapshot!(summary(&some_failed(), &plain()), @r#"
    run 20250101-120000: finished with failures

    EPIC-1  Accounts                                  completed     1/1 passed  $1.20
      ✓ US-001  Sign-up form                              2 attempts  0123456

    EPIC-2  Checkout, with a title long enough to b…  partial       1/2 passed  $2.05
      ✓ US-002  Cart                                      1 attempt   a1b2c3d
      ✗ US-003  Payment                                   2 attempts  failed
          validator: declined cards are not handled; the acceptance criterion "a
          declined card shows a message and keeps the cart" fails because
          checkout() panics on PaymentError::Declined

    EPIC-3  Shipping                                  blocked       0/1 passed
        depends on EPIC-2, which ended partial
      · US-004  Shipping labels                                       not run

    took 12m 04s, spent $3.25
    integration branch: teams/shop/main
    retry a failed story: teams reset US-003 && teams run
    DONE: 2/4 stories passed
    "#);
}

#[test]
fn summary_interrupted() {
    let mut s = some_failed();
    s.outcome = RunOutcome::Interrupted;
    s.units[1].status = EpicStatus::Running;
    s.units[1].stories[1] = not_run("US-003", "Payment");
    s.units[2].reason = None;
    s.units[2].status = EpicStatus::Pending;
    insta::assert_snapshot!(summary(&s, &plain()), @"
    run 20250101-120000: interrupted

    EPIC-1  Accounts                                  completed     1/1 passed  $1.20
      ✓ US-001  Sign-up form                              2 attempts  0123456

    EPIC-2  Checkout, with a title long enough to b…  running       1/2 passed  $2.05
      ✓ US-002  Cart                                      1 attempt   a1b2c3d
      · US-003  Payment                                               not run

    EPIC-3  Shipping                                  pending       0/1 passed
      · US-004  Shipping labels                                       not run

    took 12m 04s, spent $3.25
    integration branch: teams/shop/main
    continue: teams resume
    DONE: 2/4 stories passed
    ");
}

#[test]
fn summary_budget_reached() {
    let mut s = some_failed();
    s.outcome = RunOutcome::BudgetReached;
    let text = summary(&s, &plain());
    let tail: Vec<&str> = text.lines().rev().take(4).collect();
    insta::assert_snapshot!(tail.into_iter().rev().collect::<Vec<_>>().join("\n"), @"
    integration branch: teams/shop/main
    retry a failed story: teams reset US-003 && teams run
    budget reached: raise budget_usd in teams.toml, then: teams resume
    DONE: 2/4 stories passed
    ");
}

#[test]
fn summary_simulated() {
    let mut s = all_passed();
    s.simulated = true;
    s.cost_usd = 0.0;
    s.duration = Duration::from_secs(4);
    insta::assert_snapshot!(summary(&s, &plain()), @"
    run 20250101-120000: every unit completed and merged — simulation (sim backend)

    EPIC-1  Accounts                                  completed     2/2 passed
      ✓ US-001  Sign-up form                              1 attempt   0123456
      ✓ US-002  Log in and log out                        2 attempts  fedcba9

    EPIC-2  Checkout                                  completed     1/1 passed
      ✓ US-003  Cart                                      1 attempt   a1b2c3d

    took 4s, simulated, no spend
    integration branch: teams/shop/main
    land it: git switch main && git merge --ff-only teams/shop/main  (or: teams run --land)
    DONE: 3/3 stories passed
    ");
}

#[test]
fn summary_lists_at_most_five_failed_stories_to_retry() {
    let stories = (1..=7)
        .map(|i| failed(&format!("US-{i:03}"), "Story", 2, "tests fail"))
        .collect();
    let s = summary_of(
        RunOutcome::SomeFailed,
        vec![unit(
            "EPIC-1",
            "Everything",
            EpicStatus::Failed,
            None,
            0.0,
            stories,
        )],
    );
    let text = summary(&s, &plain());
    let retry = text.lines().find(|l| l.starts_with("retry")).unwrap();
    insta::assert_snapshot!(retry, @"retry the failed stories: teams reset US-001 US-002 US-003 US-004 US-005 && teams run  (and 2 more: teams status lists them)");
    assert!(text.ends_with("DONE: 0/7 stories passed"));
}

#[test]
fn the_last_line_is_done() {
    for s in [all_passed(), some_failed()] {
        let (passed, total) = s.stories_passed();
        let text = summary(&s, &plain());
        assert_eq!(
            text.lines().last().unwrap(),
            format!("DONE: {passed}/{total} stories passed")
        );
    }
}

#[test]
fn styled_text_differs_from_plain_text_only_by_escapes() {
    let styled = summary(&some_failed(), &Styles::default());
    assert!(styled.contains('\u{1b}'));
    let stripped = anstream::adapter::strip_str(&styled).to_string();
    assert_eq!(stripped, summary(&some_failed(), &plain()));
}

fn live(rows: usize) -> LiveState {
    let mut state = LiveState::default();
    state.apply(&at(0, run_started(false)));
    for i in 0..rows {
        let unit = format!("EPIC-{i}");
        state.apply(&at(
            10,
            agent_started(&unit, Some("US-001"), Role::Builder, 2),
        ));
    }
    state
}

#[test]
fn progress_rows() {
    let mut state = LiveState::default();
    for event in sample_run().into_iter().take(5) {
        state.apply(&event);
    }
    state.apply(&at(
        1,
        EventKind::UnitStarted {
            unit: UnitId::new("EPIC-9"),
            title: "Waits for its worktree".into(),
            branch: "b".into(),
            worktree: "w".into(),
        },
    ));
    state.apply(&at(70, agent_started("EPIC-2", None, Role::Planner, 1)));
    state.apply(&at(
        75,
        EventKind::AgentActivity {
            unit: UnitId::new("EPIC-2"),
            story: None,
            role: Role::Planner,
            activity: "Read a very long path/that/goes/on/and/on/src/lib.rs and then some more"
                .into(),
        },
    ));
    state.apply(&at(
        80,
        EventKind::StoryFinished {
            unit: UnitId::new("EPIC-7"),
            story: StoryId::new("US-9"),
            title: "t".into(),
            passed: false,
            attempts: 2,
            commit: None,
            reason: None,
        },
    ));
    let lines = progress_lines(&state, Duration::from_secs(95), &plain());
    insta::assert_snapshot!(lines.join("\n"), @"
    EPIC-1     US-001   builder 1/2    1m 00s  $0.42  checking the commit
    EPIC-9     starting
    EPIC-2              planner           25s  Read a very long path/that/goes/on/and/on/src/l…
    [######..............] 1/3 stories done, 1 failed · 3 units running · 1m 35s · $0.42
    ");
}

#[test]
fn progress_rows_are_capped() {
    let state = live(MAX_ROWS + 3);
    let lines = progress_lines(&state, Duration::from_secs(12), &plain());
    assert_eq!(lines.len(), MAX_ROWS + 2);
    insta::assert_snapshot!(lines[MAX_ROWS..].join("\n"), @"
    … and 3 more running
    [....................] 0/3 stories done · 11 units running · 12s · $0.00
    ");
}

#[test]
fn simulated_progress_shows_no_spend() {
    let mut state = LiveState::default();
    state.apply(&at(0, run_started(true)));
    insta::assert_snapshot!(overall_line(&state, Duration::from_secs(3), &plain()), @"[....................] 0/3 stories done · 0 units running · 3s · simulation");
}

#[test]
fn nothing_is_drawn_after_the_run() {
    let mut state = live(2);
    state.apply(&at(
        9,
        EventKind::RunFinished {
            summary: all_passed(),
        },
    ));
    assert!(progress_lines(&state, Duration::ZERO, &plain()).is_empty());
}

#[test]
fn durations_money_and_shas() {
    let d = |s| duration_text(Duration::from_secs(s));
    assert_eq!(
        [
            d(0),
            d(59),
            d(60),
            d(65),
            d(3599),
            d(3600),
            d(3725),
            d(100 * 3600)
        ],
        [
            "0s", "59s", "1m 00s", "1m 05s", "59m 59s", "1h 00m", "1h 02m", "100h 00m"
        ]
    );
    assert_eq!(money(0.0), "$0.00");
    assert_eq!(money(12.345), "$12.35");
    assert_eq!(short_sha("0123456789abcdef"), "0123456");
    assert_eq!(short_sha("abc"), "abc");
}

#[test]
fn wrapping() {
    let text = "one two three four five six seven eight nine ten";
    insta::assert_snapshot!(wrap(text, 14, 9).join("|"), @"one two three|four five six|seven eight|nine ten");
    insta::assert_snapshot!(wrap(text, 14, 2).join("|"), @"one two three|four five six…");
    insta::assert_snapshot!(wrap("a/very/long/path/without/spaces ok", 10, 3).join("|"), @"a/very/lo…|ok");
    assert!(wrap("", 10, 3).is_empty());
}

#[test]
fn summary_shows_spend_per_story_unit_and_run() {
    let mut s = all_passed();
    s.units[0].stories[0].cost_usd = 0.35;
    s.units[0].stories[1].cost_usd = 0.85;
    let text = summary(&s, &plain());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[3].starts_with("  ✓ US-001") && lines[3].ends_with("$0.35"),
        "{text}"
    );
    assert!(lines[4].ends_with("$0.85"), "{text}");
    // A story without reported spend shows none.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("US-003") && !l.contains('$')),
        "{text}"
    );
    assert!(text.contains("spent $"), "{text}");
}

#[test]
fn the_overall_bar_fills_with_the_stories_done() {
    assert_eq!(bar(0, 0), format!("[{}]", ".".repeat(20)));
    assert_eq!(bar(1, 4), format!("[{}{}]", "#".repeat(5), ".".repeat(15)));
    assert_eq!(bar(4, 4), format!("[{}]", "#".repeat(20)));
    assert_eq!(
        bar(9, 4),
        format!("[{}]", "#".repeat(20)),
        "never past full"
    );
}

#[test]
fn a_unit_waiting_for_its_merge_says_so_in_its_row_and_line() {
    let mut state = LiveState::default();
    for event in sample_run().into_iter().take(5) {
        state.apply(&event);
    }
    let queued = at(
        90,
        EventKind::MergeQueued {
            unit: UnitId::new("EPIC-1"),
            ahead: 2,
        },
    );
    state.apply(&queued);
    let lines = progress_lines(&state, Duration::from_secs(95), &plain());
    assert!(
        lines[0].starts_with("EPIC-1") && lines[0].ends_with("waiting to merge (2 ahead)"),
        "{lines:?}"
    );
    assert!(!lines[0].contains("1m"), "no agent is running: {lines:?}");
    assert_eq!(
        event_line(&queued, Some(2), &plain()).unwrap(),
        "EPIC-1 waits to merge (2 ahead)"
    );
    let merging = at(
        91,
        EventKind::MergeQueued {
            unit: UnitId::new("EPIC-1"),
            ahead: 0,
        },
    );
    assert_eq!(
        event_line(&merging, Some(2), &plain()).unwrap(),
        "EPIC-1 merging"
    );
}
