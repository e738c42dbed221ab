//! Output parsers, one per CLI output format; all pure and line by line.

mod claude;
mod codex;
mod copilot;
mod gemini;
mod json;
mod opencode;
mod text;

pub use claude::ClaudeStreamParser;
pub use codex::CodexJsonParser;
pub use copilot::CopilotJsonParser;
pub use gemini::GeminiJsonParser;
pub use opencode::OpencodeJsonParser;
pub use text::PlainTextParser;
