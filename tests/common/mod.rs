//! Shared test helpers: a hermetic environment for running the real `teams` binary.
//!
//! Every test gets its own temporary directory, an empty environment (only `PATH` survives, so a
//! developer's `TEAMS_*` variables or git config cannot leak in), a temporary `HOME`, and a fixed
//! git identity, so a fresh CI machine behaves exactly like a developer's.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TestEnv {
    dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("teams-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("repo")).unwrap();
        TestEnv { dir }
    }

    /// The directory tests use as the user's repository (not a git repository until `git_init`).
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel` inside the repository, creating directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.repo().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.repo().join(rel)).unwrap()
    }

    /// Copies a fixture from `tests/fixtures/` into the repository.
    pub fn fixture(&self, fixture: &str, rel: &str) -> PathBuf {
        let bytes = std::fs::read(fixture_path(fixture)).unwrap();
        self.write(rel, bytes)
    }

    /// `teams` with the hermetic environment, run in the repository.
    pub fn teams(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_teams"));
        self.apply_env(cmd.env_clear());
        cmd.current_dir(self.repo());
        cmd
    }

    /// A plain process command with the same environment (for git and helpers).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear();
        for (k, v) in self.env_vars() {
            cmd.env(k, v);
        }
        cmd.current_dir(self.repo());
        cmd
    }

    fn apply_env(&self, cmd: &mut assert_cmd::Command) {
        for (k, v) in self.env_vars() {
            cmd.env(k, v);
        }
    }

    fn env_vars(&self) -> Vec<(String, String)> {
        let home = self.dir.path().join("home");
        vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), home.display().to_string()),
            ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_AUTHOR_NAME".into(), "Test Author".into()),
            ("GIT_AUTHOR_EMAIL".into(), "author@example.com".into()),
            ("GIT_COMMITTER_NAME".into(), "Test Author".into()),
            ("GIT_COMMITTER_EMAIL".into(), "author@example.com".into()),
            ("TERM".into(), "dumb".into()),
        ]
    }

    /// `git init` with one commit, so the repository has a branch.
    pub fn git_init(&self) {
        let run = |args: &[&str]| {
            let status = self.command("git").args(args).status().unwrap();
            assert!(status.success(), "git {args:?} failed");
        };
        run(&["init", "-q", "-b", "main"]);
        self.write("README.md", "test repo\n");
        run(&["add", "README.md"]);
        run(&["commit", "-q", "-m", "initial"]);
    }

    /// Replaces the temporary directory's path in `text` with `[TMP]`, for snapshots.
    pub fn normalize(&self, text: &str) -> String {
        let root = self.dir.path().display().to_string();
        let canonical = self
            .dir
            .path()
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| root.clone());
        text.replace(&canonical, "[TMP]").replace(&root, "[TMP]")
    }
}

pub fn fixture_path(fixture: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture)
}

/// Output of a finished command as one string for snapshots: stdout, stderr and the exit status.
pub fn transcript(env: &TestEnv, output: &std::process::Output) -> String {
    let code = output
        .status
        .code()
        .map_or("signal".to_string(), |c| c.to_string());
    format!(
        "----- stdout -----\n{}----- stderr -----\n{}[exit status: {code}]\n",
        env.normalize(&String::from_utf8_lossy(&output.stdout)),
        env.normalize(&String::from_utf8_lossy(&output.stderr)),
    )
}
