//! The live view of a run: what is running now (pure state, fed by events) and the indicatif rows
//! that show it on a terminal.
//!
//! The state is kept apart from the drawing so the rows can be formatted and tested without a
//! terminal, and so a redraw is always "format the state, hand the lines to indicatif": there is
//! no per-bar bookkeeping to get out of step when units start and finish in any order.

use std::io;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::agent::Role;
use crate::prd::StoryId;
use crate::run::{EventKind, RunEvent, UnitId};

/// indicatif's own redraw limit. The loop ticks about five times a second and elapsed times
/// change once a second, so a low rate keeps the terminal calm and costs nothing.
pub(crate) const REFRESH_HZ: u8 = 4;

/// Whether to draw live progress rows: only on a terminal, never in CI (where logs are read
/// later and cursor movement turns into noise), and never with `--quiet`.
///
/// `ci_env` is the value of `CI`; set to anything but an empty string, `0` or `false`, it means CI.
pub fn use_progress(stderr_is_terminal: bool, ci_env: Option<&str>, quiet: bool) -> bool {
    let in_ci = ci_env.is_some_and(|v| {
        let v = v.trim();
        !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
    });
    stderr_is_terminal && !in_ci && !quiet
}

/// One running unit, as its progress row shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRow {
    pub unit: UnitId,
    /// The story being worked on (`None` before the first agent, and for the planner and merger).
    pub story: Option<StoryId>,
    /// The role of the current (or last) agent; `None` until one starts.
    pub role: Option<Role>,
    pub attempt: u32,
    /// When the current agent started, as time since the run started.
    pub agent_since: Option<Duration>,
    /// How long the last agent took, once it has finished.
    pub agent_took: Option<Duration>,
    /// Spend of this unit's agents so far.
    pub cost_usd: f64,
    /// The last thing the agent did, or what the unit is waiting on.
    pub activity: Option<String>,
}

impl LiveRow {
    fn new(unit: UnitId) -> LiveRow {
        LiveRow {
            unit,
            story: None,
            role: None,
            attempt: 0,
            agent_since: None,
            agent_took: None,
            cost_usd: 0.0,
            activity: None,
        }
    }

    /// How long the current agent has been running at `now`, or how long the last one took.
    pub fn agent_elapsed(&self, now: Duration) -> Option<Duration> {
        self.agent_took
            .or_else(|| self.agent_since.map(|since| now.saturating_sub(since)))
    }
}

/// Everything the live rows show, updated from events alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    /// Running units, in the order they started.
    pub rows: Vec<LiveRow>,
    /// Stories this run set out to do.
    pub stories_total: usize,
    pub stories_passed: usize,
    pub stories_failed: usize,
    /// Spend of every agent so far.
    pub cost_usd: f64,
    /// The attempts a story gets (0 until the run has started).
    pub max_attempts: u32,
    pub simulated: bool,
    /// The run has ended: nothing is drawn any more.
    pub finished: bool,
}

impl LiveState {
    pub fn apply(&mut self, event: &RunEvent) {
        match &event.kind {
            EventKind::RunStarted {
                stories,
                max_attempts,
                simulated,
                ..
            } => {
                *self = LiveState {
                    stories_total: *stories,
                    max_attempts: *max_attempts,
                    simulated: *simulated,
                    ..LiveState::default()
                };
            }
            EventKind::UnitStarted { unit, .. } => {
                self.row(unit);
            }
            EventKind::AgentStarted {
                unit,
                story,
                role,
                attempt,
                ..
            } => {
                let row = self.row(unit);
                row.story = story.clone();
                row.role = Some(*role);
                row.attempt = *attempt;
                row.agent_since = Some(event.elapsed);
                row.agent_took = None;
                row.activity = None;
            }
            EventKind::AgentActivity { unit, activity, .. } => {
                self.row(unit).activity = Some(activity.clone());
            }
            EventKind::AgentFinished {
                unit,
                role,
                duration,
                cost_usd,
                failure,
                ..
            } => {
                let cost = cost_usd.unwrap_or(0.0);
                self.cost_usd += cost;
                let row = self.row(unit);
                row.cost_usd += cost;
                row.agent_took = Some(*duration);
                let next = match (failure, role) {
                    (Some(_), _) => "agent failed",
                    // What the loop does next, until the next agent starts.
                    (None, Role::Builder) => "checking the commit",
                    (None, Role::Validator) => "recording the verdict",
                    (None, _) => "agent done",
                };
                row.activity = Some(next.to_owned());
            }
            EventKind::AttemptFailed { unit, attempt, .. } => {
                self.row(unit).activity = Some(format!("attempt {attempt} failed"));
            }
            EventKind::StoryFinished { passed, .. } => {
                if *passed {
                    self.stories_passed += 1;
                } else {
                    self.stories_failed += 1;
                }
            }
            EventKind::MergeQueued { unit, ahead } => {
                let row = self.row(unit);
                row.agent_since = None;
                row.agent_took = None;
                row.activity = Some(match ahead {
                    0 => "merging".to_owned(),
                    n => format!("waiting to merge ({n} ahead)"),
                });
            }
            EventKind::UnitMerged { unit, .. } => {
                self.row(unit).activity = Some("merged".to_owned());
            }
            EventKind::UnitFinished { unit, .. } => {
                self.rows.retain(|r| &r.unit != unit);
            }
            EventKind::Warning { .. } | EventKind::SprintClosed { .. } => {}
            EventKind::RunFinished { .. } => {
                self.rows.clear();
                self.finished = true;
            }
        }
    }

    /// The unit's row, added at the end when an event arrives for a unit not seen starting.
    fn row(&mut self, unit: &UnitId) -> &mut LiveRow {
        let index = match self.rows.iter().position(|r| &r.unit == unit) {
            Some(index) => index,
            None => {
                self.rows.push(LiveRow::new(unit.clone()));
                self.rows.len() - 1
            }
        };
        &mut self.rows[index]
    }
}

/// The indicatif side: one single-line bar per line of text, kept in step with the lines.
pub(crate) struct Bars {
    multi: MultiProgress,
    slots: Vec<ProgressBar>,
    style: ProgressStyle,
}

impl Bars {
    pub(crate) fn new(target: ProgressDrawTarget) -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(target),
            slots: Vec::new(),
            // `wide_msg` cuts each row to the terminal's width, so a long row never wraps and
            // throws off indicatif's count of lines to redraw.
            style: ProgressStyle::with_template("{wide_msg}")
                .expect("a constant template without unknown keys parses"),
        }
    }

    /// Shows `lines`, one row each, adding or removing rows at the bottom as needed.
    pub(crate) fn show(&mut self, lines: &[String]) {
        while self.slots.len() > lines.len() {
            if let Some(bar) = self.slots.pop() {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
        while self.slots.len() < lines.len() {
            let bar = ProgressBar::hidden().with_style(self.style.clone());
            self.slots.push(self.multi.add(bar));
        }
        for (bar, line) in self.slots.iter().zip(lines) {
            bar.set_message(line.clone());
        }
    }

    /// Runs `print` with the rows taken off the screen, then draws them again below what it
    /// printed, so printed lines stay in the scrollback and never mix with the rows.
    pub(crate) fn print_above<R>(&self, print: impl FnOnce() -> R) -> R {
        self.multi.suspend(print)
    }

    /// Takes every row off the screen.
    pub(crate) fn clear(&mut self) -> io::Result<()> {
        self.show(&[]);
        self.multi.clear()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prd::EpicStatus;

    #[test]
    fn progress_only_on_a_terminal_outside_ci_and_not_quiet() {
        let cases = [
            // (terminal, CI, quiet) => progress
            ((true, None, false), true),
            ((true, Some(""), false), true),
            ((true, Some("0"), false), true),
            ((true, Some("false"), false), true),
            ((true, Some("FALSE"), false), true),
            ((true, Some("true"), false), false),
            ((true, Some("1"), false), false),
            ((true, Some("woodpecker"), false), false),
            ((true, None, true), false),
            ((false, None, false), false),
            ((false, Some("true"), false), false),
            ((false, None, true), false),
        ];
        for ((terminal, ci, quiet), expected) in cases {
            assert_eq!(
                use_progress(terminal, ci, quiet),
                expected,
                "terminal={terminal} CI={ci:?} quiet={quiet}"
            );
        }
    }

    fn at(secs: u64, kind: EventKind) -> RunEvent {
        RunEvent {
            elapsed: Duration::from_secs(secs),
            kind,
        }
    }

    #[test]
    fn rows_follow_units_and_agents() {
        let unit = UnitId::new("EPIC-1");
        let mut state = LiveState::default();
        state.apply(&at(
            0,
            EventKind::RunStarted {
                run_id: "r".into(),
                base: "main".into(),
                integration_branch: "teams/x/main".into(),
                units: 1,
                stories: 2,
                parallel: 1,
                max_attempts: 2,
                simulated: false,
            },
        ));
        state.apply(&at(
            3,
            EventKind::AgentStarted {
                unit: unit.clone(),
                story: Some(StoryId::new("US-1")),
                role: Role::Builder,
                attempt: 1,
                backend: "claude".into(),
                model: None,
            },
        ));
        assert_eq!(
            state.rows.len(),
            1,
            "a row appears even without UnitStarted"
        );
        assert_eq!(
            state.rows[0].agent_elapsed(Duration::from_secs(10)),
            Some(Duration::from_secs(7))
        );
        state.apply(&at(
            20,
            EventKind::AgentFinished {
                unit: unit.clone(),
                story: Some(StoryId::new("US-1")),
                role: Role::Builder,
                attempt: 1,
                duration: Duration::from_secs(17),
                cost_usd: Some(0.5),
                failure: None,
            },
        ));
        assert_eq!(
            state.rows[0].agent_elapsed(Duration::from_secs(99)),
            Some(Duration::from_secs(17))
        );
        assert_eq!(state.cost_usd, 0.5);
        state.apply(&at(
            21,
            EventKind::UnitFinished {
                unit,
                status: EpicStatus::Completed,
                reason: None,
            },
        ));
        assert!(state.rows.is_empty());
        assert_eq!(state.max_attempts, 2);
        assert_eq!(state.stories_total, 2);
    }
}
