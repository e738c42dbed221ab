//! The command line: clap definitions, the global options of spec §2, and one `match` that
//! dispatches to one module per command (`cmd_<name>`). Errors are rendered here and nowhere else.

mod ask;
mod backlog;
mod backlog_input;
mod clean;
mod completions;
mod config;
mod context;
mod demo;
mod discuss;
mod doctor;
mod init;
mod logs;
mod notify;
mod output;
mod plan;
mod prd_input;
mod render;
mod reporting;
mod reset;
mod resume;
mod run;
mod schedule;
mod sprint;
mod sprint_notify;
mod status;
mod status_run;
mod status_sprint;
mod validate;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

pub use context::CommandContext;

use crate::error::{Result, TeamsError};
use crate::ui::{ColorChoice, Ui};

/// Turn a PRD into committed, independently validated code by driving coding-agent CLIs.
#[derive(Debug, Parser)]
#[command(
    name = "teams",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts (spec §2).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Work in DIR (its repository) as if teams had been started there
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<std::path::PathBuf>,

    /// The PRD to use [default: prd.json at the repository root]
    #[arg(long, value_name = "PATH", global = true)]
    pub prd: Option<std::path::PathBuf>,

    /// When to use colours
    #[arg(long, value_enum, value_name = "WHEN", default_value_t, global = true)]
    pub color: ColorChoice,

    /// Print only errors and the data asked for
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Print more about what happens (-v: info, -vv: debug)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print data as JSON, for scripts
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Run(run::RunArgs),
    Resume(resume::ResumeArgs),
    Demo(demo::DemoArgs),
    Reset(reset::ResetArgs),
    Validate(validate::ValidateArgs),
    Status(status::StatusArgs),
    Logs(logs::LogsArgs),
    Clean(clean::CleanArgs),
    Config(config::ConfigArgs),
    Doctor(doctor::DoctorArgs),
    Notify(notify::NotifyArgs),
    Completions(completions::CompletionsArgs),
    Plan(plan::PlanArgs),
    Init(init::InitArgs),
    Discuss(discuss::DiscussArgs),
    Backlog(backlog::BacklogArgs),
    Sprint(sprint::SprintArgs),
}

/// Entry point of the binary: parse, dispatch, render any error, and pick the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout with success, usage errors to stderr.
            let code = if err.use_stderr() {
                crate::exit_code::USAGE
            } else {
                crate::exit_code::SUCCESS
            };
            let _ = err.print();
            return exit(code);
        }
    };
    let mut ui = Ui::new(cli.global.color, cli.global.quiet);
    crate::logging::init(cli.global.verbose, ui.stderr_has_colour());
    match dispatch(&mut ui, cli) {
        Ok(code) => exit(code),
        Err(err) if render::is_broken_pipe(&err) => exit(crate::exit_code::SUCCESS),
        Err(err) => {
            let text = render::render_error(&err, ui.styles());
            let _ = std::io::Write::write_all(ui.stderr(), text.as_bytes());
            exit(err.exit_code())
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn dispatch(ui: &mut Ui, cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(args) => run::cmd_run(ui, &cli.global, args),
        Command::Resume(args) => resume::cmd_resume(ui, &cli.global, args),
        Command::Demo(args) => demo::cmd_demo(ui, &cli.global, args),
        Command::Reset(args) => reset::cmd_reset(ui, &cli.global, args),
        Command::Validate(args) => validate::cmd_validate(ui, &cli.global, args),
        Command::Status(args) => status::cmd_status(ui, &cli.global, args),
        Command::Logs(args) => logs::cmd_logs(ui, &cli.global, args),
        Command::Clean(args) => clean::cmd_clean(ui, &cli.global, args),
        Command::Config(args) => config::cmd_config(ui, &cli.global, args),
        Command::Doctor(args) => doctor::cmd_doctor(ui, &cli.global, args),
        Command::Notify(args) => notify::cmd_notify(ui, &cli.global, args),
        Command::Completions(args) => completions::cmd_completions(ui, args),
        Command::Plan(args) => plan::cmd_plan(ui, &cli.global, args),
        Command::Init(args) => init::cmd_init(ui, &cli.global, args),
        Command::Discuss(args) => discuss::cmd_discuss(ui, &cli.global, args),
        Command::Backlog(args) => backlog::cmd_backlog(ui, &cli.global, args),
        Command::Sprint(args) => sprint::cmd_sprint(ui, &cli.global, args),
    }
}

/// The context a command runs in, resolved from the global options.
fn context(global: &GlobalArgs) -> Result<CommandContext, TeamsError> {
    CommandContext::resolve(
        global.directory.as_deref(),
        global.prd.as_deref(),
        global.json,
    )
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
