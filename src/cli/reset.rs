//! `teams reset ID…`: puts epics or stories back to pending (spec §2), so the next `teams run`
//! works on them again. A failed story is not retried by a plain rerun (that would spend money
//! repeating the same failure); resetting it is the explicit "try again".

use clap::Args;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{write_error, write_json};
use super::prd_input::{ProblemListing, load_error, shown_path};
use crate::error::{Result, TeamsError};
use crate::prd::{EpicId, EpicStatus, PrdDocument, StoryId};
use crate::ui::Ui;

/// Put epics, stories or sprint todos back to pending
///
/// Clears `passes`, `commitSha`, `attempts` and `failureReason`; an epic's stories are reset with
/// it, and a story's epic goes back to pending. A todo of the open sprint runs again in it (its
/// carry-over copy is dropped); another backlog item goes back to pending. The commits of
/// earlier attempts stay in git.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Epic, story or backlog item IDs (e.g. EPIC-002 US-003 B-004)
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<String>,
}

#[derive(Serialize)]
struct ResetReport {
    reset: Vec<String>,
}

pub fn cmd_reset(ui: &mut Ui, global: &GlobalArgs, args: ResetArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let shown = shown_path(&ctx.prd_path);
    let mut doc = PrdDocument::load(&ctx.prd_path)
        .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
    // Sprint todos (backlog items) are reset in backlog.json (spec §2: "an epic, story or todo").
    let (backlog, _) = super::backlog_input::load_backlog(&ctx)?;
    let is_item = |id: &str| backlog.backlog().item(id).is_some();
    // Check every ID before changing anything: all or nothing.
    for id in &args.ids {
        let prd = doc.prd();
        if prd.epic(id).is_none() && prd.story(id).is_none() && !is_item(id) {
            let known: Vec<&str> = prd
                .epics
                .iter()
                .flat_map(|e| {
                    std::iter::once(e.id.as_str()).chain(e.stories.iter().map(|s| s.id.as_str()))
                })
                .collect();
            let mut error = TeamsError::usage(format!("{shown} has no epic or story `{id}`"));
            if let Some(close) = crate::config::suggest(id, known.iter().copied()) {
                error = error.with_hint(format!("did you mean `{close}`?"));
            }
            return Err(error.with_hint("`teams status` lists the IDs"));
        }
    }
    // `prd.json` and the store change together, never under a running teams.
    let layout = crate::run::Layout::new(&ctx.repo_root);
    let _lock = if layout.dir().exists() {
        Some(crate::run::lock::RunLock::acquire(&layout.lock())?.lock)
    } else {
        None
    };
    reset_in_interrupted_run(&layout, &args.ids, &doc)?;
    // Re-read under the lock: a run that just ended may have written it.
    let (mut backlog, _) = super::backlog_input::load_backlog(&ctx)?;
    let mut done = Vec::new();
    for id in &args.ids {
        if doc.prd().epic(id).is_none() && doc.prd().story(id).is_none() {
            if crate::sprint::reset_item(&mut backlog, id).is_some() {
                done.push(id.clone());
            }
            continue;
        }
        let edit = if doc.prd().epic(id).is_some() {
            doc.reset_epic(&EpicId::new(id.as_str()))
        } else {
            let epic = doc.prd().story(id).map(|(epic, _)| epic.id.clone());
            doc.reset_story(&StoryId::new(id.as_str()))
                .and_then(|()| match epic {
                    Some(epic) => doc.set_epic_status(&epic, EpicStatus::Pending, None),
                    None => Ok(()),
                })
        };
        edit.map_err(|err| TeamsError::internal(err.to_string()))?;
        done.push(id.clone());
    }
    doc.save().map_err(|err| {
        TeamsError::environment(err.to_string())
            .with_source(err)
            .with_hint("the file was not changed; check its permissions and the disk")
    })?;
    if backlog.is_modified() {
        super::backlog_input::save_backlog(&mut backlog)?;
        let _ = crate::sprint::write_current(&backlog, layout.dir());
    }
    if ctx.json {
        write_json(ui, &ResetReport { reset: done })?;
    } else {
        ui.status(&format!("reset to pending: {}\n", done.join(", ")))
            .map_err(write_error)?;
    }
    Ok(crate::exit_code::SUCCESS)
}

/// An interrupted run's store is the truth `teams resume` rewrites `prd.json` from, so the reset
/// goes there too; otherwise resuming would undo it.
pub(super) fn reset_in_interrupted_run(
    layout: &crate::run::Layout,
    ids: &[String],
    doc: &PrdDocument,
) -> Result<()> {
    let path = layout.state_db();
    if !path.exists() {
        return Ok(());
    }
    let store = crate::store::Store::open(&path)?;
    let Some(run) = store.unfinished_run()? else {
        return Ok(());
    };
    for id in ids {
        if doc.prd().epic(id).is_some() {
            store.reset_unit(&run.id, id)?;
        } else if let Some((epic, _)) = doc.prd().story(id) {
            store.reset_story(&run.id, id)?;
            store.set_unit_status(&run.id, epic.id.as_str(), "pending", None)?;
        } else {
            // A sprint todo: a unit with one story of the same ID (a no-op when the run never
            // had it).
            store.reset_unit(&run.id, id)?;
        }
    }
    Ok(())
}
