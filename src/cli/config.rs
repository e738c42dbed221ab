//! `teams config show`: the resolved configuration and where each value came from.

use clap::{Args, Subcommand};

use super::GlobalArgs;
use super::output::{write_error, write_json};
use crate::config::{Config, ConfigOverrides};
use crate::error::Result;
use crate::ui::Ui;

/// Show the configuration
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
}

pub fn cmd_config(ui: &mut Ui, global: &GlobalArgs, args: ConfigArgs) -> Result<i32> {
    match args.command {
        ConfigCommand::Show => cmd_config_show(ui, global),
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
