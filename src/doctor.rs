//! `teams doctor`'s checks: is this machine ready to run `teams`? (spec §2, §5.1, research §3.5)
//!
//! A run that starts on a machine without git, with a broken `teams.toml`, or with an agent CLI
//! that is missing or logged out fails minutes later, in the middle of a story, with a message about
//! the story. The doctor asks the same questions up front, cheaply (each probe is a `--version` or a
//! login status command under a short timeout), and names the fix for every problem.
//!
//! The checks are computed here as plain data ([`DoctorReport`]); the CLI renders them (text or
//! JSON) and picks the exit code, so this module never prints.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::agent::{
    AgentEvent, Backend, CommandSpec, LoginCheck, LoginStatus, OutputParser, ProbeOutput,
    StdinInput, command_backends, credentials_status, resolve_backend,
};
use crate::config::{BackendName, BuiltinBackend, Config, ConfigOverrides, Role};
use crate::supervisor::{CancelHandle, SuperviseOptions, supervise};

/// The oldest git whose `worktree` commands do everything `teams` needs (`worktree add -B`,
/// `worktree remove`, `--porcelain` listing).
pub const MIN_GIT_VERSION: (u32, u32) = (2, 20);

/// How long one probe (`--version`, a login status command) may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Ready.
    Ok,
    /// Probably fine, but could not be confirmed (or not needed for every run).
    Warning,
    /// Needed and not there: git or an agent CLI missing, too old, or not logged in.
    Missing,
    /// `teams.toml` cannot be read or resolved.
    Invalid,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warning => "warning",
            CheckStatus::Missing => "missing",
            CheckStatus::Invalid => "invalid",
        }
    }
}

/// One line of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked: `git`, `teams.toml`, `claude`, `claude login`, …
    pub name: String,
    pub status: CheckStatus,
    /// The evidence: a version, a file, an error.
    pub detail: String,
    /// What to do about a problem (empty when there is none).
    pub hints: Vec<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: CheckStatus, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            hints: Vec::new(),
        }
    }

    fn hint(mut self, hint: Option<String>) -> Self {
        self.hints.extend(hint);
        self
    }
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// Whether nothing needed is missing (warnings allowed).
    pub fn is_ready(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|check| matches!(check.status, CheckStatus::Missing | CheckStatus::Invalid))
    }

    /// Whether `teams.toml` itself is the problem (a configuration error rather than a missing
    /// tool).
    pub fn config_invalid(&self) -> bool {
        self.checks
            .iter()
            .any(|check| check.status == CheckStatus::Invalid)
    }
}

/// Runs every check for the repository at `repo_root`. `env` is the process environment (for
/// `TEAMS_*` settings and credential variables), `home` the user's home directory.
pub async fn run_checks(
    repo_root: &Path,
    env: &[(OsString, OsString)],
    home: Option<&Path>,
) -> DoctorReport {
    let mut checks = vec![check_git(repo_root).await];
    match Config::load(repo_root, env.iter().cloned(), &ConfigOverrides::default()) {
        Ok(config) => {
            let detail = match &config.file {
                Some(file) => format!("{} is valid", file.display()),
                None => "no teams.toml; using the defaults".to_owned(),
            };
            checks.push(Check::new("teams.toml", CheckStatus::Ok, detail));
            for (backend, roles) in needed_backends(&config) {
                checks.extend(
                    check_backend_by_name(&config, &backend, &roles, repo_root, env, home).await,
                );
            }
            checks.push(check_discord(&config, env));
        }
        Err(error) => {
            checks.push(
                Check::new("teams.toml", CheckStatus::Invalid, error.to_string())
                    .hint(error.hint().map(str::to_owned))
                    .hint(Some(
                        "fix teams.toml, then run `teams doctor` again to check the agent CLIs"
                            .to_owned(),
                    )),
            );
        }
    }
    DoctorReport { checks }
}

/// The Discord settings (spec §11): off, where messages go, or what is wrong. A problem is a
/// warning, not "not ready": Discord never decides whether a run can start.
fn check_discord(config: &Config, env: &[(OsString, OsString)]) -> Check {
    use crate::report::discord::TargetStatus;
    match crate::report::discord::status(&config.discord, env) {
        TargetStatus::Off { detail } | TargetStatus::Ready { detail } => {
            Check::new("discord", CheckStatus::Ok, detail)
        }
        TargetStatus::Problem { detail, hint } => {
            Check::new("discord", CheckStatus::Warning, detail).hint(Some(hint))
        }
    }
}

/// The checks a run makes before its first agent (spec §5.1): every backend the roles use, plus
/// `extra` ones (units' own `backend` overrides), installed and logged in.
pub async fn check_run_backends(
    config: &Config,
    extra: &[String],
    repo_root: &Path,
    env: &[(OsString, OsString)],
    home: Option<&Path>,
) -> Vec<Check> {
    let mut needed = needed_backends(config);
    for name in extra {
        if name != BuiltinBackend::Sim.as_str() && !needed.iter().any(|(n, _)| n == name) {
            needed.push((name.clone(), vec![Role::Builder, Role::Planner]));
        }
    }
    let mut checks = Vec::new();
    for (backend, roles) in needed {
        checks.extend(check_backend_by_name(config, &backend, &roles, repo_root, env, home).await);
    }
    checks
}

/// The backends the roles use, each once, with the roles that use it; `sim` needs nothing.
fn needed_backends(config: &Config) -> Vec<(String, Vec<Role>)> {
    let mut needed: Vec<(String, Vec<Role>)> = Vec::new();
    for role in Role::ALL {
        let backend = &config.role(role).backend.value;
        if *backend == BackendName::Builtin(BuiltinBackend::Sim) {
            continue;
        }
        match needed.iter_mut().find(|(name, _)| name == backend.as_str()) {
            Some((_, roles)) => roles.push(role),
            None => needed.push((backend.as_str().to_owned(), vec![role])),
        }
    }
    needed
}

async fn check_backend_by_name(
    config: &Config,
    name: &str,
    roles: &[Role],
    cwd: &Path,
    env: &[(OsString, OsString)],
    home: Option<&Path>,
) -> Vec<Check> {
    let commands = command_backends(config);
    let roles: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    let used_by = format!("used by {}", roles.join(", "));
    match resolve_backend(name, &commands) {
        Ok(backend) => check_backend(backend.as_ref(), &used_by, cwd, env, home).await,
        Err(error) => vec![Check::new(name, CheckStatus::Invalid, error.to_string())],
    }
}

/// Checks one backend: installed and answering its version command, then logged in.
pub async fn check_backend(
    backend: &dyn Backend,
    used_by: &str,
    cwd: &Path,
    env: &[(OsString, OsString)],
    home: Option<&Path>,
) -> Vec<Check> {
    let name = backend.name().to_owned();
    let missing = |detail: String| {
        Check::new(name.clone(), CheckStatus::Missing, detail).hint(
            backend
                .install_hint()
                .map(|hint| format!("install it: {hint}")),
        )
    };
    // Both probes at once: a CLI on Node takes a good part of a second to answer each.
    let version = async {
        match backend.version_command(cwd) {
            Some(spec) => Some(probe(spec).await),
            None => None,
        }
    };
    let (version, login) = tokio::join!(version, check_login(backend, cwd, env, home));
    let installed = match version {
        Some(version) => match version {
            Err(ProbeError::NotStarted(error)) => {
                return vec![missing(format!("{error} ({used_by})"))];
            }
            Err(ProbeError::TimedOut) => Check::new(
                name.clone(),
                CheckStatus::Warning,
                format!(
                    "`{} --version` did not answer within {} s ({used_by})",
                    backend.program(),
                    PROBE_TIMEOUT.as_secs()
                ),
            ),
            Ok(out) if out.exit_code == Some(0) => {
                let version = first_line(&out.stdout, &out.stderr);
                Check::new(
                    name.clone(),
                    CheckStatus::Ok,
                    format!("{version} ({used_by})"),
                )
            }
            Ok(out) => Check::new(
                name.clone(),
                CheckStatus::Warning,
                format!(
                    "`{} --version` failed ({used_by}): {}",
                    backend.program(),
                    first_line(&out.stderr, &out.stdout)
                ),
            ),
        },
        // A `command` backend: only check that its program can be found.
        None => match find_program(OsStr::new(backend.program()), env_path(env), cwd) {
            Some(path) => Check::new(
                name.clone(),
                CheckStatus::Ok,
                format!("{} ({used_by})", path.display()),
            ),
            None => {
                return vec![missing(format!(
                    "`{}` not found on PATH ({used_by})",
                    backend.program()
                ))];
            }
        },
    };
    vec![installed, login]
}

async fn check_login(
    backend: &dyn Backend,
    cwd: &Path,
    env: &[(OsString, OsString)],
    home: Option<&Path>,
) -> Check {
    let name = format!("{} login", backend.name());
    if let Some(reason) = backend.login_not_needed(env, home) {
        return Check::new(name, CheckStatus::Ok, reason);
    }
    let status = match backend.login_check(cwd, home) {
        None => {
            return Check::new(
                name,
                CheckStatus::Ok,
                "no pre-flight login check for this CLI",
            );
        }
        Some(LoginCheck::Credentials {
            env_vars,
            files,
            definitive,
        }) => credentials_status(
            &env_vars,
            &files,
            definitive,
            |var| {
                env.iter()
                    .find(|(key, _)| key == var)
                    .map(|(_, value)| value.clone())
            },
            Path::exists,
        ),
        Some(LoginCheck::Command(spec)) => {
            let shown = command_line(&spec);
            match probe(spec).await {
                Ok(out) => backend.login_status(&out),
                Err(ProbeError::TimedOut) => LoginStatus::Unknown {
                    reason: format!(
                        "`{shown}` did not answer within {} s",
                        PROBE_TIMEOUT.as_secs()
                    ),
                },
                Err(ProbeError::NotStarted(error)) => LoginStatus::Unknown {
                    reason: format!("`{shown}` could not be started: {error}"),
                },
            }
        }
    };
    match status {
        LoginStatus::LoggedIn => Check::new(name, CheckStatus::Ok, "logged in"),
        LoginStatus::NotLoggedIn { evidence } => Check::new(
            name,
            CheckStatus::Missing,
            format!("not logged in: {evidence}"),
        )
        .hint(Some(backend.login_hint())),
        LoginStatus::Unknown { reason } => Check::new(
            name,
            CheckStatus::Warning,
            format!("could not tell whether it is logged in: {reason}"),
        )
        .hint(Some(backend.login_hint())),
    }
}

/// The built-in agent CLIs found on `path` (the `PATH` value), in the order of
/// [`BUILTIN_BACKENDS`](crate::agent::BUILTIN_BACKENDS): what `teams init` offers to talk to.
/// Only looks for the programs (no `--version` probe), so asking stays instant.
pub fn installed_backends(path: Option<&OsStr>, cwd: &Path) -> Vec<&'static str> {
    crate::agent::BUILTIN_BACKENDS
        .into_iter()
        .filter(|name| find_program(OsStr::new(name), path, cwd).is_some())
        .collect()
}

/// Checks that git is installed and new enough.
pub async fn check_git(cwd: &Path) -> Check {
    let spec = CommandSpec {
        program: "git".into(),
        args: vec!["--version".into()],
        env: Vec::new(),
        cwd: cwd.to_path_buf(),
        stdin: StdinInput::Null,
    };
    let install = "install git 2.20 or newer (e.g. `apt-get install git`, `brew install git`)";
    let missing = |detail: String| {
        Check::new("git", CheckStatus::Missing, detail).hint(Some(install.to_owned()))
    };
    let out = match probe(spec).await {
        Ok(out) => out,
        Err(ProbeError::NotStarted(error)) => return missing(format!("`git` not found: {error}")),
        Err(ProbeError::TimedOut) => return missing("`git --version` did not answer".to_owned()),
    };
    let text = first_line(&out.stdout, &out.stderr);
    match parse_git_version(&text) {
        Some(version) if (version.0, version.1) >= MIN_GIT_VERSION => {
            Check::new("git", CheckStatus::Ok, text)
        }
        Some(_) => missing(format!(
            "{text} is too old: worktrees need git {}.{} or newer",
            MIN_GIT_VERSION.0, MIN_GIT_VERSION.1
        )),
        None => Check::new(
            "git",
            CheckStatus::Warning,
            format!("could not read the version from `git --version`: {text:?}"),
        ),
    }
}

/// `(major, minor, patch)` from `git --version` output: `git version 2.43.0`,
/// `git version 2.39.3 (Apple Git-146)`, `git version 2.45.1.windows.1`.
pub fn parse_git_version(text: &str) -> Option<(u32, u32, u32)> {
    let version = text.trim().strip_prefix("git version ")?;
    let version = version.split_whitespace().next()?;
    let mut parts = version.split('.').map(|part| {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// Why a probe gave no output to judge.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error("{0}")]
    NotStarted(String),
    #[error("timed out")]
    TimedOut,
}

/// Runs a short helper command under the supervisor (own process group, stdin closed, killed at
/// [`PROBE_TIMEOUT`]) and returns what it printed.
async fn probe(spec: CommandSpec) -> Result<ProbeOutput, ProbeError> {
    let opts = SuperviseOptions {
        timeout: Some(PROBE_TIMEOUT),
        grace: Duration::from_secs(1),
        ..SuperviseOptions::default()
    };
    let outcome = supervise(spec, Box::new(NoParser), opts, CancelHandle::new(), |_| {}).await;
    if let Some(error) = outcome.spawn_error {
        return Err(ProbeError::NotStarted(error));
    }
    if outcome.timeout.is_some() {
        return Err(ProbeError::TimedOut);
    }
    Ok(ProbeOutput {
        exit_code: outcome.exit_code,
        stdout: outcome.stdout_tail,
        stderr: outcome.stderr_tail,
    })
}

/// Probes print plain text; only the output tails are read.
struct NoParser;

impl OutputParser for NoParser {
    fn stdout_line(&mut self, _line: &str) -> Vec<AgentEvent> {
        Vec::new()
    }
}

fn first_line(first: &str, second: &str) -> String {
    [first, second]
        .iter()
        .filter_map(|text| text.lines().map(str::trim).find(|line| !line.is_empty()))
        .next()
        .unwrap_or("")
        .to_owned()
}

fn command_line(spec: &CommandSpec) -> String {
    std::iter::once(&spec.program)
        .chain(&spec.args)
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

fn env_path(env: &[(OsString, OsString)]) -> Option<&OsStr> {
    env.iter()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value.as_os_str())
}

/// Where `program` would be found: as a path (relative to `cwd`) when it has a `/`, else on `path`.
fn find_program(program: &OsStr, path: Option<&OsStr>, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let is_executable = |candidate: &Path| {
        use std::os::unix::fs::PermissionsExt;
        candidate
            .metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if program.as_bytes().contains(&b'/') {
        let candidate = cwd.join(program);
        return is_executable(&candidate).then_some(candidate);
    }
    std::env::split_paths(path?)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_versions_parse() {
        assert_eq!(parse_git_version("git version 2.43.0\n"), Some((2, 43, 0)));
        assert_eq!(
            parse_git_version("git version 2.39.3 (Apple Git-146)"),
            Some((2, 39, 3))
        );
        assert_eq!(
            parse_git_version("git version 2.45.1.windows.1"),
            Some((2, 45, 1))
        );
        assert_eq!(parse_git_version("git version 2.20"), Some((2, 20, 0)));
        assert_eq!(parse_git_version("hub version 2.14.2"), None);
        assert_eq!(parse_git_version(""), None);
    }

    #[test]
    fn programs_are_found_on_path_or_by_path() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = tmp.path().join("mycli");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = tmp.path().as_os_str();
        assert_eq!(
            find_program(OsStr::new("mycli"), Some(path), Path::new("/")),
            Some(exe.clone())
        );
        assert_eq!(
            find_program(OsStr::new("nope"), Some(path), Path::new("/")),
            None
        );
        assert_eq!(
            find_program(OsStr::new("./mycli"), None, tmp.path()),
            Some(tmp.path().join("./mycli"))
        );
    }

    #[test]
    fn installed_backends_lists_builtin_clis_on_path_in_order() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        for name in ["gemini", "claude", "mycli"] {
            let exe = tmp.path().join(name);
            std::fs::write(&exe, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = tmp.path().as_os_str();
        assert_eq!(
            installed_backends(Some(path), Path::new("/")),
            ["claude", "gemini"]
        );
        assert!(installed_backends(None, Path::new("/")).is_empty());
    }

    #[test]
    fn readiness_ignores_warnings() {
        let report = DoctorReport {
            checks: vec![Check::new("x", CheckStatus::Warning, "")],
        };
        assert!(report.is_ready());
        let report = DoctorReport {
            checks: vec![Check::new("x", CheckStatus::Missing, "")],
        };
        assert!(!report.is_ready());
    }
}
