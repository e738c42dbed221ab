//! The real agent CLIs for `tests/real_cli.rs`: pinned versions of `@anthropic-ai/claude-code`
//! and `@openai/codex`, installed once with npm into `<target>/real-clis/<versions>/` (inside the
//! build's target directory, so git ignores it and `cargo clean` removes it).
//!
//! One install serves every test: a `OnceLock` guards it within a test binary (tests run on
//! parallel threads), and an exclusive `flock` on `<target>/real-clis/install.lock` guards it
//! across processes (nextest runs each test in its own process). An install is complete only when
//! its marker file exists, written after both CLIs answered `--version` with the version asked
//! for, so a half-finished install (a killed test, a lost network) is redone, never used.
//!
//! Versions: the pins below, or `TEAMS_REAL_CLI_VERSION=latest` (or an exact version) for both,
//! or `TEAMS_REAL_CLAUDE_VERSION` / `TEAMS_REAL_CODEX_VERSION` for one. Claude's version is always
//! named: npm on Node < 22 otherwise resolves an old release (research §3.1).
//!
//! Without npm the suite is skipped, loudly: a `SKIPPED` line goes straight to the terminal
//! (past the test harness's output capture). On CI (`CI` set) a missing npm fails instead, unless
//! `TEAMS_REAL_CLI=skip` says to skip on purpose, so CI can never pass without running it.

#![allow(dead_code)]

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The versions the suite passes with (also in docs/agents.md).
pub const CLAUDE_VERSION: &str = "2.1.330";
pub const CODEX_VERSION: &str = "0.169.0";

/// The installed CLIs.
#[derive(Debug, Clone)]
pub struct RealClis {
    /// `node_modules/.bin`, to put first on `PATH`.
    pub bin: PathBuf,
    pub claude_version: String,
    pub codex_version: String,
}

impl RealClis {
    /// `PATH` with the installed CLIs first.
    pub fn path_var(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

static INSTALL: OnceLock<Result<RealClis, String>> = OnceLock::new();

/// The installed CLIs, installing them on first use. `None` when the suite is skipped (no npm,
/// or `TEAMS_REAL_CLI=skip`); the reason has been printed. Panics when the install fails, or when
/// npm is missing on CI.
pub fn real_clis(test: &str) -> Option<RealClis> {
    if std::env::var("TEAMS_REAL_CLI").as_deref() == Ok("skip") {
        skipped(test, "TEAMS_REAL_CLI=skip");
        return None;
    }
    if !npm_available() {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!(
                "the real-CLI suite needs npm (Node.js), which is not on PATH; CI must run it.\n\
                 hint: install Node.js 20+ with npm, or set TEAMS_REAL_CLI=skip to skip this \
                 suite on purpose"
            );
        }
        skipped(
            test,
            "npm is not on PATH (install Node.js 20+ with npm to run it)",
        );
        return None;
    }
    match INSTALL.get_or_init(install) {
        Ok(clis) => Some(clis.clone()),
        Err(message) => panic!("{message}"),
    }
}

/// Prints the skip past the harness's capture (`eprintln!` would be swallowed for a passing test).
fn skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED real-CLI test {test}: {why}. It proves teams drives the real claude and codex; \
         nothing was checked."
    );
}

fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

fn version_from(var: &str, pinned: &str) -> String {
    std::env::var(var)
        .or_else(|_| std::env::var("TEAMS_REAL_CLI_VERSION"))
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| pinned.to_owned())
}

/// `<target>` from this test executable's path (`<target>/<profile>/deps/<test>-<hash>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .expect("the test executable lives in <target>/<profile>/deps")
}

fn install() -> Result<RealClis, String> {
    let claude = version_from("TEAMS_REAL_CLAUDE_VERSION", CLAUDE_VERSION);
    let codex = version_from("TEAMS_REAL_CODEX_VERSION", CODEX_VERSION);
    let root = target_dir().join("real-clis");
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    // `latest` is re-resolved by every test run that asks for it; pins are installed once.
    let floating = [&claude, &codex].iter().any(|v| v.as_str() == "latest");
    let prefix = root.join(format!("claude-{claude}_codex-{codex}"));
    let bin = prefix.join("node_modules/.bin");
    let marker = prefix.join("installed");

    let lock_path = root.join("install.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    // SAFETY: `flock` on a descriptor we own; released when `lock` is closed at the end.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(format!(
            "cannot lock {}: {}",
            lock_path.display(),
            std::io::Error::last_os_error()
        ));
    }

    if floating || !marker.exists() {
        let _ = std::fs::remove_file(&marker);
        npm_install(&prefix, &claude, &codex)?;
    }
    let claude_version = cli_version(&bin, "claude")?;
    let codex_version = cli_version(&bin, "codex")?;
    for (asked, got, name) in [
        (&claude, &claude_version, "claude"),
        (&codex, &codex_version, "codex"),
    ] {
        if asked != "latest" && !got.contains(asked.as_str()) {
            return Err(format!(
                "npm installed {name} `{got}`, not the version {asked} asked for (in {})",
                prefix.display()
            ));
        }
    }
    std::fs::write(&marker, format!("{claude_version}\n{codex_version}\n"))
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    drop(lock);
    let _ = writeln!(
        std::io::stderr().lock(),
        "real-CLI suite: claude {claude_version}, codex {codex_version} from {}",
        bin.display()
    );
    Ok(RealClis {
        bin,
        claude_version,
        codex_version,
    })
}

fn npm_install(prefix: &Path, claude: &str, codex: &str) -> Result<(), String> {
    std::fs::create_dir_all(prefix)
        .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    let packages = [
        format!("@anthropic-ai/claude-code@{claude}"),
        format!("@openai/codex@{codex}"),
    ];
    let _ = writeln!(
        std::io::stderr().lock(),
        "real-CLI suite: npm install {} (once, into {})",
        packages.join(" "),
        prefix.display()
    );
    let out = Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(prefix)
        .args(["--no-audit", "--no-fund", "--no-save", "--loglevel=error"])
        .args(&packages)
        .output()
        .map_err(|e| format!("cannot start npm: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "`npm install {}` failed ({}):\n{}\n\
         hint: the real-CLI suite needs the npm registry once; later runs use the copy in {}. \
         Offline, set TEAMS_REAL_CLI=skip to skip the suite on purpose.",
        packages.join(" "),
        out.status,
        tail.join("\n"),
        prefix.display()
    ))
}

fn cli_version(bin: &Path, name: &str) -> Result<String, String> {
    let program = bin.join(name);
    let out = Command::new(&program)
        .arg("--version")
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || text.is_empty() {
        return Err(format!(
            "`{} --version` failed ({}): {}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(text)
}
