//! `teams logs`: the run's event log from the state store (`--tail N`, `--follow`), or one agent's
//! transcript (`--story US-001 [--attempt 2] [--role validator]`). Read-only: it never takes the
//! lock, so it can follow a run in progress.

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::GlobalArgs;
use super::output::write_error;
use crate::agent::Role;
use crate::error::{Result, TeamsError};
use crate::run::layout::AgentFileName;
use crate::run::{Layout, UnitId};
use crate::store::{EventRow, RunRow, Store};
use crate::ui::Ui;

/// How often `--follow` looks for new events.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// Show the run's event log, or one agent's transcript
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only the last N events
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,

    /// Keep printing new events until the run stops
    #[arg(long, short = 'f')]
    pub follow: bool,

    /// Print this story's agent transcript instead
    #[arg(long, value_name = "ID")]
    pub story: Option<String>,

    /// With --story: which attempt (default: the last)
    #[arg(long, value_name = "N", requires = "story")]
    pub attempt: Option<u32>,

    /// With --story: planner, builder or validator (default: builder)
    #[arg(long, value_name = "ROLE", requires = "story")]
    pub role: Option<String>,

    /// A run ID (default: the last run)
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
}

pub fn cmd_logs(ui: &mut Ui, global: &GlobalArgs, args: LogsArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let layout = Layout::new(&ctx.repo_root);
    let Some(store) = Store::open_read_only(&layout.state_db())? else {
        return Err(no_runs());
    };
    let run = match &args.run {
        Some(id) => store
            .run(id)?
            .ok_or_else(|| TeamsError::usage(format!("there is no run `{id}`")))?,
        None => store.latest_run()?.ok_or_else(no_runs)?,
    };
    match &args.story {
        Some(story) => transcript(ui, &store, &layout, &run, story, &args),
        None => events(ui, &store, &run, &args, ctx.json),
    }
}

fn no_runs() -> TeamsError {
    TeamsError::usage("no run has started in this repository yet")
        .with_hint("`teams run` starts one")
}

fn events(ui: &mut Ui, store: &Store, run: &RunRow, args: &LogsArgs, json: bool) -> Result<i32> {
    let mut last = 0;
    let mut batch = store.events(&run.id, 0, args.tail)?;
    loop {
        for event in &batch {
            let line = if json {
                format!("{}\n", event.body)
            } else {
                human_line(event)
            };
            ui.stdout()
                .write_all(line.as_bytes())
                .map_err(write_error)?;
            last = event.seq;
        }
        ui.stdout().flush().map_err(write_error)?;
        if !args.follow {
            return Ok(crate::exit_code::SUCCESS);
        }
        let status = store.run(&run.id)?.map_or_else(String::new, |r| r.status);
        batch = store.events(&run.id, last, None)?;
        if batch.is_empty() {
            if status != "running" {
                return Ok(crate::exit_code::SUCCESS);
            }
            std::thread::sleep(FOLLOW_POLL);
        }
    }
}

/// `+1m 02s  story_finished  unit=EPIC-1 story=US-1 passed=true …`: the scalar fields of the
/// event, by name.
fn human_line(event: &EventRow) -> String {
    let value: Value = serde_json::from_str(&event.body).unwrap_or(Value::Null);
    let elapsed = value["elapsed_ms"].as_u64().unwrap_or(0) / 1000;
    let mut line = format!("+{}m {:02}s  {}", elapsed / 60, elapsed % 60, event.kind);
    if let Value::Object(fields) = &value {
        for (key, field) in fields {
            if key == "event" || key == "elapsed_ms" {
                continue;
            }
            match field {
                Value::String(s) => line.push_str(&format!(" {key}={s}")),
                Value::Number(n) => line.push_str(&format!(" {key}={n}")),
                Value::Bool(b) => line.push_str(&format!(" {key}={b}")),
                _ => {}
            }
        }
    }
    line.push('\n');
    line
}

fn transcript(
    ui: &mut Ui,
    store: &Store,
    layout: &Layout,
    run: &RunRow,
    story: &str,
    args: &LogsArgs,
) -> Result<i32> {
    let role_name = args.role.as_deref().unwrap_or("builder");
    let role = Role::from_name(role_name)
        .filter(|r| matches!(r, Role::Planner | Role::Builder | Role::Validator))
        .ok_or_else(|| {
            TeamsError::usage(format!("unknown role `{role_name}`"))
                .with_hint("use planner, builder or validator")
        })?;
    let state = store
        .run_state(&run.id)?
        .ok_or_else(|| TeamsError::internal(format!("run {} vanished", run.id)))?;
    // A planner works for the whole unit: `--story` may name the unit or one of its stories.
    let unit = state
        .story(story)
        .map(|s| s.unit_id.clone())
        .or_else(|| state.unit(story).map(|u| u.id.clone()))
        .ok_or_else(|| {
            TeamsError::usage(format!("run {} has no story or epic `{story}`", run.id))
                .with_hint("`teams status` lists the IDs; `--run ID` picks another run")
        })?;
    let subject = if role == Role::Planner {
        unit.as_str()
    } else {
        story
    };
    let calls: Vec<_> = state
        .attempts
        .iter()
        .filter(|a| a.role == role.as_str() && a.unit_id == unit)
        .filter(|a| role == Role::Planner || a.story_id.as_deref() == Some(story))
        .collect();
    let attempt = match args.attempt {
        Some(n) => n,
        None => calls.iter().map(|a| a.attempt).max().ok_or_else(|| {
            TeamsError::usage(format!("no {role_name} ran for {story} in run {}", run.id))
        })?,
    };
    let path = layout
        .agent_files(
            &run.id,
            &UnitId::new(&unit),
            &AgentFileName {
                subject,
                role,
                attempt,
                reask: false,
            },
        )
        .log;
    let text = std::fs::read(&path).map_err(|err| {
        TeamsError::usage(format!(
            "no transcript of the {role_name} of {story}, attempt {attempt}: {}",
            path.display()
        ))
        .with_source(err)
        .with_hint("`teams logs` lists what ran; `--attempt N` picks another attempt")
    })?;
    ui.stdout().write_all(&text).map_err(write_error)?;
    Ok(crate::exit_code::SUCCESS)
}
