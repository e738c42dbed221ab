//! One `teams` per repository (spec §6): `.teams/lock` holds the PID of the `teams` that runs.
//!
//! The file is created with `O_EXCL`, so two processes cannot both take it. It also records the
//! process's start time (Linux `/proc/<pid>/stat`), so a lock left by a crashed `teams` whose PID
//! was since reused by another program is still recognised as stale. A stale lock is taken over
//! with a warning; a live one is refused with the PID that holds it. Read-only commands (`status`,
//! `logs`) never take it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::TeamsError;

/// The held lock; dropping it removes the file (when it is still ours).
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    pid: u32,
}

/// What taking the lock found.
#[derive(Debug)]
pub struct Acquired {
    pub lock: RunLock,
    /// Set when a lock left by a dead `teams` was taken over: the warning to show.
    pub took_over: Option<String>,
}

impl RunLock {
    /// Takes the lock at `path` for this process.
    pub fn acquire(path: &Path) -> Result<Acquired, TeamsError> {
        let pid = std::process::id();
        let mut took_over = None;
        for _ in 0..2 {
            match create(path, pid) {
                Ok(()) => {
                    return Ok(Acquired {
                        lock: RunLock {
                            path: path.to_owned(),
                            pid,
                        },
                        took_over,
                    });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => {
                    return Err(TeamsError::environment(format!(
                        "failed to create the lock file {}",
                        path.display()
                    ))
                    .with_source(err)
                    .with_hint("check that .teams/ is writable"));
                }
            }
            let holder = read_holder(path);
            match holder {
                Some(h) if h.is_alive() => {
                    return Err(TeamsError::environment(format!(
                        "another teams (PID {}) is working in this repository",
                        h.pid
                    ))
                    .with_hint(
                        "wait for it, or stop it with Ctrl-C in its terminal (`kill -INT <pid>`); \
                         `teams status` shows what it is doing",
                    ));
                }
                _ => {
                    let who = holder.map_or("an unreadable lock".to_owned(), |h| {
                        format!("PID {}", h.pid)
                    });
                    took_over = Some(format!(
                        "took over the lock {} left by a teams that is no longer running ({who})",
                        path.display()
                    ));
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        Err(TeamsError::environment(format!(
            "another teams took the lock {} at the same moment",
            path.display()
        ))
        .with_hint("only one teams may work in a repository at a time"))
    }
}

/// The PID of the live `teams` holding the lock at `path`, if one does (for `teams status`).
pub fn live_holder(path: &Path) -> Option<u32> {
    read_holder(path).filter(Holder::is_alive).map(|h| h.pid)
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if read_holder(&self.path).is_some_and(|h| h.pid == self.pid) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn create(path: &Path, pid: u32) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let start = process_start(pid).map_or(String::new(), |s| format!("start {s}\n"));
    file.write_all(format!("{pid}\n{start}").as_bytes())?;
    file.sync_all()
}

/// The process named in a lock file.
#[derive(Debug, Clone, Copy)]
struct Holder {
    pid: u32,
    start: Option<u64>,
}

impl Holder {
    fn is_alive(&self) -> bool {
        let Ok(raw) = i32::try_from(self.pid) else {
            return false;
        };
        let exists = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
            Ok(()) => true,
            Err(nix::errno::Errno::EPERM) => true,
            Err(_) => false,
        };
        if !exists {
            return false;
        }
        // A reused PID: the process there now started at another time.
        match (self.start, process_start(self.pid)) {
            (Some(recorded), Some(now)) => recorded == now,
            _ => true,
        }
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let start = lines
        .find_map(|l| l.strip_prefix("start "))
        .and_then(|s| s.trim().parse().ok());
    Some(Holder { pid, start })
}

/// The start time of a process in clock ticks since boot (field 22 of `/proc/<pid>/stat`); `None`
/// where there is no `/proc`.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_names_the_holder_and_the_file_goes_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".teams/lock");
        let first = RunLock::acquire(&path).unwrap();
        assert!(first.took_over.is_none());
        let err = RunLock::acquire(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(!path.exists());
    }

    #[test]
    fn a_lock_of_a_dead_process_is_taken_over_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        // A child that has exited and been reaped: its PID names no process of ours.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(&path, format!("{dead}\nstart 1\n")).unwrap();
        let acquired = RunLock::acquire(&path).unwrap();
        let warning = acquired.took_over.clone().unwrap();
        assert!(warning.contains(&format!("PID {dead}")), "{warning}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("{}\n", std::process::id())));
    }

    #[test]
    fn a_live_pid_with_another_start_time_is_a_stale_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        // Our own PID, but a start time that is not ours: the PID was reused.
        let ours = process_start(std::process::id()).expect("/proc is available on Linux");
        std::fs::write(
            &path,
            format!("{}\nstart {}\n", std::process::id(), ours + 1),
        )
        .unwrap();
        assert!(RunLock::acquire(&path).unwrap().took_over.is_some());
    }
}
