//! `teams sprint start/status/stop/restart`: the sprint lifecycle (spec §2, §8).
//!
//! `start` selects backlog items as todos and writes `.teams/current_sprint.md`; `teams run` then
//! runs the todos beside the PRD's epics. `stop` and `restart` change the sprint directly when no
//! run works; while one does, they leave a request the run applies (`sprint::requests`), because
//! the run alone writes `backlog.json` while it works.

use std::path::Path;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::GlobalArgs;
use super::backlog_input::{load_backlog, lock_for_write, save_backlog};
use super::output::{write_error, write_json};
use crate::backlog::{BacklogDocument, Item, Sprint, SprintStatus};
use crate::error::{Result, TeamsError};
use crate::run::Layout;
use crate::sprint::clock::Moment;
use crate::sprint::requests::{self, Request};
use crate::sprint::{self as lifecycle, SprintError, SprintReport, SprintStart};
use crate::ui::Ui;

/// Start, show, stop or restart the sprint
#[derive(Debug, Args)]
pub struct SprintArgs {
    #[command(subcommand)]
    pub command: SprintCommand,
}

#[derive(Debug, Subcommand)]
pub enum SprintCommand {
    /// Start a sprint: the given items (default: every pending item) become todos that `teams
    /// run` builds and validates beside the PRD's epics
    Start(StartArgs),
    /// Show the open sprint and its todos
    Status,
    /// Stop the sprint: running todos finish, no new ones start, then the sprint closes (its
    /// history goes to .teams/sprint_history/)
    Stop,
    /// Continue a stopped sprint that has not closed yet
    Restart,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// What the sprint is for; builders and validators of its todos see it
    #[arg(long, value_name = "M")]
    pub milestone: String,
    /// A few sentences of context for the todos' agents
    #[arg(long, value_name = "B")]
    pub brief: Option<String>,
    /// A requirement every todo must respect (repeatable)
    #[arg(long = "requirement", value_name = "R")]
    pub requirements: Vec<String>,
    /// An item to select (repeatable) [default: every pending item]
    #[arg(long = "item", value_name = "ID")]
    pub items: Vec<String>,
}

#[derive(Serialize)]
struct StatusReport<'a> {
    sprint: Option<&'a Sprint>,
    todos: Vec<&'a Item>,
    /// A stop or restart the running `teams run` has not applied yet.
    pending_request: Option<String>,
}

pub fn cmd_sprint(ui: &mut Ui, global: &GlobalArgs, args: SprintArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let layout = Layout::new(&ctx.repo_root);
    match args.command {
        SprintCommand::Start(start) => {
            let _lock = lock_for_write(&ctx, "start a sprint")?;
            let (mut doc, prd) = load_backlog(&ctx)?;
            let request = SprintStart {
                milestone: start.milestone,
                brief: start.brief.unwrap_or_default(),
                requirements: start.requirements,
                items: start.items,
            };
            let id = lifecycle::start(&mut doc, &request, prd.as_ref(), Moment::now())
                .map_err(sprint_error)?;
            save_backlog(&mut doc)?;
            requests::clear(layout.dir());
            write_views(&doc, layout.dir())?;
            let sprint = doc.backlog().sprint(&id).cloned();
            if let Some(s) = &sprint {
                let text = format!(
                    "🚀 **{}**: sprint {} started: {}\nmilestone: {}",
                    super::sprint_notify::project(&ctx),
                    s.id,
                    crate::helpers::plural(s.todos.len(), "todo", "todos"),
                    crate::helpers::truncate(&s.milestone, 200),
                );
                if let Some(warning) = super::sprint_notify::post(&ctx, text) {
                    let _ = ui.warn(&warning);
                }
            }
            if ctx.json {
                return write_json(ui, &sprint).map(|()| 0);
            }
            let todos = sprint.map(|s| s.todos).unwrap_or_default();
            ui.status(&format!(
                "started sprint {id}: {} ({})\nnext: teams run (or `teams run --sprint` for the todos only)\n",
                crate::helpers::plural(todos.len(), "todo", "todos"),
                todos.join(", ")
            ))
            .map_err(write_error)?;
            Ok(0)
        }
        SprintCommand::Status => {
            let (doc, _) = load_backlog(&ctx)?;
            let backlog = doc.backlog();
            let sprint = backlog.open_sprint();
            let todos: Vec<&Item> = sprint
                .map(|s| s.todos.iter().filter_map(|t| backlog.item(t)).collect())
                .unwrap_or_default();
            let pending =
                requests::peek(layout.dir()).filter(|r| sprint.is_some_and(|s| s.id == r.sprint()));
            let pending_text = pending.as_ref().map(|r| match r {
                Request::Stop(_) => "stop".to_owned(),
                Request::Restart(_) => "restart".to_owned(),
            });
            if ctx.json {
                let report = StatusReport {
                    sprint,
                    todos,
                    pending_request: pending_text,
                };
                return write_json(ui, &report).map(|()| 0);
            }
            let mut text = lifecycle::render_current(backlog);
            if let Some(verb) = pending_text {
                text.push_str(&format!(
                    "\n{verb} requested; the running `teams run` applies it shortly\n"
                ));
            }
            if sprint.is_none()
                && let Some(last) = backlog.sprints.last()
            {
                text.push_str(&format!(
                    "\nlast sprint: {} ({}), history in {}\n",
                    last.id,
                    last.status,
                    lifecycle::history_path(Path::new(".teams"), &last.id).display()
                ));
            }
            ui.status(&text).map_err(write_error)?;
            Ok(0)
        }
        SprintCommand::Stop => change(ui, &ctx, &layout, Change::Stop),
        SprintCommand::Restart => change(ui, &ctx, &layout, Change::Restart),
    }
}

#[derive(Clone, Copy)]
enum Change {
    Stop,
    Restart,
}

/// `stop` or `restart`: applied here when no run works, else requested from the run.
fn change(
    ui: &mut Ui,
    ctx: &super::CommandContext,
    layout: &Layout,
    change: Change,
) -> Result<i32> {
    let (doc, _) = load_backlog(ctx)?;
    let Some(sprint) = doc.backlog().open_sprint().cloned() else {
        return Err(sprint_error(SprintError::NoOpenSprint));
    };
    if let Some(pid) = crate::run::lock::live_holder(&layout.lock()) {
        if let Change::Restart = change
            && sprint.status != SprintStatus::Stopped
            && !matches!(requests::peek(layout.dir()), Some(Request::Stop(_)))
        {
            return Err(sprint_error(SprintError::NotStopped {
                id: sprint.id,
                status: sprint.status,
            }));
        }
        let request = match change {
            Change::Stop => Request::Stop(sprint.id.clone()),
            Change::Restart => Request::Restart(sprint.id.clone()),
        };
        requests::write(layout.dir(), &request).map_err(|err| {
            TeamsError::environment("failed to leave the request for the running teams")
                .with_source(err)
        })?;
        let what = match change {
            Change::Stop => "stops: its running todos finish, no new ones start, then it closes",
            Change::Restart => "continues: the run starts its remaining todos",
        };
        ui.status(&format!(
            "sprint {} {what} (the run with PID {pid} applies this)\n",
            sprint.id
        ))
        .map_err(write_error)?;
        return Ok(0);
    }
    let _lock = lock_for_write(ctx, "change the sprint")?;
    // Reloaded under the lock: a run may have ended and written it just now.
    let (mut doc, _) = load_backlog(ctx)?;
    requests::clear(layout.dir());
    match change {
        Change::Restart => {
            let id = lifecycle::restart(&mut doc).map_err(sprint_error)?;
            save_backlog(&mut doc)?;
            write_views(&doc, layout.dir())?;
            ui.status(&format!("sprint {id} is active again\nnext: teams run\n"))
                .map_err(write_error)?;
        }
        Change::Stop => {
            // No run works, so nothing is running: the sprint closes at once.
            let id = lifecycle::stop(&mut doc).map_err(sprint_error)?;
            let report = close(&mut doc, &id, ctx, layout.dir())?;
            if let Some(r) = &report {
                let project = super::sprint_notify::project(ctx);
                let text = crate::report::discord::compose::sprint_closed(&project, r);
                if let Some(warning) = super::sprint_notify::post(ctx, text) {
                    let _ = ui.warn(&warning);
                }
            }
            if ctx.json {
                return write_json(ui, &report).map(|()| 0);
            }
            ui.status(&format!(
                "sprint {id} stopped and closed: {}\nhistory: {}\n",
                report.as_ref().map_or(String::new(), SprintReport::tally),
                lifecycle::history_path(Path::new(".teams"), &id).display()
            ))
            .map_err(write_error)?;
        }
    }
    Ok(0)
}

fn close(
    doc: &mut BacklogDocument,
    id: &str,
    ctx: &super::CommandContext,
    teams_dir: &Path,
) -> Result<Option<SprintReport>> {
    let repo = crate::git::Repo::open(&ctx.repo_root).ok();
    let subject = |sha: &str| {
        repo.as_ref()
            .and_then(|r| r.subject(&crate::git::Sha::new(sha)).ok())
    };
    lifecycle::close_sprint(doc, id, teams_dir, Moment::now(), &subject).map_err(|err| {
        TeamsError::environment(err.to_string())
            .with_source(err)
            .with_hint("check the disk and the permissions of .teams/")
    })
}

fn write_views(doc: &BacklogDocument, teams_dir: &Path) -> Result<()> {
    lifecycle::write_current(doc, teams_dir).map_err(|err| {
        TeamsError::environment(err.to_string())
            .with_hint("backlog.json is saved; `teams sprint status` shows the sprint")
    })
}

/// The error for a refused sprint change, with the command that helps.
fn sprint_error(err: SprintError) -> TeamsError {
    let hint = match &err {
        SprintError::AlreadyOpen { status, .. } => match status {
            SprintStatus::Stopped => {
                "`teams sprint restart` continues it; `teams sprint stop` closes it"
            }
            _ => "`teams sprint status` shows it; `teams sprint stop` ends it",
        },
        SprintError::NothingPending => {
            "add items with `teams backlog add --title T --acceptance A`"
        }
        SprintError::UnknownItem(_) | SprintError::NotPending { .. } => {
            "`teams backlog list --status pending` shows the items a sprint can select"
        }
        SprintError::NoCriteria(_) => "give it criteria: `teams backlog edit ID --acceptance A`",
        SprintError::DependencyOutside { .. } => {
            "select the dependency too (`--item`), or change the item's dependencies (`teams backlog edit`)"
        }
        SprintError::RankOrder { .. } => {
            "give the dependency a lower rank (`teams backlog edit ID --rank N`)"
        }
        SprintError::BlankMilestone => "say what the sprint is for: `--milestone \"…\"`",
        SprintError::NoOpenSprint => "`teams sprint start --milestone M` starts one",
        SprintError::NotStopped { .. } => {
            "only a stopped sprint can be restarted; `teams sprint status` shows it"
        }
    };
    TeamsError::usage(err.to_string()).with_hint(hint)
}
