//! The `teams-fake-agent` binary: pretends to be `claude` (see the library docs and `README.md` for
//! the script and record formats).
//!
//! It checks its command line the way the real CLI does (unknown options, `stream-json` without
//! `--verbose`, bypass modes as root), so a wrong command line built by `teams` fails a test here
//! instead of failing a user's first real run.

mod out;
mod steps;
mod sys;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use teams_fake_agent::{
    Invocation, Match, NO_RULE_EXIT, RECORD_ENV, RecordLine, Rule, SCRIPT_ENV, Script, Step,
    read_invocations,
};

use crate::out::{Emitter, Format, ResultState, line_err, line_out};
use crate::steps::{Ending, Runner, fail};

/// The Claude Code version the fake claims to be (the one measured in research §3.1).
pub const VERSION: &str = "2.1.330";
/// The hidden first argument that turns the process into a sleeping grandchild.
pub const GRANDCHILD_ARG: &str = "__teams_fake_grandchild";

const PERMISSION_MODES: &[&str] = &[
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "default",
    "dontAsk",
    "manual",
    "plan",
];
/// Options of the real CLI that take a value; accepted and ignored unless listed in `parse_args`.
const VALUE_OPTIONS: &[&str] = &[
    "--add-dir",
    "--agents",
    "--allowedTools",
    "--allowed-tools",
    "--append-system-prompt",
    "--disallowedTools",
    "--disallowed-tools",
    "--effort",
    "--fallback-model",
    "--input-format",
    "--json-schema",
    "--max-budget-usd",
    "--max-turns",
    "--mcp-config",
    "--permission-prompts",
    "--resume",
    "-r",
    "--session-id",
    "--setting-sources",
    "--settings",
    "--system-prompt",
    "--tools",
];
/// Flags of the real CLI without a value, accepted and ignored.
const BOOL_OPTIONS: &[&str] = &[
    "--bare",
    "--continue",
    "-c",
    "--debug",
    "--include-partial-messages",
    "--no-session-persistence",
    "--strict-mcp-config",
];

/// What the steps need to know about this invocation.
pub struct Context {
    /// `-p`: a one-shot run (otherwise an "interactive" session, which only prints the result).
    pub print: bool,
    pub permission_mode: String,
    pub cwd: String,
    record_path: Option<PathBuf>,
}

impl Context {
    /// Appends one record line. A single `write` of the whole line keeps concurrent fakes'
    /// records from interleaving.
    pub fn record(&self, line: &RecordLine) {
        let Some(path) = &self.record_path else {
            return;
        };
        let mut text = serde_json::to_string(line).unwrap_or_default();
        text.push('\n');
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = written {
            fail(&format!("failed to append to {}: {e}", path.display()));
        }
    }

    fn finish(&self, code: i32) -> ! {
        self.record(&RecordLine::End {
            pid: std::process::id(),
            end_ms: now_ms(),
            exit_code: code,
        });
        std::process::exit(code)
    }
}

#[derive(Default)]
struct Args {
    print: bool,
    version: bool,
    auth_status: bool,
    verbose: bool,
    skip_permissions: bool,
    output_format: Option<String>,
    permission_mode: Option<String>,
    model: Option<String>,
    prompt: Option<String>,
    /// The first command-line error, reported after the invocation is recorded.
    error: Option<String>,
}

fn parse_args(argv: &[String]) -> Args {
    let mut args = Args::default();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |args: &mut Args| {
            let v = inline.clone().or_else(|| it.next().cloned());
            if v.is_none() && args.error.is_none() {
                args.error = Some(format!("error: option '{name}' argument missing"));
            }
            v
        };
        match name {
            "-p" | "--print" => args.print = true,
            "-v" | "--version" => args.version = true,
            "--verbose" => args.verbose = true,
            "--dangerously-skip-permissions" => args.skip_permissions = true,
            "--output-format" => args.output_format = value(&mut args),
            "--permission-mode" => args.permission_mode = value(&mut args),
            "--model" => args.model = value(&mut args),
            n if VALUE_OPTIONS.contains(&n) => {
                value(&mut args);
            }
            n if BOOL_OPTIONS.contains(&n) => {}
            "auth" if args.prompt.is_none() => {
                if it.next().map(String::as_str) == Some("status") {
                    args.auth_status = true;
                } else {
                    args.error
                        .get_or_insert_with(|| "error: unknown auth command".to_owned());
                }
            }
            n if n.starts_with('-') && n.len() > 1 => {
                args.error
                    .get_or_insert_with(|| format!("error: unknown option '{n}'"));
            }
            _ if args.prompt.is_none() => args.prompt = Some(arg.clone()),
            _ => {}
        }
    }
    args
}

/// Checks the command line the way the real CLI does, in its order.
fn check_args(args: &Args, script: &Script, format: Option<Format>) -> Option<String> {
    if let Some(e) = &args.error {
        return Some(e.clone());
    }
    if let Some(mode) = &args.permission_mode
        && !PERMISSION_MODES.contains(&mode.as_str())
    {
        return Some(format!(
            "error: option '--permission-mode <mode>' argument '{mode}' is invalid. Allowed choices are {}.",
            PERMISSION_MODES.join(", ")
        ));
    }
    if let Some(f) = &args.output_format
        && format.is_none()
    {
        return Some(format!(
            "error: option '--output-format <format>' argument '{f}' is invalid. Allowed choices are text, json, stream-json."
        ));
    }
    if args.print && format == Some(Format::StreamJson) && !args.verbose {
        return Some(
            "Error: When using --print, --output-format=stream-json requires --verbose".to_owned(),
        );
    }
    let bypass =
        args.skip_permissions || args.permission_mode.as_deref() == Some("bypassPermissions");
    let sandboxed = std::env::var("IS_SANDBOX").is_ok_and(|v| v == "1");
    if script.root_check && bypass && sys::is_root() && !sandboxed {
        return Some(
            "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"
                .to_owned(),
        );
    }
    None
}

fn load_script() -> Option<Script> {
    let path = std::env::var_os(SCRIPT_ENV)?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        fail(&format!(
            "failed to read the script {}: {e}",
            path.to_string_lossy()
        ))
    });
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| fail(&format!("invalid script {}: {e}", path.to_string_lossy()))),
    )
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Whether `rule` applies to `inv`; `call` is this invocation's 1-based count for its key.
fn matches(when: &Match, inv: &Invocation, call: u32) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    eq(&when.role, &inv.role)
        && eq(&when.story, &inv.story)
        && eq(&when.unit, &inv.unit)
        && when
            .attempt
            .is_none_or(|a| inv.attempt.trim() == a.to_string())
        && when.call.is_none_or(|c| c == call)
        && when
            .prompt_contains
            .as_deref()
            .is_none_or(|p| inv.prompt.contains(p))
}

/// How many runs with the same role, story and attempt came before this one (from the record).
fn call_number(record: Option<&PathBuf>, inv: &Invocation) -> u32 {
    let Some(path) = record else {
        return 1;
    };
    let earlier = read_invocations(path).unwrap_or_default();
    let same = earlier.iter().filter(|r| {
        r.mode == inv.mode && r.role == inv.role && r.story == inv.story && r.attempt == inv.attempt
    });
    u32::try_from(same.count()).unwrap_or(u32::MAX - 1) + 1
}

fn main() {
    // Rust ignores SIGPIPE; a CLI whose reader went away should die of it like any other.
    sys::default_action(sys::SIGPIPE);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some(GRANDCHILD_ARG) {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let started = now_ms();
    let script = load_script();
    let has_script = script.is_some();
    let script = script.unwrap_or_default();
    let args = parse_args(&argv);
    let format = match &args.output_format {
        None => Some(Format::Text),
        Some(f) => Format::parse(f),
    };
    let cwd = std::env::current_dir().map_or_else(|_| String::new(), |p| p.display().to_string());
    let permission_mode = if args.skip_permissions {
        "bypassPermissions".to_owned()
    } else {
        args.permission_mode
            .clone()
            .unwrap_or_else(|| "default".to_owned())
    };
    let ctx = Context {
        print: args.print,
        permission_mode,
        cwd,
        record_path: std::env::var_os(RECORD_ENV).map(PathBuf::from),
    };

    let mode = if args.version {
        "version"
    } else if args.auth_status {
        "auth_status"
    } else if args.print {
        "print"
    } else {
        "interactive"
    };
    // Like the CLI, `-p` without a prompt argument reads it from stdin.
    let prompt = match (&args.prompt, mode) {
        (Some(p), _) => p.clone(),
        (None, "print") => {
            let mut buf = String::new();
            let _ = std::io::stdin().read_to_string(&mut buf);
            buf
        }
        _ => String::new(),
    };
    let mut inv = Invocation {
        pid: std::process::id(),
        mode: mode.to_owned(),
        role: env("TEAMS_ROLE"),
        story: env("TEAMS_STORY_ID"),
        unit: env("TEAMS_UNIT_ID"),
        attempt: env("TEAMS_ATTEMPT"),
        argv: argv.clone(),
        cwd: ctx.cwd.clone(),
        prompt,
        env: std::env::vars()
            .filter(|(k, _)| k.starts_with("TEAMS_") || k == "IS_SANDBOX")
            .collect::<BTreeMap<_, _>>(),
        start_ms: started,
        ..Invocation::default()
    };
    let call = call_number(ctx.record_path.as_ref(), &inv);
    let rule: Option<(String, Rule)> = if !has_script {
        Some((
            "builtin".to_owned(),
            Rule::new(vec![Step::Final("ok".to_owned())]),
        ))
    } else {
        script
            .rules
            .iter()
            .position(|r| matches(&r.when, &inv, call))
            .map(|i| (i.to_string(), script.rules[i].clone()))
            .or_else(|| script.default.clone().map(|d| ("default".to_owned(), d)))
    };
    inv.rule = rule
        .as_ref()
        .map_or_else(|| "none".to_owned(), |(name, _)| name.clone());
    ctx.record(&RecordLine::Start(Box::new(inv.clone())));

    if let Some(error) = check_args(&args, &script, format) {
        line_err(&error);
        ctx.finish(1);
    }
    if args.version {
        line_out(&format!("{VERSION} (Claude Code)"));
        ctx.finish(0);
    }
    if args.auth_status {
        let status = if script.logged_in {
            r#"{"loggedIn": true, "authMethod": "claude.ai", "apiProvider": "firstParty"}"#
        } else {
            r#"{"loggedIn": false, "authMethod": "none", "apiProvider": "firstParty"}"#
        };
        line_out(status);
        ctx.finish(if script.logged_in { 0 } else { 1 });
    }
    if args.print && inv.prompt.trim().is_empty() {
        line_err(
            "Error: Input must be provided either through stdin or as a prompt argument when using --print",
        );
        ctx.finish(1);
    }

    let session_id = script.session_id.clone().unwrap_or_else(|| {
        format!(
            "{:08x}-fa4e-4000-8000-{:012x}",
            std::process::id(),
            started & 0xffff_ffff_ffff
        )
    });
    let model = args.model.clone().unwrap_or_else(|| script.model.clone());
    let emit = Emitter::new(format.unwrap_or(Format::Text), session_id, model, started);
    let mut runner = Runner {
        ctx: &ctx,
        emit,
        result: ResultState::default(),
        answer: String::new(),
    };
    let api_key_source = if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        "ANTHROPIC_API_KEY"
    } else {
        "none"
    };
    runner
        .emit
        .init(&ctx.cwd, &ctx.permission_mode, api_key_source);

    let Some((_, rule)) = rule else {
        line_err(&format!(
            "teams-fake-agent: no rule matched role={:?} story={:?} unit={:?} attempt={:?} call={call}",
            inv.role, inv.story, inv.unit, inv.attempt
        ));
        ctx.finish(NO_RULE_EXIT);
    };
    let steps = if script.logged_in {
        rule.steps.clone()
    } else {
        vec![Step::NotLoggedIn]
    };
    match runner.run(&steps) {
        Ending::Exit(code) => ctx.finish(code),
        Ending::Finished => {
            runner.emit.result(&runner.result, now_ms());
            let code = rule
                .exit_code
                .unwrap_or(if runner.result.is_error { 1 } else { 0 });
            ctx.finish(code);
        }
    }
}
