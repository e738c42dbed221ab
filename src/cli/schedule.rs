//! `teams run --dry-run`: the schedule a run would follow, as waves (topological layers, for
//! display only: the run itself starts a unit the moment its dependencies are merged) and the
//! critical path, with what is already done marked.

use serde::Serialize;

use super::output::{write_error, write_json};
use crate::error::{Result, TeamsError};
use crate::prd::{EpicId, EpicStatus, Prd};
use crate::run::story_is_pending;
use crate::ui::Ui;

#[derive(Serialize)]
struct Schedule<'a> {
    waves: &'a [Vec<EpicId>],
    critical_path: &'a [EpicId],
    pending_stories: usize,
}

pub fn print_schedule(ui: &mut Ui, prd: &Prd, json: bool) -> Result<i32> {
    let waves =
        crate::plan::waves(prd).map_err(|err| TeamsError::invalid_input(err.to_string()))?;
    let critical = crate::plan::critical_path(prd)
        .map_err(|err| TeamsError::invalid_input(err.to_string()))?;
    let pending = prd
        .epics
        .iter()
        .filter(|e| e.status != EpicStatus::Completed)
        .flat_map(|e| &e.stories)
        .filter(|s| story_is_pending(s))
        .count();
    if json {
        write_json(
            ui,
            &Schedule {
                waves: &waves,
                critical_path: &critical,
                pending_stories: pending,
            },
        )?;
    } else {
        ui.status(&format_schedule(prd, &waves, &critical, pending))
            .map_err(write_error)?;
    }
    Ok(crate::exit_code::SUCCESS)
}

fn format_schedule(
    prd: &Prd,
    waves: &[Vec<EpicId>],
    critical: &[EpicId],
    pending: usize,
) -> String {
    use crate::helpers::plural;
    let mut out = format!(
        "dry run: nothing is started; {} to build\n",
        plural(pending, "pending story", "pending stories")
    );
    for (i, wave) in waves.iter().enumerate() {
        let ids: Vec<String> = wave
            .iter()
            .map(|id| match prd.epic(id.as_str()).map(|e| e.status) {
                Some(EpicStatus::Completed) => format!("{id} (completed)"),
                _ => id.to_string(),
            })
            .collect();
        out.push_str(&format!("  wave {}: {}\n", i + 1, ids.join(", ")));
    }
    let path: Vec<&str> = critical.iter().map(EpicId::as_str).collect();
    out.push_str(&format!("critical path: {}\n", path.join(" → ")));
    out
}
