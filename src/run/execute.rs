//! Starting a run: resolve everything a run needs (units, git, prompts, agents), check the agent
//! CLIs answer, then hand over to the dispatcher on a tokio runtime built here.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::backlog::BacklogDocument;
use crate::config::Config;
use crate::doctor::{CheckStatus, check_run_backends};
use crate::error::{Result, TeamsError};
use crate::git::GitRunner;
use crate::prd::PrdDocument;
use crate::roles::{PromptPaths, PromptTemplates};
use crate::supervisor::CancelHandle;

use crate::store::{NewRun, NewStory, NewUnit, Store};

use super::EventSink;
use super::dispatcher::{Continuation, Dispatcher};
use super::driver::AgentSet;
use super::events::{EventKind, RunSummary};
use super::failpoint;
use super::layout::Layout;
use super::lock::RunLock;
use super::records::RunRecords;
use super::resume::reconcile;
use super::settings::RunSettings;
use super::setup::{Continued, open_repo, prepare};
use super::unit::{Unit, UnitId};
use super::worker::RunShared;

/// Whether a run starts anew or continues one the store holds (spec §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// `teams run`: continue the interrupted run if there is one (and say so), else start one.
    Continue,
    /// `teams run --fresh`: abandon an interrupted run (its branches stay) and start a new one.
    Fresh,
    /// `teams resume`: continue the interrupted run; there must be one.
    Resume,
}

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
    pub mode: RunMode,
    /// The command-line settings to save with the run, for `teams resume` (opaque JSON).
    pub saved_args: String,
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
        mode,
        saved_args,
    } = request;
    // The PRD's units, for the agent checks (todos use the roles' backends, checked anyway);
    // an unknown `--epic` is refused here, before anything is created.
    let prd_units = if settings.sprint_only {
        Vec::new()
    } else {
        select_units(Unit::all_from_prd(doc.prd()), &settings.only)?
    };
    let agents = AgentSet::new(&config);
    let simulated = agents.all_simulated(&prd_units);
    // The agent CLIs are checked before anything is created, so a refused run leaves no trace.
    // The repository is opened (read only) at the same time: both are a few processes each.
    // Opened once per run: `prepare` takes it.
    let dir = git.dir().to_path_buf();
    let opening = tokio::task::spawn_blocking(move || open_repo(git));
    if !simulated {
        preflight(&config, &agents, &prd_units, &dir, &env, home.as_deref()).await?;
    }
    let repo = opening.await.map_err(|err| {
        TeamsError::internal("opening the repository panicked").with_source(err)
    })??;
    // One teams per repository: the lock is taken before anything in the repository changes.
    let layout = Layout::new(repo.root());
    layout.ensure().map_err(|err| {
        TeamsError::environment(format!("failed to create {}", layout.dir().display()))
            .with_source(err)
    })?;
    let acquired = RunLock::acquire(&layout.lock())?;
    let _lock = acquired.lock;
    // The backlog is read under the lock: nothing else writes it while the run works.
    let backlog = load_backlog(&layout, doc.prd())?;
    let mut warnings: Vec<String> = acquired.took_over.into_iter().collect();
    let mut store = Store::open(&layout.state_db())?;
    let unfinished = store.unfinished_run()?;
    let continued = match (mode, unfinished) {
        (RunMode::Fresh, Some(old)) => {
            store.set_run_status(&old.id, "abandoned", None)?;
            warnings.push(format!(
                "abandoned the interrupted run {}; its branches are kept",
                old.id
            ));
            None
        }
        (RunMode::Resume, None) => {
            return Err(TeamsError::usage("there is no interrupted run to resume")
                .with_hint("`teams run` starts a new run; `teams status` shows the last one"));
        }
        (RunMode::Continue, Some(old)) => {
            warnings.push(format!(
                "continuing the interrupted run {} (`teams run --fresh` starts a new one instead)",
                old.id
            ));
            Some(old)
        }
        (_, found) => found,
    };
    // The todos a continued run worked on: their sprint is its sprint, even if it closed since.
    let run_todos: std::collections::BTreeSet<String> = match &continued {
        Some(run) => store
            .run_state(&run.id)?
            .map(|state| {
                state
                    .units
                    .iter()
                    .filter(|u| u.kind == super::unit::UnitKind::Todo.as_str())
                    .map(|u| u.id.clone())
                    .collect()
            })
            .unwrap_or_default(),
        None => Default::default(),
    };
    let mut doc = RunRecords::new(doc, backlog, layout.dir(), &run_todos);
    let mut units = doc.units(&settings.only, settings.sprint_only)?;
    let taken = |id: &str| store.run(id).is_ok_and(|r| r.is_some());
    let (run_git, setup_warnings) = prepare(
        repo,
        doc.prd_document().prd(),
        doc.path(),
        continued.as_ref().map(|run| Continued {
            run_id: &run.id,
            base: &run.base,
        }),
        &taken,
    )?;
    warnings.extend(setup_warnings);
    doc.attach_git(run_git.repo.clone(), &run_git.integration_branch);
    let continuation = match &continued {
        Some(run) => {
            let reconciled = reconcile(&run_git, &mut store, &run.id, &mut doc, &units)?;
            store.reopen_run(&run.id, std::process::id(), &saved_args)?;
            warnings.extend(reconciled.warnings);
            // The units again, as the store's truth left them in prd.json.
            units = doc.units(&settings.only, settings.sprint_only)?;
            reconciled.continuation
        }
        None => {
            record_new_run(
                &mut store,
                &run_git,
                doc.prd_document(),
                &units,
                &saved_args,
            )?;
            failpoint::hit("run-created");
            Continuation::default()
        }
    };
    let templates = PromptTemplates::load(run_git.repo.root(), &PromptPaths::from_config(&config))?;
    let todo: Vec<&Unit> = units
        .iter()
        .filter(|u| u.status != crate::prd::EpicStatus::Completed)
        .filter(|u| !continuation.finished.contains_key(&u.id))
        .collect();
    let stories = todo.iter().map(|u| u.pending_stories().count()).sum();
    let prd = doc.prd_document().prd();
    let pauses = super::backend_pause::BackendPauses::new(settings.backoff);
    let shared = Arc::new(RunShared {
        project: prd.project.clone(),
        project_description: prd.description.clone().unwrap_or_default(),
        git: run_git,
        settings,
        templates,
        agents,
        cancel: CancelHandle::new(),
        budget_stop: AtomicBool::new(false),
        pauses,
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
    let mut dispatcher = Dispatcher::new(shared, doc, units, sink, simulated, store, continuation);
    dispatcher.emit(started);
    for message in warnings.into_iter().chain(config.warnings.iter().cloned()) {
        dispatcher.emit(EventKind::Warning { message });
    }
    dispatcher.run().await
}

/// The open sprint's backlog, when `backlog.json` exists; an invalid file stops the run (exit 3)
/// with every problem, as `teams validate` shows them.
fn load_backlog(layout: &Layout, prd: &crate::prd::Prd) -> Result<Option<BacklogDocument>> {
    let Some(root) = layout.dir().parent() else {
        return Ok(None);
    };
    let path = root.join(crate::backlog::BACKLOG_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let ids = crate::backlog::PrdIds::from_prd(prd);
    match BacklogDocument::load(&path, Some(&ids)) {
        Ok(doc) => Ok(Some(doc)),
        Err(err) => {
            let mut error = TeamsError::invalid_input(err.to_string());
            for problem in err.problems() {
                error = error.with_detail(format!("backlog.json:{problem}"));
            }
            Err(error.with_hint("`teams validate` shows every problem; fix them, then run again"))
        }
    }
}

/// A new run in the store: its settings and every unit and story it covers, as `prd.json` has
/// them now.
fn record_new_run(
    store: &mut Store,
    git: &super::setup::RunGit,
    doc: &PrdDocument,
    units: &[Unit],
    saved_args: &str,
) -> Result<()> {
    let prd_path = doc.path().to_string_lossy().into_owned();
    let new_units: Vec<NewUnit<'_>> = units.iter().map(new_unit).collect();
    store.create_run(&NewRun {
        id: &git.run_id,
        base: &git.base,
        integration_branch: &git.integration_branch,
        prd_path: &prd_path,
        settings_json: saved_args,
        pid: std::process::id(),
        units: new_units,
    })?;
    Ok(())
}

/// A unit as the store first records it.
pub(super) fn new_unit(unit: &Unit) -> NewUnit<'_> {
    NewUnit {
        id: unit.id.as_str(),
        kind: unit.kind.as_str(),
        title: &unit.title,
        status: unit.status.as_str(),
        planned: unit.planned,
        stories: unit
            .stories
            .iter()
            .map(|s| NewStory {
                id: s.id.as_str(),
                status: if s.passes {
                    "passed"
                } else if s.failure_reason.is_some() {
                    "failed"
                } else {
                    "pending"
                },
                attempts: s.attempts,
                commit_sha: s.commit_sha.as_deref(),
                failure_reason: s.failure_reason.as_deref(),
            })
            .collect(),
    }
}

/// The units `--epic` asks for plus everything they depend on, in file order; every unit when
/// none is named.
pub(super) fn select_units(all: Vec<Unit>, only: &[UnitId]) -> Result<Vec<Unit>> {
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
