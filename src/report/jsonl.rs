//! The run's events as JSON lines: one object per event, a format version first.
//!
//! This is the record of a run for other tools (`teams logs --json`, scripts, the Discord task),
//! so each line is written whole and flushed at once: a crash of `teams` loses at most the event
//! being written, and a reader following the file never sees half an event.

use std::io::{self, Write};

use serde::Serialize;

use super::Reporter;
use crate::run::RunEvent;

/// The `v` field of every line. Bump it when a field changes meaning or goes away; new fields and
/// new event names do not need a bump, so readers must ignore what they do not know.
pub const JSONL_VERSION: u32 = 1;

/// Writes each event as `{"v":1,"elapsed_ms":…,"event":"story_finished",…}` and a newline.
pub struct JsonLinesReporter<W: Write> {
    out: W,
    line: Vec<u8>,
}

#[derive(Serialize)]
struct Line<'a> {
    v: u32,
    #[serde(flatten)]
    event: &'a RunEvent,
}

impl<W: Write> JsonLinesReporter<W> {
    pub fn new(out: W) -> JsonLinesReporter<W> {
        JsonLinesReporter {
            out,
            line: Vec::new(),
        }
    }

    /// The writer back, for tests and for callers that want to close it themselves.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Reporter for JsonLinesReporter<W> {
    fn report(&mut self, event: &RunEvent) -> io::Result<()> {
        // Serialised into a buffer first so the writer gets the line in one piece.
        self.line.clear();
        let line = Line {
            v: JSONL_VERSION,
            event,
        };
        serde_json::to_writer(&mut self.line, &line).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::agent::Role;
    use crate::prd::{EpicStatus, StoryId};
    use crate::run::{EventKind, UnitId};

    fn event(ms: u64, kind: EventKind) -> RunEvent {
        RunEvent {
            elapsed: Duration::from_millis(ms),
            kind,
        }
    }

    #[test]
    fn each_event_is_one_versioned_json_line() {
        let mut reporter = JsonLinesReporter::new(Vec::new());
        let events = [
            event(
                5,
                EventKind::AgentStarted {
                    unit: UnitId::new("EPIC-1"),
                    story: Some(StoryId::new("US-1")),
                    role: Role::Builder,
                    attempt: 1,
                    backend: "claude".into(),
                    model: None,
                },
            ),
            event(
                1500,
                EventKind::UnitFinished {
                    unit: UnitId::new("EPIC-1"),
                    status: EpicStatus::MergeFailed,
                    reason: Some("conflict in\nsrc/lib.rs".into()),
                },
            ),
        ];
        for e in &events {
            reporter.report(e).unwrap();
        }
        reporter.finish().unwrap();
        let text = String::from_utf8(reporter.into_inner()).unwrap();

        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with(r#"{"v":1,"elapsed_ms":5,"event":"agent_started","#));
        let parsed: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed[0]["event"], "agent_started");
        assert_eq!(parsed[0]["role"], "builder");
        assert_eq!(parsed[0]["story"], "US-1");
        assert_eq!(parsed[1]["v"], 1);
        assert_eq!(parsed[1]["event"], "unit_finished");
        assert_eq!(parsed[1]["status"], "merge-failed");
        assert_eq!(parsed[1]["elapsed_ms"], 1500);
        assert_eq!(parsed[1]["reason"], "conflict in\nsrc/lib.rs");
    }

    /// A writer that counts flushes, to show every event reaches the file at once.
    struct Flushes {
        written: Vec<u8>,
        flushes: usize,
    }

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn every_event_is_flushed() {
        let mut reporter = JsonLinesReporter::new(Flushes {
            written: Vec::new(),
            flushes: 0,
        });
        let warning = event(
            0,
            EventKind::Warning {
                message: "x".into(),
            },
        );
        reporter.report(&warning).unwrap();
        reporter.report(&warning).unwrap();
        let out = reporter.into_inner();
        assert_eq!(out.flushes, 2);
        assert_eq!(
            String::from_utf8(out.written).unwrap(),
            "{\"v\":1,\"elapsed_ms\":0,\"event\":\"warning\",\"message\":\"x\"}\n".repeat(2)
        );
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_reaches_the_caller() {
        let mut reporter = JsonLinesReporter::new(Broken);
        let err = reporter
            .report(&event(
                0,
                EventKind::Warning {
                    message: "x".into(),
                },
            ))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }
}
