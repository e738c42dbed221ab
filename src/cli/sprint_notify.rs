//! Sprint messages to Discord from the `sprint` commands (spec §11: "sprint started/closed").
//! A sprint closed by a run is posted by the run's Discord reporter; a sprint started (or closed
//! by `sprint stop` with no run) has no run and no event stream, so the command posts it itself.
//! Like a run, it only ever warns: the sprint is recorded whether Discord answers or not.

use std::ffi::OsString;

use crate::config::{Config, ConfigOverrides, DiscordEvent};
use crate::report::discord::{self, Message, Sender};

use super::CommandContext;

/// Posts `text` when Discord is set up and wants sprint messages. Returns a warning to show when
/// it could not be delivered.
pub fn post(ctx: &CommandContext, text: String) -> Option<String> {
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let config = Config::load(
        &ctx.repo_root,
        env.iter().cloned(),
        &ConfigOverrides::default(),
    )
    .ok()?;
    if !config.discord.events.value.contains(&DiscordEvent::Sprint) {
        return None;
    }
    let setup = discord::resolve(&config.discord, &env).ok()??;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let sent = runtime.block_on(async {
        let mut sender = Sender::new(setup)?;
        for part in discord::message::fit(Message::text(text)) {
            sender.send(&part).await?;
        }
        Ok::<(), discord::SendError>(())
    });
    sent.err()
        .map(|err| format!("the sprint message did not reach Discord: {err}"))
}

/// The project name for messages.
pub fn project(ctx: &CommandContext) -> String {
    crate::prd::PrdDocument::load(&ctx.prd_path)
        .map(|doc| doc.prd().project.clone())
        .unwrap_or_else(|_| "teams".to_owned())
}
