//! Signals to an agent's whole process group.
//!
//! Agents run shells, test runners and dev servers; signalling only the leader would orphan those.
//! Every agent is therefore spawned as the leader of its own group (pgid = its pid) and every stop
//! signal goes to the negative pid. The guard makes sure a supervisor future that is dropped midway
//! (the dispatcher aborted it) still takes the whole group down, which tokio's `kill_on_drop` alone
//! would not: that only kills the leader.

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Sends `signal` to every process in the group. A group that is already gone is not an error:
/// stopping something that has stopped is the goal reached.
pub(crate) fn signal_group(pgid: u32, signal: Signal) -> Result<(), Errno> {
    let Ok(raw) = i32::try_from(pgid) else {
        return Err(Errno::EINVAL);
    };
    match killpg(Pid::from_raw(raw), signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(e),
    }
}

/// SIGKILLs the group on drop unless disarmed.
///
/// The leader's pid cannot be reused as a group id while any member of the group is alive, so
/// after the leader is reaped the kill can only reach our own leftovers (or nobody).
#[derive(Debug)]
pub(crate) struct GroupGuard {
    pgid: u32,
    armed: bool,
}

impl GroupGuard {
    pub(crate) fn new(pgid: u32) -> Self {
        Self { pgid, armed: true }
    }

    /// Kills whatever is left of the group now and disarms the guard.
    pub(crate) fn kill_leftovers(&mut self) {
        // Nothing useful can be done if this fails (EPERM would mean the group is not ours).
        let _ = signal_group(self.pgid, Signal::SIGKILL);
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = signal_group(self.pgid, Signal::SIGKILL);
        }
    }
}
