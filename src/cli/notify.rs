//! `teams notify test`: one message to the configured Discord target, and what Discord answered
//! (spec §2, §11), so a user can check the webhook or bot before an overnight run relies on it.
//!
//! Unlike a run, where Discord only ever warns, a failure here is the command's result: exit 2
//! when the settings are missing or wrong, 4 when Discord cannot be reached or refuses.

use std::ffi::OsString;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use super::output::{write_error, write_json};
use crate::config::{Config, ConfigOverrides};
use crate::error::{Result, TeamsError};
use crate::report::discord::{self, Message, Sender};
use crate::ui::Ui;

/// Send messages to the Discord target of teams.toml
#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(subcommand)]
    pub command: NotifyCommand,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Post a test message to the configured webhook or channel and print Discord's answer
    Test,
}

pub fn cmd_notify(ui: &mut Ui, global: &GlobalArgs, args: NotifyArgs) -> Result<i32> {
    match args.command {
        NotifyCommand::Test => cmd_notify_test(ui, global),
    }
}

#[derive(serde::Serialize)]
struct Answer {
    destination: String,
    status: u16,
    message_id: Option<String>,
    tries: u32,
}

fn cmd_notify_test(ui: &mut Ui, global: &GlobalArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let config = Config::load(
        &ctx.repo_root,
        env.iter().cloned(),
        &ConfigOverrides::default(),
    )?;
    let setup = match discord::resolve(&config.discord, &env) {
        Ok(Some(setup)) => setup,
        Ok(None) => {
            let detail = match discord::status(&config.discord, &env) {
                discord::TargetStatus::Off { detail }
                | discord::TargetStatus::Ready { detail }
                | discord::TargetStatus::Problem { detail, .. } => detail,
            };
            return Err(
                TeamsError::usage(format!("Discord is not set up: {detail}")).with_hint(
                    "export TEAMS_DISCORD_WEBHOOK=<webhook URL> (or a bot token and \
                     discord.channel_id); docs/discord.md has the steps",
                ),
            );
        }
        Err(err) => {
            let hint = err.hint();
            return Err(TeamsError::usage(err.to_string()).with_hint(hint));
        }
    };
    let destination = setup.destination.describe();
    let project = crate::prd::PrdDocument::load(&ctx.prd_path)
        .map(|doc| doc.prd().project.clone())
        .unwrap_or_else(|_| "teams".to_owned());
    let message = Message::text(format!(
        "🔔 **{project}**: test message from `teams notify test`. Run summaries will arrive here."
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            TeamsError::internal("failed to start the async runtime").with_source(err)
        })?;
    let delivered = runtime.block_on(async {
        let mut sender = Sender::new(setup)?;
        sender.send(&message).await
    });
    let delivered = delivered.map_err(|err| {
        TeamsError::environment(format!(
            "failed to post the test message to {destination}: {err}"
        ))
        .with_hint(
            "check the webhook or bot token in Discord; `teams doctor` shows which variable is used",
        )
    })?;
    if ctx.json {
        write_json(
            ui,
            &Answer {
                destination,
                status: delivered.status,
                message_id: delivered.message_id,
                tries: delivered.tries,
            },
        )?;
    } else {
        let id = delivered
            .message_id
            .map_or(String::new(), |id| format!(", message {id}"));
        writeln!(
            ui.stdout(),
            "sent to {destination}: Discord answered HTTP {}{id}",
            delivered.status
        )
        .map_err(write_error)?;
    }
    Ok(crate::exit_code::SUCCESS)
}
