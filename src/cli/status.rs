//! `teams status`: epics and stories from `prd.json` — status, passes, attempts, short SHAs and
//! failure reasons — then the last run from the state store (what runs now, for how long, the
//! spend) and the next command, for people or (`--json`) for scripts.

use clap::Args;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{write_error, write_json};
use super::prd_input::{ProblemListing, load_error, shown_path};
use crate::error::Result;
use crate::helpers::{plural, truncate};
use crate::prd::{Epic, EpicStatus, Prd, PrdDocument, Story};
use crate::ui::{Styles, Ui};

/// Show epics and stories: status, passes, attempts, commits, failures
#[derive(Debug, Args)]
pub struct StatusArgs {}

/// Where a story stands, derived from its fields in `prd.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoryState {
    Passed,
    Failed,
    Pending,
}

impl StoryState {
    pub fn of(story: &Story) -> StoryState {
        if story.passes {
            StoryState::Passed
        } else if story.failure_reason.is_some() {
            StoryState::Failed
        } else {
            StoryState::Pending
        }
    }
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub epics: usize,
    pub stories: usize,
    pub passed: usize,
    pub failed: usize,
    pub pending: usize,
}

impl Totals {
    pub fn of(prd: &Prd) -> Totals {
        let mut totals = Totals {
            epics: prd.epics.len(),
            ..Totals::default()
        };
        for story in prd.epics.iter().flat_map(|e| &e.stories) {
            totals.stories += 1;
            match StoryState::of(story) {
                StoryState::Passed => totals.passed += 1,
                StoryState::Failed => totals.failed += 1,
                StoryState::Pending => totals.pending += 1,
            }
        }
        totals
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusReport<'a> {
    project: &'a str,
    prd: &'a str,
    totals: Totals,
    epics: Vec<EpicReport<'a>>,
    /// The last run from the state store (absent before the first run).
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a super::status_run::RunView>,
    /// The open sprint and its todos (absent when no sprint is open).
    #[serde(skip_serializing_if = "Option::is_none")]
    sprint: Option<super::status_sprint::SprintView>,
    next: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EpicReport<'a> {
    id: &'a str,
    title: &'a str,
    status: EpicStatus,
    depends_on: Vec<&'a str>,
    failure_reason: Option<&'a str>,
    stories: Vec<StoryReport<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoryReport<'a> {
    id: &'a str,
    title: &'a str,
    state: StoryState,
    passes: bool,
    attempts: u32,
    commit_sha: Option<&'a str>,
    failure_reason: Option<&'a str>,
}

pub fn cmd_status(ui: &mut Ui, global: &GlobalArgs, _args: StatusArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let shown = shown_path(&ctx.prd_path);
    let document = PrdDocument::load(&ctx.prd_path)
        .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
    let prd = document.prd();
    let run = super::status_run::load(&crate::run::Layout::new(&ctx.repo_root))?;
    let sprint = super::status_sprint::load(&ctx, run.as_ref());
    if ctx.json {
        let mut report = report(prd, &shown);
        report.sprint = sprint;
        report.next = super::status_run::next_command(run.as_ref(), prd);
        report.run = run.as_ref();
        write_json(ui, &report)?;
    } else {
        let mut text = format_status(prd, &shown, ui.styles());
        if let Some(sprint) = &sprint {
            text.push('\n');
            text.push_str(&super::status_sprint::format(sprint));
        }
        let tail = super::status_run::format(run.as_ref(), prd);
        if !tail.is_empty() {
            text.push('\n');
            text.push_str(&tail);
        }
        ui.stdout()
            .write_all(text.as_bytes())
            .map_err(write_error)?;
    }
    Ok(crate::exit_code::SUCCESS)
}

fn report<'a>(prd: &'a Prd, shown: &'a str) -> StatusReport<'a> {
    StatusReport {
        project: &prd.project,
        prd: shown,
        totals: Totals::of(prd),
        epics: prd
            .epics
            .iter()
            .map(|epic| EpicReport {
                id: epic.id.as_str(),
                title: &epic.title,
                status: epic.status,
                depends_on: epic.depends_on.iter().map(|d| d.as_str()).collect(),
                failure_reason: epic.failure_reason.as_deref(),
                stories: epic
                    .stories_in_run_order()
                    .into_iter()
                    .map(|story| StoryReport {
                        id: story.id.as_str(),
                        title: &story.title,
                        state: StoryState::of(story),
                        passes: story.passes,
                        attempts: story.attempts,
                        commit_sha: story.commit_sha.as_deref(),
                        failure_reason: story.failure_reason.as_deref(),
                    })
                    .collect(),
            })
            .collect(),
        run: None,
        sprint: None,
        next: None,
    }
}

const TITLE_WIDTH: usize = 40;
const REASON_WIDTH: usize = 70;

/// The human view: a header with totals, then each epic and its stories in run order.
pub fn format_status(prd: &Prd, shown: &str, styles: &Styles) -> String {
    let totals = Totals::of(prd);
    let mut out = format!(
        "{} ({shown}): {}, {} — {} passed, {} failed, {} pending\n",
        prd.project,
        plural(totals.epics, "epic", "epics"),
        plural(totals.stories, "story", "stories"),
        totals.passed,
        totals.failed,
        totals.pending,
    );
    let id_width = crate::helpers::column_width(prd.epics.iter().flat_map(|e| {
        std::iter::once(e.id.as_str()).chain(e.stories.iter().map(|s| s.id.as_str()))
    }));
    for epic in &prd.epics {
        out.push('\n');
        out.push_str(&epic_line(epic, id_width, styles));
        for story in epic.stories_in_run_order() {
            out.push_str(&story_line(story, id_width, styles));
        }
    }
    out
}

fn epic_line(epic: &Epic, id_width: usize, styles: &Styles) -> String {
    let passed = epic.stories.iter().filter(|s| s.passes).count();
    let style = match epic.status {
        EpicStatus::Completed => styles.good,
        EpicStatus::Pending | EpicStatus::Running => styles.pending,
        _ => styles.bad,
    };
    let id = styles.id;
    let mut line = format!(
        "{id}{:<id_width$}{id:#}  {:<TITLE_WIDTH$}  {style}{:<12}{style:#} {passed}/{} passed",
        epic.id.as_str(),
        truncate(&epic.title, TITLE_WIDTH),
        epic.status.as_str(),
        epic.stories.len(),
    );
    if !epic.depends_on.is_empty() {
        let deps: Vec<&str> = epic.depends_on.iter().map(|d| d.as_str()).collect();
        line.push_str(&format!("  needs {}", deps.join(", ")));
    }
    line.push('\n');
    if let Some(reason) = &epic.failure_reason {
        let dim = styles.dim;
        line.push_str(&format!(
            "  {dim}{}{dim:#}\n",
            truncate(reason, REASON_WIDTH)
        ));
    }
    line
}

fn story_line(story: &Story, id_width: usize, styles: &Styles) -> String {
    let (mark, style) = match StoryState::of(story) {
        StoryState::Passed => ("✓", styles.good),
        StoryState::Failed => ("✗", styles.bad),
        StoryState::Pending => ("·", styles.pending),
    };
    let attempts = match story.attempts {
        0 => String::new(),
        n => plural(n as usize, "attempt", "attempts"),
    };
    let mut line = format!(
        "  {style}{mark}{style:#} {:<id_width$}  {:<TITLE_WIDTH$}  {attempts:<12}",
        story.id.as_str(),
        truncate(&story.title, TITLE_WIDTH),
    );
    match StoryState::of(story) {
        StoryState::Passed => {
            if let Some(sha) = &story.commit_sha {
                line.push_str(&sha[..sha.len().min(7)]);
            }
        }
        StoryState::Failed => {
            let reason = story.failure_reason.as_deref().unwrap_or_default();
            line.push_str(&format!(
                "{style}failed{style:#}: {}",
                truncate(reason, REASON_WIDTH)
            ));
        }
        StoryState::Pending => line.push_str("pending"),
    }
    let trimmed = line.trim_end().len();
    line.truncate(trimmed);
    line.push('\n');
    line
}
