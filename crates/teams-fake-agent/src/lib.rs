//! `teams-fake-agent`: a scriptable stand-in for the `claude` CLI, so `teams`' tests run real
//! processes (real pipes, signals, git commits) without credentials or network.
//!
//! Tests symlink the binary as `claude` on `PATH`. It accepts the command line `teams` builds
//! (`-p --output-format stream-json --verbose --permission-mode M --model M`, prompt on stdin),
//! plus `--version` and `auth status`, and prints what the real CLI prints (research §3.3), so the
//! real backend parser is exercised too. What it *does* is read from a JSON script named by
//! `TEAMS_FAKE_SCRIPT`; what it was *asked* is appended to the JSON-lines file named by
//! `TEAMS_FAKE_RECORD`. This library holds both formats as serde types, so a test can build a
//! script in Rust and read the records back with the same definitions the binary uses.
//!
//! # Script
//!
//! ```json
//! {
//!   "rules": [
//!     { "match": { "role": "builder", "story": "US-001", "attempt": 1 },
//!       "steps": [
//!         { "text": "Adding the greeting." },
//!         { "commit": { "path": "hello.txt", "content": "hi\n", "message": "US-001: greet" } },
//!         { "final": "done: hello.txt; evidence: none; risk: low; next: nothing" },
//!         { "result": { "cost_usd": 0.25, "input_tokens": 1200, "output_tokens": 80 } }
//!       ] },
//!     { "match": { "role": "validator" },
//!       "steps": [ { "verdict": { "verdict": "pass", "criteria": [], "feedback": "" } } ] }
//!   ],
//!   "default": { "steps": [ { "exit": 3 } ] }
//! }
//! ```
//!
//! The first rule whose `match` fits runs; `default` runs when none does. Without a script the
//! agent succeeds at once with the final text `ok`; with a script where nothing matches and no
//! `default`, it exits 97 naming what it was asked (so a test with a gap fails loudly). See
//! [`Step`] for every step and `README.md` for more examples.
//!
//! # Records
//!
//! One JSON object per line, tagged by `event`: `start` (written before any step runs, so even an
//! agent that is killed leaves its prompt behind), `grandchild` (each process it spawned) and
//! `end` (only when it exits by itself). [`read_invocations`] folds them into one
//! [`Invocation`] per run.
//!
//! `README.md` next to this crate documents the command line, every step and the record format
//! with examples.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The environment variable naming the script file.
pub const SCRIPT_ENV: &str = "TEAMS_FAKE_SCRIPT";
/// The environment variable naming the record file (JSON lines, appended).
pub const RECORD_ENV: &str = "TEAMS_FAKE_RECORD";
/// Exit code when a script exists but no rule matches and there is no default.
pub const NO_RULE_EXIT: i32 = 97;
/// Exit code when a script step itself fails (bad script, git error): a test bug, not a scenario.
pub const STEP_FAILED_EXIT: i32 = 96;

/// A whole script.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    /// Tried in order; the first match runs.
    pub rules: Vec<Rule>,
    /// Runs when no rule matches (its `match` is ignored).
    pub default: Option<Rule>,
    /// `false` makes `auth status` report logged out and every `-p` run fail the way the real CLI
    /// does without credentials (research §3.4).
    pub logged_in: bool,
    /// Refuse `bypassPermissions` as root unless `IS_SANDBOX=1`, as the real CLI does.
    pub root_check: bool,
    /// The model reported when `--model` is not given.
    pub model: String,
    /// The session id reported (default: derived from the pid and the time).
    pub session_id: Option<String>,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            default: None,
            logged_in: true,
            root_check: true,
            model: "claude-sonnet-4-5".to_owned(),
            session_id: None,
        }
    }
}

impl Script {
    /// A script whose only rule is `default`.
    pub fn always(steps: Vec<Step>) -> Self {
        Self {
            default: Some(Rule::new(steps)),
            ..Self::default()
        }
    }

    pub fn rule(mut self, when: Match, steps: Vec<Step>) -> Self {
        self.rules.push(Rule {
            when,
            ..Rule::new(steps)
        });
        self
    }

    /// Writes the script as JSON to `path`.
    pub fn write_to(&self, path: &Path) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        std::fs::write(path, json)
    }
}

/// One scripted behaviour.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    #[serde(rename = "match")]
    pub when: Match,
    pub steps: Vec<Step>,
    /// Exit code after a normal end (default: 1 when the result is an error, else 0).
    pub exit_code: Option<i32>,
}

impl Rule {
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            when: Match::default(),
            steps,
            exit_code: None,
        }
    }
}

/// What a rule applies to; every field given must match, absent fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Match {
    /// `TEAMS_ROLE`.
    pub role: Option<String>,
    /// `TEAMS_STORY_ID`.
    pub story: Option<String>,
    /// `TEAMS_UNIT_ID`.
    pub unit: Option<String>,
    /// `TEAMS_ATTEMPT`.
    pub attempt: Option<u32>,
    /// 1 for the first invocation with this role, story and attempt, 2 for the next (e.g. a
    /// validator re-asked for its verdict). Counted from the record file, so it needs one.
    pub call: Option<u32>,
    /// A substring of the prompt.
    pub prompt_contains: Option<String>,
}

impl Match {
    pub fn role(role: &str) -> Self {
        Self {
            role: Some(role.to_owned()),
            ..Self::default()
        }
    }

    pub fn story(mut self, story: &str) -> Self {
        self.story = Some(story.to_owned());
        self
    }

    pub fn attempt(mut self, attempt: u32) -> Self {
        self.attempt = Some(attempt);
        self
    }

    pub fn call(mut self, call: u32) -> Self {
        self.call = Some(call);
        self
    }
}

/// One step of a rule. In JSON a step is `{"name": value}`, or a bare string for steps without a
/// value (`"hang"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// An assistant message with one text block.
    Text(String),
    /// An assistant `tool_use` block and its `tool_result` (nothing is executed).
    ToolUse {
        name: String,
        #[serde(default)]
        input: serde_json::Value,
    },
    /// Write a file (relative to the cwd) without committing: leaves the tree dirty.
    Write {
        path: String,
        #[serde(default)]
        content: Option<String>,
    },
    /// Write a file, `git add` it and `git commit` (the `git` binary, in the cwd). Shown as a Write
    /// and a Bash tool use; denied (not done) unless the permission mode allows it.
    Commit {
        path: String,
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    /// Run git with these arguments in the cwd (e.g. `["checkout", "-b", "other"]` or
    /// `["reset", "--hard", "HEAD~1"]`), like a builder that wanders off its branch. Shown as a
    /// Bash tool use; fails the script (exit 96) when git fails.
    Git(Vec<String>),
    /// Append a line to a protected file (default `prd.json`) and commit it, like a rogue builder.
    TouchProtected {
        #[serde(default)]
        path: Option<String>,
    },
    /// The final result text (the last one wins).
    Final(String),
    /// Print this question on stdout and read one line from stdin (the user's terminal in an
    /// interactive session). The answer is recorded and replaces `{{answer}}` in the text of later
    /// `write`, `commit`, `text` and `final` steps.
    Ask(String),
    /// A validator verdict: the final text becomes a short sentence plus this value in a
    /// ```` ```json ```` fence (any JSON, so malformed verdicts can be scripted too).
    Verdict(serde_json::Value),
    /// Adjust the final `result` event.
    Result(ResultSpec),
    /// Print no `result` event at all (an agent that ends without a final message).
    NoResult,
    /// A raw line on stdout (not JSON unless you make it so).
    Stdout(String),
    /// A raw line on stderr.
    Stderr(String),
    /// This many lines of non-JSON noise on stdout.
    Garbage(u32),
    /// `system/api_retry` events, as the CLI prints while its API is unreachable.
    ApiRetry(u32),
    /// Record a permission denial in the result (as if a tool call was refused).
    PermissionDenial(String),
    SleepMs(u64),
    /// Wait until this path exists (polled; gives up after a minute), so a test can hold an
    /// agent at a known point while it acts on the run (e.g. `teams sprint stop`).
    WaitFor(String),
    /// Create this (empty) file, with no output: the counterpart of `WaitFor`, telling a test
    /// the agent got here, every earlier step's output already written to stdout.
    Signal(String),
    /// Sleep forever (until killed).
    Hang,
    /// Ignore SIGTERM from now on (only SIGKILL stops it).
    IgnoreSigterm,
    /// Ignore SIGINT from now on.
    IgnoreSigint,
    /// Spawn a child that sleeps forever in the same process group, holding stdout and stderr
    /// open; its pid is recorded.
    SpawnGrandchild,
    /// Like `spawn_grandchild`, but in its own process group (it escapes a group kill).
    SpawnDetachedGrandchild,
    /// Print `mb` MiB of output.
    Flood(FloodSpec),
    /// Hit the usage limit: print the CLI's message as an error result and exit 1.
    UsageLimit(UsageLimitSpec),
    /// Fail exactly as the CLI does without credentials (research §3.4), exit 1.
    NotLoggedIn,
    /// Exit now with this code, printing nothing more (no result event).
    Exit(i32),
    /// Abort (SIGABRT), printing nothing more.
    Crash,
}

/// Overrides for the final `result` event; absent fields keep their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResultSpec {
    pub text: Option<String>,
    pub is_error: Option<bool>,
    /// `success`, `error_max_turns`, `error_during_execution`, …
    pub subtype: Option<String>,
    pub cost_usd: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub terminal_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSpec {
    pub mb: u64,
    /// `stdout` (default) or `stderr`.
    #[serde(default)]
    pub stream: Option<String>,
    /// Bytes per line including the newline (default 1024). Larger than `mb` gives one line.
    #[serde(default)]
    pub line_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageLimitSpec {
    /// The exact text; default `You've hit your limit · resets 4pm (UTC)` as current CLIs print,
    /// or the older `Claude AI usage limit reached|<epoch>` when `resets_at` is given.
    pub message: Option<String>,
    /// Unix seconds of the reset.
    pub resets_at: Option<u64>,
}

/// One line of the record file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RecordLine {
    Start(Box<Invocation>),
    Grandchild {
        pid: u32,
        child_pid: u32,
    },
    /// The answer an `ask` step read.
    Answer {
        pid: u32,
        text: String,
    },
    End {
        pid: u32,
        end_ms: u64,
        exit_code: i32,
    },
}

/// Everything one run of the fake agent was asked and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Invocation {
    pub pid: u32,
    /// `print` (`-p`), `interactive` (no `-p`), `version` or `auth_status`.
    pub mode: String,
    pub role: String,
    pub story: String,
    pub unit: String,
    /// `TEAMS_ATTEMPT` as given (empty when unset).
    pub attempt: String,
    /// Every argument after the program name.
    pub argv: Vec<String>,
    pub cwd: String,
    /// The prompt: the `-p` argument, or everything read from stdin.
    pub prompt: String,
    /// Every `TEAMS_*` variable and `IS_SANDBOX` it saw.
    pub env: BTreeMap<String, String>,
    /// The rule that ran: its index in `rules`, `default`, `builtin` (no script) or `none`.
    pub rule: String,
    pub start_ms: u64,
    /// Set only when the agent ended by itself (not killed).
    pub end_ms: Option<u64>,
    pub exit_code: Option<i32>,
    pub grandchild_pids: Vec<u32>,
    /// What the user answered to `ask` steps, in order.
    pub answers: Vec<String>,
}

/// Reads a record file into one [`Invocation`] per run, in start order. A missing file means no
/// runs.
pub fn read_invocations(path: &Path) -> io::Result<Vec<Invocation>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    io::Read::read_to_string(&mut io::BufReader::new(file), &mut text)?;
    // Every record is one line ending in a newline, appended with one write; a tail without its
    // newline is another fake's record being written right now (a large prompt spans pages, so
    // a reader can see part of it), not yet a record. Skipping it keeps a concurrent reader (the
    // `call` counter) from failing on it.
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    let mut runs: Vec<Invocation> = Vec::new();
    for line in complete.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let record: RecordLine = serde_json::from_str(line).map_err(io::Error::other)?;
        match record {
            RecordLine::Start(inv) => runs.push(*inv),
            RecordLine::Grandchild { pid, child_pid } => {
                if let Some(run) = latest(&mut runs, pid) {
                    run.grandchild_pids.push(child_pid);
                }
            }
            RecordLine::Answer { pid, text } => {
                if let Some(run) = latest(&mut runs, pid) {
                    run.answers.push(text);
                }
            }
            RecordLine::End {
                pid,
                end_ms,
                exit_code,
            } => {
                if let Some(run) = latest(&mut runs, pid) {
                    run.end_ms = Some(end_ms);
                    run.exit_code = Some(exit_code);
                }
            }
        }
    }
    Ok(runs)
}

/// The latest run with this pid: pids are reused over a long test, and a later event always belongs
/// to the most recent start.
fn latest(runs: &mut [Invocation], pid: u32) -> Option<&mut Invocation> {
    runs.iter_mut().rev().find(|r| r.pid == pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that catches another fake mid-write sees every complete record and not the torn
    /// tail (the `call` counter once read such a file as empty and replayed a scripted failure).
    #[test]
    fn a_record_being_written_is_not_read_yet() {
        let dir = std::env::temp_dir().join(format!("fake-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("record.jsonl");
        let first = Invocation {
            pid: 1,
            role: "builder".into(),
            ..Invocation::default()
        };
        let mut text = serde_json::to_string(&RecordLine::Start(Box::new(first))).unwrap();
        text.push('\n');
        let second = serde_json::to_string(&RecordLine::Start(Box::new(Invocation {
            pid: 2,
            ..Invocation::default()
        })))
        .unwrap();
        text.push_str(&second[..second.len() / 2]);
        std::fs::write(&path, &text).unwrap();
        let runs = read_invocations(&path).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].pid, 1);
        // Once the line is complete it is read.
        text.push_str(&second[second.len() / 2..]);
        text.push('\n');
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_invocations(&path).unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
