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

/// Whether the tests armed the kill point `name` (whichever occurrence).
pub fn is_armed(name: &str) -> bool {
    armed().is_some_and(|armed| armed.name == name)
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

/// Where the tests make a thread panic (`__TEAMS_PANICPOINT=<name>`), to prove a panicking
/// worker or merge job ends the run with an internal error instead of leaving it waiting.
pub const PANIC_POINTS: &[&str] = &["worker-started", "merge-started"];

/// Panics here when the tests armed `name` (read once; one relaxed load when unset).
pub fn panic_point(name: &str) {
    debug_assert!(PANIC_POINTS.contains(&name), "unknown panic point {name}");
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var("__TEAMS_PANICPOINT").ok());
    if armed.as_deref() == Some(name) {
        panic!("panic point {name} (a test)");
    }
}

/// The message of a caught panic, for the error that reports it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}
