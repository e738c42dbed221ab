//! Diagnostics through `tracing`: the terminal shows warnings and errors (`-v` adds info, `-vv`
//! debug); `TEAMS_LOG` takes a full tracing filter (e.g. `TEAMS_LOG=teams::agent=trace`) and wins
//! over `-v` (spec §12).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the stderr subscriber. Safe to call more than once (later calls do nothing).
pub fn init(verbose: u8, color: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("TEAMS_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default))
        // serenity's spans and events quote request routes, and a webhook's route holds its
        // token; nothing of theirs is worth a leaked secret (spec §11, §12).
        .add_directive("serenity=off".parse().expect("a valid directive"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .event_format(PrefixFormat)
        .try_init();
}

/// `warning: message key=value`: the same shape as the errors the CLI prints itself.
struct PrefixFormat;

impl<S, N> FormatEvent<S, N> for PrefixFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let (label, style) = match *event.metadata().level() {
            Level::ERROR => ("error", anstyle::AnsiColor::Red.on_default()),
            Level::WARN => ("warning", anstyle::AnsiColor::Yellow.on_default()),
            Level::INFO => ("info", anstyle::AnsiColor::Green.on_default()),
            Level::DEBUG => ("debug", anstyle::AnsiColor::Blue.on_default()),
            Level::TRACE => ("trace", anstyle::AnsiColor::Magenta.on_default()),
        };
        let style = style.effects(anstyle::Effects::BOLD);
        if writer.has_ansi_escapes() {
            write!(writer, "{style}{label}{style:#}: ")?;
        } else {
            write!(writer, "{label}: ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
