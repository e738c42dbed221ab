//! `prd.json` written on a thread of its own, so the next agent does not wait for the disk.
//!
//! Every write of `prd.json` is atomic (a temporary file flushed to disk, renamed over the
//! original, the directory flushed: `prd::save`), which costs two fsyncs, a few milliseconds on a
//! busy disk. The run store, not `prd.json`, is what `teams` relies on after a crash: a story's
//! result is committed there (synced) before its worker goes on, and `teams resume` writes
//! `prd.json` again from the store (the `story-recorded` kill point proves it). So the dispatcher
//! renders the new file and hands the bytes to this writer, which writes them in order while the
//! next builder starts. When a newer version of the file is queued behind an older one, only the
//! newest is written.
//!
//! The dispatcher stays the only writer of `prd.json`: it renders every version, this thread only
//! puts them on disk. The run waits for the writer ([`PrdWriter::flush`]) before it records its
//! end, and a write that fails stops the run like before (reported as
//! [`WorkerMsg::PrdWriteFailed`]).

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

use crate::prd::write_atomically;

use super::failpoint;
use super::messages::WorkerMsg;

enum Job {
    /// Replace `path` with `bytes`, atomically.
    Replace { path: PathBuf, bytes: Vec<u8> },
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
        let (jobs, queue) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("teams-prd-writer".into())
            .spawn(move || write_loop(&queue, &report))?;
        Ok(PrdWriter {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Queues a new version of `path`.
    pub fn replace(&self, path: PathBuf, bytes: Vec<u8>) {
        self.send(Job::Replace { path, bytes });
    }

    /// Queues the kill point `name` (tests only) behind the writes queued so far.
    pub fn kill_point(&self, name: &'static str) {
        self.send(Job::KillPoint(name));
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

fn write_loop(queue: &std_mpsc::Receiver<Job>, report: &mpsc::UnboundedSender<WorkerMsg>) {
    let mut next = queue.recv().ok();
    while let Some(job) = next.take() {
        match job {
            Job::Replace { path, mut bytes } => {
                // A newer version of the same file already queued makes this one moot.
                loop {
                    match queue.try_recv() {
                        Ok(Job::Replace {
                            path: newer_path,
                            bytes: newer,
                        }) if newer_path == path => bytes = newer,
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if let Err(err) = write_atomically(&path, &bytes) {
                    let _ = report.send(WorkerMsg::PrdWriteFailed { error: err });
                }
            }
            Job::KillPoint(name) => failpoint::hit(name),
            Job::Flush(done) => {
                let _ = done.send(());
            }
        }
        if next.is_none() {
            next = queue.recv().ok();
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
