//! The typed `teams.toml` (spec §7): built-in defaults, the project file, `TEAMS_*` environment
//! variables and command-line flags, layered in that order into one [`Config`] whose every value
//! remembers which layer set it.
//!
//! Why a module of its own: configuration mistakes should be caught once, before anything
//! spawns, with a message that names the file, line and key (or the variable, or the flag) and a
//! likely fix — never halfway through a run. The library takes the environment as a parameter
//! and never prints; the CLI renders [`ConfigError`] and [`Config::show_rows`].
//!
//! Layout: `schema.rs` lists every key once; `value.rs` parses one value of a kind; `file.rs`,
//! `env.rs` and `overrides.rs` turn each layer into a flat map; `resolve.rs` merges them and
//! builds the typed [`Config`] (`types.rs`); `show.rs` serves `teams config show`.
//! The keys are documented in `default.toml` and `docs/config.md`.

mod duration;
mod edit;
mod env;
mod error;
mod file;
mod overrides;
mod resolve;
mod schema;
mod show;
mod types;
mod value;

#[cfg(test)]
mod tests;

pub use duration::{Duration, DurationError};
pub use edit::{RoleSettings, set_role, set_role_in_text};
/// Typo suggestions, shared with the prompt templates' placeholder check.
pub(crate) use error::suggest;
pub use error::{ConfigError, Location};
pub use overrides::ConfigOverrides;
pub use resolve::{CONFIG_FILE_NAME, ConfigFile, DEFAULT_TOML, starter_toml};
pub use show::{ShowReport, ShowRow};
pub use types::{
    BackendName, BuiltinBackend, CommandBackend, Config, DiscordConfig, DiscordEvent,
    DiscordTarget, EnvVarRef, OutputFormat, PLACEHOLDERS, PlannerMode, Role, RoleConfig, Roles,
    Source, Sourced,
};
