//! The one error type every command returns: a kind (which decides the exit code), a message, a
//! cause chain and hints that name the next thing to type.
//!
//! Module errors stay specific (`thiserror` enums next to the code that fails); the `From` impls at
//! the bottom of this file are the single place that decides which kind and which hints each of them
//! gets, so the mapping from failure to exit code is reviewed in one spot.

use std::error::Error as StdError;
use std::fmt;

use crate::exit_code;

/// What went wrong, in the terms of the exit-code table (spec §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad flag or a bad `teams.toml`.
    Usage,
    /// `prd.json` or `backlog.json` cannot be used.
    InvalidInput,
    /// Not a git repository, a tool missing, an agent not logged in.
    Environment,
    /// The run finished with failed or blocked work.
    RunFailed,
    /// The run was interrupted and can be resumed.
    Interrupted,
    /// The budget was reached.
    BudgetReached,
    /// A bug in `teams`.
    Internal,
}

impl ErrorKind {
    /// The process exit code for this kind (spec §10).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage => exit_code::USAGE,
            ErrorKind::InvalidInput => exit_code::INVALID_INPUT,
            ErrorKind::Environment => exit_code::ENVIRONMENT,
            ErrorKind::RunFailed => exit_code::RUN_FAILED,
            ErrorKind::Interrupted => exit_code::INTERRUPTED,
            ErrorKind::BudgetReached => exit_code::BUDGET_REACHED,
            ErrorKind::Internal => exit_code::INTERNAL,
        }
    }
}

/// The error every command returns.
#[derive(Debug)]
pub struct TeamsError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    details: Vec<String>,
    hints: Vec<String>,
}

impl TeamsError {
    /// A new error of `kind`; `message` reads after "error: ".
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        TeamsError {
            kind,
            message: message.into(),
            source: None,
            details: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// An invalid-input error (exit 3).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// An environment error (exit 4).
    pub fn environment(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Environment, message)
    }

    /// An internal error (exit 1): a bug.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Attaches the underlying cause, shown as "caused by:".
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Adds a line of detail shown under the message (e.g. one validation problem).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }

    /// Adds a hint, shown as "hint: …"; hints name the next command to type.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn details(&self) -> &[String] {
        &self.details
    }

    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    /// The messages of the cause chain, outermost first, with repeats removed (many errors repeat
    /// their source's text in their own message).
    pub fn causes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut next: Option<&(dyn StdError + 'static)> = self.source.as_deref().map(|e| e as _);
        while let Some(err) = next {
            let text = err.to_string();
            if !text.is_empty() && !self.message.contains(&text) && out.last() != Some(&text) {
                out.push(text);
            }
            next = err.source();
        }
        out
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for TeamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TeamsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Results of the command layer.
pub type Result<T, E = TeamsError> = std::result::Result<T, E>;

impl From<crate::config::ConfigError> for TeamsError {
    fn from(err: crate::config::ConfigError) -> Self {
        let mut error = TeamsError::usage(err.to_string());
        if let Some(hint) = err.hint() {
            error = error.with_hint(hint.to_owned());
        }
        error.with_source(err)
    }
}

/// A prompt override is part of the project's configuration, so a bad one is a usage error.
impl From<crate::roles::PromptError> for TeamsError {
    fn from(err: crate::roles::PromptError) -> Self {
        TeamsError::usage(err.to_string())
            .with_hint(err.hint())
            .with_source(err)
    }
}

/// A conversation prompt override is project configuration too.
impl From<crate::roles::ConversationPromptError> for TeamsError {
    fn from(err: crate::roles::ConversationPromptError) -> Self {
        TeamsError::usage(err.to_string())
            .with_hint("fix the file or remove it to use the built-in prompt (docs/prompts.md)")
            .with_source(err)
    }
}
