//! `teams config show`: the resolved configuration and where each value came from.
//! `teams config role set`: one role's backend, model or reasoning, written into `teams.toml` with
//! its comments and layout kept (the editing itself is `config::set_role`).

use clap::{Args, Subcommand};

use super::GlobalArgs;
use super::output::{write_error, write_json};
use crate::config::{Config, ConfigOverrides, Role, RoleSettings};
use crate::error::{Result, TeamsError};
use crate::ui::Ui;

/// Show or change the configuration
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting, its value and where it came from (default, teams.toml, environment,
    /// flag)
    Show,
    /// Change one role's settings in teams.toml
    #[command(subcommand)]
    Role(RoleCommand),
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Set a role's backend, model or reasoning level in teams.toml, keeping its comments
    Set(RoleSetArgs),
}

/// The role whose settings change.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleName {
    Planner,
    Builder,
    Validator,
    Merger,
}

impl RoleName {
    fn role(self) -> Role {
        match self {
            RoleName::Planner => Role::Planner,
            RoleName::Builder => Role::Builder,
            RoleName::Validator => Role::Validator,
            RoleName::Merger => Role::Merger,
        }
    }
}

#[derive(Debug, Args)]
pub struct RoleSetArgs {
    /// The role to change
    #[arg(long, value_enum)]
    pub role: RoleName,
    /// Backend for this role: claude, codex, copilot, gemini, opencode, sim or a [backends.NAME]
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// Model passed to the backend (e.g. sonnet, gpt-5)
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Reasoning effort passed to backends that take one (e.g. low, medium, high)
    #[arg(long, value_name = "LEVEL")]
    pub reasoning: Option<String>,
}

pub fn cmd_config(ui: &mut Ui, global: &GlobalArgs, args: ConfigArgs) -> Result<i32> {
    match args.command {
        ConfigCommand::Show => cmd_config_show(ui, global),
        ConfigCommand::Role(RoleCommand::Set(args)) => cmd_config_role_set(ui, global, args),
    }
}

fn cmd_config_show(ui: &mut Ui, global: &GlobalArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let config = Config::load(
        &ctx.repo_root,
        std::env::vars_os(),
        &ConfigOverrides::default(),
    )?;
    for warning in &config.warnings {
        ui.warn(warning).map_err(write_error)?;
    }
    if ctx.json {
        write_json(ui, &config.show_report())?;
    } else {
        let out = ui.stdout();
        for row in config.show_rows() {
            writeln!(out, "{}", row.to_line()).map_err(write_error)?;
        }
    }
    Ok(crate::exit_code::SUCCESS)
}

fn cmd_config_role_set(ui: &mut Ui, global: &GlobalArgs, args: RoleSetArgs) -> Result<i32> {
    let settings = RoleSettings {
        backend: args.backend,
        model: args.model,
        reasoning: args.reasoning,
    };
    if settings.is_empty() {
        return Err(TeamsError::usage(
            "nothing to set: give at least one of --backend, --model, --reasoning",
        )
        .with_hint("e.g. `teams config role set --role builder --model sonnet`"));
    }
    let ctx = super::context(global)?;
    let role = args.role.role();
    crate::config::set_role(&ctx.repo_root, role, &settings, std::env::vars_os())?;
    let mut changed = Vec::new();
    for (key, value) in [
        ("backend", &settings.backend),
        ("model", &settings.model),
        ("reasoning", &settings.reasoning),
    ] {
        if let Some(value) = value {
            changed.push(format!("roles.{role}.{key} = \"{value}\""));
        }
    }
    ui.status(&format!(
        "updated {}: {}\n",
        super::prd_input::shown_path(&ctx.repo_root.join(crate::config::CONFIG_FILE_NAME)),
        changed.join(", ")
    ))
    .map_err(write_error)?;
    Ok(crate::exit_code::SUCCESS)
}
