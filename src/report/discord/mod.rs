//! Discord run summaries (spec §11): a webhook or a bot posts the milestones of a run, cut to
//! Discord's limits, with mentions off, without ever slowing or failing the run.
//!
//! - [`target`]: where messages go, read from the variables `teams.toml` names; `teams doctor`'s
//!   check.
//! - [`compose`]: run events → messages (pure).
//! - [`message`] and [`limits`]: our message type and the cutting to Discord's limits (pure).
//! - [`send`]: one message over serenity's HTTP layer, with bounded retries.
//! - [`reporter`]: the [`Reporter`](crate::report::Reporter) with its bounded queue and sender
//!   thread.
//!
//! Setup for users: `docs/discord.md`.

pub mod compose;
pub mod limits;
pub mod message;
pub mod reporter;
pub mod send;
pub mod target;

pub use compose::{Composer, RunContext};
pub use message::{Embed, Field, Message};
pub use reporter::{DiscordReport, DiscordReporter};
pub use send::{Delivered, SendError, Sender};
pub use target::{
    API_BASE_VAR, Destination, DiscordSetup, SendPolicy, TargetError, TargetStatus, resolve, status,
};
