//! Running the `git` binary: one place that builds the command (never through a shell), captures
//! its output and turns a failure into an error that names the command and git's own message.
//!
//! `teams` drives git through its command-line interface rather than libgit2: measured on this
//! machine kind, `git worktree add` is as fast or faster than git2's, `git worktree remove` refuses
//! to delete uncommitted work where git2's prune silently deletes it, and only the real git runs
//! smudge filters (LFS), hooks and newer repository formats. See `worktree.rs` for the details.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A failure to run git or a git command that failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("failed to run `git`: {source}")]
    Spawn {
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Failed {
        args: String,
        dir: PathBuf,
        code: Option<i32>,
        stderr: String,
    },
    #[error("`git {args}` printed output that is not UTF-8")]
    NotUtf8 { args: String },
}

impl GitError {
    /// Whether git could not be started at all (not installed).
    pub fn is_missing_git(&self) -> bool {
        matches!(self, GitError::Spawn { source } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Runs git commands in a directory.
#[derive(Debug, Clone)]
pub struct GitRunner {
    dir: PathBuf,
    /// `-c` settings added to every command (e.g. a fallback identity).
    config: Vec<String>,
    /// Environment changes for every command: `Some` sets, `None` removes.
    env: Vec<(String, Option<String>)>,
}

impl GitRunner {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        GitRunner {
            dir: dir.into(),
            config: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The same runner working in another directory (e.g. a worktree).
    pub fn in_dir(&self, dir: impl Into<PathBuf>) -> Self {
        GitRunner {
            dir: dir.into(),
            config: self.config.clone(),
            env: self.env.clone(),
        }
    }

    /// Adds `-c key=value` to every command this runner starts.
    pub fn with_config(mut self, key: &str, value: &str) -> Self {
        self.config.push(format!("{key}={value}"));
        self
    }

    /// Sets (`Some`) or removes (`None`) an environment variable for every command.
    pub fn with_env(mut self, key: &str, value: Option<&str>) -> Self {
        self.env.push((key.to_string(), value.map(str::to_string)));
        self
    }

    /// The value a variable has for git: this runner's change if any, else the process's.
    pub fn env_var(&self, key: &str) -> Option<String> {
        match self.env.iter().rev().find(|(k, _)| k == key) {
            Some((_, value)) => value.clone(),
            None => std::env::var(key).ok(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        for setting in &self.config {
            cmd.arg("-c").arg(setting);
        }
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            // Never let git open an editor or a pager, or ask for credentials on the terminal.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_EDITOR", "true")
            .env("GIT_PAGER", "cat")
            .env("LC_ALL", "C");
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// Runs git and returns its raw output, whatever the exit status.
    pub fn output<I, S>(&self, args: I) -> Result<Output, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(args)
            .output()
            .map_err(|source| GitError::Spawn { source })
    }

    /// Runs git; a non-zero exit is an error carrying git's stderr. Returns stdout, trimmed of the
    /// final newline.
    pub fn run<I, S>(&self, args: I) -> Result<String, GitError>
    where
        I: IntoIterator<Item = S> + Clone,
        S: AsRef<OsStr>,
    {
        let output = self.output(args.clone())?;
        let shown = show_args(args);
        if !output.status.success() {
            return Err(GitError::Failed {
                args: shown,
                dir: self.dir.clone(),
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        let mut text =
            String::from_utf8(output.stdout).map_err(|_| GitError::NotUtf8 { args: shown })?;
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    }

    /// Like [`GitRunner::run`], but output that is not UTF-8 (a Latin-1 file in a diff, a file
    /// name in another encoding) is kept with replacement characters instead of failing: for
    /// text that is shown to people and agents, not parsed back into git.
    pub fn run_lossy<I, S>(&self, args: I) -> Result<String, GitError>
    where
        I: IntoIterator<Item = S> + Clone,
        S: AsRef<OsStr>,
    {
        let output = self.output(args.clone())?;
        if !output.status.success() {
            return Err(GitError::Failed {
                args: show_args(args),
                dir: self.dir.clone(),
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    }

    /// Runs git and reports only whether it exited 0 (for questions like `merge-base --is-ancestor`).
    pub fn succeeds<I, S>(&self, args: I) -> Result<bool, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Ok(self.output(args)?.status.success())
    }
}

fn show_args<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
