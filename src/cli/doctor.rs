//! `teams doctor`: renders the checks of [`crate::doctor`] and turns them into an exit code
//! (0 ready, 4 something needed is missing, 2 `teams.toml` is invalid).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use super::output::{write_error, write_json};
use crate::doctor::{CheckStatus, DoctorReport, run_checks};
use crate::error::{ErrorKind, Result, TeamsError};
use crate::ui::Ui;

/// Check that git, teams.toml and each configured agent CLI are ready
///
/// Checks git (2.20 or newer), that teams.toml is valid, and for each backend the roles use that
/// its CLI is installed, answers `--version` and is logged in; prints a fix for each problem. Exits
/// 0 when everything needed is ready, 4 when git or an agent CLI is missing or not logged in, 2 when
/// teams.toml is invalid.
#[derive(Debug, Args)]
pub struct DoctorArgs {}

pub fn cmd_doctor(ui: &mut Ui, global: &GlobalArgs, _args: DoctorArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            TeamsError::internal("failed to start the async runtime").with_source(err)
        })?;
    let report = runtime.block_on(run_checks(&ctx.repo_root, &env, home.as_deref()));
    if ctx.json {
        write_json(ui, &JsonReport::new(&report))?;
    } else {
        render(ui, &report)?;
    }
    Ok(exit_code(&report))
}

fn exit_code(report: &DoctorReport) -> i32 {
    if report.config_invalid() {
        ErrorKind::Usage.exit_code()
    } else if report.is_ready() {
        crate::exit_code::SUCCESS
    } else {
        ErrorKind::Environment.exit_code()
    }
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    ready: bool,
    checks: &'a [crate::doctor::Check],
}

impl<'a> JsonReport<'a> {
    fn new(report: &'a DoctorReport) -> Self {
        JsonReport {
            ready: report.is_ready(),
            checks: &report.checks,
        }
    }
}

fn render(ui: &mut Ui, report: &DoctorReport) -> Result<()> {
    let styles = *ui.styles();
    let out = ui.stdout();
    for check in &report.checks {
        let style = match check.status {
            CheckStatus::Ok => styles.good,
            CheckStatus::Warning => styles.warning,
            CheckStatus::Missing | CheckStatus::Invalid => styles.error,
        };
        let label = format!("{style}{:<8}{style:#}", check.status.as_str());
        writeln!(out, "{label} {}: {}", check.name, check.detail).map_err(write_error)?;
        for hint in &check.hints {
            let hint_style = styles.hint;
            writeln!(out, "{:8} {hint_style}fix:{hint_style:#} {hint}", "").map_err(write_error)?;
        }
    }
    let summary = if report.is_ready() {
        "ready: everything teams needs is here"
    } else {
        "not ready: fix the problems above, then run `teams doctor` again"
    };
    writeln!(out, "{summary}").map_err(write_error)?;
    Ok(())
}
