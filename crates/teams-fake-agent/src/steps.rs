//! Running a rule's steps: the behaviours a test scripts (commits, output, hangs, signals, floods,
//! failures), each shown in the output the way Claude Code would show it.

use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use teams_fake_agent::{FloodSpec, RecordLine, STEP_FAILED_EXIT, Step, UsageLimitSpec};

use crate::out::{Emitter, Format, ResultState, line_err, line_out};
use crate::{Context, sys};

/// What the CLI prints when it is not logged in (research §3.4).
pub const NOT_LOGGED_IN: &str = "Not logged in · Please run /login";

/// How the steps ended.
pub enum Ending {
    /// All steps ran: print the result and exit normally.
    Finished,
    /// A step ended the process with this code (the result, if any, was already printed).
    Exit(i32),
}

pub struct Runner<'a> {
    pub ctx: &'a Context,
    pub emit: Emitter,
    pub result: ResultState,
    /// The user's last answer to an `ask` step; replaces `{{answer}}` in later steps' text.
    pub answer: String,
}

impl Runner<'_> {
    pub fn run(&mut self, steps: &[Step]) -> Ending {
        for step in steps {
            if let Some(ending) = self.step(step) {
                return ending;
            }
        }
        Ending::Finished
    }

    fn step(&mut self, step: &Step) -> Option<Ending> {
        let step = &self.with_answer(step);
        match step {
            Step::Text(text) => self.emit.text(text),
            Step::ToolUse { name, input } => {
                self.emit.tool(name, input.clone(), "ok", false);
            }
            Step::Write { path, content } => {
                let content = content
                    .clone()
                    .unwrap_or_else(|| format!("written by {path}\n"));
                if self.allowed("Write", path) {
                    self.write_file(path, &content, false);
                }
            }
            Step::Commit {
                path,
                content,
                message,
            } => {
                let content = content
                    .clone()
                    .unwrap_or_else(|| format!("committed {path}\n"));
                let message = message
                    .clone()
                    .unwrap_or_else(|| format!("fake: add {path}"));
                if self.allowed("Write", path) {
                    self.write_file(path, &content, false);
                    self.commit(path, &message);
                }
            }
            Step::Git(args) => {
                let command = format!("git {}", args.join(" "));
                if self.allowed("Bash", &command) {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let output = run_git(&self.ctx.cwd, &args);
                    self.emit.tool(
                        "Bash",
                        json!({"command": command, "description": "Run git"}),
                        &output,
                        false,
                    );
                }
            }
            Step::TouchProtected { path } => {
                let path = path.as_deref().unwrap_or("prd.json");
                if self.allowed("Edit", path) {
                    // A trailing newline keeps a JSON file valid while still changing it.
                    self.write_file(path, "\n", true);
                    self.commit(path, &format!("fake: touch {path}"));
                }
            }
            Step::Final(text) => self.result.text.clone_from(text),
            Step::Ask(question) => {
                line_out(question);
                let mut line = String::new();
                if let Err(e) = io::stdin().read_line(&mut line) {
                    fail(&format!("failed to read an answer from stdin: {e}"));
                }
                self.answer = line.trim_end_matches(['\r', '\n']).to_owned();
                self.ctx.record(&RecordLine::Answer {
                    pid: std::process::id(),
                    text: self.answer.clone(),
                });
            }
            Step::Verdict(value) => {
                let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
                self.result.text = format!("Validation complete.\n\n```json\n{pretty}\n```");
            }
            Step::Result(spec) => {
                let r = &mut self.result;
                if let Some(v) = &spec.text {
                    r.text.clone_from(v);
                }
                if let Some(v) = spec.is_error {
                    r.is_error = v;
                }
                if let Some(v) = &spec.subtype {
                    r.subtype.clone_from(v);
                }
                if let Some(v) = spec.cost_usd {
                    r.cost_usd = v;
                }
                if let Some(v) = spec.input_tokens {
                    r.input_tokens = v;
                }
                if let Some(v) = spec.output_tokens {
                    r.output_tokens = v;
                }
                if let Some(v) = &spec.terminal_reason {
                    r.terminal_reason.clone_from(v);
                }
            }
            Step::NoResult => self.result.suppressed = true,
            Step::Stdout(line) => line_out(line),
            Step::Stderr(line) => line_err(line),
            Step::Garbage(n) => {
                for i in 0..*n {
                    line_out(&format!("<<garbage line {i}: not json {{{{ ]]"));
                }
            }
            Step::ApiRetry(n) => {
                for attempt in 1..=*n {
                    self.emit.api_retry(attempt);
                }
            }
            Step::PermissionDenial(tool) => self.deny(tool, json!({})),
            Step::SleepMs(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Step::WaitFor(path) => {
                let deadline = std::time::Instant::now() + Duration::from_secs(60);
                while !std::path::Path::new(path).exists() && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Step::Signal(path) => {
                if let Err(e) = std::fs::write(path, "") {
                    fail(&format!("failed to write {path}: {e}"));
                }
            }
            Step::Hang => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Step::IgnoreSigterm => sys::ignore(sys::SIGTERM),
            Step::IgnoreSigint => sys::ignore(sys::SIGINT),
            Step::SpawnGrandchild => self.spawn_grandchild(false),
            Step::SpawnDetachedGrandchild => self.spawn_grandchild(true),
            Step::Flood(spec) => flood(spec),
            Step::UsageLimit(spec) => return Some(self.usage_limit(spec)),
            Step::NotLoggedIn => return Some(self.not_logged_in()),
            Step::Exit(code) => return Some(Ending::Exit(*code)),
            Step::Crash => std::process::abort(),
        }
        None
    }

    /// Applies the permission mode the way `-p` does: a refused tool call is not an error, it is
    /// silently listed in `permission_denials` (research §3.3).
    fn allowed(&mut self, tool: &str, target: &str) -> bool {
        // Interactive sessions have a user to approve each call; only `-p` runs are refused.
        let ok = !self.ctx.print
            || match self.ctx.permission_mode.as_str() {
                "bypassPermissions" | "auto" => true,
                // acceptEdits grants file edits, not shell commands such as `git commit`.
                "acceptEdits" => tool != "Bash",
                _ => false,
            };
        if !ok {
            let input = if tool == "Bash" {
                json!({"command": target})
            } else {
                json!({"file_path": target})
            };
            self.deny(tool, input);
        }
        ok
    }

    fn deny(&mut self, tool: &str, input: serde_json::Value) {
        let msg =
            format!("Claude requested permissions to use {tool}, but you haven't granted it yet.");
        let id = self.emit.tool(tool, input.clone(), &msg, true);
        self.result
            .permission_denials
            .push(json!({"tool_name": tool, "tool_use_id": id, "tool_input": input}));
    }

    /// `step` with `{{answer}}` replaced in the text it writes or prints.
    fn with_answer(&self, step: &Step) -> Step {
        let fill = |text: &String| text.replace("{{answer}}", &self.answer);
        match step {
            Step::Write { path, content } => Step::Write {
                path: path.clone(),
                content: content.as_ref().map(fill),
            },
            Step::Commit {
                path,
                content,
                message,
            } => Step::Commit {
                path: path.clone(),
                content: content.as_ref().map(fill),
                message: message.clone(),
            },
            Step::Final(text) => Step::Final(fill(text)),
            Step::Text(text) => Step::Text(fill(text)),
            other => other.clone(),
        }
    }

    fn write_file(&mut self, path: &str, content: &str, append: bool) {
        let full = Path::new(&self.ctx.cwd).join(path);
        let written = (|| -> io::Result<()> {
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(&full)?;
            f.write_all(content.as_bytes())
        })();
        if let Err(e) = written {
            fail(&format!("failed to write {}: {e}", full.display()));
        }
        let tool = if append { "Edit" } else { "Write" };
        self.emit.tool(
            tool,
            json!({"file_path": full, "content": content}),
            &format!("File created successfully at: {}", full.display()),
            false,
        );
    }

    fn commit(&mut self, path: &str, message: &str) {
        let command = format!("git add -- {path} && git commit -m {message:?}");
        if !self.allowed("Bash", &command) {
            return;
        }
        run_git(&self.ctx.cwd, &["add", "--", path]);
        let output = run_git(&self.ctx.cwd, &["commit", "-q", "-m", message]);
        self.emit.tool(
            "Bash",
            json!({"command": command, "description": "Commit the change"}),
            &output,
            false,
        );
    }

    fn spawn_grandchild(&mut self, detached: bool) {
        let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("no current exe: {e}")));
        let mut cmd = Command::new(exe);
        // stdout and stderr are inherited on purpose: the grandchild holds the agent's pipes open,
        // which is exactly what the supervisor must cope with.
        cmd.arg(crate::GRANDCHILD_ARG).stdin(Stdio::null());
        if detached {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| fail(&format!("failed to spawn a grandchild: {e}")));
        self.ctx.record(&RecordLine::Grandchild {
            pid: std::process::id(),
            child_pid: child.id(),
        });
        // Not waited for: it must outlive this step (and, if nobody kills it, this process).
        std::mem::forget(child);
    }

    fn usage_limit(&mut self, spec: &UsageLimitSpec) -> Ending {
        let message = match (&spec.message, spec.resets_at) {
            (Some(m), _) => m.clone(),
            (None, Some(at)) => format!("Claude AI usage limit reached|{at}"),
            (None, None) => "You've hit your limit · resets 4pm (UTC)".to_owned(),
        };
        self.fail_like_the_cli(&message, "rate_limit")
    }

    fn not_logged_in(&mut self) -> Ending {
        self.fail_like_the_cli(NOT_LOGGED_IN, "authentication_failed")
    }

    /// An API-level failure: a synthetic assistant message carrying the error, then an error
    /// result with the same text, exit 1. In text mode only the text is printed.
    fn fail_like_the_cli(&mut self, message: &str, error: &str) -> Ending {
        self.emit.assistant(
            vec![json!({"type": "text", "text": message})],
            Some(error),
            Some("<synthetic>"),
        );
        self.result.text = message.to_owned();
        self.result.is_error = true;
        self.result.terminal_reason = "api_error".to_owned();
        self.result.cost_usd = 0.0;
        self.result.input_tokens = 0;
        self.result.output_tokens = 0;
        let now = crate::now_ms();
        self.emit.result(&self.result, now);
        Ending::Exit(1)
    }
}

/// Runs git in `cwd`, failing the fake (exit 96) when git fails: a scripted commit that cannot be
/// made is a broken test, and saying so beats a confusing verification failure later.
fn run_git(cwd: &str, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.current_dir(cwd);
    // A fresh CI machine has no identity; a test should not fail on "Please tell me who you are".
    let has_identity = Command::new("git")
        .current_dir(cwd)
        .args(["config", "user.email"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_identity {
        cmd.args([
            "-c",
            "user.name=Fake Agent",
            "-c",
            "user.email=fake-agent@localhost",
        ]);
    }
    let output = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| fail(&format!("failed to run git: {e}")));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        fail(&format!(
            "`git {}` failed in {cwd}: {}",
            args.join(" "),
            text.trim()
        ));
    }
    text
}

fn flood(spec: &FloodSpec) {
    let total = spec.mb * 1024 * 1024;
    let line_bytes = spec.line_bytes.unwrap_or(1024).clamp(2, total.max(2));
    let mut line = vec![b'x'; usize::try_from(line_bytes).unwrap_or(1024)];
    let last = line.len() - 1;
    line[last] = b'\n';
    let to_stderr = spec.stream.as_deref() == Some("stderr");
    let mut sink: Box<dyn Write> = if to_stderr {
        Box::new(io::BufWriter::with_capacity(1 << 20, io::stderr().lock()))
    } else {
        Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout().lock()))
    };
    let mut left = total;
    while left > 0 {
        let n = left.min(line_bytes);
        let n_usize = usize::try_from(n).unwrap_or(line.len());
        let chunk = if n == line_bytes {
            &line[..]
        } else {
            // The last, shorter line still ends with a newline.
            line[n_usize - 1] = b'\n';
            &line[..n_usize]
        };
        if sink.write_all(chunk).is_err() {
            return;
        }
        left -= n;
    }
    let _ = sink.flush();
}

/// Reports a broken script or environment and exits 96.
pub fn fail(message: &str) -> ! {
    line_err(&format!("teams-fake-agent: {message}"));
    std::process::exit(STEP_FAILED_EXIT)
}

impl Format {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            "stream-json" => Some(Self::StreamJson),
            _ => None,
        }
    }
}
