//! The deterministic half of the pushback rule (spec §4.3 step 2): an attempt counts only if git
//! shows a new commit on the unit's branch, a clean tree, no protected file touched, and the
//! checks pass. The builder's own words are never consulted.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::git::{Checkout, GitError, Repo, Review, Sha};

/// Why a build was not accepted; the text becomes the next builder's feedback and, on the last
/// attempt, the story's `failureReason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The worktree is no longer on the unit's branch.
    WrongBranch {
        expected: String,
        found: Option<String>,
    },
    /// The unit branch no longer contains where the attempt started (reset or rebased away).
    RewroteHistory { branch: String },
    /// Nothing new was committed on the unit branch.
    NoCommit { branch: String, dirty: Vec<String> },
    /// Uncommitted or untracked files were left behind.
    Dirty { files: Vec<String> },
    /// A commit changed a file only `teams` may change.
    Protected { files: Vec<String> },
    /// A check command failed.
    CheckFailed {
        command: String,
        status: String,
        output_tail: String,
    },
}

impl Rejection {
    /// One paragraph for the builder and for `prd.json`.
    pub fn reason(&self) -> String {
        match self {
            Rejection::WrongBranch { expected, found } => format!(
                "the builder left the worktree on {} instead of the unit branch `{expected}`; commits must be made on `{expected}`",
                found
                    .as_deref()
                    .map_or("a detached HEAD".to_owned(), |b| format!("branch `{b}`"))
            ),
            Rejection::RewroteHistory { branch } => format!(
                "the builder rewrote the history of `{branch}` (reset or rebase); add new commits instead"
            ),
            Rejection::NoCommit { branch, dirty } if dirty.is_empty() => {
                format!("the builder made no commit on `{branch}`; the work must be committed")
            }
            Rejection::NoCommit { branch, dirty } => format!(
                "the builder made no commit on `{branch}` and left uncommitted changes in {}; the work must be committed",
                list(dirty)
            ),
            Rejection::Dirty { files } => format!(
                "the builder left uncommitted or untracked files: {}; commit them or remove them",
                list(files)
            ),
            Rejection::Protected { files } => format!(
                "the builder's commits changed {}, which only teams may change; leave them alone",
                list(files)
            ),
            Rejection::CheckFailed {
                command,
                status,
                output_tail,
            } => format!("the check `{command}` failed ({status}):\n{output_tail}"),
        }
    }
}

fn list(files: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = files
        .iter()
        .take(SHOWN)
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        text.push_str(&format!(" and {} more", files.len() - SHOWN));
    }
    text
}

/// What [`verify_build`] needs to know.
pub struct BuildCheck<'a> {
    pub repo: &'a Repo,
    pub checkout: &'a Checkout,
    pub branch: &'a str,
    /// Where the story started: the protected paths and the validator's diff cover the whole
    /// story's change (attempt 2 may build on attempt 1's commits).
    pub story_start: &'a Sha,
    pub attempt_start: &'a Sha,
    pub protected: &'a [String],
    /// Commit leftovers for the builder instead of failing (`auto_commit`).
    pub auto_commit: Option<&'a str>,
}

/// A build that passed verification.
#[derive(Debug)]
pub struct Verified {
    /// The commit to validate.
    pub commit: Sha,
    /// The story's change up to it: its files (for `progress.md`) and the validator's diff.
    pub review: Review,
}

/// Checks the builder's work against git. Returns the commit to validate and the story's change.
///
/// The branch, `HEAD` and (mostly) ancestry come from the ref and object files, so this starts
/// two git processes, at the same time: `status`, and one `diff` from the story's start to
/// `HEAD`, whose output serves the protected-path check, the validator's prompt and the progress
/// entry. The diff does not depend on the tree's state; only when `auto_commit` makes a commit
/// is it asked again, for the new tip.
pub fn verify_build(check: &BuildCheck<'_>) -> Result<Result<Verified, Rejection>, GitError> {
    let found = check.checkout.branch()?;
    if found.as_deref() != Some(check.branch) {
        return Ok(Err(Rejection::WrongBranch {
            expected: check.branch.to_owned(),
            found,
        }));
    }
    let head = check.checkout.head()?;
    let (dirty, early_review) = std::thread::scope(|scope| {
        let review = head
            .as_ref()
            .filter(|tip| *tip != check.attempt_start)
            .map(|tip| {
                scope.spawn(move || (tip.clone(), check.repo.review(check.story_start, tip)))
            });
        let dirty = check.checkout.dirty_files();
        let review = review.map(|handle| match handle.join() {
            Ok(review) => review,
            Err(panic) => std::panic::resume_unwind(panic),
        });
        (dirty, review)
    });
    let mut dirty = dirty?;
    if !dirty.is_empty()
        && let Some(message) = check.auto_commit
    {
        check.checkout.commit_all(message)?;
        dirty.clear();
    }
    let tip = match check.checkout.head()? {
        Some(tip) => tip,
        None => {
            return Ok(Err(Rejection::NoCommit {
                branch: check.branch.to_owned(),
                dirty,
            }));
        }
    };
    if !check.repo.is_ancestor(check.attempt_start, &tip)? {
        return Ok(Err(Rejection::RewroteHistory {
            branch: check.branch.to_owned(),
        }));
    }
    if tip == *check.attempt_start {
        return Ok(Err(Rejection::NoCommit {
            branch: check.branch.to_owned(),
            dirty,
        }));
    }
    if !dirty.is_empty() {
        return Ok(Err(Rejection::Dirty { files: dirty }));
    }
    let review = match early_review {
        Some((reviewed, review)) if reviewed == tip => review?,
        _ => check.repo.review(check.story_start, &tip)?,
    };
    let touched: Vec<String> = review
        .files
        .iter()
        .filter(|path| is_protected(path, check.protected))
        .cloned()
        .collect();
    if !touched.is_empty() {
        return Ok(Err(Rejection::Protected { files: touched }));
    }
    Ok(Ok(Verified {
        commit: tip,
        review,
    }))
}

/// Whether `path` is a protected file or lies in a protected directory (entries ending in `/`).
pub fn is_protected(path: &str, protected: &[String]) -> bool {
    protected.iter().any(|p| match p.strip_suffix('/') {
        Some(dir) => path == dir || path.starts_with(p.as_str()),
        None => path == p,
    })
}

/// The most of a check's output kept as feedback.
const TAIL_LINES: usize = 40;
const TAIL_BYTES: usize = 4000;

/// Runs each check with `sh -c` in `dir`, in order, stopping at the first failure. Each check
/// runs in its own process group and is killed with it when it outlives `timeout`.
pub async fn run_checks(
    dir: &Path,
    commands: &[String],
    timeout: Option<Duration>,
) -> Result<(), Rejection> {
    for command in commands {
        let outcome = run_check(dir, command, timeout).await;
        if let Err((status, output)) = outcome {
            return Err(Rejection::CheckFailed {
                command: command.clone(),
                status,
                output_tail: tail(&output),
            });
        }
    }
    Ok(())
}

async fn run_check(
    dir: &Path,
    command: &str,
    timeout: Option<Duration>,
) -> Result<(), (String, String)> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("exec 2>&1; {command}"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|err| ("could not start `sh`".to_owned(), err.to_string()))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let work = async {
        let mut output = Vec::new();
        let _ = stdout.read_to_end(&mut output).await;
        let status = child.wait().await;
        (status, output)
    };
    let result = match timeout {
        Some(limit) => tokio::time::timeout(limit, work).await.ok(),
        None => Some(work.await),
    };
    match result {
        None => {
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let secs = timeout.map_or(0, |t| t.as_secs());
            Err((format!("timed out after {secs} s"), String::new()))
        }
        Some((Ok(status), _)) if status.success() => Ok(()),
        Some((Ok(status), output)) => {
            let shown = match status.code() {
                Some(code) => format!("exit code {code}"),
                None => "killed by a signal".to_owned(),
            };
            Err((shown, String::from_utf8_lossy(&output).into_owned()))
        }
        Some((Err(err), output)) => Err((
            format!("could not wait for it: {err}"),
            String::from_utf8_lossy(&output).into_owned(),
        )),
    }
}

/// The last lines of a check's output, bounded in size.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    let mut text = lines[start..].join("\n");
    if text.len() > TAIL_BYTES {
        let mut cut = text.len() - TAIL_BYTES;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text = format!("…{}", &text[cut..]);
    }
    if text.trim().is_empty() {
        "(no output)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_paths_match_files_and_directories() {
        let protected = vec![
            "prd.json".to_owned(),
            "teams.toml".to_owned(),
            ".teams/".to_owned(),
        ];
        assert!(is_protected("prd.json", &protected));
        assert!(is_protected(".teams/state.db", &protected));
        assert!(!is_protected("docs/prd.json", &protected));
        assert!(!is_protected(".teamsx", &protected));
        assert!(!is_protected("src/lib.rs", &protected));
    }

    #[test]
    fn tails_keep_the_end() {
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = tail(&long);
        assert!(t.starts_with("line 60"));
        assert!(t.ends_with("line 99"));
        assert_eq!(tail("  \n"), "(no output)");
    }

    #[tokio::test]
    async fn checks_stop_at_the_first_failure_with_its_output() {
        let tmp = tempfile::tempdir().unwrap();
        let commands = vec![
            "true".to_owned(),
            "echo out; echo err >&2; exit 3".to_owned(),
            "touch never".to_owned(),
        ];
        let err = run_checks(tmp.path(), &commands, None).await.unwrap_err();
        assert_eq!(
            err,
            Rejection::CheckFailed {
                command: commands[1].clone(),
                status: "exit code 3".into(),
                output_tail: "out\nerr".into(),
            }
        );
        assert!(!tmp.path().join("never").exists());
        assert!(run_checks(tmp.path(), &commands[..1], None).await.is_ok());
    }

    #[tokio::test]
    async fn a_hanging_check_times_out() {
        let tmp = tempfile::tempdir().unwrap();
        let err = run_checks(
            tmp.path(),
            &["sleep 30".to_owned()],
            Some(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
        assert!(err.reason().contains("timed out"), "{}", err.reason());
    }
}
