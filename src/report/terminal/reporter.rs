//! [`TerminalReporter`]: decides, per mode, which text goes to the terminal and when.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use indicatif::ProgressDrawTarget;

use super::format;
use super::progress::{Bars, LiveState, REFRESH_HZ, use_progress};
use crate::report::Reporter;
use crate::run::{EventKind, RunEvent};
use crate::ui::Styles;

/// How the terminal reporter shows a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalMode {
    /// Live rows on stderr, milestones printed above them.
    Progress,
    /// One plain line per milestone and per agent start: for CI logs and pipes.
    Lines,
    /// Warnings only (`--quiet`).
    Quiet,
}

impl TerminalMode {
    /// The mode for this terminal, environment (`CI`) and `--quiet`.
    pub fn detect(stderr_is_terminal: bool, ci_env: Option<&str>, quiet: bool) -> TerminalMode {
        if quiet {
            TerminalMode::Quiet
        } else if use_progress(stderr_is_terminal, ci_env, quiet) {
            TerminalMode::Progress
        } else {
            TerminalMode::Lines
        }
    }
}

/// Shows a run on the terminal. Clears its rows when finished, on `RunFinished` and when dropped,
/// so an early error never leaves a half-drawn display behind.
pub struct TerminalReporter {
    mode: TerminalMode,
    styles: Styles,
    err: Box<dyn Write + Send>,
    live: LiveState,
    /// When the run started, on our clock (from the first event's elapsed time).
    started: Option<Instant>,
    /// The elapsed time of the latest event, so our clock never shows less than the loop's.
    latest: Duration,
    /// `Some` in progress mode only.
    bars: Option<Bars>,
}

impl TerminalReporter {
    /// A reporter writing to `err` (stderr, through `anstream` so colour follows `--color`);
    /// progress mode draws on stderr.
    pub fn new(mode: TerminalMode, styles: Styles, err: Box<dyn Write + Send>) -> TerminalReporter {
        TerminalReporter::with_draw_target(
            mode,
            styles,
            err,
            ProgressDrawTarget::stderr_with_hz(REFRESH_HZ),
        )
    }

    /// As [`TerminalReporter::new`], with the rows drawn on `target` (tests pass a hidden one).
    pub(crate) fn with_draw_target(
        mode: TerminalMode,
        styles: Styles,
        err: Box<dyn Write + Send>,
        target: ProgressDrawTarget,
    ) -> TerminalReporter {
        TerminalReporter {
            mode,
            styles,
            err,
            live: LiveState::default(),
            started: None,
            latest: Duration::ZERO,
            bars: (mode == TerminalMode::Progress).then(|| Bars::new(target)),
        }
    }

    pub fn mode(&self) -> TerminalMode {
        self.mode
    }

    /// The text this mode prints for an event, if any.
    fn text_for(&self, event: &RunEvent) -> Option<String> {
        let shown = match self.mode {
            TerminalMode::Quiet => matches!(event.kind, EventKind::Warning { .. }),
            TerminalMode::Lines => true,
            TerminalMode::Progress => stays_in_scrollback(&event.kind),
        };
        if !shown {
            return None;
        }
        let max_attempts = Some(self.live.max_attempts).filter(|&m| m > 0);
        match &event.kind {
            // The summary is the command's output: the CLI prints it on stdout (or as JSON).
            EventKind::RunFinished { .. } => None,
            _ => format::event_line(event, max_attempts, &self.styles),
        }
    }

    /// Time since the run started, by our clock.
    fn now(&self) -> Duration {
        self.started
            .map_or(Duration::ZERO, |s| s.elapsed())
            .max(self.latest)
    }

    fn redraw(&mut self) {
        let now = self.now();
        if let Some(bars) = &mut self.bars {
            bars.show(&format::progress_lines(&self.live, now, &self.styles));
        }
    }

    /// Prints `text` (one or more lines), above the rows when there are any.
    fn print(&mut self, text: &str) -> io::Result<()> {
        let err = &mut self.err;
        let mut write = || -> io::Result<()> {
            writeln!(err, "{text}")?;
            err.flush()
        };
        match &self.bars {
            Some(bars) => bars.print_above(write),
            None => write(),
        }
    }

    fn clear_rows(&mut self) -> io::Result<()> {
        match &mut self.bars {
            Some(bars) => bars.clear(),
            None => Ok(()),
        }
    }
}

/// Events worth keeping in the scrollback while rows are drawn: results and warnings. Starts and
/// activity only move the rows.
fn stays_in_scrollback(kind: &EventKind) -> bool {
    match kind {
        EventKind::RunStarted { .. }
        | EventKind::AttemptFailed { .. }
        | EventKind::StoryFinished { .. }
        | EventKind::UnitMerged { .. }
        | EventKind::UnitFinished { .. }
        | EventKind::Warning { .. }
        | EventKind::SprintClosed { .. }
        | EventKind::RunFinished { .. } => true,
        EventKind::UnitStarted { .. }
        | EventKind::AgentStarted { .. }
        | EventKind::AgentActivity { .. }
        | EventKind::AgentFinished { .. }
        | EventKind::MergeQueued { .. } => false,
    }
}

impl Reporter for TerminalReporter {
    fn report(&mut self, event: &RunEvent) -> io::Result<()> {
        if self.started.is_none() {
            self.started = Instant::now().checked_sub(event.elapsed);
        }
        self.latest = self.latest.max(event.elapsed);
        self.live.apply(event);
        let finished = matches!(event.kind, EventKind::RunFinished { .. });
        // The rows go when the run ends, before the CLI prints the summary.
        let cleared = if finished { self.clear_rows() } else { Ok(()) };
        let printed = match self.text_for(event) {
            Some(text) => self.print(&text),
            None => Ok(()),
        };
        if !finished {
            self.redraw();
        }
        cleared.and(printed)
    }

    fn tick(&mut self) -> io::Result<()> {
        self.redraw();
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.clear_rows()?;
        self.err.flush()
    }
}

impl Drop for TerminalReporter {
    fn drop(&mut self) {
        // Nothing to report to from a drop; a failed clear leaves at most some rows on screen.
        let _ = self.clear_rows();
    }
}

#[cfg(test)]
#[path = "reporter_tests.rs"]
mod tests;
