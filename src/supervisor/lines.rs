//! Pure byte plumbing for agent output: splitting a pipe's chunks into bounded lines, and keeping a
//! bounded tail of what was seen.
//!
//! Agents can print without limit (a 100 MB build log, a minified bundle on one line), so nothing
//! here ever holds more than a fixed number of bytes: a line longer than the cap is passed on to the
//! parser cut short, while its raw bytes still stream through to the transcript untouched. Keeping
//! this free of I/O lets the edge cases (split CRLF, a line exactly at the cap, a chunk with many
//! lines) be unit-tested without spawning anything.

use std::collections::VecDeque;

/// One thing the splitter produces while it consumes a chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Raw bytes to append to the transcript, in order. Every input byte is emitted exactly once.
    Raw(&'a [u8]),
    /// A complete line for the parser: no `\n`, no trailing `\r`, at most the cap long.
    Line {
        text: &'a [u8],
        /// The line was longer than the cap and `text` is only its beginning.
        truncated: bool,
    },
}

/// Splits a byte stream into lines of at most `cap` bytes.
///
/// Short lines are buffered until their newline and then emitted whole (raw bytes first, then the
/// line), so the transcript of two interleaved streams stays line-atomic. A line that outgrows the
/// cap stops being buffered: what was held is flushed raw, later bytes pass straight through, and
/// only the first `cap` bytes are kept for the parser.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    cap: usize,
    buf: Vec<u8>,
    /// The current line outgrew the cap; `buf` holds its (already written) first `cap` bytes.
    overflowed: bool,
}

impl LineSplitter {
    pub(crate) fn new(cap: usize) -> Self {
        // A zero cap could never make progress on a line; one byte is the smallest useful cap.
        let cap = cap.max(1);
        Self {
            cap,
            buf: Vec::new(),
            overflowed: false,
        }
    }

    /// Consumes one chunk read from the pipe.
    pub(crate) fn feed(&mut self, mut chunk: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        while !chunk.is_empty() {
            let newline = chunk.iter().position(|&b| b == b'\n');
            let (segment, rest, ends_line) = match newline {
                Some(i) => (&chunk[..i], &chunk[i + 1..], true),
                None => (chunk, &[][..], false),
            };
            self.absorb(segment, out);
            if ends_line {
                if self.overflowed {
                    out(Piece::Raw(b"\n"));
                } else {
                    self.buf.push(b'\n');
                    out(Piece::Raw(&self.buf));
                    self.buf.pop();
                }
                self.emit_line(out);
            }
            chunk = rest;
        }
    }

    /// End of the stream: a last line without a newline is still a line.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(Piece<'_>)) {
        if self.buf.is_empty() && !self.overflowed {
            return;
        }
        if !self.overflowed {
            out(Piece::Raw(&self.buf));
        }
        self.emit_line(out);
    }

    /// Adds bytes of the current line (no newline among them).
    fn absorb(&mut self, segment: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        if segment.is_empty() {
            return;
        }
        let room = self.cap - self.buf.len();
        if !self.overflowed && segment.len() <= room {
            self.buf.extend_from_slice(segment);
            return;
        }
        if !self.overflowed {
            // The line just outgrew the cap: flush what was held so raw bytes stay in order, and
            // stop buffering.
            out(Piece::Raw(&self.buf));
            self.overflowed = true;
        }
        let keep = room.min(segment.len());
        self.buf.extend_from_slice(&segment[..keep]);
        out(Piece::Raw(segment));
    }

    fn emit_line(&mut self, out: &mut dyn FnMut(Piece<'_>)) {
        let text = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
        out(Piece::Line {
            text,
            truncated: self.overflowed,
        });
        self.buf.clear();
        self.overflowed = false;
    }
}

/// The last `cap` bytes of the lines pushed into it, for evidence (a crash's stderr, the end of a
/// transcript) without keeping the whole output.
#[derive(Debug)]
pub(crate) struct TailBuffer {
    cap: usize,
    bytes: VecDeque<u8>,
    /// Bytes were dropped from the front, so the oldest line held may be partial.
    cut: bool,
}

impl TailBuffer {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            bytes: VecDeque::with_capacity(cap.min(64 * 1024)),
            cut: false,
        }
    }

    /// Appends one line (a newline is added).
    pub(crate) fn push_line(&mut self, line: &[u8]) {
        if self.cap == 0 {
            self.cut = true;
            return;
        }
        // Only the end of an oversized line can survive; skip the rest without copying it.
        let start = (line.len() + 1).saturating_sub(self.cap).min(line.len());
        if start > 0 {
            self.cut = true;
        }
        self.bytes.extend(&line[start..]);
        self.bytes.push_back(b'\n');
        let excess = self.bytes.len().saturating_sub(self.cap);
        if excess > 0 {
            self.bytes.drain(..excess);
            self.cut = true;
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The tail as text (invalid UTF-8 replaced). When the front was cut, the partial first line is
    /// dropped so the evidence starts at a line boundary (unless that would leave nothing).
    pub(crate) fn to_text(&self) -> String {
        let (a, b) = self.bytes.as_slices();
        let mut all = Vec::with_capacity(a.len() + b.len());
        all.extend_from_slice(a);
        all.extend_from_slice(b);
        let mut view = &all[..];
        if self.cut
            && let Some(i) = view.iter().position(|&c| c == b'\n')
            && i + 1 < view.len()
        {
            view = &view[i + 1..];
        }
        String::from_utf8_lossy(view).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::Just;

    use super::*;

    /// Feeds the chunks and returns (raw bytes concatenated, lines with their truncated flag).
    fn split(cap: usize, chunks: &[&[u8]]) -> (Vec<u8>, Vec<(String, bool)>) {
        let mut splitter = LineSplitter::new(cap);
        let mut raw = Vec::new();
        let mut lines = Vec::new();
        let mut sink = |p: Piece<'_>| match p {
            Piece::Raw(b) => raw.extend_from_slice(b),
            Piece::Line { text, truncated } => {
                lines.push((String::from_utf8_lossy(text).into_owned(), truncated));
            }
        };
        for chunk in chunks {
            splitter.feed(chunk, &mut sink);
        }
        splitter.finish(&mut sink);
        (raw, lines)
    }

    fn line(s: &str) -> (String, bool) {
        (s.to_owned(), false)
    }

    #[test]
    fn splits_lines_across_chunks_and_keeps_every_raw_byte() {
        let chunks: &[&[u8]] = &[b"ab", b"c\nde", b"f\n\ng", b"h"];
        let (raw, lines) = split(100, chunks);
        assert_eq!(raw, b"abc\ndef\n\ngh");
        assert_eq!(lines, vec![line("abc"), line("def"), line(""), line("gh")]);
    }

    #[test]
    fn strips_crlf_even_when_split_between_chunks() {
        let (raw, lines) = split(100, &[b"one\r", b"\ntwo\r\n"]);
        assert_eq!(raw, b"one\r\ntwo\r\n");
        assert_eq!(lines, vec![line("one"), line("two")]);
    }

    #[test]
    fn no_trailing_empty_line_after_final_newline() {
        let (_, lines) = split(100, &[b"a\n"]);
        assert_eq!(lines, vec![line("a")]);
        let (raw, lines) = split(100, &[]);
        assert!(raw.is_empty() && lines.is_empty());
    }

    #[test]
    fn line_exactly_at_cap_is_not_truncated() {
        let (_, lines) = split(4, &[b"abcd\nabcde\n"]);
        assert_eq!(lines, vec![line("abcd"), ("abcd".to_owned(), true)]);
    }

    #[test]
    fn long_line_is_capped_for_the_parser_but_complete_in_the_transcript() {
        let long = vec![b'x'; 10_000];
        let chunks: Vec<&[u8]> = long.chunks(333).chain([&b"\nnext\n"[..]]).collect();
        let (raw, lines) = split(16, &chunks);
        assert_eq!(raw.len(), 10_000 + 6);
        assert!(raw.starts_with(&long) && raw.ends_with(b"\nnext\n"));
        assert_eq!(lines, vec![("x".repeat(16), true), line("next")]);
    }

    #[test]
    fn unterminated_long_line_is_flushed_at_finish() {
        let (raw, lines) = split(3, &[b"abcdef"]);
        assert_eq!(raw, b"abcdef");
        assert_eq!(lines, vec![("abc".to_owned(), true)]);
    }

    #[test]
    fn raw_output_stays_in_order_when_a_line_overflows_mid_chunk() {
        let (raw, lines) = split(4, &[b"ab", b"cdefg\nhi"]);
        assert_eq!(raw, b"abcdefg\nhi");
        assert_eq!(lines, vec![("abcd".to_owned(), true), line("hi")]);
    }

    #[test]
    fn tail_keeps_only_the_last_bytes_from_a_line_boundary() {
        let mut tail = TailBuffer::new(10);
        for l in ["first line", "second", "third"] {
            tail.push_line(l.as_bytes());
        }
        assert!(tail.len() <= 10);
        assert_eq!(tail.to_text(), "third\n");
    }

    #[test]
    fn tail_of_a_huge_line_is_bounded() {
        let mut tail = TailBuffer::new(8);
        tail.push_line(&vec![b'y'; 1_000_000]);
        assert_eq!(tail.len(), 8);
        assert_eq!(tail.to_text(), "yyyyyyy\n");
    }

    #[test]
    fn tail_that_was_never_cut_is_returned_whole() {
        let mut tail = TailBuffer::new(100);
        tail.push_line(b"a");
        tail.push_line(b"b");
        assert_eq!(tail.to_text(), "a\nb\n");
    }

    proptest::proptest! {
        /// Whatever the chunking and the cap: every byte reaches the transcript once, in order,
        /// and the lines are the input's lines, cut to the cap.
        #[test]
        fn splitting_loses_nothing(
            input in proptest::collection::vec(proptest::prop_oneof![
                Just(b'\n'), Just(b'\r'), Just(b'a'), proptest::num::u8::ANY
            ], 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..8),
            cap in 1usize..40,
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
            cuts.push(0);
            cuts.push(input.len());
            cuts.sort_unstable();
            let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &input[w[0]..w[1]]).collect();
            let (raw, lines) = split(cap, &chunks);
            proptest::prop_assert_eq!(&raw, &input);

            let mut expected: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            if input.is_empty() || input.ends_with(b"\n") {
                expected.pop();
            }
            proptest::prop_assert_eq!(lines.len(), expected.len());
            for ((got, truncated), want) in lines.iter().zip(expected) {
                // The cap applies to the raw line; a `\r` left at the end of what is kept goes.
                let kept = &want[..want.len().min(cap)];
                let kept = kept.strip_suffix(b"\r").unwrap_or(kept);
                proptest::prop_assert_eq!(got.as_str(), String::from_utf8_lossy(kept));
                proptest::prop_assert_eq!(*truncated, want.len() > cap);
            }
        }
    }
}
