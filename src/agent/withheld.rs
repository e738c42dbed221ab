//! Variables that hold `teams`' own secrets (the Discord webhook URL or bot token, spec §11) and
//! must not reach agent processes: an agent runs arbitrary tools and writes transcripts, and it
//! would otherwise inherit `teams`' whole environment. The CLI registers their names once it has
//! read `teams.toml`; every agent spawn (one-shot or interactive) removes them.

use std::ffi::OsString;
use std::sync::RwLock;

static WITHHELD: RwLock<Vec<OsString>> = RwLock::new(Vec::new());

/// Adds variable names that agent processes must not inherit.
pub fn withhold_from_agents<I, S>(names: I)
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    if let Ok(mut list) = WITHHELD.write() {
        for name in names {
            let name = name.into();
            if !list.contains(&name) {
                list.push(name);
            }
        }
    }
}

/// The names registered so far.
pub fn withheld() -> Vec<OsString> {
    WITHHELD.read().map(|l| l.clone()).unwrap_or_default()
}
