//! `teams run`: the loop (spec §2, §4). Resolves the config with the flags, prints the schedule
//! for `--dry-run`, otherwise runs every unit and prints the summary; the exit code says how the
//! run ended (spec §10).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use super::prd_input::{ProblemListing, load_error, shown_path};
use crate::config::{Config, ConfigOverrides};
use crate::error::Result;
use crate::git::GitRunner;
use crate::prd::PrdDocument;
use crate::run::{RunMode, RunOutcome, RunRequest, RunSettings, RunSummary, UnitId, execute};
use crate::ui::Ui;

/// Run the loop: build and validate the PRD's stories and the sprint's todos
///
/// Each epic (and each sprint todo) gets its own git worktree and branch; each story gets a fresh builder that must
/// commit, checks against git, and an independent validator. Passes and commit SHAs are written
/// back to the PRD; finished epics merge into the integration branch `teams/<project>/main`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Units (epics) that run at the same time
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,

    /// The backend of every role without its own (claude, codex, copilot, gemini, opencode, sim,
    /// or a [backends.<name>] of teams.toml)
    #[arg(long, value_name = "B")]
    pub backend: Option<String>,

    /// Only this epic and the epics it depends on (repeatable)
    #[arg(long = "epic", value_name = "ID", conflicts_with = "sprint")]
    pub epics: Vec<String>,

    /// Only the open sprint's todos (and the epics they depend on)
    #[arg(long)]
    pub sprint: bool,

    /// Build/validate attempts per story before it is marked failed
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: Option<u32>,

    /// Print the schedule (waves and critical path) and run nothing
    #[arg(long)]
    pub dry_run: bool,

    /// After a fully successful run, fast-forward the base branch to the integration branch
    #[arg(long)]
    pub land: bool,

    /// Start a new run even if an interrupted one exists (its branches are kept)
    #[arg(long)]
    pub fresh: bool,
}

/// The flags a run was started with, saved in the store so `teams resume` reuses them; flags given
/// again override them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct SavedArgs {
    #[serde(default)]
    pub backend: Option<String>,
    #[serde(default)]
    pub parallel: Option<u32>,
    #[serde(default)]
    pub max_attempts: Option<u32>,
    #[serde(default)]
    pub epics: Vec<String>,
    #[serde(default)]
    pub land: bool,
    #[serde(default)]
    pub sprint: bool,
}

pub fn cmd_run(ui: &mut Ui, global: &GlobalArgs, args: RunArgs) -> Result<i32> {
    if args.dry_run {
        let ctx = super::context(global)?;
        let shown = shown_path(&ctx.prd_path);
        let doc = PrdDocument::load(&ctx.prd_path)
            .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
        return super::schedule::print_schedule(ui, doc.prd(), ctx.json);
    }
    if args.sprint {
        let ctx = super::context(global)?;
        let (backlog, _) = super::backlog_input::load_backlog(&ctx)?;
        if backlog.backlog().open_sprint().is_none() {
            return Err(crate::error::TeamsError::usage(
                "`--sprint` runs the sprint's todos, but no sprint is open",
            )
            .with_hint("`teams sprint start --milestone M` starts one"));
        }
    }
    let saved = SavedArgs {
        backend: args.backend,
        parallel: args.parallel,
        max_attempts: args.max_attempts,
        epics: args.epics,
        land: args.land,
        sprint: args.sprint,
    };
    let mode = if args.fresh {
        RunMode::Fresh
    } else {
        RunMode::Continue
    };
    start_run(ui, global, saved, mode)
}

/// Loads the PRD and the config with `saved` as the command line, and runs.
pub(super) fn start_run(
    ui: &mut Ui,
    global: &GlobalArgs,
    saved: SavedArgs,
    mode: RunMode,
) -> Result<i32> {
    let ctx = super::context(global)?;
    let shown = shown_path(&ctx.prd_path);
    let doc = PrdDocument::load(&ctx.prd_path)
        .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
    let overrides = ConfigOverrides {
        backend: saved.backend.clone(),
        parallel: saved.parallel,
        max_attempts: saved.max_attempts,
        land: saved.land.then_some(true),
    };
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let config = Config::load(&ctx.repo_root, env.iter().cloned(), &overrides)?;
    crate::agent::withhold_from_agents(config.discord.secret_env_names());
    let mut settings = RunSettings::from_config(&config);
    settings.only = saved.epics.iter().map(UnitId::new).collect();
    settings.sprint_only = saved.sprint;
    let request = RunRequest {
        doc,
        config,
        settings,
        git: GitRunner::new(&ctx.cwd),
        env,
        home: std::env::var_os("HOME").map(PathBuf::from),
        mode,
        saved_args: serde_json::to_string(&saved).unwrap_or_else(|_| "{}".to_owned()),
    };
    let summary = run_with_reporters(ui, request, ctx.repo_root.clone(), ctx.json)?;
    Ok(exit_code(&summary))
}

/// Runs the loop with the terminal reporter (and the JSON-lines output for `--json`), then prints
/// the summary. Shared with `teams demo`.
pub(super) fn run_with_reporters(
    ui: &mut Ui,
    request: RunRequest,
    repo_root: std::path::PathBuf,
    json: bool,
) -> Result<RunSummary> {
    let mut sink = super::reporting::CliSink::new(ui, repo_root, json);
    sink.start_discord(&request.config, &request.env, request.doc.prd());
    let result = execute(request, &mut sink);
    let problems = sink.finish();
    drop(sink);
    for problem in problems {
        let _ = ui.warn(&problem);
    }
    let summary = result?;
    super::reporting::print_summary(ui, &summary, json)?;
    if summary.outcome == RunOutcome::Interrupted {
        let _ = writeln!(ui.stderr(), "run interrupted — continue with: teams resume");
    }
    Ok(summary)
}

/// The exit code of a finished run (spec §10).
pub(super) fn exit_code(summary: &RunSummary) -> i32 {
    match summary.outcome {
        RunOutcome::Succeeded => crate::exit_code::SUCCESS,
        RunOutcome::SomeFailed => crate::exit_code::RUN_FAILED,
        RunOutcome::Interrupted => crate::exit_code::INTERRUPTED,
        RunOutcome::BudgetReached => crate::exit_code::BUDGET_REACHED,
    }
}
