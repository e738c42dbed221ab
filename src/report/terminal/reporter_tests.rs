use std::sync::{Arc, Mutex};

use super::*;
use crate::agent::Role;
use crate::report::test_events::*;
use crate::run::UnitId;

/// A writer the test can read back after handing it to the reporter.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn reporter(mode: TerminalMode) -> (TerminalReporter, Shared) {
    let out = Shared::default();
    let reporter = TerminalReporter::with_draw_target(
        mode,
        Styles::plain(),
        Box::new(out.clone()),
        ProgressDrawTarget::hidden(),
    );
    (reporter, out)
}

fn play(reporter: &mut TerminalReporter, events: &[RunEvent]) {
    for event in events {
        reporter.report(event).unwrap();
        reporter.tick().unwrap();
    }
    reporter.finish().unwrap();
}

#[test]
fn the_mode_follows_terminal_ci_and_quiet() {
    assert_eq!(
        TerminalMode::detect(true, None, false),
        TerminalMode::Progress
    );
    assert_eq!(
        TerminalMode::detect(true, Some("true"), false),
        TerminalMode::Lines
    );
    assert_eq!(
        TerminalMode::detect(false, None, false),
        TerminalMode::Lines
    );
    assert_eq!(TerminalMode::detect(true, None, true), TerminalMode::Quiet);
    assert_eq!(
        TerminalMode::detect(false, Some("1"), true),
        TerminalMode::Quiet
    );
}

#[test]
fn lines_mode_prints_plain_lines_and_leaves_the_summary_to_the_cli() {
    let (mut reporter, out) = reporter(TerminalMode::Lines);
    play(&mut reporter, &sample_run());
    insta::assert_snapshot!(out.text(), @r#"
    run 20250101-120000: main → teams/shop/main
    2 units (2 at a time), 3 stories, up to 2 attempts each
    EPIC-1 started: Accounts (teams/shop/unit/EPIC-1)
    US-001 builder 1/2 started (claude, sonnet)
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
    "#);
}

#[test]
fn quiet_mode_prints_only_warnings() {
    let (mut reporter, out) = reporter(TerminalMode::Quiet);
    play(&mut reporter, &sample_run());
    insta::assert_snapshot!(out.text(), @"warning: no git identity configured; merges use teams <teams@localhost>");
}

#[test]
fn progress_mode_prints_milestones_only_and_survives_a_full_run() {
    let (mut reporter, out) = reporter(TerminalMode::Progress);
    let mut events = sample_run();
    // More units than rows, started and finished out of order, to exercise adding and removing
    // rows.
    let extra: Vec<RunEvent> = (0..12)
        .map(|i| {
            at(
                200,
                agent_started(&format!("EPIC-X{i}"), None, Role::Planner, 1),
            )
        })
        .chain((0..12).rev().map(|i| {
            at(
                300,
                EventKind::UnitFinished {
                    unit: UnitId::new(format!("EPIC-X{i}")),
                    status: crate::prd::EpicStatus::Blocked,
                    reason: None,
                },
            )
        }))
        .collect();
    let end = events.len() - 1;
    events.splice(end..end, extra);
    play(&mut reporter, &events);
    let text = out.text();
    assert!(!text.contains("started"), "{text}");
    assert!(
        text.contains("✓ US-001 Sign-up form: passed in 2 attempts (0123456)"),
        "{text}"
    );
    assert!(text.contains("EPIC-X0 blocked"), "{text}");
    assert!(text.ends_with("EPIC-X0 blocked\n"), "{text}");
    assert!(
        !text.contains("DONE:"),
        "the summary is the CLI's to print: {text}"
    );
}

#[test]
fn dropping_mid_run_clears_without_panicking() {
    let (mut reporter, out) = reporter(TerminalMode::Progress);
    for event in sample_run().iter().take(4) {
        reporter.report(event).unwrap();
    }
    reporter.tick().unwrap();
    drop(reporter);
    assert!(
        out.text()
            .starts_with("run 20250101-120000: main → teams/shop/main")
    );
}
