//! Starting a run: resolve everything a run needs (units, git, prompts, agents), check the agent
//! CLIs answer, then hand over to the dispatcher on a tokio runtime built here.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::doctor::{CheckStatus, check_run_backends};
use crate::error::{Result, TeamsError};
use crate::git::GitRunner;
use crate::prd::PrdDocument;
use crate::roles::{PromptPaths, PromptTemplates};
use crate::supervisor::CancelHandle;

use super::EventSink;
use super::dispatcher::Dispatcher;
use super::driver::AgentSet;
use super::events::{EventKind, RunSummary};
use super::settings::RunSettings;
use super::setup::prepare;
use super::unit::{Unit, UnitId};
use super::worker::RunShared;

/// Everything a run starts from.
pub struct RunRequest {
    pub doc: PrdDocument,
    pub config: Config,
    pub settings: RunSettings,
    /// A git runner in the directory the run was started from.
    pub git: GitRunner,
    /// The environment and home directory, for the agent CLI checks.
    pub env: Vec<(OsString, OsString)>,
    pub home: Option<PathBuf>,
}

/// Runs the loop to its end and returns the summary. Setup problems (not a repository, a missing
/// agent CLI, a bad prompt override) are errors before any agent starts.
pub fn execute(request: RunRequest, sink: &mut dyn EventSink) -> Result<RunSummary> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| {
            TeamsError::internal("failed to start the async runtime").with_source(err)
        })?;
    runtime.block_on(execute_async(request, sink))
}

async fn execute_async(request: RunRequest, sink: &mut dyn EventSink) -> Result<RunSummary> {
    let RunRequest {
        doc,
        config,
        settings,
        git,
        env,
        home,
    } = request;
    let units = select_units(Unit::all_from_prd(doc.prd()), &settings.only)?;
    let agents = AgentSet::new(&config);
    let simulated = agents.all_simulated(&units);
    // The agent CLIs are checked before anything is created, so a refused run leaves no trace.
    if !simulated {
        preflight(&config, &agents, &units, git.dir(), &env, home.as_deref()).await?;
    }
    let (run_git, warnings) = prepare(git, doc.prd(), doc.path())?;
    let templates = PromptTemplates::load(run_git.repo.root(), &PromptPaths::from_config(&config))?;
    let todo: Vec<&Unit> = units
        .iter()
        .filter(|u| u.status != crate::prd::EpicStatus::Completed)
        .collect();
    let stories = todo.iter().map(|u| u.pending_stories().count()).sum();
    let prd = doc.prd();
    let shared = Arc::new(RunShared {
        project: prd.project.clone(),
        project_description: prd.description.clone().unwrap_or_default(),
        git: run_git,
        settings,
        templates,
        agents,
        cancel: CancelHandle::new(),
        budget_stop: AtomicBool::new(false),
        worktree_lock: Mutex::new(()),
    });
    let started = EventKind::RunStarted {
        run_id: shared.git.run_id.clone(),
        base: shared.git.base.clone(),
        integration_branch: shared.git.integration_branch.clone(),
        units: todo.len(),
        stories,
        parallel: shared.settings.parallel,
        max_attempts: shared.settings.max_attempts,
        simulated,
    };
    let mut dispatcher = Dispatcher::new(shared, doc, units, sink, simulated);
    dispatcher.emit(started);
    for message in warnings.into_iter().chain(config.warnings.iter().cloned()) {
        dispatcher.emit(EventKind::Warning { message });
    }
    dispatcher.run().await
}

/// The units `--epic` asks for plus everything they depend on, in file order; every unit when
/// none is named.
fn select_units(all: Vec<Unit>, only: &[UnitId]) -> Result<Vec<Unit>> {
    if only.is_empty() {
        return Ok(all);
    }
    let mut wanted: BTreeSet<UnitId> = BTreeSet::new();
    let mut stack: Vec<UnitId> = Vec::new();
    for id in only {
        if !all.iter().any(|u| &u.id == id) {
            let known: Vec<&str> = all.iter().map(|u| u.id.as_str()).collect();
            return Err(TeamsError::usage(format!("the PRD has no epic `{id}`"))
                .with_hint(format!("epics: {}", known.join(", "))));
        }
        stack.push(id.clone());
    }
    while let Some(id) = stack.pop() {
        if !wanted.insert(id.clone()) {
            continue;
        }
        if let Some(unit) = all.iter().find(|u| u.id == id) {
            stack.extend(unit.depends_on.iter().cloned());
        }
    }
    Ok(all.into_iter().filter(|u| wanted.contains(&u.id)).collect())
}

/// Every agent CLI the run uses must be installed and logged in before the first story
/// (spec §5.1): finding out in the middle of a story would be reported as a failed story.
async fn preflight(
    config: &Config,
    agents: &AgentSet,
    units: &[Unit],
    root: &std::path::Path,
    env: &[(OsString, OsString)],
    home: Option<&std::path::Path>,
) -> Result<()> {
    let extra = agents.backend_names(units);
    let checks = check_run_backends(config, &extra, root, env, home).await;
    let problems: Vec<_> = checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Missing | CheckStatus::Invalid))
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    let mut error = TeamsError::environment("an agent CLI this run needs is not ready");
    for check in &problems {
        error = error.with_detail(format!("{}: {}", check.name, check.detail));
        for hint in &check.hints {
            error = error.with_hint(hint.clone());
        }
    }
    Err(error.with_hint("`teams doctor` shows every check"))
}
