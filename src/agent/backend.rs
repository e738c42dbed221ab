//! The one interface every coding-agent CLI sits behind.
//!
//! A [`Backend`] knows how to start its CLI (print mode for runs, interactive mode for `init`,
//! `plan` and `discuss`), how the prompt reaches it, how to read its output (a parser into
//! [`AgentEvent`](super::AgentEvent)s) and how its failures look (not logged in, usage limits).
//! Everything here is plain data in, plain data out: a backend never spawns anything itself, so
//! the supervisor owns every process and tests can assert on exact command lines.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use super::event::FailureClass;
use super::invocation::{Invocation, teams_env};
use super::outcome::ProcessOutcome;
use super::parser::OutputParser;
use super::spec::{CommandSpec, StdinInput};

/// How a CLI receives its prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptMode {
    /// Written to stdin, then EOF (claude, codex).
    Stdin,
    /// As a command-line argument (copilot, gemini, opencode).
    Argument,
    /// As a path to the prompt file (a `command` backend using `{prompt_file}`).
    File,
}

/// A pre-flight check that tells whether a CLI is logged in, cheaply and before any story runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginCheck {
    /// Run this command and hand its result to [`Backend::login_status`].
    Command(CommandSpec),
    /// The CLI is usable when one of these variables is set or one of these files exists.
    Credentials {
        env_vars: Vec<&'static str>,
        files: Vec<PathBuf>,
        /// Whether finding none of them proves the CLI is not logged in. Copilot may also keep
        /// its token in the system keychain, which cannot be checked without running it, so
        /// there the answer is "unknown" instead.
        definitive: bool,
    },
}

/// What a login probe command printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeOutput {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The answer of a login check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStatus {
    LoggedIn,
    NotLoggedIn {
        evidence: String,
    },
    /// The check could not tell (no probe for this CLI, or credentials may live in a keychain).
    Unknown {
        reason: String,
    },
}

/// Evaluates a [`LoginCheck::Credentials`] check against an environment and a file system, both
/// passed in so the check stays pure.
pub fn credentials_status(
    env_vars: &[&str],
    files: &[PathBuf],
    definitive: bool,
    env: impl Fn(&str) -> Option<OsString>,
    exists: impl Fn(&Path) -> bool,
) -> LoginStatus {
    let found_var = env_vars
        .iter()
        .any(|name| env(name).is_some_and(|value| !value.is_empty()));
    if found_var || files.iter().any(|file| exists(file)) {
        return LoginStatus::LoggedIn;
    }
    let mut looked_for: Vec<String> = env_vars.iter().map(|name| format!("${name}")).collect();
    looked_for.extend(files.iter().map(|file| file.display().to_string()));
    let evidence = format!("none of {} is set", looked_for.join(", "));
    if definitive {
        LoginStatus::NotLoggedIn { evidence }
    } else {
        LoginStatus::Unknown { reason: evidence }
    }
}

/// One coding-agent CLI.
pub trait Backend: fmt::Debug + Send + Sync {
    /// The backend's name in `teams.toml` (`claude`, `codex`, or a `command` backend's key).
    fn name(&self) -> &str;

    /// The program started (for "not installed" messages).
    fn program(&self) -> &str;

    /// How the prompt reaches the CLI in print mode.
    fn prompt_mode(&self) -> PromptMode;

    /// The non-interactive command for one run (spec §5.1 table), including the `TEAMS_*`
    /// environment and the worktree as working directory.
    fn command(&self, inv: &Invocation) -> CommandSpec;

    /// The same CLI without print flags, with the prompt as its initial prompt, for sessions
    /// attached to the user's terminal. The caller hands the terminal over (inherits stdin,
    /// stdout and stderr), so `stdin` here is always [`StdinInput::Null`] and means nothing.
    fn interactive_command(&self, inv: &Invocation) -> CommandSpec;

    /// A fresh parser for one run's output.
    fn parser(&self) -> Box<dyn OutputParser>;

    /// `<cli> --version`, for `teams doctor` and the start of a run. `None` for `command`
    /// backends: an arbitrary script given `--version` might start working.
    fn version_command(&self, cwd: &Path) -> Option<CommandSpec> {
        Some(plain_spec(self.program(), ["--version"], cwd))
    }

    /// A cheap pre-flight login check, when the CLI has one. `home` is the user's home directory.
    fn login_check(&self, _cwd: &Path, _home: Option<&Path>) -> Option<LoginCheck> {
        None
    }

    /// Why the login pre-flight does not apply to this setup, when it does not. Codex pointed at
    /// a custom model provider by its own `config.toml` needs only that provider's API key, yet
    /// `codex login status` still says "Not logged in"; refusing the run would be wrong. `env`
    /// is the environment the agents will get, `home` the user's home directory.
    fn login_not_needed(
        &self,
        _env: &[(OsString, OsString)],
        _home: Option<&Path>,
    ) -> Option<String> {
        None
    }

    /// Reads the result of a [`LoginCheck::Command`] probe.
    fn login_status(&self, probe: &ProbeOutput) -> LoginStatus {
        match probe.exit_code {
            Some(0) => LoginStatus::LoggedIn,
            _ => LoginStatus::NotLoggedIn {
                evidence: first_nonempty(&[&probe.stderr, &probe.stdout]),
            },
        }
    }

    /// How to log in, for the setup error that names the fix.
    fn login_hint(&self) -> String;

    /// How to install the CLI, when `teams` knows.
    fn install_hint(&self) -> Option<String>;

    /// When to stop the CLI because it keeps retrying something only the user can fix (a refused
    /// API key), instead of waiting out its own retries. `None`: let it retry.
    fn give_up(&self) -> Option<crate::supervisor::GiveUp> {
        None
    }

    /// The backend-specific failure classes (not logged in, usage limit) recognised in a finished
    /// process. The generic order (spawn error, cancel, this, timeouts, crashes, empty output)
    /// lives in [`classify`](super::classify::classify).
    fn classify(&self, outcome: &ProcessOutcome) -> Option<FailureClass>;
}

/// Above this many bytes a prompt is not put on argv: Linux refuses a single argument longer than
/// 128 KiB (`MAX_ARG_STRLEN`) with E2BIG, and validator prompts carry whole diffs. The CLI is
/// pointed at the prompt file instead.
pub const MAX_PROMPT_ARG_BYTES: usize = 100 * 1024;

/// The prompt as a command-line argument: the text itself when it fits, else an instruction to
/// read the prompt file. A leading `-` is moved off the first column so no CLI parses the prompt
/// as an option.
pub(crate) fn prompt_arg(inv: &Invocation) -> OsString {
    if inv.prompt.len() > MAX_PROMPT_ARG_BYTES {
        return format!(
            "Your full instructions are in the file {}. Read that whole file first and follow it \
             exactly.",
            inv.prompt_file.display()
        )
        .into();
    }
    if inv.prompt.starts_with('-') {
        format!(" {}", inv.prompt).into()
    } else {
        inv.prompt.clone().into()
    }
}

/// A spec with the `TEAMS_*` environment and the worktree as working directory.
pub(crate) fn agent_spec(
    program: &str,
    args: Vec<OsString>,
    inv: &Invocation,
    stdin: StdinInput,
) -> CommandSpec {
    CommandSpec {
        program: program.into(),
        args,
        env: teams_env(inv)
            .into_iter()
            .chain(inv.env.iter().cloned())
            .collect(),
        cwd: inv.worktree.clone(),
        stdin,
    }
}

/// A helper command (version, login probe) with no agent environment.
pub(crate) fn plain_spec<const N: usize>(
    program: &str,
    args: [&str; N],
    cwd: &Path,
) -> CommandSpec {
    CommandSpec {
        program: program.into(),
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        cwd: cwd.to_path_buf(),
        stdin: StdinInput::Null,
    }
}

/// Pushes `flag value` when `value` is set.
pub(crate) fn push_opt(args: &mut Vec<OsString>, flag: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        args.push(flag.into());
        args.push(value.into());
    }
}

/// Whether `teams` runs as root (Claude refuses its bypass modes as root without `IS_SANDBOX=1`).
pub(crate) fn running_as_root() -> bool {
    // SAFETY: `geteuid` has no preconditions and cannot fail (POSIX).
    unsafe { libc::geteuid() == 0 }
}

/// The first non-blank text, trimmed; used as evidence in messages.
pub(crate) fn first_nonempty(texts: &[&str]) -> String {
    texts
        .iter()
        .map(|text| text.trim())
        .find(|text| !text.is_empty())
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::invocation::Role;

    fn inv(prompt: &str) -> Invocation {
        Invocation::new(Role::Builder, prompt, "/p/prompt.md", "/w", "/r")
    }

    #[test]
    fn prompt_arg_passes_short_prompts_and_points_long_ones_at_the_file() {
        assert_eq!(prompt_arg(&inv("build it")), OsString::from("build it"));
        assert_eq!(prompt_arg(&inv("-x")), OsString::from(" -x"));
        let long = "y".repeat(MAX_PROMPT_ARG_BYTES + 1);
        let arg = prompt_arg(&inv(&long)).into_string().unwrap();
        assert!(arg.contains("/p/prompt.md"), "{arg}");
        assert!(arg.len() < 200);
    }

    #[test]
    fn credentials_status_checks_vars_then_files() {
        let vars = ["GH_TOKEN"];
        let files = [PathBuf::from("/h/.copilot/config.json")];
        let none = |_: &str| None;
        let no_files = |_: &Path| false;
        assert_eq!(
            credentials_status(&vars, &files, false, |_| Some("t".into()), no_files),
            LoginStatus::LoggedIn
        );
        assert_eq!(
            credentials_status(&vars, &files, false, none, |_| true),
            LoginStatus::LoggedIn
        );
        // An empty variable is not a credential.
        assert!(matches!(
            credentials_status(&vars, &files, true, |_| Some("".into()), no_files),
            LoginStatus::NotLoggedIn { .. }
        ));
        match credentials_status(&vars, &files, false, none, no_files) {
            LoginStatus::Unknown { reason } => {
                assert_eq!(reason, "none of $GH_TOKEN, /h/.copilot/config.json is set")
            }
            other => panic!("{other:?}"),
        }
    }
}
