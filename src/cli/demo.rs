//! `teams demo`: a throwaway repository, a sample PRD and the `sim` backend, through the real
//! loop (spec §2, §5.4), so a new user sees everything work before installing any agent.

use std::ffi::OsString;
use std::time::Duration;

use clap::Args;

use super::GlobalArgs;
use super::output::write_error;
use crate::config::{Config, ConfigOverrides};
use crate::error::{Result, TeamsError};
use crate::git::GitRunner;
use crate::prd::PrdDocument;
use crate::run::{RunRequest, RunSettings, RunSummary};
use crate::ui::Ui;

/// Show teams working: a throwaway repo, a sample PRD and the simulated agent
///
/// Creates a new git repository in the temporary directory (or DIR), writes a small PRD whose
/// second story fails its first validation on purpose, and runs the real loop with the built-in
/// `sim` backend. Needs only git; no agent CLI, no credentials, no network.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Create the demo repository under DIR instead of the temporary directory
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,

    /// Milliseconds each simulated agent takes, so the progress can be followed
    #[arg(long, value_name = "MS", default_value_t = 400)]
    pub agent_ms: u64,
}

pub fn cmd_demo(ui: &mut Ui, global: &GlobalArgs, args: DemoArgs) -> Result<i32> {
    let parent = match args.dir {
        Some(dir) => dir,
        None => std::env::temp_dir(),
    };
    let repo = crate::demo::create_demo_repo(&parent).map_err(|err| {
        TeamsError::environment(format!("failed to set up the demo repository: {err}"))
            .with_source(err)
            .with_hint("the demo needs git 2.20 or newer on PATH and a writable temporary directory; `teams doctor` checks git")
    })?;
    ui.status(&format!(
        "teams demo: a throwaway repository at {}\n\
         every agent here is the built-in simulation (sim backend): no real agent runs\n\n",
        repo.display()
    ))
    .map_err(write_error)?;
    let doc = PrdDocument::load(repo.join("prd.json"))
        .map_err(|err| TeamsError::internal(format!("the demo PRD does not load: {err}")))?;
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let config = Config::load(
        &repo,
        env.iter().cloned(),
        &ConfigOverrides {
            backend: Some("sim".to_owned()),
            ..ConfigOverrides::default()
        },
    )?;
    crate::agent::withhold_from_agents(config.discord.secret_env_names());
    let mut settings = RunSettings::from_config(&config);
    settings.sim_delay = Duration::from_millis(args.agent_ms);
    let request = RunRequest {
        doc,
        config,
        settings,
        git: GitRunner::new(&repo),
        env,
        home: None,
        mode: crate::run::RunMode::Fresh,
        saved_args: r#"{"backend":"sim"}"#.to_owned(),
    };
    let summary = super::run::run_with_reporters(ui, request, repo.clone(), global.json)?;
    if !global.json {
        ui.status(&what_to_look_at(&repo, &summary))
            .map_err(write_error)?;
    }
    Ok(super::run::exit_code(&summary))
}

fn what_to_look_at(repo: &std::path::Path, summary: &RunSummary) -> String {
    let dir = repo.display();
    format!(
        "\nlook around the demo repository:\n\
         \x20 cd {dir}\n\
         \x20 git log --graph --oneline --all           # the unit branches and their merges\n\
         \x20 git for-each-ref refs/teams/failed        # the failed attempt of US-002, kept\n\
         \x20 git diff HEAD -- prd.json                 # passes, commitSha and attempts written back\n\
         \x20 cat .teams/progress.md                    # one entry per story\n\
         \x20 ls .teams/logs/{run}/*  # every agent's prompt and transcript\n\
         remove it when done: rm -rf {dir}\n",
        run = summary.run_id
    )
}
