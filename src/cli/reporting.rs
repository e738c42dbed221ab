//! The reporters `teams run` and `teams demo` use: the terminal (live rows on a terminal, plain
//! lines otherwise, on stderr), the run's event log `.teams/logs/<run>/events.jsonl`, and with
//! `--json` the same events as JSON lines on stdout. The summary is the command's output and goes
//! to stdout after the run. With a Discord target configured, the milestones also go to Discord
//! through a queue that never blocks the run (`report::discord`).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use super::output::write_error;
use crate::config::Config;
use crate::error::Result;
use crate::prd::Prd;
use crate::report::discord::{self, DiscordReporter, RunContext};
use crate::report::{FanOut, JsonLinesReporter, Reporter, TerminalMode, TerminalReporter};
use crate::run::{EventKind, EventSink, Layout, RunEvent, RunSummary};
use crate::ui::Ui;

/// Sends the loop's events to every reporter.
pub struct CliSink {
    reporters: FanOut,
    /// The event log, opened when the run ID is known.
    log: Option<JsonLinesReporter<std::fs::File>>,
    repo_root: PathBuf,
    /// Problems with a reporter, told once after the run.
    problems: Vec<String>,
    /// Discord summaries, when a target is configured and its variables are set.
    discord: Option<DiscordReporter>,
}

impl CliSink {
    pub fn new(ui: &Ui, repo_root: PathBuf, json: bool) -> CliSink {
        let ci = std::env::var("CI").ok();
        let quiet = ui.is_quiet() || json;
        let mode = TerminalMode::detect(std::io::stderr().is_terminal(), ci.as_deref(), quiet);
        let choice = if ui.stderr_has_colour() {
            anstream::ColorChoice::Always
        } else {
            anstream::ColorChoice::Never
        };
        let stderr = anstream::AutoStream::new(std::io::stderr(), choice);
        let mut reporters =
            FanOut::new().with(TerminalReporter::new(mode, *ui.styles(), Box::new(stderr)));
        if json {
            reporters.push(Box::new(JsonLinesReporter::new(std::io::stdout())));
        }
        CliSink {
            reporters,
            log: None,
            repo_root,
            problems: Vec::new(),
            discord: None,
        }
    }

    /// Starts the Discord reporter when `[discord]` names variables that are set. A Discord
    /// problem never stops the run: it becomes a warning after it.
    pub fn start_discord(&mut self, config: &Config, env: &[(OsString, OsString)], prd: &Prd) {
        let setup = match discord::resolve(&config.discord, env) {
            Ok(Some(setup)) => setup,
            Ok(None) => return,
            Err(err) => {
                let hint = err.hint();
                self.problem(format!("Discord: {err}; nothing was posted (fix: {hint})"));
                return;
            }
        };
        let context = RunContext {
            project: prd.project.clone(),
            waves: crate::plan::waves(prd).ok().map(|waves| waves.len()),
            titles: prd
                .epics
                .iter()
                .map(|epic| (epic.id.to_string(), epic.title.clone()))
                .collect(),
        };
        match DiscordReporter::start(setup, config.discord.events.value.clone(), context) {
            Ok(reporter) => self.discord = Some(reporter),
            Err(err) => self.problem(format!("Discord: {err}; nothing was posted")),
        }
    }

    /// Clears the live display; returns what went wrong with the reporters, if anything.
    pub fn finish(&mut self) -> Vec<String> {
        if let Err(err) = self.reporters.finish() {
            self.problem(format!("the terminal display failed: {err}"));
        }
        if let Some(warning) = self.discord.as_mut().and_then(|d| d.close().warning()) {
            self.problem(warning);
        }
        std::mem::take(&mut self.problems)
    }

    fn problem(&mut self, message: String) {
        if !self.problems.contains(&message) {
            self.problems.push(message);
        }
    }

    fn open_log(&mut self, run_id: &str) {
        let path = Layout::new(&self.repo_root).events_log(run_id);
        let opened = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::File::create(&path));
        match opened {
            Ok(file) => self.log = Some(JsonLinesReporter::new(file)),
            Err(err) => self.problem(format!("failed to create {}: {err}", path.display())),
        }
    }
}

impl EventSink for CliSink {
    fn event(&mut self, event: &RunEvent) {
        if let EventKind::RunStarted { run_id, .. } = &event.kind {
            self.open_log(run_id);
        }
        if let Some(log) = &mut self.log
            && let Err(err) = log.report(event)
        {
            self.log = None;
            self.problem(format!("the event log stopped: {err}"));
        }
        if let Err(err) = self.reporters.report(event) {
            self.problem(format!("a reporter failed: {err}"));
        }
        if let Some(discord) = &mut self.discord {
            // Never fails: it only queues.
            let _ = discord.report(event);
        }
    }

    fn tick(&mut self) {
        let _ = self.reporters.tick();
    }
}

/// Prints the end-of-run report on stdout (not with `--json`, whose event stream ends with it).
pub fn print_summary(ui: &mut Ui, summary: &RunSummary, json: bool) -> Result<()> {
    if json {
        return Ok(());
    }
    let text = crate::report::terminal::format::summary(summary, ui.styles());
    let out = ui.stdout();
    out.write_all(text.as_bytes()).map_err(write_error)?;
    if !text.ends_with('\n') {
        writeln!(out).map_err(write_error)?;
    }
    Ok(())
}
