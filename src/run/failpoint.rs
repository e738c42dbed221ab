//! Kill points for the crash-safety tests (issue: durable runs): with `__TEAMS_FAILPOINT=<name>`
//! (or `<name>@<n>` for the n-th time it is reached) set, `teams` sends itself SIGKILL right after
//! the transition `<name>` is durable, exactly as a power cut or an OOM kill would stop it: no
//! destructor runs, agents in their own process groups live on.
//!
//! The variable is spelt with two underscores like the other test-only switches (nextest's
//! `__NEXTEST_*` convention). It is read once; when it is unset, a kill point costs one relaxed
//! atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Every kill point, in the order a run reaches them. The fault-injection suite covers each.
pub const KILL_POINTS: &[&str] = &[
    "run-created",
    "worktree-created",
    "unit-started",
    "planner-finished",
    "story-started",
    "attempt-started",
    "agent-spawned",
    "builder-finished",
    "commit-seen",
    "validator-finished",
    "story-recorded",
    "prd-written",
    "merger-finished",
    "merge-done",
    "unit-finished",
];

struct Armed {
    name: String,
    nth: u32,
    seen: AtomicU32,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("__TEAMS_FAILPOINT").ok()?;
            let (name, nth) = match spec.split_once('@') {
                Some((name, n)) => (name.to_owned(), n.parse().ok()?),
                None => (spec, 1),
            };
            Some(Armed {
                name,
                nth,
                seen: AtomicU32::new(0),
            })
        })
        .as_ref()
}

/// Marks the kill point `name`: kills this process when the tests armed it.
pub fn hit(name: &str) {
    debug_assert!(KILL_POINTS.contains(&name), "unknown kill point {name}");
    let Some(armed) = armed() else {
        return;
    };
    if armed.name != name {
        return;
    }
    if armed.seen.fetch_add(1, Ordering::SeqCst) + 1 == armed.nth {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        // SIGKILL cannot be caught; it arrives before the next instruction matters.
        std::process::abort();
    }
}
