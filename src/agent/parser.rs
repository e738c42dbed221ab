//! The streaming parser interface: the supervisor feeds each output line to a backend's parser as
//! the line arrives, so nothing is buffered whole and progress can be shown live.

use super::event::AgentEvent;

/// Turns one CLI's output, line by line, into normalised [`AgentEvent`]s. Implementations are pure
/// (no I/O) so they can be tested against fixture files.
pub trait OutputParser: Send {
    /// One line of stdout, without its line ending. Lines that are not understood yield nothing.
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent>;

    /// One line of stderr, without its line ending.
    fn stderr_line(&mut self, _line: &str) -> Vec<AgentEvent> {
        Vec::new()
    }

    /// End of output: a parser that accumulates (plain text) emits its final report here.
    fn finish(&mut self) -> Vec<AgentEvent> {
        Vec::new()
    }
}
