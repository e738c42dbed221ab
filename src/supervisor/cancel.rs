//! The cancel handle: how the dispatcher asks a supervised agent to stop.
//!
//! A handle is a cheap clone around a `watch` channel holding the strongest stop request made so
//! far. Requests only ever escalate (interrupt → terminate → kill), so a late, weaker request can
//! never undo a stronger one, and a supervisor that starts after the request still sees it. One
//! handle may be shared by several supervised processes (e.g. every agent of a run) or made per
//! agent; each `supervise` call subscribes on its own.

use std::sync::Arc;

use tokio::sync::watch;

/// How hard the dispatcher asked the agent to stop, weakest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopRequest {
    /// Keep running.
    #[default]
    None,
    /// SIGINT to the process group, SIGKILL after the grace period (first Ctrl-C, spec §6).
    Interrupt,
    /// SIGTERM to the process group, SIGKILL after the grace period.
    Terminate,
    /// SIGKILL to the process group now.
    Kill,
}

/// A clonable remote control for one or more supervised processes.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    tx: Arc<watch::Sender<StopRequest>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelHandle {
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(StopRequest::None)),
        }
    }

    /// Graceful stop: SIGTERM, then SIGKILL after the grace period. Calling it again while the
    /// stop is under way means "now": SIGKILL at once.
    pub fn cancel(&self) {
        self.tx.send_modify(|req| {
            *req = if *req >= StopRequest::Terminate {
                StopRequest::Kill
            } else {
                StopRequest::Terminate
            };
        });
    }

    /// Forward a Ctrl-C: SIGINT to the group, SIGKILL after the grace period. Does nothing when a
    /// stronger request was already made.
    pub fn interrupt(&self) {
        self.raise(StopRequest::Interrupt);
    }

    /// SIGKILL the group now.
    pub fn kill(&self) {
        self.raise(StopRequest::Kill);
    }

    /// The strongest request made so far.
    pub fn request(&self) -> StopRequest {
        *self.tx.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<StopRequest> {
        self.tx.subscribe()
    }

    fn raise(&self, to: StopRequest) {
        self.tx.send_if_modified(|req| {
            let raised = to > *req;
            if raised {
                *req = to;
            }
            raised
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_only_escalate() {
        let handle = CancelHandle::new();
        assert_eq!(handle.request(), StopRequest::None);
        handle.interrupt();
        assert_eq!(handle.request(), StopRequest::Interrupt);
        handle.cancel();
        assert_eq!(handle.request(), StopRequest::Terminate);
        handle.interrupt();
        assert_eq!(handle.request(), StopRequest::Terminate);
        handle.cancel();
        assert_eq!(handle.request(), StopRequest::Kill);
        handle.cancel();
        assert_eq!(handle.request(), StopRequest::Kill);
    }

    #[test]
    fn clones_share_the_request() {
        let handle = CancelHandle::new();
        let clone = handle.clone();
        clone.kill();
        assert_eq!(handle.request(), StopRequest::Kill);
    }
}
