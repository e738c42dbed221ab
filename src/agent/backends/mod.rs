//! The built-in backends, one file per CLI, and the `command` backend.

mod claude;
mod codex;
mod command;
mod copilot;
mod gemini;
mod opencode;

pub use claude::Claude;
pub use codex::Codex;
pub use command::{CommandBackend, CommandBackendConfig, Output};
pub use copilot::Copilot;
pub use gemini::Gemini;
pub use opencode::Opencode;

#[cfg(test)]
mod tests;
