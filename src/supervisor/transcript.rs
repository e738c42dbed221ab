//! The transcript: every raw byte an agent printed, appended to its log file (spec §3, §12).
//!
//! Writes go through a plain buffered `std::fs::File` from the async task on purpose: appending to
//! the page cache takes microseconds, while `tokio::fs` would hop to the blocking pool for every
//! chunk, which costs more than the write at the rates a flooding agent reaches. A write error does
//! not stop the agent (the run's decisions come from git, not from the log); it is recorded once and
//! later writes are skipped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

#[derive(Debug)]
pub(crate) struct Transcript {
    file: Option<BufWriter<File>>,
    error: Option<String>,
}

impl Transcript {
    /// No transcript: output is parsed and counted but not kept.
    pub(crate) fn none() -> Self {
        Self {
            file: None,
            error: None,
        }
    }

    /// Opens `path` for appending, creating missing parent directories. Appending (not truncating)
    /// means a re-run that reuses a name never destroys an earlier transcript.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Some(BufWriter::with_capacity(64 * 1024, file)),
            error: None,
        })
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if let Some(file) = &mut self.file
            && let Err(e) = file.write_all(bytes)
        {
            self.fail(&e);
        }
    }

    /// Flushes and returns the first write error, if any.
    pub(crate) fn finish(mut self) -> Option<String> {
        if let Some(mut file) = self.file.take()
            && let Err(e) = file.flush()
        {
            self.fail(&e);
        }
        self.error
    }

    fn fail(&mut self, e: &io::Error) {
        self.error = Some(format!("failed to write the transcript: {e}"));
        self.file = None;
    }
}
