//! Plain text output (`command` backends with `output = "text"`): every stdout line is progress
//! text, and all of them together are the final message.

use crate::agent::event::{AgentEvent, FinalReport};
use crate::agent::parser::OutputParser;

/// Collects stdout; the whole of it becomes the final report at the end.
#[derive(Debug, Default)]
pub struct PlainTextParser {
    text: String,
}

impl PlainTextParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl OutputParser for PlainTextParser {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        self.text.push_str(line);
        self.text.push('\n');
        if line.trim().is_empty() {
            Vec::new()
        } else {
            vec![AgentEvent::Text(line.to_owned())]
        }
    }

    fn finish(&mut self) -> Vec<AgentEvent> {
        let text = std::mem::take(&mut self.text);
        vec![AgentEvent::Final(FinalReport {
            text: text.trim_end().to_owned(),
            ..FinalReport::default()
        })]
    }
}
