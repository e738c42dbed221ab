//! One thing wrong with a `prd.json`, located precisely enough to jump to it in an editor.

use std::fmt;

use crate::json::{LineIndex, Span};

/// A schema or consistency problem in `prd.json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Problem {
    /// Line of the offending value, from 1.
    pub line: usize,
    /// Column of the offending value, in characters from 1.
    pub column: usize,
    /// Where in the document, like `epics[0].userStories[2].passes`; empty for the root value.
    pub path: String,
    /// What is wrong, lowercase, e.g. "expected a boolean, found a string".
    pub message: String,
}

impl fmt::Display for Problem {
    /// `line:col: path: message`, or `line:col: message` for the root value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Problems as they are found: spans, turned into line:column once at the end, so a file with
/// many problems costs one line index, not one scan per problem.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    found: Vec<(Span, String, String)>,
}

impl Problems {
    pub(crate) fn push(&mut self, span: Span, path: impl Into<String>, message: impl Into<String>) {
        self.found.push((span, path.into(), message.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The problems with positions, sorted by position (then path and message, so the order is
    /// stable whatever order the checks ran in).
    pub(crate) fn locate(self, text: &[u8], index: &LineIndex) -> Vec<Problem> {
        let mut problems: Vec<Problem> = self
            .found
            .into_iter()
            .map(|(span, path, message)| {
                let position = index.position(text, span.start);
                Problem {
                    line: position.line,
                    column: position.column,
                    path,
                    message,
                }
            })
            .collect();
        problems.sort();
        problems.dedup();
        problems
    }
}

/// The Levenshtein distance between two short strings, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The candidate closest to `wanted`, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(wanted, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_suggestions() {
        let p = Problem {
            line: 3,
            column: 7,
            path: "epics[0].id".into(),
            message: "must not be blank".into(),
        };
        assert_eq!(p.to_string(), "3:7: epics[0].id: must not be blank");
        let root = Problem {
            path: String::new(),
            ..p
        };
        assert_eq!(root.to_string(), "3:7: must not be blank");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(
            closest("EPIC-04", ["EPIC-001", "EPIC-004", "X"]),
            Some("EPIC-004")
        );
        assert_eq!(closest("FOO", ["EPIC-001"]), None);
    }
}
