//! Where output goes once it is read: raw bytes to the transcript, lines to the parser and the
//! evidence tails, parser events to the caller's callback and the outcome.
//!
//! Kept apart from the process loop so the loop only deals with processes, pipes and timers.

use crate::agent::{AgentEvent, FinalReport, OutputParser};

use super::lines::{Piece, TailBuffer};
use super::process::GiveUp;
use super::transcript::Transcript;

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

pub(crate) struct Collector<F> {
    parser: Box<dyn OutputParser>,
    on_event: F,
    transcript: Transcript,
    stdout_tail: TailBuffer,
    stderr_tail: TailBuffer,
    final_report: Option<FinalReport>,
    stream_errors: Vec<String>,
    max_stream_errors: usize,
    truncated_lines: u64,
    give_up: Option<GiveUp>,
    /// Matching retries in a row (see [`GiveUp`]).
    vain_retries: u32,
}

/// What the collector gathered, handed to the outcome at the end.
pub(crate) struct Collected {
    pub(crate) final_report: Option<FinalReport>,
    pub(crate) stream_errors: Vec<String>,
    pub(crate) stdout_tail: String,
    pub(crate) stderr_tail: String,
    pub(crate) truncated_lines: u64,
    pub(crate) transcript_error: Option<String>,
}

impl<F: FnMut(&AgentEvent)> Collector<F> {
    pub(crate) fn new(
        parser: Box<dyn OutputParser>,
        on_event: F,
        transcript: Transcript,
        tail_bytes: usize,
        max_stream_errors: usize,
        give_up: Option<GiveUp>,
    ) -> Self {
        Self {
            parser,
            on_event,
            transcript,
            stdout_tail: TailBuffer::new(tail_bytes),
            stderr_tail: TailBuffer::new(tail_bytes),
            final_report: None,
            stream_errors: Vec::new(),
            max_stream_errors,
            truncated_lines: 0,
            give_up,
            vain_retries: 0,
        }
    }

    /// Whether the agent retried in vain often enough to be stopped.
    pub(crate) fn gave_up(&self) -> bool {
        self.give_up
            .as_ref()
            .is_some_and(|rule| self.vain_retries >= rule.after)
    }

    /// Counts a retry that matches the give-up rule (keeping its message as evidence); any other
    /// retry breaks the run of them.
    fn count_retry(&mut self, message: &str) {
        let Some(rule) = &self.give_up else { return };
        let lower = message.to_lowercase();
        if rule.patterns.iter().any(|p| lower.contains(p)) {
            self.vain_retries += 1;
            if self.stream_errors.len() < self.max_stream_errors {
                self.stream_errors.push(message.to_owned());
            }
        } else {
            self.vain_retries = 0;
        }
    }

    pub(crate) fn piece(&mut self, stream: Stream, piece: Piece<'_>) {
        match piece {
            Piece::Raw(bytes) => self.transcript.write(bytes),
            Piece::Line { text, truncated } => {
                if truncated {
                    self.truncated_lines += 1;
                }
                let line = String::from_utf8_lossy(text);
                let events = match stream {
                    Stream::Stdout => {
                        self.stdout_tail.push_line(text);
                        self.parser.stdout_line(&line)
                    }
                    Stream::Stderr => {
                        self.stderr_tail.push_line(text);
                        self.parser.stderr_line(&line)
                    }
                };
                self.dispatch(events);
            }
        }
    }

    /// End of all output: lets an accumulating parser emit its final report.
    pub(crate) fn finish(mut self) -> Collected {
        let events = self.parser.finish();
        self.dispatch(events);
        Collected {
            final_report: self.final_report,
            stream_errors: self.stream_errors,
            stdout_tail: self.stdout_tail.to_text(),
            stderr_tail: self.stderr_tail.to_text(),
            truncated_lines: self.truncated_lines,
            transcript_error: self.transcript.finish(),
        }
    }

    fn dispatch(&mut self, events: Vec<AgentEvent>) {
        for event in events {
            match &event {
                // A CLI prints at most one final report; should one print more, the last one wins.
                AgentEvent::Final(report) => self.final_report = Some(report.clone()),
                AgentEvent::Error { message }
                    if self.stream_errors.len() < self.max_stream_errors =>
                {
                    self.stream_errors.push(message.clone());
                }
                AgentEvent::Retry { message } => self.count_retry(message),
                _ => {}
            }
            (self.on_event)(&event);
        }
    }
}
