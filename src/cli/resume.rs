//! `teams resume`: continue the last interrupted or crashed run (spec §2, §6), with the settings
//! it was started with; flags given again override them.

use clap::Args;

use super::GlobalArgs;
use super::run::{SavedArgs, start_run};
use crate::error::Result;
use crate::run::{Layout, RunMode};
use crate::store::Store;
use crate::ui::Ui;

/// Continue the last interrupted or crashed run where it stopped
///
/// Agents that were running are discarded (not counted), a build that committed but was not yet
/// validated is validated, passed stories never run again. The run's saved settings are reused;
/// flags given here override them.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Units (epics) that run at the same time
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,

    /// The backend of every role without its own
    #[arg(long, value_name = "B")]
    pub backend: Option<String>,

    /// Build/validate attempts per story before it is marked failed
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: Option<u32>,
}

pub fn cmd_resume(ui: &mut Ui, global: &GlobalArgs, args: ResumeArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let layout = Layout::new(&ctx.repo_root);
    // Read-only here: the run itself takes the lock and reads the store again under it.
    let store = Store::open_read_only(&layout.state_db())?;
    let unfinished = match &store {
        Some(store) => store.unfinished_run()?,
        None => None,
    };
    let Some(run) = unfinished else {
        let last = match &store {
            Some(store) => store.latest_run()?,
            None => None,
        };
        let text = match last {
            Some(last) => format!(
                "nothing to resume: the last run {} {} ({}); `teams run` starts a new one\n",
                last.id,
                if last.status == "abandoned" {
                    "was abandoned"
                } else {
                    "finished"
                },
                last.outcome.as_deref().unwrap_or("no outcome")
            ),
            None => "nothing to resume: no run has started here yet; `teams run` starts one\n"
                .to_owned(),
        };
        let _ = ui.status(&text);
        return Ok(crate::exit_code::SUCCESS);
    };
    drop(store);
    let mut saved: SavedArgs = serde_json::from_str(&run.settings_json).unwrap_or_default();
    if args.parallel.is_some() {
        saved.parallel = args.parallel;
    }
    if args.backend.is_some() {
        saved.backend = args.backend;
    }
    if args.max_attempts.is_some() {
        saved.max_attempts = args.max_attempts;
    }
    start_run(ui, global, saved, RunMode::Resume)
}
