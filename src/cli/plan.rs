//! `teams plan [EPIC…]`: plans epics ahead of a run (spec §2, §4.4). Interactive by default (the
//! planner agent gets the terminal and works the plan out with the user, then writes the plan file
//! itself); `--auto` runs the same one-shot planner the run loop uses and saves its final message.
//! Either way the plan lands in `.teams/plans/plan-<EPIC>.md` and the epic gets `"planned": true`,
//! so `teams run` builds from it without planning again.

use clap::Args;

use super::GlobalArgs;
use super::output::write_error;
use super::prd_input::{ProblemListing, load_error, shown_path};
use crate::agent::{FailureClass, Invocation, Role};
use crate::config::{Config, ConfigOverrides};
use crate::error::{Result, TeamsError};
use crate::prd::{EpicId, PrdDocument};
use crate::roles::{PromptPaths, PromptTemplates, interactive_planner_prompt};
use crate::run::planning::{plan_from_answer, planner_prompt, save_plan};
use crate::run::{AgentCall, AgentSet, Layout, SimWork, Unit};
use crate::talk::{TalkAgent, interrupted, run_until_done_or_ctrl_c, talk_files};
use crate::ui::Ui;

/// Plan epics before a run
///
/// Without EPIC arguments, every epic not yet planned. Writes .teams/plans/plan-<EPIC>.md and sets
/// "planned": true in prd.json.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Epics to plan (also ones already planned: they are planned again)
    #[arg(value_name = "EPIC")]
    pub epics: Vec<String>,

    /// Run the planner once per epic without a conversation (for scripts and CI)
    #[arg(long)]
    pub auto: bool,

    /// Backend for the planner instead of the configured one
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
}

pub fn cmd_plan(ui: &mut Ui, global: &GlobalArgs, args: PlanArgs) -> Result<i32> {
    if !args.auto {
        super::ask::require_terminal("plan", "`--auto`")?;
    }
    let ctx = super::context(global)?;
    plan_epics(ui, &ctx, &args.epics, args.auto, args.backend.as_deref())
}

/// Plans `requested` epics (all unplanned ones when empty), one after another; used by
/// `teams plan` and at the end of `teams init`.
pub(super) fn plan_epics(
    ui: &mut Ui,
    ctx: &super::CommandContext,
    requested: &[String],
    auto: bool,
    backend: Option<&str>,
) -> Result<i32> {
    let shown = shown_path(&ctx.prd_path);
    let mut doc = PrdDocument::load(&ctx.prd_path)
        .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
    let epics = chosen_epics(&doc, requested, &shown)?;
    if epics.is_empty() {
        ui.status("every epic is already planned; `teams plan EPIC` plans one again\n")
            .map_err(write_error)?;
        return Ok(crate::exit_code::SUCCESS);
    }
    let overrides = ConfigOverrides {
        backend: backend.map(str::to_owned),
        ..ConfigOverrides::default()
    };
    let config = Config::load(&ctx.repo_root, std::env::vars_os(), &overrides)?;
    crate::agent::withhold_from_agents(config.discord.secret_env_names());
    let templates = PromptTemplates::load(&ctx.repo_root, &PromptPaths::from_config(&config))?;
    let layout = Layout::new(&ctx.repo_root);
    layout.ensure().map_err(|err| {
        TeamsError::environment(format!("failed to create {}", layout.dir().display()))
            .with_source(err)
    })?;
    let mut planned = 0;
    for id in &epics {
        let Some(epic) = doc.prd().epic(id.as_str()) else {
            continue;
        };
        let unit = Unit::from_epic(epic);
        let prompt = planner_prompt(
            &templates,
            &doc.prd().project,
            doc.prd().description.as_deref().unwrap_or(""),
            &unit,
        );
        ui.status(&format!("planning {}: {}\n", unit.id, unit.title))
            .map_err(write_error)?;
        let written = if auto {
            let before = checkout_status(&ctx.repo_root);
            let written = plan_once(ctx, &config, &layout, &unit, prompt)?;
            let after = checkout_status(&ctx.repo_root);
            if before != after {
                // The user's own uncommitted work may be in there: say so, never undo it.
                ui.warn(&format!(
                    "the {} planner changed files in your checkout (it should only answer);                      check `git status`",
                    unit.id
                ))
                .map_err(write_error)?;
            }
            written
        } else {
            plan_in_session(ctx, &config, &layout, &unit, prompt, backend)?
        };
        match written {
            Ok(path) => {
                doc.set_epic_planned(id, true)
                    .map_err(|err| TeamsError::internal(err.to_string()))?;
                doc.save().map_err(|err| {
                    TeamsError::environment(err.to_string())
                        .with_source(err)
                        .with_hint("the plan file is written; check the PRD's permissions")
                })?;
                planned += 1;
                ui.status(&format!("planned {}: {}\n", unit.id, shown_path(&path)))
                    .map_err(write_error)?;
            }
            Err(why) => ui
                .warn(&format!("{} is not planned: {why}", unit.id))
                .map_err(write_error)?,
        }
    }
    if planned < epics.len() {
        return Err(
            TeamsError::environment(format!("planned {planned} of {} epics", epics.len()))
                .with_hint(
                    "run `teams plan EPIC` again for the others, or let `teams run` plan them",
                ),
        );
    }
    ui.status("next: `teams run`\n").map_err(write_error)?;
    Ok(crate::exit_code::SUCCESS)
}

/// `git status --porcelain` of the user's checkout (`None` when git cannot tell), to notice a
/// one-shot planner that edited files instead of only answering.
fn checkout_status(repo_root: &std::path::Path) -> Option<String> {
    crate::git::GitRunner::new(repo_root)
        .run_lossy(["status", "--porcelain", "--untracked-files=all"])
        .ok()
}

/// The epics to plan: the ones named (each must exist), or every unplanned one.
fn chosen_epics(doc: &PrdDocument, requested: &[String], shown: &str) -> Result<Vec<EpicId>> {
    let prd = doc.prd();
    if requested.is_empty() {
        return Ok(prd
            .epics
            .iter()
            .filter(|e| !e.planned)
            .map(|e| e.id.clone())
            .collect());
    }
    requested
        .iter()
        .map(|id| match prd.epic(id) {
            Some(epic) => Ok(epic.id.clone()),
            None => {
                let mut error = TeamsError::usage(format!("{shown} has no epic `{id}`"));
                let known = prd.epics.iter().map(|e| e.id.as_str());
                if let Some(close) = crate::config::suggest(id, known) {
                    error = error.with_hint(format!("did you mean `{close}`?"));
                }
                Err(error.with_hint("`teams status` lists the epics"))
            }
        })
        .collect()
}

/// `--auto`: the run loop's planner (same agent resolution, `sim` included), once, in the
/// repository; its final message is the plan. `Ok(Err(why))`: this epic got no plan.
fn plan_once(
    ctx: &super::CommandContext,
    config: &Config,
    layout: &Layout,
    unit: &Unit,
    prompt: String,
) -> Result<std::result::Result<std::path::PathBuf, String>> {
    let agent = AgentSet::new(config)
        .resolve(Role::Planner, unit)
        .map_err(|err| TeamsError::usage(err.to_string()))?;
    let files = talk_files(&ctx.repo_root, unit.id.as_str(), Role::Planner);
    let mut invocation = Invocation::new(
        Role::Planner,
        prompt,
        &files.prompt,
        &ctx.repo_root,
        &ctx.repo_root,
    );
    invocation.unit_id = Some(unit.id.to_string());
    invocation.attempt = Some(1);
    invocation.model = agent.model.clone();
    invocation.reasoning = agent.reasoning.clone();
    let call = AgentCall {
        invocation,
        transcript: files.log.clone(),
        sim: SimWork::Plan {
            title: &unit.title,
            stories: &unit.stories,
        },
        sim_delay: std::time::Duration::ZERO,
    };
    let reply = run_until_done_or_ctrl_c(|cancel| agent.run(&call, cancel, |_| {}))?;
    if reply.failure == Some(FailureClass::Cancelled) {
        return Err(interrupted(Role::Planner));
    }
    if let Some(failure) = &reply.failure
        && let Some(hint) = agent.setup_hint(failure)
    {
        return Err(TeamsError::environment(format!(
            "{} ({} backend)",
            failure.describe("planner"),
            agent.backend
        ))
        .with_hint(hint));
    }
    Ok(plan_from_answer(reply.failure.as_ref(), reply.final_text)
        .map_err(|why| format!("{why} (transcript: {})", shown_path(&files.log)))
        .and_then(|plan| {
            save_plan(layout, &unit.id, &plan).map_err(|err| format!("failed to save it: {err}"))
        }))
}

/// Interactive: the planner gets the terminal, talks the plan through with the user and writes the
/// plan file itself. The epic counts as planned when the file exists and is not empty afterwards.
fn plan_in_session(
    ctx: &super::CommandContext,
    config: &Config,
    layout: &Layout,
    unit: &Unit,
    prompt: String,
    backend: Option<&str>,
) -> Result<std::result::Result<std::path::PathBuf, String>> {
    let agent = TalkAgent::resolve(config, Role::Planner, backend)?;
    let plan_path = layout.plan(&unit.id);
    let shown_plan = plan_path
        .strip_prefix(&ctx.repo_root)
        .unwrap_or(&plan_path)
        .display()
        .to_string();
    let files = talk_files(&ctx.repo_root, unit.id.as_str(), Role::Planner);
    let mut invocation = agent.invocation(
        Role::Planner,
        interactive_planner_prompt(&prompt, &shown_plan),
        &files,
        &ctx.repo_root,
    );
    invocation.unit_id = Some(unit.id.to_string());
    let end = agent.run_session(&invocation)?;
    match std::fs::read(&plan_path) {
        Ok(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => Ok(Ok(plan_path)),
        _ => Ok(Err(format!(
            "the session ended ({}) without writing {shown_plan}",
            end.describe()
        ))),
    }
}
