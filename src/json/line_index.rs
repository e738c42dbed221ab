//! Turns byte offsets into the 1-based line:column pairs people and editors use.

use std::fmt;

/// A 1-based line and column; the column counts characters (not bytes), so it matches what an
/// editor shows for a line with non-ASCII text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The start offset of every line of a text, so each lookup is a binary search plus a count of the
/// characters before the offset on its line, instead of a scan from the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`. Lines end at `\n`; a `\r` before it is part of the previous line, which
    /// makes no difference to columns of anything that comes before it.
    pub fn new(text: &[u8]) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { line_starts }
    }

    /// The position of byte `offset` in `text` (the text this index was built from). Offsets past
    /// the end give the position just after the last character. Bytes that are not valid UTF-8 are
    /// counted as one character each up to the offset, so the result stays usable for the "not
    /// UTF-8" error itself.
    pub fn position(&self, text: &[u8], offset: usize) -> Position {
        let offset = offset.min(text.len());
        // `line_starts[0] == 0`, so the partition point is at least 1.
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = text[start..offset]
            .iter()
            // Count every byte except UTF-8 continuation bytes (0b10xx_xxxx): one per character.
            .filter(|&&b| b & 0xC0 != 0x80)
            .count()
            + 1;
        Position { line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\n\u{e9}t\u{e9}\n\nz".as_bytes();
        let index = LineIndex::new(text);
        let pos = |o| {
            let p = index.position(text, o);
            (p.line, p.column)
        };
        assert_eq!(pos(0), (1, 1));
        assert_eq!(pos(1), (1, 2));
        assert_eq!(pos(2), (1, 3)); // the newline itself
        assert_eq!(pos(3), (2, 1));
        // "é" is two bytes: the `t` after it is the second character.
        assert_eq!(pos(5), (2, 2));
        assert_eq!(pos(8), (2, 4));
        assert_eq!(pos(9), (3, 1));
        assert_eq!(pos(10), (4, 1));
        assert_eq!(pos(99), (4, 2));
    }
}
