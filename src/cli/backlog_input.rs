//! Loading `backlog.json` for the `backlog` and `sprint` commands, and taking the lock before
//! writing it, with the same messages everywhere.

use crate::backlog::{BACKLOG_FILE, BacklogDocument, BacklogError, PrdIds};
use crate::error::{Result, TeamsError};
use crate::prd::PrdDocument;
use crate::run::Layout;
use crate::run::lock::RunLock;

use super::CommandContext;
use super::prd_input::{ProblemListing, load_error, shown_path};

/// The backlog of the repository (empty when the file does not exist yet) and the PRD's IDs
/// (`None` when there is no usable PRD: dependencies on epics are then not checked).
pub fn load_backlog(ctx: &CommandContext) -> Result<(BacklogDocument, Option<PrdIds>)> {
    let prd = PrdDocument::load(&ctx.prd_path)
        .ok()
        .map(|doc| PrdIds::from_prd(doc.prd()));
    let path = ctx.repo_root.join(BACKLOG_FILE);
    let shown = shown_path(&path);
    let doc = BacklogDocument::load_or_empty(&path, prd.as_ref())
        .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
    Ok((doc, prd))
}

/// The lock a command that writes `backlog.json` holds: no run may write it meanwhile.
pub fn lock_for_write(ctx: &CommandContext, what: &str) -> Result<Option<RunLock>> {
    let layout = Layout::new(&ctx.repo_root);
    if !layout.dir().exists() {
        return Ok(None);
    }
    if let Some(pid) = crate::run::lock::live_holder(&layout.lock()) {
        return Err(TeamsError::usage(format!(
            "cannot {what} while another teams (PID {pid}) works in this repository"
        ))
        .with_hint("a run writes backlog.json while it works; try again when it has ended (`teams status` shows it)"));
    }
    Ok(Some(RunLock::acquire(&layout.lock())?.lock))
}

/// Saves the backlog (atomically), naming the file on failure.
pub fn save_backlog(doc: &mut BacklogDocument) -> Result<()> {
    doc.save().map_err(|err| {
        TeamsError::environment(err.to_string())
            .with_source(err)
            .with_hint("check the disk and the file's permissions; nothing was changed")
    })
}

/// The error for a refused edit: every problem the edit would have caused.
pub fn edit_error(err: BacklogError) -> TeamsError {
    match err {
        BacklogError::UnknownItem(id) => {
            TeamsError::usage(format!("the backlog has no item `{id}`"))
                .with_hint("`teams backlog list` shows the items")
        }
        BacklogError::InSprint { id, sprint } => TeamsError::usage(format!(
            "item {id} is a todo of the open sprint {sprint}"
        ))
        .with_hint("stop the sprint first (`teams sprint stop`); its todo goes back to pending"),
        BacklogError::Invalid(problems) => {
            let mut error = TeamsError::usage("the change would make backlog.json invalid");
            for p in problems {
                let place = if p.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", p.path)
                };
                error = error.with_detail(format!("{place}{}", p.message));
            }
            error.with_hint("nothing was written; fix the flags and try again")
        }
    }
}
