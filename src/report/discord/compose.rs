//! What `teams` tells Discord about a run: events in, finished messages out (spec §11).
//!
//! Written for someone reading a phone notification: the project and the verdict first, then the
//! facts (counts, short SHAs, spend), then what to type next. Per-attempt chatter (agents
//! starting, tool uses, attempts that will be retried) stays in the terminal and the event log;
//! Discord gets the milestones: run started, a story failed for good, a unit finished, a merge
//! conflict, and the run finished or was interrupted. Which of these are sent is the `events` list
//! of `[discord]` in `teams.toml`.
//!
//! [`Composer`] is pure: it keeps a tally per unit (stories and spend seen so far, because the
//! unit's own event carries only its status) and returns messages already cut to Discord's limits.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::config::DiscordEvent;
use crate::helpers::plural;
use crate::prd::EpicStatus;
use crate::report::terminal::format::{
    duration_text, money, next_commands, outcome_text, short_sha,
};
use crate::run::{EventKind, RunEvent, RunOutcome, RunSummary, UnitId};

use super::limits::truncate;
use super::message::{Embed, Field, Message, fit};

/// Embed colours (Discord's palette): green, red, amber, grey.
const GREEN: u32 = 0x2E_CC_71;
const RED: u32 = 0xE7_4C_3C;
const AMBER: u32 = 0xF1_C4_0F;
const GREY: u32 = 0x95_A5_A6;

/// Characters of a failure reason inside a one-line list (the full reason is in `teams status`).
const REASON_IN_LIST: usize = 160;
/// Characters of a failure reason in a message of its own.
const REASON_ALONE: usize = 900;

/// Facts about the run that its events do not carry.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The PRD's project name, shown first in every message.
    pub project: String,
    /// Waves (dependency layers) of the PRD's epics, when they could be computed.
    pub waves: Option<usize>,
    /// Unit titles by ID, for units that end without starting (blocked ones).
    pub titles: BTreeMap<String, String>,
}

/// Turns run events into Discord messages.
#[derive(Debug)]
pub struct Composer {
    wanted: Vec<DiscordEvent>,
    context: RunContext,
    units: BTreeMap<UnitId, UnitTally>,
}

/// What one unit did so far in this run.
#[derive(Debug, Default)]
struct UnitTally {
    title: String,
    /// `(story, commit)` of each story that passed.
    passed: Vec<(String, Option<String>)>,
    /// `(story, reason)` of each story that failed.
    failed: Vec<(String, String)>,
    cost_usd: f64,
}

impl Composer {
    pub fn new(wanted: Vec<DiscordEvent>, context: RunContext) -> Composer {
        Composer {
            wanted,
            context,
            units: BTreeMap::new(),
        }
    }

    fn wants(&self, kind: DiscordEvent) -> bool {
        self.wanted.contains(&kind)
    }

    /// The messages `event` calls for (none for most events), cut to Discord's limits.
    pub fn compose(&mut self, event: &RunEvent) -> Vec<Message> {
        self.tally(&event.kind);
        let message = match &event.kind {
            EventKind::RunStarted {
                run_id,
                base,
                integration_branch,
                units,
                stories,
                parallel,
                max_attempts,
                simulated,
            } if self.wants(DiscordEvent::Run) => {
                let mut text = format!(
                    "▶️ **{}**: run started: {}",
                    self.context.project,
                    plural(*units, "unit", "units"),
                );
                if let Some(waves) = self.context.waves {
                    let _ = write!(text, " in {}", plural(waves, "wave", "waves"));
                }
                let _ = write!(
                    text,
                    ", {}, parallel {parallel}, up to {} per story\n\
                     run {run_id} · {base} → {integration_branch}",
                    plural(*stories, "story", "stories"),
                    plural(*max_attempts as usize, "attempt", "attempts")
                );
                if *simulated {
                    text.push_str("\nsimulation: every agent is the built-in sim backend");
                }
                Some(Message::text(text))
            }
            EventKind::StoryFinished {
                unit,
                story,
                title,
                passed: false,
                attempts,
                reason,
                ..
            } if self.wants(DiscordEvent::Failure) => Some(Message::text(format!(
                "❌ **{}**: {story} {} failed after {} ({unit})\n{}",
                self.context.project,
                truncate(title, 100),
                plural(*attempts as usize, "attempt", "attempts"),
                truncate(
                    reason.as_deref().unwrap_or("no reason recorded"),
                    REASON_ALONE
                ),
            ))),
            EventKind::UnitFinished {
                unit,
                status: EpicStatus::MergeFailed,
                reason,
            } if self.wants(DiscordEvent::Merge) || self.wants(DiscordEvent::Unit) => {
                Some(Message::text(format!(
                    "⚠️ **{}**: merge conflict: {}\n{}",
                    self.context.project,
                    with_title(unit, self.title_of(unit)),
                    truncate(reason.as_deref().unwrap_or(""), REASON_ALONE),
                )))
            }
            EventKind::UnitFinished {
                unit,
                status,
                reason,
            } if self.wants(DiscordEvent::Unit) => {
                Some(self.unit_finished(unit, *status, reason.as_deref()))
            }
            EventKind::RunFinished { summary } if self.wants(DiscordEvent::Run) => {
                Some(self.run_finished(summary))
            }
            EventKind::SprintClosed { report } if self.wants(DiscordEvent::Sprint) => {
                Some(Message::text(sprint_closed(&self.context.project, report)))
            }
            _ => None,
        };
        message.map(fit).unwrap_or_default()
    }

    fn tally(&mut self, kind: &EventKind) {
        match kind {
            EventKind::UnitStarted { unit, title, .. } => {
                self.units.entry(unit.clone()).or_default().title = title.clone();
            }
            EventKind::AgentFinished {
                unit,
                cost_usd: Some(cost),
                ..
            } => self.units.entry(unit.clone()).or_default().cost_usd += cost,
            EventKind::StoryFinished {
                unit,
                story,
                passed,
                commit,
                reason,
                ..
            } => {
                let tally = self.units.entry(unit.clone()).or_default();
                if *passed {
                    tally.passed.push((story.to_string(), commit.clone()));
                } else {
                    let reason = reason.clone().unwrap_or_default();
                    tally.failed.push((story.to_string(), reason));
                }
            }
            _ => {}
        }
    }

    fn title_of<'a>(&'a self, unit: &UnitId) -> &'a str {
        self.units
            .get(unit)
            .map(|t| t.title.as_str())
            .filter(|t| !t.is_empty())
            .or_else(|| self.context.titles.get(unit.as_str()).map(String::as_str))
            .unwrap_or("")
    }

    fn unit_finished(&self, unit: &UnitId, status: EpicStatus, reason: Option<&str>) -> Message {
        let empty = UnitTally::default();
        let tally = self.units.get(unit).unwrap_or(&empty);
        let mark = match status {
            EpicStatus::Completed => "✅",
            EpicStatus::Blocked => "⛔",
            _ => "❌",
        };
        let done = tally.passed.len() + tally.failed.len();
        let mut text = format!(
            "{mark} **{}**: {} {}",
            self.context.project,
            with_title(unit, self.title_of(unit)),
            status.as_str(),
        );
        if done > 0 {
            let _ = write!(text, ": {}/{done} stories passed", tally.passed.len());
        }
        if tally.cost_usd > 0.0 {
            let _ = write!(text, ", {}", money(tally.cost_usd));
        }
        if !tally.passed.is_empty() {
            let commits: Vec<String> = tally
                .passed
                .iter()
                .map(|(story, commit)| match commit {
                    Some(sha) => format!("{story} `{}`", short_sha(sha)),
                    None => story.clone(),
                })
                .collect();
            let _ = write!(text, "\n✓ {}", commits.join(" · "));
        }
        for (story, why) in &tally.failed {
            let _ = write!(text, "\n✗ {story}: {}", one_line(why, REASON_IN_LIST));
        }
        if let (Some(reason), true) = (reason, tally.failed.is_empty()) {
            let _ = write!(text, "\n{}", one_line(reason, REASON_ALONE));
        }
        Message::text(text)
    }

    fn run_finished(&self, summary: &RunSummary) -> Message {
        let (passed, total) = summary.stories_passed();
        let project = &self.context.project;
        let (mark, colour) = match summary.outcome {
            RunOutcome::Succeeded => ("🏁", GREEN),
            RunOutcome::SomeFailed => ("❌", RED),
            RunOutcome::Interrupted => ("⏸️", GREY),
            RunOutcome::BudgetReached => ("💸", AMBER),
        };
        let next = next_commands(summary);
        let mut content = format!(
            "{mark} **{project}**: {passed}/{total} stories passed, {}",
            outcome_text(summary.outcome)
        );
        if summary.outcome == RunOutcome::Interrupted
            && let Some((_, command)) = next.iter().find(|(label, _)| label == "continue")
        {
            let _ = write!(content, "; continue with: `{command}`");
        }

        let spend = if summary.simulated {
            "simulated".to_owned()
        } else {
            money(summary.cost_usd)
        };
        let mut fields = vec![
            Field::new("Passed", format!("{passed}/{total}"), true),
            Field::new("Duration", duration_text(summary.duration), true),
            Field::new("Spend", spend, true),
        ];
        let failures: Vec<String> = summary
            .units
            .iter()
            .flat_map(|u| &u.stories)
            .filter(|s| !s.passed && s.reason.is_some())
            .map(|s| {
                format!(
                    "**{}** {}: {}",
                    s.id,
                    truncate(&s.title, 60),
                    one_line(s.reason.as_deref().unwrap_or(""), REASON_IN_LIST)
                )
            })
            .chain(
                summary
                    .units
                    .iter()
                    .filter(|u| u.stories.iter().all(|s| s.passed || s.reason.is_none()))
                    .filter_map(|u| {
                        let reason = u.reason.as_deref()?;
                        Some(format!(
                            "**{}** {}: {}",
                            u.id,
                            u.status.as_str(),
                            one_line(reason, REASON_IN_LIST)
                        ))
                    }),
            )
            .collect();
        if !failures.is_empty() {
            fields.push(Field::new("Failures", failures.join("\n"), false));
        }
        if !next.is_empty() {
            let lines: Vec<String> = next
                .iter()
                .map(|(label, command)| format!("{label}: `{command}`"))
                .collect();
            fields.push(Field::new("Next", lines.join("\n"), false));
        }
        let branch = if summary.landed {
            format!("landed on {}", summary.base)
        } else {
            format!("integration branch {}", summary.integration_branch)
        };
        Message {
            content,
            embed: Some(Embed {
                title: format!("run {}: {}", summary.run_id, outcome_text(summary.outcome)),
                description: String::new(),
                colour,
                fields,
                footer: format!("teams · {branch}"),
            }),
        }
    }
}

/// `EPIC-1 Accounts`, or the ID alone when the title is not known.
fn with_title(unit: &UnitId, title: &str) -> String {
    if title.is_empty() {
        unit.to_string()
    } else {
        format!("{unit} {}", truncate(title, 80))
    }
}

/// `text` on one line (whitespace collapsed), cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    truncate(&text.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;

/// The sprint report (spec §8, §11): milestone, tally, spend, and one line per todo.
pub fn sprint_closed(project: &str, report: &crate::sprint::SprintReport) -> String {
    let mut text = format!(
        "🏁 **{project}**: sprint {} closed: {} · ${:.2}\nmilestone: {}",
        report.id,
        report.tally(),
        report.spend_usd,
        truncate(&report.milestone, 200)
    );
    for todo in &report.todos {
        let commit = todo
            .commit
            .as_deref()
            .map(|c| format!(" `{c}`"))
            .unwrap_or_default();
        let carried = todo
            .carried_to
            .as_deref()
            .map(|c| format!(" → {c}"))
            .unwrap_or_default();
        let _ = write!(
            text,
            "\n- {} {}: {}{commit}{carried}",
            todo.id,
            truncate(&todo.title, 80),
            todo.result
        );
    }
    text
}
