//! Turning a [`LoadError`] into the error a command shows, with the right hint. Every command that
//! reads `prd.json` goes through here so the messages are the same everywhere.

use std::path::Path;

use crate::error::TeamsError;
use crate::prd::LoadError;

/// How many schema problems an error lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemListing {
    /// Every problem: `teams validate`, whose whole point is the list.
    All,
    /// The first few, then a pointer to `teams validate`: every other command.
    FirstFew,
}

/// How many problems [`ProblemListing::FirstFew`] shows.
const FIRST_FEW: usize = 5;

/// `path` as the user should read it: relative to the directory `teams` was started in when it
/// lies below it, else absolute.
pub fn shown_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
        && !rel.as_os_str().is_empty()
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}

/// The error shown for a PRD that cannot be used: the message, the schema problems as details
/// (as many as `listing` says) and a hint.
pub fn load_error(err: LoadError, shown: &str, listing: ProblemListing) -> TeamsError {
    let total = err.problems().len();
    let shown_count = match listing {
        ProblemListing::All => total,
        ProblemListing::FirstFew => total.min(FIRST_FEW),
    };
    let mut base = TeamsError::invalid_input(message(&err, shown));
    for problem in &err.problems()[..shown_count] {
        base = base.with_detail(format!("{shown}:{problem}"));
    }
    if shown_count < total {
        base = base
            .with_detail(format!("… and {} more", total - shown_count))
            .with_hint("run `teams validate` to see all problems");
    }
    let error = match &err {
        LoadError::NotFound { .. } => base.with_hint(
            "create it (`prd.json.example` in the teams repository is a complete example), or pass `--prd PATH`",
        ),
        LoadError::IsDirectory { .. } => {
            base.with_hint("pass the PRD file itself with `--prd PATH`")
        }
        LoadError::PermissionDenied { .. } => {
            base.with_hint("check the file's permissions (`ls -l`)")
        }
        LoadError::Io { .. } => base,
        LoadError::TooLarge { .. } => {
            base.with_hint("check the path: a PRD is a few kilobytes of JSON; pass the right one with `--prd PATH`")
        }
        LoadError::NotUtf8 { .. } => {
            base.with_hint("save the file as UTF-8 (it may be UTF-16 or Latin-1, or not a text file)")
        }
        LoadError::Syntax { .. } => base.with_hint("fix the JSON at that position, then run `teams validate`"),
        LoadError::Invalid { .. } => base,
    };
    match err {
        // The I/O cause says what the OS said; the others carry everything in the message.
        LoadError::PermissionDenied { source, .. } | LoadError::Io { source, .. } => {
            error.with_source(source)
        }
        _ => error,
    }
}

fn message(err: &LoadError, shown: &str) -> String {
    match err {
        LoadError::NotFound { .. } => format!("failed to read {shown}: no such file"),
        LoadError::IsDirectory { .. } => format!("failed to read {shown}: it is a directory"),
        LoadError::PermissionDenied { .. } => format!("failed to read {shown}: permission denied"),
        LoadError::Io { .. } => format!("failed to read {shown}"),
        LoadError::TooLarge { size, .. } => format!(
            "refusing to read {shown}: it is {:.1} MiB, over the {} MiB limit for a PRD",
            *size as f64 / (1024.0 * 1024.0),
            crate::prd::MAX_PRD_BYTES / (1024 * 1024)
        ),
        LoadError::NotUtf8 { line, column, .. } => {
            format!("{shown}:{line}:{column}: the file is not valid UTF-8")
        }
        LoadError::Syntax {
            line,
            column,
            message,
            ..
        } => format!("{shown}:{line}:{column}: invalid JSON: {message}"),
        LoadError::Invalid { problems, .. } => format!(
            "{shown} is invalid: {}",
            crate::helpers::plural(problems.len(), "problem", "problems")
        ),
    }
}
