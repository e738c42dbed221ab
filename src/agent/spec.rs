//! `CommandSpec`: everything needed to start one agent process, built by a backend and consumed by
//! the supervisor. Keeping it plain data lets tests assert on exact command lines without spawning.

use std::ffi::OsString;
use std::path::PathBuf;

/// What the child's stdin gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdinInput {
    /// `/dev/null`: the default, because some CLIs block while stdin is an open pipe.
    Null,
    /// These bytes, then EOF (the prompt, for CLIs that read it from stdin).
    Bytes(Vec<u8>),
}

/// A fully resolved command line for one agent process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Variables added to (or overriding) the inherited environment.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: PathBuf,
    pub stdin: StdinInput,
}
