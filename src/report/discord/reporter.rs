//! The Discord reporter: composes messages on the run loop's thread (pure and quick) and hands
//! them to a sender thread of its own through a bounded queue, so the run never waits on Discord
//! (style example 7, spec §11).
//!
//! - `report` never blocks: a full queue drops the message and counts it.
//! - The sender thread runs a small current-thread tokio runtime and sends one message at a time
//!   with [`Sender`]'s bounded retries.
//! - `finish` closes the queue and waits at most [`SendPolicy::drain`] (10 s by default) for what
//!   is still queued; after that the thread is left behind and the process exits without it.
//! - Failures become one warning line at the end ([`DiscordReport::warning`]); nothing here can
//!   change a run's result or exit code.

use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::DiscordEvent;
use crate::report::Reporter;
use crate::run::RunEvent;

use super::compose::{Composer, RunContext};
use super::message::Message;
use super::send::{SendError, Sender};
use super::target::{DiscordSetup, SendPolicy};

/// Messages waiting to be sent. A run sends a few per unit; this only fills when Discord has been
/// unreachable for a long time, and then dropping is the right thing to do.
pub const QUEUE_CAPACITY: usize = 128;

/// What the sender thread has done so far; shared so `finish` can tell even if it gives up
/// waiting.
#[derive(Debug, Default)]
struct Progress {
    sent: usize,
    failed: usize,
    last_failure: Option<SendError>,
}

/// How the Discord side of a run went, for the one warning line and the performance figures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiscordReport {
    /// Messages composed and queued.
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
    /// Dropped because the queue was full.
    pub dropped: usize,
    /// Still queued or being sent when the drain bound ran out.
    pub abandoned: usize,
    /// The last failure, in words (never a secret).
    pub last_failure: Option<String>,
    /// Time the run's thread spent in `report` (composing and queueing).
    pub blocked: Duration,
    /// The longest single `report` call.
    pub slowest: Duration,
    /// Time `finish` waited for the queue to drain.
    pub drained: Duration,
}

impl DiscordReport {
    /// One warning line when any message did not reach Discord, else `None`.
    pub fn warning(&self) -> Option<String> {
        let lost = self.failed + self.dropped + self.abandoned;
        if lost == 0 {
            return None;
        }
        let mut parts = Vec::new();
        if self.failed > 0 {
            let why = self.last_failure.as_deref().unwrap_or("unknown error");
            parts.push(format!("{} failed, last: {why}", self.failed));
        }
        if self.dropped > 0 {
            parts.push(format!("{} dropped from the full queue", self.dropped));
        }
        if self.abandoned > 0 {
            parts.push(format!(
                "{} still queued after waiting {}",
                self.abandoned,
                seconds(self.drained)
            ));
        }
        Some(format!(
            "Discord: {lost} of {} messages not sent ({}); the run's result is not affected",
            self.queued + self.dropped,
            parts.join("; ")
        ))
    }
}

/// Posts a run's milestones to Discord without slowing the run.
pub struct DiscordReporter {
    composer: Composer,
    queue: Option<SyncSender<Message>>,
    done: Receiver<()>,
    progress: Arc<Mutex<Progress>>,
    policy: SendPolicy,
    report: DiscordReport,
    finished: bool,
}

impl DiscordReporter {
    /// Starts the sender thread. Fails only when the thread or its HTTP client cannot start.
    pub fn start(
        setup: DiscordSetup,
        wanted: Vec<DiscordEvent>,
        context: RunContext,
    ) -> Result<DiscordReporter, SendError> {
        let policy = setup.policy;
        let sender = Sender::new(setup)?;
        let (queue, inbox) = mpsc::sync_channel::<Message>(QUEUE_CAPACITY);
        let (done_tx, done) = mpsc::channel();
        let progress = Arc::new(Mutex::new(Progress::default()));
        let shared = progress.clone();
        std::thread::Builder::new()
            .name("teams-discord".into())
            .spawn(move || {
                send_all(sender, &inbox, &shared);
                let _ = done_tx.send(());
            })
            .map_err(|e| SendError::Request(format!("failed to start the Discord thread: {e}")))?;
        Ok(DiscordReporter {
            composer: Composer::new(wanted, context),
            queue: Some(queue),
            done,
            progress,
            policy,
            report: DiscordReport::default(),
            finished: false,
        })
    }

    /// Closes the queue, waits for it to drain (at most the policy's `drain`), and says how it
    /// went. Later calls return the same report.
    pub fn close(&mut self) -> DiscordReport {
        if !self.finished {
            self.finished = true;
            self.queue = None;
            let started = Instant::now();
            let drained = match self.done.recv_timeout(self.policy.drain) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => false,
            };
            self.report.drained = started.elapsed();
            let progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            self.report.sent = progress.sent;
            self.report.failed = progress.failed;
            self.report.last_failure = progress.last_failure.as_ref().map(ToString::to_string);
            self.report.abandoned = if drained {
                0
            } else {
                self.report
                    .queued
                    .saturating_sub(progress.sent + progress.failed)
            };
            tracing::debug!(
                queued = self.report.queued,
                sent = self.report.sent,
                failed = self.report.failed,
                dropped = self.report.dropped,
                abandoned = self.report.abandoned,
                blocked_us = self.report.blocked.as_micros() as u64,
                slowest_us = self.report.slowest.as_micros() as u64,
                drained_ms = self.report.drained.as_millis() as u64,
                "discord reporter closed"
            );
        }
        self.report.clone()
    }
}

impl Reporter for DiscordReporter {
    fn report(&mut self, event: &RunEvent) -> io::Result<()> {
        let started = Instant::now();
        if let Some(queue) = &self.queue {
            for message in self.composer.compose(event) {
                match queue.try_send(message) {
                    Ok(()) => self.report.queued += 1,
                    Err(TrySendError::Full(_)) => self.report.dropped += 1,
                    // The thread ended (it only does when the queue closes, or by a panic):
                    // count the message as dropped rather than fail the run.
                    Err(TrySendError::Disconnected(_)) => self.report.dropped += 1,
                }
            }
        }
        let took = started.elapsed();
        self.report.blocked += took;
        self.report.slowest = self.report.slowest.max(took);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.close();
        Ok(())
    }
}

/// The sender thread's loop: one message at a time until the queue closes and is empty.
fn send_all(mut sender: Sender, inbox: &Receiver<Message>, progress: &Mutex<Progress>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let mut progress = progress.lock().unwrap_or_else(|e| e.into_inner());
            progress.last_failure = Some(SendError::Request(format!(
                "failed to start the async runtime: {err}"
            )));
            progress.failed += inbox.iter().count();
            return;
        }
    };
    for message in inbox {
        let result = runtime.block_on(sender.send(&message));
        let mut progress = progress.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(_) => progress.sent += 1,
            Err(err) => {
                tracing::debug!(error = %err, "a Discord message was not sent");
                progress.failed += 1;
                progress.last_failure = Some(err);
            }
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_loss_means_no_warning() {
        let report = DiscordReport {
            queued: 3,
            sent: 3,
            ..DiscordReport::default()
        };
        assert_eq!(report.warning(), None);
    }

    #[test]
    fn every_kind_of_loss_is_in_one_line() {
        let report = DiscordReport {
            queued: 5,
            sent: 1,
            failed: 2,
            dropped: 1,
            abandoned: 2,
            last_failure: Some("gave up after 4 tries: server error HTTP 500".into()),
            drained: Duration::from_millis(10_000),
            ..DiscordReport::default()
        };
        assert_eq!(
            report.warning().unwrap(),
            "Discord: 5 of 6 messages not sent (2 failed, last: gave up after 4 tries: server \
             error HTTP 500; 1 dropped from the full queue; 2 still queued after waiting 10.0s); \
             the run's result is not affected"
        );
    }
}
