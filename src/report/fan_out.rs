//! The [`Reporter`] interface and [`FanOut`], which sends every event to several sinks.
//!
//! A failing sink must neither stop the other sinks nor hide its failure: the terminal may have
//! gone away (a closed pipe) while the JSON log is still the record of the run, and a failing JSON
//! log must reach the caller, which cancels the run because it can no longer be recorded.

use std::io;

use crate::run::RunEvent;

/// A sink for the events of a run.
///
/// Calls come from the run loop's own task, one at a time, so implementations do their work
/// inline and must stay quick; a slow sink (Discord) hands events to a task of its own.
pub trait Reporter {
    /// Takes one event.
    fn report(&mut self, event: &RunEvent) -> io::Result<()>;

    /// Called by the loop about every 200 ms, so live displays can redraw elapsed times.
    fn tick(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The run is over (also after an early error): flush, and leave the terminal clean.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends each call to every sink, in order.
///
/// Every sink gets every call even when an earlier one failed; the first error is returned so
/// the caller can decide (the JSON log failing cancels the run, the terminal failing need not).
#[derive(Default)]
pub struct FanOut {
    sinks: Vec<Box<dyn Reporter + Send>>,
}

impl FanOut {
    pub fn new() -> FanOut {
        FanOut::default()
    }

    /// Adds a sink after the ones already there.
    pub fn push(&mut self, sink: Box<dyn Reporter + Send>) {
        self.sinks.push(sink);
    }

    /// Adds a sink, builder style.
    pub fn with(mut self, sink: impl Reporter + Send + 'static) -> FanOut {
        self.push(Box::new(sink));
        self
    }

    pub fn len(&self) -> usize {
        self.sinks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    fn each(
        &mut self,
        mut call: impl FnMut(&mut dyn Reporter) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut first = None;
        for sink in &mut self.sinks {
            if let Err(err) = call(sink.as_mut()) {
                first.get_or_insert(err);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Reporter for FanOut {
    fn report(&mut self, event: &RunEvent) -> io::Result<()> {
        self.each(|sink| sink.report(event))
    }

    fn tick(&mut self) -> io::Result<()> {
        self.each(|sink| sink.tick())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.each(|sink| sink.finish())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::run::EventKind;

    /// Records what it got into a shared log, failing when told to.
    struct Probe {
        name: &'static str,
        fail: bool,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Probe {
        fn record(&mut self, what: &str) -> io::Result<()> {
            self.log
                .lock()
                .unwrap()
                .push(format!("{} {what}", self.name));
            if self.fail {
                Err(io::Error::other(format!("{} is broken", self.name)))
            } else {
                Ok(())
            }
        }
    }

    impl Reporter for Probe {
        fn report(&mut self, _event: &RunEvent) -> io::Result<()> {
            self.record("report")
        }

        fn tick(&mut self) -> io::Result<()> {
            self.record("tick")
        }

        fn finish(&mut self) -> io::Result<()> {
            self.record("finish")
        }
    }

    #[test]
    fn every_sink_gets_every_call_and_the_first_error_is_returned() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let probe = |name, fail| Probe {
            name,
            fail,
            log: log.clone(),
        };
        let mut fan = FanOut::new()
            .with(probe("a", true))
            .with(probe("b", false))
            .with(probe("c", true));
        assert_eq!(fan.len(), 3);
        let event = RunEvent {
            elapsed: Duration::ZERO,
            kind: EventKind::Warning {
                message: "hello".into(),
            },
        };

        let err = fan.report(&event).unwrap_err();
        assert_eq!(err.to_string(), "a is broken");
        let err = fan.tick().unwrap_err();
        assert_eq!(err.to_string(), "a is broken");
        let err = fan.finish().unwrap_err();
        assert_eq!(err.to_string(), "a is broken");

        let log = log.lock().unwrap().join(", ");
        assert_eq!(
            log,
            "a report, b report, c report, a tick, b tick, c tick, a finish, b finish, c finish"
        );
    }

    #[test]
    fn an_empty_fan_out_succeeds() {
        let mut fan = FanOut::new();
        assert!(fan.is_empty());
        assert!(fan.tick().is_ok());
        assert!(fan.finish().is_ok());
    }
}
