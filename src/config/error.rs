//! `ConfigError`: every way the configuration can be wrong, as one structured value.
//!
//! A configuration error is fixed by editing one place, so the error's job is to name that place
//! exactly: the file, line and column for `teams.toml`, the variable for the environment, the flag
//! for the command line, plus the key and, when we can guess it, the fix. The CLI renders it as
//! `error: <Display>` followed by `hint: <hint>`, and maps it to exit code 2 (spec §10).

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::types::{Source, short_path};

/// Where the offending value was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A position in `teams.toml` (or in the built-in defaults); 1-based.
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// A file as a whole, e.g. one that cannot be read.
    WholeFile {
        path: PathBuf,
    },
    Env {
        var: String,
    },
    Flag {
        flag: String,
    },
    /// The built-in defaults (only a bug in `teams` can put an error here).
    Default,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", short_path(path))
            }
            Location::WholeFile { path } => write!(f, "{}", path.display()),
            Location::Env { var } => write!(f, "environment variable {var}"),
            Location::Flag { flag } => write!(f, "flag {flag}"),
            Location::Default => f.write_str("built-in defaults"),
        }
    }
}

impl From<&Source> for Location {
    fn from(source: &Source) -> Self {
        match source {
            Source::Default => Location::Default,
            Source::File { path, line, column } => Location::File {
                path: path.clone(),
                line: *line,
                column: *column,
            },
            Source::Env { var } => Location::Env { var: var.clone() },
            Source::Flag { flag } => Location::Flag { flag: flag.clone() },
        }
    }
}

/// A configuration problem. `Display` gives the one-line message, e.g.
/// ``teams.toml:3:1: unknown key `bakend` ``; [`ConfigError::hint`] gives the suggested fix.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    pub location: Location,
    /// The dotted key concerned (`roles.builder.timeout`), when there is one.
    pub key: Option<String>,
    /// Lowercase fragment, e.g. ``unknown key `bakend` `` or
    /// ``invalid value for `parallel`: must be at least 1, got 0``.
    pub message: String,
    /// What to do about it, e.g. ``did you mean `backend`?``.
    pub hint: Option<String>,
    /// The I/O failure behind an unreadable file.
    #[source]
    pub io: Option<std::io::Error>,
}

impl ConfigError {
    pub(crate) fn new(location: Location, message: impl Into<String>) -> Self {
        ConfigError {
            location,
            key: None,
            message: message.into(),
            hint: None,
            io: None,
        }
    }

    pub(crate) fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// The suggested fix, shown by the CLI as `hint: …`.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The 1-based line in `teams.toml`, when the error points into the file.
    pub fn line(&self) -> Option<usize> {
        match self.location {
            Location::File { line, .. } => Some(line),
            _ => None,
        }
    }

    /// The 1-based column in `teams.toml`, when the error points into the file.
    pub fn column(&self) -> Option<usize> {
        match self.location {
            Location::File { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`. toml reports spans as
/// byte ranges; people count lines and characters.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The closest of `candidates` to `word`, when it is close enough to be a plausible typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Allow one edit per three characters, at least two: `bakend`→`backend` and `timout`→`timeout`
    // match, while short unrelated words do not. A word that is the start of a candidate (or the
    // reverse) also counts, since people shorten names: `{prompt}`→`{prompt_file}`.
    let limit = (word.chars().count() / 3).max(2);
    let related = |candidate: &str| {
        let (short, long) = if word.len() <= candidate.len() {
            (word, candidate)
        } else {
            (candidate, word)
        };
        short.len() >= 3 && long.starts_with(short)
    };
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= limit || related(candidate))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// "did you mean `x`?" for [`suggest`]'s answer.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(word, candidates).map(|s| format!("did you mean `{s}`?"))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 4), (1, 5));
        assert_eq!(line_col(text, 6), (2, 1));
        // `=` after a two-byte character is the 4th character of line 2.
        assert_eq!(line_col(text, 10), (2, 4));
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn edit_distance_is_levenshtein() {
        assert_eq!(edit_distance("bakend", "backend"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_only_close_words() {
        let keys = ["backend", "parallel", "max_attempts", "land"];
        assert_eq!(suggest("bakend", keys), Some("backend"));
        assert_eq!(suggest("paralel", keys), Some("parallel"));
        assert_eq!(suggest("max_attempt", keys), Some("max_attempts"));
        assert_eq!(suggest("colour", keys), None);
        assert_eq!(suggest("max", keys), Some("max_attempts"));
        assert_eq!(suggest("xy", keys), None);
        assert_eq!(suggest("zzz", keys), None);
    }

    #[test]
    fn displays_location_then_message() {
        let err = ConfigError::new(
            Location::File {
                path: PathBuf::from("/repo/teams.toml"),
                line: 3,
                column: 1,
            },
            "unknown key `bakend`",
        );
        assert_eq!(err.to_string(), "teams.toml:3:1: unknown key `bakend`");
        let err = ConfigError::new(
            Location::Env {
                var: "TEAMS_PARALLEL".into(),
            },
            "bad",
        );
        assert_eq!(err.to_string(), "environment variable TEAMS_PARALLEL: bad");
    }
}
