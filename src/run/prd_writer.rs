//! `prd.json` written on a thread of its own, while an agent works, so the next agent does not
//! wait for the disk.
//!
//! Every write of `prd.json` is atomic (a temporary file flushed to disk, renamed over the
//! original, the directory flushed: `prd::save`), which costs two fsyncs, a few milliseconds on a
//! busy disk. The run store, not `prd.json`, is what `teams` relies on after a crash: a story's
//! result is committed there (synced) before its worker goes on, and `teams resume` writes
//! `prd.json` again from the store (the `story-recorded` kill point proves it). So the dispatcher
//! renders the new file and hands the bytes to this writer, which holds them until the next agent
//! has started ([`PrdWriter::agent_under_way`]; at most [`HOLD_AT_MOST`]), so the two fsyncs share
//! the disk with an agent at work rather than with the store commit and the git processes that
//! come before the agent's start. When a newer version comes meanwhile, only the newest is
//! written.
//!
//! The dispatcher stays the only writer of `prd.json`: it renders every version, this thread only
//! puts them on disk. The run waits for the writer ([`PrdWriter::flush`]) before it records its
//! end, and a write that fails stops the run like before (reported as
//! [`WorkerMsg::PrdWriteFailed`]).

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::prd::write_atomically;

use super::failpoint;
use super::messages::WorkerMsg;

/// The longest a version waits for an agent to be under way before it is written anyway (a
/// merge's status change while the other units' agents work for minutes).
const HOLD_AT_MOST: Duration = Duration::from_secs(1);

enum Job {
    /// Replace `path` with `bytes`, atomically, once an agent is under way.
    Replace { path: PathBuf, bytes: Vec<u8> },
    /// An agent was started: write what is held now, while it works.
    AgentUnderWay,
    /// A kill point reached once everything queued before it is on disk.
    KillPoint(&'static str),
    /// Answered once everything queued before it is on disk.
    Flush(std_mpsc::Sender<()>),
}

/// The writer thread and the queue to it.
pub(super) struct PrdWriter {
    jobs: Option<std_mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PrdWriter {
    /// Starts the thread; failures are reported to the dispatcher through `report`.
    pub fn start(report: mpsc::UnboundedSender<WorkerMsg>) -> std::io::Result<PrdWriter> {
        Self::start_holding(report, HOLD_AT_MOST)
    }

    /// [`PrdWriter::start`] with another longest hold (tests).
    fn start_holding(
        report: mpsc::UnboundedSender<WorkerMsg>,
        hold_at_most: Duration,
    ) -> std::io::Result<PrdWriter> {
        let (jobs, queue) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("teams-prd-writer".into())
            .spawn(move || write_loop(&queue, &report, hold_at_most))?;
        Ok(PrdWriter {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Queues a new version of `path`.
    pub fn replace(&self, path: PathBuf, bytes: Vec<u8>) {
        self.send(Job::Replace { path, bytes });
    }

    /// An agent process was started (or a `sim` agent ended): a held version is written now,
    /// while nothing of `teams` waits for the disk.
    pub fn agent_under_way(&self) {
        self.send(Job::AgentUnderWay);
    }

    /// Queues the kill point `name` (tests only) behind the writes queued so far.
    pub fn kill_point(&self, name: &'static str) {
        // Unarmed (every real run) it would only cut a version's settling short.
        if failpoint::is_armed(name) {
            self.send(Job::KillPoint(name));
        }
    }

    /// Waits until everything queued so far is on disk (or failed and was reported).
    pub fn flush(&self) {
        let (done, wait) = std_mpsc::channel();
        self.send(Job::Flush(done));
        let _ = wait.recv();
    }

    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // The thread ends only when this sender is dropped, so the queue is always open.
            let _ = jobs.send(job);
        }
    }
}

impl Drop for PrdWriter {
    /// Writes what is queued, then ends the thread.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(
    queue: &std_mpsc::Receiver<Job>,
    report: &mpsc::UnboundedSender<WorkerMsg>,
    hold_at_most: Duration,
) {
    // The newest version not yet written, and since when it waits.
    let mut held: Option<(PathBuf, Vec<u8>, Instant)> = None;
    let write = |held: &mut Option<(PathBuf, Vec<u8>, Instant)>| {
        if let Some((path, bytes, _)) = held.take()
            && let Err(err) = write_atomically(&path, &bytes)
        {
            let _ = report.send(WorkerMsg::PrdWriteFailed { error: err });
        }
    };
    loop {
        let job = match &held {
            None => queue
                .recv()
                .map_err(|_| std_mpsc::RecvTimeoutError::Disconnected),
            Some((_, _, since)) => queue
                .recv_timeout((*since + hold_at_most).saturating_duration_since(Instant::now())),
        };
        match job {
            Ok(Job::Replace { path, bytes }) => {
                // A version not yet written is moot once a newer one comes.
                let since = match held.take() {
                    Some((held_path, _, since)) if held_path == path => since,
                    Some(other) => {
                        write(&mut Some(other));
                        Instant::now()
                    }
                    None => Instant::now(),
                };
                held = Some((path, bytes, since));
            }
            Ok(Job::AgentUnderWay) => write(&mut held),
            Ok(Job::KillPoint(name)) => {
                write(&mut held);
                failpoint::hit(name);
            }
            Ok(Job::Flush(done)) => {
                write(&mut held);
                let _ = done.send(());
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => write(&mut held),
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                write(&mut held);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_in_order_and_the_newest_version_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prd.json");
        std::fs::write(&path, "0").unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let writer = PrdWriter::start(tx).unwrap();
        for n in 1..=50 {
            writer.replace(path.clone(), n.to_string().into_bytes());
        }
        writer.flush();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "50");
        writer.replace(path.clone(), b"51".to_vec());
        drop(writer);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "51");
        assert!(rx.try_recv().is_err(), "no failure was reported");
    }

    /// Polls until `path` holds `want` (generous bound: this waits for a thread, not a timer).
    fn wait_for(path: &std::path::Path, want: &str) {
        for _ in 0..1000 {
            if std::fs::read_to_string(path).unwrap() == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("{} never became {want:?}", path.display());
    }

    #[test]
    fn a_version_is_held_until_an_agent_is_under_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prd.json");
        std::fs::write(&path, "0").unwrap();
        let (tx, _rx) = mpsc::unbounded_channel();
        let writer = PrdWriter::start_holding(tx, Duration::from_secs(3600)).unwrap();
        writer.replace(path.clone(), b"1".to_vec());
        writer.replace(path.clone(), b"2".to_vec());
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "0", "held");
        writer.agent_under_way();
        wait_for(&path, "2");
    }

    #[test]
    fn a_held_version_is_written_after_the_longest_hold_anyway() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prd.json");
        std::fs::write(&path, "0").unwrap();
        let (tx, _rx) = mpsc::unbounded_channel();
        let writer = PrdWriter::start_holding(tx, Duration::from_millis(20)).unwrap();
        writer.replace(path.clone(), b"1".to_vec());
        wait_for(&path, "1");
        drop(writer);
    }

    #[test]
    fn a_failed_write_is_reported_and_the_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("prd.json");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let writer = PrdWriter::start(tx).unwrap();
        writer.replace(path.clone(), b"{}".to_vec());
        writer.flush();
        match rx.try_recv() {
            Ok(WorkerMsg::PrdWriteFailed { error }) => {
                assert_eq!(error.path, path);
            }
            _ => panic!("the failure was not reported"),
        }
        assert!(!path.exists());
    }
}
