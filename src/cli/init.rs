//! `teams init`: from an empty repository to a validated `prd.json` (spec §2).
//!
//! Scaffolds `teams.toml` and `.teams/`, asks what to build and which installed agent to use, hands
//! the terminal to that agent with the init prompt so the user and the agent shape the epics and
//! stories together, and validates the `prd.json` the agent wrote. While it is invalid the agent is
//! started again with the problems in its prompt (until the user gives up; in `--yes` mode at most
//! [`MAX_AGENT_RUNS`] times). Then it offers to plan the epics.

use std::path::Path;

use clap::Args;

use super::ask;
use super::output::write_error;
use super::prd_input::{ProblemListing, load_error, shown_path};
use super::{CommandContext, GlobalArgs};
use crate::agent::Role;
use crate::config::{BackendName, Config, ConfigOverrides};
use crate::error::{Result, TeamsError};
use crate::prd::PrdDocument;
use crate::roles::{ConversationPrompt, ConversationRole, InitContext};
use crate::talk::{TalkAgent, describe_failure, install_agents, scaffold, talk_files};
use crate::ui::Ui;

/// How many times `--yes` mode runs the agent before giving up on an invalid `prd.json`.
pub const MAX_AGENT_RUNS: u32 = 3;

/// Create teams.toml and .teams/, then write prd.json together with an agent
///
/// Interactive by default: asks what to build and which backend to use, then hands the terminal to
/// the agent. `--description TEXT` (or `--from FILE`) with `--yes` runs the agent without a
/// conversation, for scripts and CI.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// What to build, in a few sentences
    #[arg(long, value_name = "TEXT", conflicts_with = "from")]
    pub description: Option<String>,

    /// Read what to build from FILE (a brief, notes, an existing spec)
    #[arg(long, value_name = "FILE")]
    pub from: Option<std::path::PathBuf>,

    /// Ask nothing: run the agent in print mode (needs --description or --from)
    #[arg(long)]
    pub yes: bool,

    /// Backend to talk to instead of asking (or instead of the configured one with --yes)
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,

    /// Replace an existing prd.json (a copy is kept in .teams/prd.json.before-init)
    #[arg(long)]
    pub force: bool,

    /// Install the teams sub-agent definitions as .claude/agents/teams-<role>.md
    #[arg(long)]
    pub install_agents: bool,
}

pub fn cmd_init(ui: &mut Ui, global: &GlobalArgs, args: InitArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let interactive = !args.yes;
    if interactive {
        ask::require_terminal(
            "init",
            "`--description TEXT --yes` (or `--from FILE --yes`)",
        )?;
    } else if args.description.is_none() && args.from.is_none() {
        return Err(TeamsError::usage("`--yes` needs to know what to build")
            .with_hint("pass `--description TEXT` or `--from FILE` with `--yes`"));
    }
    if !ctx.repo_root.join(".git").exists() {
        return Err(TeamsError::environment(format!(
            "{} is not a git repository",
            ctx.repo_root.display()
        ))
        .with_hint("run `git init` first (teams commits the work it validates)"));
    }
    let prd_shown = shown_path(&ctx.prd_path);
    if ctx.prd_path.exists() {
        if !args.force {
            return Err(TeamsError::usage(format!("{prd_shown} already exists"))
                .with_hint("`teams plan` plans its epics and `teams run` builds them")
                .with_hint("pass `--force` to write a new one (the old one is kept in .teams/)"));
        }
        keep_old_prd(&ctx)?;
    }
    let made = scaffold(&ctx.repo_root).map_err(|err| {
        TeamsError::environment("failed to create teams.toml and .teams/").with_source(err)
    })?;
    if made.config {
        ui.status("created teams.toml (every setting commented out, with its default)\n")
            .map_err(write_error)?;
    }
    if made.teams_dir {
        ui.status("created .teams/ (local state, ignored by git)\n")
            .map_err(write_error)?;
    }
    let config = Config::load(
        &ctx.repo_root,
        std::env::vars_os(),
        &ConfigOverrides::default(),
    )?;
    crate::agent::withhold_from_agents(config.discord.secret_env_names());
    let backend = match (&args.backend, interactive) {
        (Some(name), _) => name.clone(),
        (None, true) => choose_backend(&ctx, &config)?,
        (None, false) => config
            .role(crate::config::Role::Builder)
            .backend
            .value
            .to_string(),
    };
    let agent = TalkAgent::resolve(&config, Role::Init, Some(&backend))?;
    let wants_agents = args.install_agents
        || (interactive
            && agent.backend_name == "claude"
            && ask::confirm(
                "Install the teams sub-agent definitions into .claude/agents/?",
                false,
            )?);
    if wants_agents {
        let written = install_agents(&ctx.repo_root).map_err(|err| {
            TeamsError::environment("failed to install the agent definitions").with_source(err)
        })?;
        ui.status(&format!(
            "installed {} agent definition(s) in .claude/agents/\n",
            written.len()
        ))
        .map_err(write_error)?;
    }
    let description = match (&args.description, &args.from) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => std::fs::read_to_string(ctx.cwd.join(path)).map_err(|err| {
            TeamsError::usage(format!("failed to read --from {}", path.display()))
                .with_source(err)
                .with_hint("pass a readable text file, or `--description TEXT`")
        })?,
        (None, None) => ask::input("What do you want to build?")?,
    };
    write_prd_with_agent(ui, &ctx, &agent, &description, interactive)?;
    let doc = PrdDocument::load(&ctx.prd_path)
        .map_err(|err| load_error(err, &prd_shown, ProblemListing::FirstFew))?;
    let prd = doc.prd();
    let stories: usize = prd.epics.iter().map(|e| e.stories.len()).sum();
    ui.status(&format!(
        "{prd_shown} is valid: {}, {}\n",
        crate::helpers::plural(prd.epics.len(), "epic", "epics"),
        crate::helpers::plural(stories, "story", "stories")
    ))
    .map_err(write_error)?;
    if interactive && ask::confirm("Plan the epics now?", true)? {
        return super::plan::plan_epics(ui, &ctx, &[], false, Some(&agent.backend_name));
    }
    ui.status("next: `teams plan` (or `teams plan --auto`), then `teams run`\n")
        .map_err(write_error)?;
    Ok(crate::exit_code::SUCCESS)
}

/// Runs the agent until `prd.json` is valid: the first run with the description, each further run
/// with the problems of the file it wrote.
fn write_prd_with_agent(
    ui: &mut Ui,
    ctx: &CommandContext,
    agent: &TalkAgent,
    description: &str,
    interactive: bool,
) -> Result<()> {
    let prompt = ConversationPrompt::load(&ctx.repo_root, ConversationRole::Init)?;
    let prd_file = relative(&ctx.prd_path, &ctx.repo_root);
    let shown = shown_path(&ctx.prd_path);
    let mut problems: Vec<String> = Vec::new();
    let mut run: u32 = 0;
    loop {
        run += 1;
        let text = prompt.init(&InitContext {
            prd_file: &prd_file,
            interactive,
            description,
            problems: &problems,
        });
        let files = talk_files(&ctx.repo_root, "prd", Role::Init);
        let invocation = agent.invocation(Role::Init, text, &files, &ctx.repo_root);
        if interactive {
            ui.status(&format!(
                "handing the terminal to {}; end the session when {prd_file} is written\n",
                agent.backend_name
            ))
            .map_err(write_error)?;
            agent.run_session(&invocation)?;
        } else {
            ui.status(&format!(
                "running {} to write {prd_file} (run {run})\n",
                agent.backend_name
            ))
            .map_err(write_error)?;
            let result = agent.run_print(&invocation, &files.log)?;
            if let Some(why) = describe_failure(&result, Role::Init)
                && !ctx.prd_path.exists()
            {
                return Err(
                    TeamsError::environment(format!("the init agent failed: {why}"))
                        .with_detail(format!("transcript: {}", shown_path(&files.log)))
                        .with_hint(
                            "`teams doctor` checks the agent CLI; then run `teams init` again",
                        ),
                );
            }
        }
        problems = match PrdDocument::load(&ctx.prd_path) {
            Ok(_) => return Ok(()),
            Err(err) => problem_lines(load_error(err, &shown, ProblemListing::All)),
        };
        ui.warn(&format!("{shown} is not valid yet:"))
            .map_err(write_error)?;
        for problem in &problems {
            ui.warn(&format!("  {problem}")).map_err(write_error)?;
        }
        let again = if interactive {
            ask::confirm("Start the agent again to fix these problems?", true)?
        } else {
            run < MAX_AGENT_RUNS
        };
        if !again {
            let mut error = TeamsError::invalid_input(format!(
                "{shown} is still invalid after {}",
                crate::helpers::plural(run as usize, "agent run", "agent runs")
            ));
            for problem in &problems {
                error = error.with_detail(problem.clone());
            }
            return Err(error
                .with_hint("fix it by hand and check it with `teams validate`")
                .with_hint("or run `teams init --force` to start over"));
        }
    }
}

/// A load error as the lines the agent is shown: the message, then each problem.
fn problem_lines(err: TeamsError) -> Vec<String> {
    let mut lines = vec![err.message().to_owned()];
    lines.extend(err.details().iter().cloned());
    lines
}

/// Asks which agent to talk to, offering the installed CLIs with the configured one first.
fn choose_backend(ctx: &CommandContext, config: &Config) -> Result<String> {
    let path = std::env::var_os("PATH");
    let installed = crate::doctor::installed_backends(path.as_deref(), &ctx.cwd);
    let configured = &config.role(crate::config::Role::Builder).backend.value;
    let mut choices: Vec<String> = installed.iter().map(|s| (*s).to_owned()).collect();
    if let BackendName::Command(name) = configured
        && !choices.contains(name)
    {
        choices.insert(0, name.clone());
    }
    if choices.is_empty() {
        return Err(TeamsError::environment("no agent CLI is installed")
            .with_hint("install one, e.g. `npm install -g @anthropic-ai/claude-code@latest`")
            .with_hint("`teams doctor` checks what is installed and logged in"));
    }
    let default = choices
        .iter()
        .position(|c| c == configured.as_str())
        .unwrap_or(0);
    let index = ask::select(
        "Which agent should write the PRD with you?",
        &choices,
        default,
    )?;
    Ok(choices.swap_remove(index))
}

/// Keeps the PRD that `--force` replaces in `.teams/prd.json.before-init`.
fn keep_old_prd(ctx: &CommandContext) -> Result<()> {
    let layout = crate::run::Layout::new(&ctx.repo_root);
    let copy = layout.dir().join("prd.json.before-init");
    layout
        .ensure()
        .and_then(|()| std::fs::copy(&ctx.prd_path, &copy).map(drop))
        .map_err(|err| {
            TeamsError::environment(format!(
                "failed to keep a copy of {} before replacing it",
                shown_path(&ctx.prd_path)
            ))
            .with_source(err)
        })
}

/// `path` relative to `root` when inside it, for the agent (whose working directory is `root`).
fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
