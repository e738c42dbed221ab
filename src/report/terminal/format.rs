//! Pure text for the terminal: event lines, progress rows, the run header and the end-of-run
//! summary (spec §4.6).
//!
//! Nothing here writes or reads a clock: every function takes the facts and `&Styles` and returns
//! a string, so each one is snapshot-tested with plain styles and the reporter only decides where
//! the text goes.

use std::fmt::Write as _;
use std::time::Duration;

use super::progress::{LiveRow, LiveState};
use crate::agent::Role;
use crate::helpers::{plural, truncate};
use crate::prd::{EpicStatus, StoryId};
use crate::run::{EventKind, RunEvent, RunOutcome, RunSummary, StorySummary, UnitId, UnitSummary};
use crate::ui::Styles;

/// Titles are cut to this many characters.
const TITLE_WIDTH: usize = 40;
/// Failure reasons in one-line messages are cut to this many characters: enough to recognise
/// the failure; `teams status` and the logs have the whole text.
const REASON_WIDTH: usize = 100;
/// In the summary, reasons are wrapped to lines this wide, at most [`REASON_LINES`] of them, so
/// they fit an 80-column terminal under their story.
const REASON_WRAP: usize = 72;
const REASON_LINES: usize = 3;
/// Agent activity in a progress row.
const ACTIVITY_WIDTH: usize = 48;
/// Progress rows shown at most; the rest are counted in one "… and N more" line.
pub const MAX_ROWS: usize = 8;
/// Failed story IDs listed in the retry command at most.
const MAX_RETRY_IDS: usize = 5;

/// What `RunStarted` says, borrowed from the event for [`run_header`].
#[derive(Debug, Clone, Copy)]
pub struct RunHeader<'a> {
    pub run_id: &'a str,
    pub base: &'a str,
    pub integration_branch: &'a str,
    pub units: usize,
    pub stories: usize,
    pub parallel: u32,
    pub max_attempts: u32,
    pub simulated: bool,
}

impl<'a> RunHeader<'a> {
    /// The header of a `RunStarted` event; `None` for any other event.
    pub fn from_event(kind: &'a EventKind) -> Option<RunHeader<'a>> {
        match kind {
            EventKind::RunStarted {
                run_id,
                base,
                integration_branch,
                units,
                stories,
                parallel,
                max_attempts,
                simulated,
            } => Some(RunHeader {
                run_id,
                base,
                integration_branch,
                units: *units,
                stories: *stories,
                parallel: *parallel,
                max_attempts: *max_attempts,
                simulated: *simulated,
            }),
            _ => None,
        }
    }
}

/// Two lines at the start of a run: which run, from which branch into which, and how much work.
pub fn run_header(header: &RunHeader<'_>, styles: &Styles) -> String {
    let h = styles.heading;
    let mut out = format!(
        "{h}run {}{h:#}: {} → {}",
        header.run_id, header.base, header.integration_branch
    );
    if header.simulated {
        let p = styles.pending;
        out.push_str(&format!(" — {p}simulation (sim backend){p:#}"));
    }
    out.push_str(&format!(
        "\n{} ({} at a time), {}, up to {} each",
        plural(header.units, "unit", "units"),
        header.parallel,
        plural(header.stories, "story", "stories"),
        plural(header.max_attempts as usize, "attempt", "attempts"),
    ));
    out
}

/// The one-line message for an event, as CI logs and the scrollback show it; `None` for events
/// that only move the live rows (agent activity) or have their own text (the final summary).
///
/// `max_attempts` (from `RunStarted`) turns `attempt 2` into `2/2`.
pub fn event_line(event: &RunEvent, max_attempts: Option<u32>, styles: &Styles) -> Option<String> {
    let id = styles.id;
    let line = match &event.kind {
        EventKind::RunStarted { .. } => run_header(&RunHeader::from_event(&event.kind)?, styles),
        EventKind::UnitStarted {
            unit,
            title,
            branch,
            ..
        } => format!(
            "{id}{unit}{id:#} started: {} ({branch})",
            truncate(title, TITLE_WIDTH)
        ),
        EventKind::AgentStarted {
            unit,
            story,
            role,
            attempt,
            backend,
            model,
        } => {
            let who = agent_who(unit, story.as_ref(), *role, *attempt, max_attempts, styles);
            let agent = match model {
                Some(model) => format!("{backend}, {model}"),
                None => backend.clone(),
            };
            format!("{who} started ({agent})")
        }
        EventKind::AgentActivity { .. } => return None,
        EventKind::AgentFinished {
            unit,
            story,
            role,
            attempt,
            duration,
            cost_usd,
            failure,
        } => {
            let who = agent_who(unit, story.as_ref(), *role, *attempt, max_attempts, styles);
            let spend = cost_usd
                .map(|c| format!(", {}", money(c)))
                .unwrap_or_default();
            match failure {
                Some(failure) => {
                    let bad = styles.bad;
                    format!(
                        "{who} {bad}failed{bad:#} after {}{spend}: {}",
                        duration_text(*duration),
                        truncate(failure, REASON_WIDTH)
                    )
                }
                None => format!("{who} finished in {}{spend}", duration_text(*duration)),
            }
        }
        EventKind::AttemptFailed {
            story,
            attempt,
            counted,
            reason,
            ..
        } => {
            let bad = styles.bad;
            let not_counted = if *counted { "" } else { " (not counted)" };
            format!(
                "{id}{story}{id:#} attempt {} {bad}failed{bad:#}{not_counted}: {}",
                attempt_of(*attempt, max_attempts),
                truncate(reason, REASON_WIDTH)
            )
        }
        EventKind::StoryFinished {
            story,
            title,
            passed,
            attempts,
            commit,
            reason,
            ..
        } => {
            let title = truncate(title, TITLE_WIDTH);
            let tries = plural(*attempts as usize, "attempt", "attempts");
            if *passed {
                let good = styles.good;
                let sha = commit
                    .as_deref()
                    .map(|c| format!(" ({})", short_sha(c)))
                    .unwrap_or_default();
                format!(
                    "{good}✓{good:#} {id}{story}{id:#} {title}: {good}passed{good:#} in {tries}{sha}"
                )
            } else {
                let bad = styles.bad;
                let reason = reason
                    .as_deref()
                    .map(|r| format!(": {}", truncate(r, REASON_WIDTH)))
                    .unwrap_or_default();
                format!(
                    "{bad}✗{bad:#} {id}{story}{id:#} {title}: {bad}failed{bad:#} after {tries}{reason}"
                )
            }
        }
        EventKind::MergeQueued { unit, ahead } => match ahead {
            0 => format!("{id}{unit}{id:#} merging"),
            n => format!("{id}{unit}{id:#} waits to merge ({n} ahead)"),
        },
        EventKind::UnitMerged { unit, merge_commit } => {
            format!("{id}{unit}{id:#} merged ({})", short_sha(merge_commit))
        }
        EventKind::UnitFinished {
            unit,
            status,
            reason,
        } => {
            let style = status_style(*status, styles);
            let reason = reason
                .as_deref()
                .map(|r| format!(": {}", truncate(r, REASON_WIDTH)))
                .unwrap_or_default();
            format!(
                "{id}{unit}{id:#} {style}{}{style:#}{reason}",
                status.as_str()
            )
        }
        EventKind::Warning { message } => {
            let w = styles.warning;
            format!("{w}warning{w:#}: {message}")
        }
        EventKind::SprintClosed { report } => {
            format!(
                "{id}sprint {}{id:#} closed: {} (history in .teams/sprint_history/{}.md)",
                report.id,
                report.tally(),
                report.id
            )
        }
        EventKind::RunFinished { .. } => return None,
    };
    Some(line)
}

/// One progress row: unit, story, role and attempt, the agent's elapsed time, the unit's spend
/// and the agent's last activity.
pub fn unit_row(row: &LiveRow, now: Duration, max_attempts: u32, styles: &Styles) -> String {
    let (id, dim) = (styles.id, styles.dim);
    let mut out = format!("{id}{:<10}{id:#}", row.unit.as_str());
    let Some(role) = row.role else {
        out.push_str(&format!(" {dim}starting{dim:#}"));
        return out;
    };
    let story = row.story.as_ref().map_or("", |s| s.as_str());
    let step = match &row.story {
        Some(_) => format!("{role} {}", attempt_of(row.attempt, Some(max_attempts))),
        None => role.to_string(),
    };
    out.push_str(&format!(" {story:<8} {step:<13}"));
    if let Some(elapsed) = row.agent_elapsed(now) {
        out.push_str(&format!(" {:>7}", duration_text(elapsed)));
    }
    if row.cost_usd > 0.0 {
        out.push_str(&format!(" {:>6}", money(row.cost_usd)));
    }
    if let Some(activity) = &row.activity {
        out.push_str(&format!(
            "  {dim}{}{dim:#}",
            truncate(activity, ACTIVITY_WIDTH)
        ));
    }
    out
}

/// The bottom line of the live view: stories done, units running, elapsed time and spend.
pub fn overall_line(state: &LiveState, now: Duration, styles: &Styles) -> String {
    let done = state.stories_passed + state.stories_failed;
    let mut out = format!(
        "{} {done}/{} done",
        bar(done, state.stories_total),
        plural(state.stories_total, "story", "stories")
    );
    if state.stories_failed > 0 {
        let bad = styles.bad;
        out.push_str(&format!(", {bad}{} failed{bad:#}", state.stories_failed));
    }
    out.push_str(&format!(
        " · {} running · {}",
        plural(state.rows.len(), "unit", "units"),
        duration_text(now)
    ));
    if state.simulated {
        let p = styles.pending;
        out.push_str(&format!(" · {p}simulation{p:#}"));
    } else {
        out.push_str(&format!(" · {}", money(state.cost_usd)));
    }
    out
}

/// Width of the overall bar, in cells.
const BAR_WIDTH: usize = 20;

/// `[#######.............]`: the share of stories done, in plain characters so it reads the same
/// in every terminal and font.
pub fn bar(done: usize, total: usize) -> String {
    let filled = (done.min(total) * BAR_WIDTH)
        .checked_div(total)
        .unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR_WIDTH - filled))
}

/// Every line of the live view: up to [`MAX_ROWS`] unit rows, a count of the others, and the
/// overall line last. Empty once the run has finished.
pub fn progress_lines(state: &LiveState, now: Duration, styles: &Styles) -> Vec<String> {
    if state.finished {
        return Vec::new();
    }
    let mut lines: Vec<String> = state
        .rows
        .iter()
        .take(MAX_ROWS)
        .map(|row| unit_row(row, now, state.max_attempts, styles))
        .collect();
    if state.rows.len() > MAX_ROWS {
        let dim = styles.dim;
        lines.push(format!(
            "{dim}… and {} more running{dim:#}",
            state.rows.len() - MAX_ROWS
        ));
    }
    lines.push(overall_line(state, now, styles));
    lines
}

/// The end-of-run report (spec §4.6): each unit and its stories, duration and spend, the
/// integration branch, the next command(s), and `DONE: X/Y stories passed` as the last line.
pub fn summary(summary: &RunSummary, styles: &Styles) -> String {
    let h = styles.heading;
    let mut out = format!(
        "{h}run {}{h:#}: {}",
        summary.run_id,
        outcome_text(summary.outcome)
    );
    if summary.simulated {
        let p = styles.pending;
        out.push_str(&format!(" — {p}simulation (sim backend){p:#}"));
    }
    out.push('\n');

    let id_width = crate::helpers::column_width(summary.units.iter().flat_map(|u| {
        std::iter::once(u.id.as_str()).chain(u.stories.iter().map(|s| s.id.as_str()))
    }));
    for unit in &summary.units {
        out.push('\n');
        unit_lines(&mut out, unit, id_width, summary.simulated, styles);
    }

    let spend = if summary.simulated {
        "simulated, no spend".to_owned()
    } else {
        format!("spent {}", money(summary.cost_usd))
    };
    let _ = writeln!(out, "\ntook {}, {spend}", duration_text(summary.duration));
    if summary.landed {
        let good = styles.good;
        let _ = writeln!(
            out,
            "{good}landed{good:#}: {} now includes {}",
            summary.base, summary.integration_branch
        );
    } else {
        let _ = writeln!(out, "integration branch: {}", summary.integration_branch);
    }
    let hint = styles.hint;
    for (label, command) in next_commands(summary) {
        let _ = writeln!(out, "{hint}{label}{hint:#}: {command}");
    }
    let (passed, total) = summary.stories_passed();
    let _ = write!(out, "DONE: {passed}/{total} stories passed");
    out
}

fn unit_lines(
    out: &mut String,
    unit: &UnitSummary,
    id_width: usize,
    simulated: bool,
    styles: &Styles,
) {
    let id = styles.id;
    let style = status_style(unit.status, styles);
    let passed = unit.stories.iter().filter(|s| s.passed).count();
    let mut line = format!(
        "{id}{:<id_width$}{id:#}  {:<TITLE_WIDTH$}  {style}{:<12}{style:#}  {passed}/{} passed",
        unit.id.as_str(),
        truncate(&unit.title, TITLE_WIDTH),
        unit.status.as_str(),
        unit.stories.len(),
    );
    if !simulated && unit.cost_usd > 0.0 {
        line.push_str(&format!("  {}", money(unit.cost_usd)));
    }
    push_trimmed(out, &line);
    if let Some(reason) = &unit.reason {
        push_reason(out, reason, "    ", styles);
    }
    for story in &unit.stories {
        story_lines(out, story, id_width, simulated, styles);
    }
}

fn story_lines(
    out: &mut String,
    story: &StorySummary,
    id_width: usize,
    simulated: bool,
    styles: &Styles,
) {
    let failed = !story.passed && story.reason.is_some();
    let (mark, style) = if story.passed {
        ("✓", styles.good)
    } else if failed {
        ("✗", styles.bad)
    } else {
        ("·", styles.pending)
    };
    let attempts = match story.attempts {
        0 => String::new(),
        n => plural(n as usize, "attempt", "attempts"),
    };
    let result = if story.passed {
        story
            .commit
            .as_deref()
            .map(short_sha)
            .unwrap_or_default()
            .to_owned()
    } else if failed {
        format!("{style}failed{style:#}")
    } else {
        "not run".to_owned()
    };
    let spend = if !simulated && story.cost_usd > 0.0 {
        format!("  {}", money(story.cost_usd))
    } else {
        String::new()
    };
    push_trimmed(
        out,
        &format!(
            "  {style}{mark}{style:#} {:<id_width$}  {:<TITLE_WIDTH$}  {attempts:<10}  {result}{spend}",
            story.id.as_str(),
            truncate(&story.title, TITLE_WIDTH),
        ),
    );
    if let (false, Some(reason)) = (story.passed, &story.reason) {
        push_reason(out, reason, "      ", styles);
    }
}

/// A failure reason under its unit or story, wrapped and dimmed.
fn push_reason(out: &mut String, reason: &str, indent: &str, styles: &Styles) {
    let dim = styles.dim;
    for line in wrap(reason, REASON_WRAP, REASON_LINES) {
        push_trimmed(out, &format!("{indent}{dim}{line}{dim:#}"));
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (whitespace collapsed), at
/// most `max_lines` of them, the last ending with `…` when text was left out.
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let fits = current.chars().count() + 1 + word.chars().count() <= width;
        if !current.is_empty() && !fits {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        let rest = lines.split_off(max_lines);
        if let Some(last) = lines.last_mut() {
            // Longer than `width` by construction, so `truncate` ends it with `…`.
            *last = format!("{last} {}", rest[0]);
        }
    }
    lines.iter().map(|line| truncate(line, width)).collect()
}

/// What to type next, as `(what for, command)` pairs.
pub(crate) fn next_commands(summary: &RunSummary) -> Vec<(String, String)> {
    let mut next = Vec::new();
    if summary.outcome == RunOutcome::Succeeded && !summary.landed {
        next.push((
            "land it".to_owned(),
            format!(
                "git switch {} && git merge --ff-only {}  (or: teams run --land)",
                summary.base, summary.integration_branch
            ),
        ));
    }
    let failed: Vec<&str> = summary
        .units
        .iter()
        .flat_map(|u| &u.stories)
        .filter(|s| !s.passed && s.reason.is_some())
        .map(|s| s.id.as_str())
        .collect();
    if !failed.is_empty() {
        let label = if failed.len() == 1 {
            "retry a failed story"
        } else {
            "retry the failed stories"
        };
        let ids = failed[..failed.len().min(MAX_RETRY_IDS)].join(" ");
        let mut command = format!("teams reset {ids} && teams run");
        if failed.len() > MAX_RETRY_IDS {
            command.push_str(&format!(
                "  (and {} more: teams status lists them)",
                failed.len() - MAX_RETRY_IDS
            ));
        }
        next.push((label.to_owned(), command));
    }
    match summary.outcome {
        RunOutcome::Interrupted => next.push(("continue".to_owned(), "teams resume".to_owned())),
        RunOutcome::BudgetReached => next.push((
            "budget reached".to_owned(),
            "raise budget_usd in teams.toml, then: teams resume".to_owned(),
        )),
        RunOutcome::Succeeded | RunOutcome::SomeFailed => {}
    }
    next
}

pub(crate) fn outcome_text(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "every unit completed and merged",
        RunOutcome::SomeFailed => "finished with failures",
        RunOutcome::Interrupted => "interrupted",
        RunOutcome::BudgetReached => "stopped: budget reached",
    }
}

fn status_style(status: EpicStatus, styles: &Styles) -> anstyle::Style {
    match status {
        EpicStatus::Completed => styles.good,
        EpicStatus::Pending | EpicStatus::Running | EpicStatus::Partial => styles.pending,
        EpicStatus::Failed | EpicStatus::Blocked | EpicStatus::MergeFailed => styles.bad,
    }
}

/// `US-001 builder 2/2` for a story's agent, `EPIC-1 planner` for a unit's.
fn agent_who(
    unit: &UnitId,
    story: Option<&StoryId>,
    role: Role,
    attempt: u32,
    max_attempts: Option<u32>,
    styles: &Styles,
) -> String {
    let id = styles.id;
    match story {
        Some(story) => format!(
            "{id}{story}{id:#} {role} {}",
            attempt_of(attempt, max_attempts)
        ),
        None => format!("{id}{unit}{id:#} {role}"),
    }
}

/// `2/3` when the limit is known, else `2`.
fn attempt_of(attempt: u32, max_attempts: Option<u32>) -> String {
    match max_attempts {
        Some(max) if max > 0 => format!("{attempt}/{max}"),
        _ => attempt.to_string(),
    }
}

/// A commit as people quote it: its first seven characters.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// `$0.42`.
pub fn money(usd: f64) -> String {
    format!("${usd:.2}")
}

/// `42s`, `3m 05s`, `1h 02m`: precise enough for agents that run minutes, never longer than 7.
pub fn duration_text(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// Appends `line` without trailing padding, and a newline.
fn push_trimmed(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
