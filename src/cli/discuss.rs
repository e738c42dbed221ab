//! `teams discuss [STORY]`: from a failed story to a retry that knows why it failed (spec §2).
//!
//! Picks the story (a list of the failed ones when none is named), gathers what the runs recorded
//! about it (`talk::gather_story_context`), and hands the terminal to the agent with that context;
//! the agent writes `.teams/guidance/guidance-<STORY>.md`, which every later builder prompt of the
//! story includes. When the guidance is written the story is put back to pending, so the next
//! `teams run` or `teams resume` retries it. `--message TEXT --yes` runs the agent in print mode.

use clap::Args;

use super::GlobalArgs;
use super::ask;
use super::output::write_error;
use super::prd_input::{ProblemListing, load_error, shown_path};
use crate::agent::Role;
use crate::config::{Config, ConfigOverrides};
use crate::error::{Result, TeamsError};
use crate::prd::{EpicStatus, PrdDocument, StoryId};
use crate::roles::{ConversationPrompt, ConversationRole, DiscussContext};
use crate::run::Layout;
use crate::talk::{
    FailedStory, TalkAgent, describe_failure, failed_stories, gather_story_context,
    render_attempts, talk_files,
};
use crate::ui::Ui;

/// Talk with an agent about a failed story and leave guidance for its retry
///
/// The agent sees the story, its criteria, every attempt's failure, the diffs of the failed
/// attempts and the ends of their transcripts, and writes .teams/guidance/guidance-<STORY>.md. The
/// story is then reset to pending, so the next `teams run` retries it with the guidance.
#[derive(Debug, Args)]
pub struct DiscussArgs {
    /// The failed story (asked from a list when omitted)
    #[arg(value_name = "STORY")]
    pub story: Option<String>,

    /// What you think went wrong or want done differently (required with --yes)
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,

    /// Ask nothing: run the agent in print mode with --message
    #[arg(long, requires = "message")]
    pub yes: bool,

    /// Backend to talk to instead of the configured one (the builder's)
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
}

pub fn cmd_discuss(ui: &mut Ui, global: &GlobalArgs, args: DiscussArgs) -> Result<i32> {
    let interactive = !args.yes;
    let ctx = super::context(global)?;
    let shown = shown_path(&ctx.prd_path);
    let mut doc = PrdDocument::load(&ctx.prd_path)
        .map_err(|err| load_error(err, &shown, ProblemListing::FirstFew))?;
    let prd = doc.prd();
    let failed = failed_stories(prd);
    if failed.is_empty() {
        ui.status("no story has failed: nothing to discuss\n")
            .map_err(write_error)?;
        return Ok(crate::exit_code::SUCCESS);
    }
    if interactive {
        ask::require_terminal("discuss", "`--message TEXT --yes`")?;
    }
    let chosen = choose_story(&failed, args.story.as_deref(), interactive, &shown)?;
    let story_id = chosen.story.id.clone();
    let context = gather_story_context(&ctx.repo_root, prd, chosen);

    let layout = Layout::new(&ctx.repo_root);
    let guidance = layout.guidance(story_id.as_str());
    let guidance_file = guidance
        .strip_prefix(&ctx.repo_root)
        .unwrap_or(&guidance)
        .display()
        .to_string();
    let attempts = render_attempts(&context);
    let prompt = ConversationPrompt::load(&ctx.repo_root, ConversationRole::Discuss)?;
    let text = prompt.discuss(&DiscussContext {
        project: &prd.project,
        interactive,
        message: args.message.as_deref().unwrap_or(""),
        story_id: story_id.as_str(),
        story_title: &context.story.title,
        story_description: &context.story.description,
        epic_id: &context.epic_id,
        epic_title: &context.epic_title,
        criteria: &context.story.acceptance_criteria,
        failure_reason: context.story.failure_reason.as_deref().unwrap_or(""),
        plan_section: context.plan_section.as_deref().unwrap_or(""),
        attempts: &attempts,
        guidance_file: &guidance_file,
    });

    let config = Config::load(
        &ctx.repo_root,
        std::env::vars_os(),
        &ConfigOverrides::default(),
    )?;
    crate::agent::withhold_from_agents(config.discord.secret_env_names());
    let agent = TalkAgent::resolve(&config, Role::Discuss, args.backend.as_deref())?;
    layout.ensure().map_err(|err| {
        TeamsError::environment(format!("failed to create {}", layout.dir().display()))
            .with_source(err)
    })?;
    let before = std::fs::read(&guidance).ok();
    let files = talk_files(&ctx.repo_root, story_id.as_str(), Role::Discuss);
    let mut invocation = agent.invocation(Role::Discuss, text, &files, &ctx.repo_root);
    invocation.unit_id = Some(context.epic_id.clone());
    invocation.story_id = Some(story_id.to_string());
    ui.status(&format!(
        "discussing {story_id} ({} recorded attempt(s)) with {}\n",
        context.attempts.len(),
        agent.backend_name
    ))
    .map_err(write_error)?;
    let failure = if interactive {
        agent.run_session(&invocation)?;
        None
    } else {
        describe_failure(&agent.run_print(&invocation, &files.log)?, Role::Discuss)
    };

    let written = std::fs::read(&guidance).ok().filter(|bytes| {
        !bytes.iter().all(u8::is_ascii_whitespace) && Some(bytes) != before.as_ref()
    });
    if written.is_none() {
        let why = failure.map_or_else(String::new, |f| format!(" ({f})"));
        let error = TeamsError::environment(format!(
            "the discussion ended without writing {guidance_file}{why}; {story_id} stays failed"
        ))
        .with_detail(format!("transcript: {}", shown_path(&files.log)));
        return Err(if interactive {
            error.with_hint(format!("run `teams discuss {story_id}` again"))
        } else {
            error.with_hint(
                "`teams doctor` checks the agent CLI; `teams reset` retries without guidance",
            )
        });
    }
    // Not under a running teams, and in an interrupted run's store too (resume would undo it).
    let layout = crate::run::Layout::new(&ctx.repo_root);
    let _lock = crate::run::lock::RunLock::acquire(&layout.lock())?.lock;
    super::reset::reset_in_interrupted_run(&layout, &[story_id.to_string()], &doc)?;
    let epic = doc
        .prd()
        .story(story_id.as_str())
        .map(|(e, _)| e.id.clone());
    doc.reset_story(&StoryId::new(story_id.as_str()))
        .and_then(|()| match &epic {
            Some(epic) => doc.set_epic_status(epic, EpicStatus::Pending, None),
            None => Ok(()),
        })
        .map_err(|err| TeamsError::internal(err.to_string()))?;
    doc.save().map_err(|err| {
        TeamsError::environment(err.to_string())
            .with_source(err)
            .with_hint(format!(
                "the guidance is written; reset the story with `teams reset {story_id}`"
            ))
    })?;
    ui.status(&format!(
        "wrote {guidance_file}; {story_id} is pending again\nnext: `teams run` (or `teams resume`) retries it with the guidance\n"
    ))
    .map_err(write_error)?;
    Ok(crate::exit_code::SUCCESS)
}

/// The story to discuss: the one named (it must have failed), the only failed one in `--yes` mode,
/// or the user's pick from the list.
fn choose_story<'a>(
    failed: &[FailedStory<'a>],
    named: Option<&str>,
    interactive: bool,
    shown: &str,
) -> Result<FailedStory<'a>> {
    let ids = || {
        failed
            .iter()
            .map(|f| f.story.id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(id) = named {
        return failed
            .iter()
            .find(|f| f.story.id.as_str() == id)
            .copied()
            .ok_or_else(|| {
                TeamsError::usage(format!("`{id}` is not a failed story in {shown}"))
                    .with_hint(format!("failed stories: {}", ids()))
            });
    }
    if !interactive {
        return match failed {
            [only] => Ok(*only),
            _ => Err(
                TeamsError::usage("several stories failed: name the one to discuss")
                    .with_hint(format!("failed stories: {}", ids())),
            ),
        };
    }
    let items: Vec<String> = failed
        .iter()
        .map(|f| {
            let reason = f.story.failure_reason.as_deref().unwrap_or("");
            format!(
                "{}: {} — {}",
                f.story.id,
                f.story.title,
                crate::helpers::truncate(reason.lines().next().unwrap_or(""), 60)
            )
        })
        .collect();
    let index = ask::select("Which failed story do you want to discuss?", &items, 0)?;
    Ok(failed[index])
}
