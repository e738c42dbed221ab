//! `teams validate [PATH]`: checks a PRD and shows the waves a run would use (spec §2).

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{write_error, write_json};
use super::prd_input::{ProblemListing, load_error, shown_path};
use crate::error::{Result, TeamsError};
use crate::prd::{EpicId, LoadError, PrdDocument, Problem};
use crate::ui::Ui;

/// Check prd.json (and backlog.json) and print the waves a run would use
///
/// Reports every problem at once, each with its line and column: JSON syntax, the schema, duplicate
/// IDs, unknown or cyclic `dependsOn`, empty acceptance criteria. Exits 0 when the PRD is valid,
/// 3 when it is not.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The PRD to check [default: --prd, or prd.json at the repository root]
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

#[derive(Serialize)]
struct ValidReport<'a> {
    valid: bool,
    path: &'a str,
    epics: usize,
    stories: usize,
    waves: &'a [Vec<EpicId>],
    #[serde(skip_serializing_if = "Option::is_none")]
    backlog: Option<BacklogReport>,
}

/// `backlog.json`, when the repository has one.
#[derive(Serialize)]
struct BacklogReport {
    path: String,
    items: usize,
    open_sprint: Option<String>,
}

#[derive(Serialize)]
struct InvalidReport<'a> {
    valid: bool,
    path: &'a str,
    error: String,
    problems: Vec<ProblemReport<'a>>,
}

#[derive(Serialize)]
struct ProblemReport<'a> {
    line: usize,
    column: usize,
    path: &'a str,
    message: &'a str,
}

impl<'a> From<&'a Problem> for ProblemReport<'a> {
    fn from(p: &'a Problem) -> Self {
        ProblemReport {
            line: p.line,
            column: p.column,
            path: &p.path,
            message: &p.message,
        }
    }
}

pub fn cmd_validate(ui: &mut Ui, global: &GlobalArgs, args: ValidateArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let path = match &args.path {
        Some(path) => ctx.cwd.join(path),
        None => ctx.prd_path.clone(),
    };
    let shown = shown_path(&path);
    let document = match PrdDocument::load(&path) {
        Ok(document) => document,
        Err(err) => return Err(refuse(ui, ctx.json, err, &shown)),
    };
    let prd = document.prd();
    // A loaded PRD has no cycles (loading checks them), so this cannot fail; keep the error path
    // anyway rather than assume.
    let waves =
        crate::plan::waves(prd).map_err(|err| TeamsError::invalid_input(err.to_string()))?;
    let stories: usize = prd.epics.iter().map(|e| e.stories.len()).sum();
    let backlog = check_backlog(ui, &ctx, prd)?;
    if ctx.json {
        let report = ValidReport {
            valid: true,
            path: &shown,
            epics: prd.epics.len(),
            stories,
            waves: &waves,
            backlog,
        };
        write_json(ui, &report)?;
    } else {
        ui.status(&format_valid(&shown, prd.epics.len(), stories, &waves))
            .map_err(write_error)?;
        if let Some(b) = &backlog {
            let sprint = b
                .open_sprint
                .as_ref()
                .map_or(String::new(), |s| format!(", open sprint {s}"));
            ui.status(&format!(
                "{} is valid: {}{sprint}\n",
                b.path,
                crate::helpers::plural(b.items, "item", "items")
            ))
            .map_err(write_error)?;
        }
    }
    // The process exits right after this command; freeing a large PRD's tree node by node costs
    // several milliseconds for nothing (docs/PERFORMANCE.md), so leave it to the OS.
    std::mem::forget(document);
    Ok(crate::exit_code::SUCCESS)
}

/// The error for a file that did not load, with every problem; with `--json` the report is
/// printed first (a failure to print it is the error then).
fn refuse(ui: &mut Ui, json: bool, err: LoadError, shown: &str) -> TeamsError {
    if json {
        let report = InvalidReport {
            valid: false,
            path: shown,
            error: err.to_string(),
            problems: err.problems().iter().map(ProblemReport::from).collect(),
        };
        if let Err(failed) = write_json(ui, &report) {
            return failed;
        }
    }
    load_error(err, shown, ProblemListing::All)
}

/// Checks `backlog.json` at the repository root when it exists (spec §2: `teams validate` checks
/// it too), against the PRD's IDs: same positions, same exit code 3 when it is invalid.
fn check_backlog(
    ui: &mut Ui,
    ctx: &super::CommandContext,
    prd: &crate::prd::Prd,
) -> Result<Option<BacklogReport>> {
    let path = ctx.repo_root.join(crate::backlog::BACKLOG_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let shown = shown_path(&path);
    let ids = crate::backlog::PrdIds::from_prd(prd);
    match crate::backlog::BacklogDocument::load(&path, Some(&ids)) {
        Ok(doc) => Ok(Some(BacklogReport {
            path: shown,
            items: doc.backlog().items.len(),
            open_sprint: doc.backlog().open_sprint().map(|s| s.id.clone()),
        })),
        Err(err) => Err(refuse(ui, ctx.json, err, &shown)),
    }
}

/// `prd.json is valid: 4 epics, 9 stories, 3 waves`, then one line per wave.
fn format_valid(path: &str, epics: usize, stories: usize, waves: &[Vec<EpicId>]) -> String {
    use crate::helpers::plural;
    let mut out = format!(
        "{path} is valid: {}, {}, {}\n",
        plural(epics, "epic", "epics"),
        plural(stories, "story", "stories"),
        plural(waves.len(), "wave", "waves"),
    );
    for (i, wave) in waves.iter().enumerate() {
        let ids: Vec<&str> = wave.iter().map(EpicId::as_str).collect();
        out.push_str(&format!("  wave {}: {}\n", i + 1, ids.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_summary_lists_waves() {
        let waves = vec![
            vec![EpicId::new("EPIC-001")],
            vec![EpicId::new("EPIC-002"), EpicId::new("EPIC-003")],
        ];
        insta::assert_snapshot!(format_valid("prd.json", 3, 1, &waves), @r"
        prd.json is valid: 3 epics, 1 story, 2 waves
          wave 1: EPIC-001
          wave 2: EPIC-002, EPIC-003
        ");
    }
}
