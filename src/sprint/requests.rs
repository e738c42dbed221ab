//! Asking a running `teams run` to stop or restart the sprint.
//!
//! While a run works, it alone writes `backlog.json` (it holds the run lock); a `sprint stop` in
//! another terminal must not write the file under it. So the command leaves its wish in
//! `.teams/sprint_request` (written atomically), and the run applies it between two scheduling
//! steps (at least every dispatcher tick) and removes the file. A request left behind because the
//! run ended first is applied by the next `teams run` or by the next `sprint` command.

use std::path::{Path, PathBuf};

/// What the file asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Stop(String),
    Restart(String),
}

impl Request {
    pub fn sprint(&self) -> &str {
        match self {
            Request::Stop(id) | Request::Restart(id) => id,
        }
    }
}

/// `.teams/sprint_request`.
pub fn request_path(teams_dir: &Path) -> PathBuf {
    teams_dir.join("sprint_request")
}

/// Leaves a request for the run (replacing an earlier one: the last wish counts).
pub fn write(teams_dir: &Path, request: &Request) -> std::io::Result<()> {
    let text = match request {
        Request::Stop(id) => format!("stop {id}\n"),
        Request::Restart(id) => format!("restart {id}\n"),
    };
    super::views::write_view(&request_path(teams_dir), &text)
}

/// The pending request, if any (not removed).
pub fn peek(teams_dir: &Path) -> Option<Request> {
    let text = std::fs::read_to_string(request_path(teams_dir)).ok()?;
    let (verb, id) = text.trim().split_once(' ')?;
    match verb {
        "stop" => Some(Request::Stop(id.to_owned())),
        "restart" => Some(Request::Restart(id.to_owned())),
        _ => None,
    }
}

/// Removes the request once it is applied (or found stale).
pub fn clear(teams_dir: &Path) {
    let _ = std::fs::remove_file(request_path(teams_dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_request_counts_and_clearing_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(peek(dir.path()), None);
        write(dir.path(), &Request::Stop("S-1".into())).unwrap();
        write(dir.path(), &Request::Restart("S-1".into())).unwrap();
        assert_eq!(peek(dir.path()), Some(Request::Restart("S-1".into())));
        clear(dir.path());
        assert_eq!(peek(dir.path()), None);
    }
}
