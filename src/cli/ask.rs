//! Questions on the terminal (dialoguer) for the conversation commands, and the rule that keeps
//! scripts from hanging: without a terminal on stdin and stderr, a command that would ask fails at
//! once and names the flags of its non-interactive form.

use std::io::IsTerminal;

use crate::error::{ErrorKind, Result, TeamsError};

/// Whether questions can be asked: stdin and stderr (where dialoguer draws) are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Fails with a usage error (exit 2) when there is no terminal to talk on; `instead` names the
/// non-interactive form, e.g. "`--description TEXT --yes`".
pub fn require_terminal(command: &str, instead: &str) -> Result<()> {
    if can_prompt() {
        return Ok(());
    }
    Err(TeamsError::usage(format!(
        "`teams {command}` needs a terminal to talk with you, and stdin is not one"
    ))
    .with_hint(format!("for scripts and CI, pass {instead}")))
}

fn prompt_error(err: dialoguer::Error) -> TeamsError {
    let dialoguer::Error::IO(io) = err;
    if io.kind() == std::io::ErrorKind::Interrupted {
        return TeamsError::new(ErrorKind::Interrupted, "interrupted at a question")
            .with_hint("run the same command again to start over");
    }
    TeamsError::environment("failed to ask on the terminal").with_source(io)
}

/// One item chosen from `items`, starting at `default`.
pub fn select(question: &str, items: &[String], default: usize) -> Result<usize> {
    dialoguer::Select::new()
        .with_prompt(question)
        .items(items)
        .default(default)
        .interact()
        .map_err(prompt_error)
}

/// A line of text; empty answers are asked again.
pub fn input(question: &str) -> Result<String> {
    dialoguer::Input::<String>::new()
        .with_prompt(question)
        .validate_with(|text: &String| {
            if text.trim().is_empty() {
                Err("please type a few words")
            } else {
                Ok(())
            }
        })
        .interact_text()
        .map_err(prompt_error)
}

/// Yes or no.
pub fn confirm(question: &str, default: bool) -> Result<bool> {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact()
        .map_err(prompt_error)
}
