//! What the supervisor observed about one finished agent process: the raw facts, before any
//! judgement. Backends and the generic classifier read it to decide the [`FailureClass`].
//!
//! [`FailureClass`]: super::FailureClass

use std::time::Duration;

use super::event::FinalReport;

/// Which timeout fired, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Wall,
    Idle,
}

/// The facts about one agent process after it ended.
#[derive(Debug, Clone, Default)]
pub struct ProcessOutcome {
    /// The error from spawning, when the process never started (e.g. not on `PATH`).
    pub spawn_error: Option<String>,
    pub pid: Option<u32>,
    /// Exit code, when the process exited normally.
    pub exit_code: Option<i32>,
    /// The signal that killed the process, if any.
    pub signal: Option<i32>,
    /// Set when `teams` stopped the process because a timeout fired.
    pub timeout: Option<TimeoutKind>,
    /// Set when `teams` stopped the process because it was asked to (cancel handle).
    pub cancelled: bool,
    /// The last final report the parser produced, if any.
    pub final_report: Option<FinalReport>,
    /// Every error message the parser saw in the stream, in order (capped).
    pub stream_errors: Vec<String>,
    /// The last lines of stdout and stderr (capped), kept as evidence.
    pub stdout_tail: String,
    pub stderr_tail: String,
    /// Bytes of output seen (stdout + stderr).
    pub output_bytes: u64,
    /// Lines longer than the supervisor's cap: the parser saw only their beginning (the transcript
    /// has them whole).
    pub truncated_lines: u64,
    /// Writing the transcript failed (e.g. disk full); the agent ran on, but its log is incomplete.
    pub transcript_error: Option<String>,
    pub duration: Duration,
}
