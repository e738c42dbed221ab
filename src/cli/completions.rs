//! `teams completions SHELL`: shell completion scripts, generated from the clap definition so they
//! never drift from the real options.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::error::Result;
use crate::ui::Ui;

/// Print a shell completion script
///
/// Example: `teams completions bash > ~/.local/share/bash-completion/completions/teams`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn cmd_completions(ui: &mut Ui, args: CompletionsArgs) -> Result<i32> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "teams", ui.stdout());
    Ok(crate::exit_code::SUCCESS)
}
