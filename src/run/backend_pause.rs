//! Usage limits are per backend (spec §4.3): when one agent of a backend reports its usage or rate
//! limit, every unit that would call that backend waits until the reset time the CLI gave (or an
//! exponential backoff: 60 s doubling to an hour), while units on other backends go on.
//!
//! One table for the whole run, shared by the workers, so the first unit to hit the limit pauses
//! the backend for all of them — instead of each unit spending an attempt (and a process start) to
//! discover the same limit. The attempt that hit it is not counted and starts again after the
//! pause. A success on the backend resets its backoff.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The longest backoff between two tries of a paused backend.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The run's paused backends.
#[derive(Debug)]
pub struct BackendPauses {
    first_backoff: Duration,
    table: Mutex<HashMap<String, Pause>>,
}

#[derive(Debug, Clone, Copy)]
struct Pause {
    /// Paused until then (in the past once the pause is over).
    until: Instant,
    /// The wait after the next limit without a reset time.
    backoff: Duration,
}

impl BackendPauses {
    /// A table where the first limit without a reset time pauses for `first_backoff`.
    pub fn new(first_backoff: Duration) -> BackendPauses {
        BackendPauses {
            first_backoff,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// `backend` hit its limit at `now`; `resets_at` is the reset time its CLI reported. Returns
    /// how long the backend is paused from `now`. A backend already paused is not paused again
    /// (several units hitting the same limit at once double nothing).
    pub fn pause_at(&self, backend: &str, resets_at: Option<SystemTime>, now: Instant) -> Duration {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let first = self.first_backoff;
        let pause = table.entry(backend.to_owned()).or_insert(Pause {
            until: now,
            backoff: first,
        });
        if pause.until > now {
            return pause.until - now;
        }
        let wait = match resets_at.and_then(|at| at.duration_since(SystemTime::now()).ok()) {
            Some(until_reset) => until_reset,
            None => {
                let wait = pause.backoff;
                pause.backoff = (pause.backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        pause.until = now + wait;
        wait
    }

    /// [`BackendPauses::pause_at`] now.
    pub fn pause(&self, backend: &str, resets_at: Option<SystemTime>) -> Duration {
        self.pause_at(backend, resets_at, Instant::now())
    }

    /// How long `backend` stays paused after `now`; `None` when it is not paused.
    pub fn remaining_at(&self, backend: &str, now: Instant) -> Option<Duration> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table
            .get(backend)
            .filter(|p| p.until > now)
            .map(|p| p.until - now)
    }

    /// [`BackendPauses::remaining_at`] now.
    pub fn remaining(&self, backend: &str) -> Option<Duration> {
        self.remaining_at(backend, Instant::now())
    }

    /// A call on `backend` went through: the next limit starts from the first backoff again.
    pub fn succeeded(&self, backend: &str) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pause) = table.get_mut(backend) {
            pause.backoff = self.first_backoff;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_limit_pauses_only_its_backend_and_backs_off() {
        let pauses = BackendPauses::new(60 * S);
        let t0 = Instant::now();
        assert_eq!(pauses.pause_at("claude", None, t0), 60 * S);
        assert_eq!(pauses.remaining_at("claude", t0 + 10 * S), Some(50 * S));
        assert_eq!(pauses.remaining_at("codex", t0 + 10 * S), None);
        // A second unit hitting the same limit during the pause changes nothing.
        assert_eq!(pauses.pause_at("claude", None, t0 + 10 * S), 50 * S);
        assert_eq!(pauses.remaining_at("claude", t0 + 60 * S), None);
        // The next limit after the pause waits twice as long, up to an hour.
        assert_eq!(pauses.pause_at("claude", None, t0 + 61 * S), 120 * S);
        let mut now = t0 + 200 * S;
        for _ in 0..10 {
            let wait = pauses.pause_at("claude", None, now);
            assert!(wait <= MAX_BACKOFF);
            now += wait + S;
        }
        assert_eq!(pauses.pause_at("claude", None, now), MAX_BACKOFF);
        // A success starts the backoff over.
        pauses.succeeded("claude");
        now += MAX_BACKOFF + S;
        assert_eq!(pauses.pause_at("claude", None, now), 60 * S);
    }

    #[test]
    fn a_reported_reset_time_is_waited_for() {
        let pauses = BackendPauses::new(60 * S);
        let reset = SystemTime::now() + 600 * S;
        let wait = pauses.pause("claude", Some(reset));
        assert!(wait > 590 * S && wait <= 600 * S, "{wait:?}");
        // A reset time in the past falls back to the backoff.
        let pauses = BackendPauses::new(60 * S);
        assert_eq!(pauses.pause("claude", Some(SystemTime::UNIX_EPOCH)), 60 * S);
    }
}
