//! A strict RFC 8259 recursive-descent parser producing a [`Node`] tree with spans.
//!
//! Recursion is bounded by [`MAX_DEPTH`], so hostile input cannot overflow the stack. Positions
//! are computed only when an error is reported, so the hot path only moves an offset.

use super::line_index::{LineIndex, Position};
use super::node::{Member, Node, NodeKind, Span};

/// How deeply arrays and objects may nest. A PRD needs 5 levels; 128 matches serde_json's limit
/// and keeps recursion far from the stack's end.
pub const MAX_DEPTH: usize = 128;

/// What kind of input problem stopped the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input is not UTF-8; the position is the first bad byte.
    NotUtf8,
    /// The input is not JSON.
    Syntax,
    /// Arrays and objects nest deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Why the input is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct ParseError {
    /// The kind of problem.
    pub kind: ParseErrorKind,
    /// Byte offset of the problem.
    pub offset: usize,
    /// Line and column of the problem.
    pub position: Position,
    /// A short lowercase description, e.g. "expected `,` or `}` after object member".
    pub message: String,
}

/// Parses a complete JSON text. A leading UTF-8 byte order mark is skipped, because some Windows
/// editors write one and RFC 8259 allows parsers to ignore it.
pub fn parse(input: &[u8]) -> Result<Node, ParseError> {
    let text = match std::str::from_utf8(input) {
        Ok(text) => text,
        Err(e) => {
            return Err(error_at(
                input,
                e.valid_up_to(),
                ParseErrorKind::NotUtf8,
                "the file is not valid UTF-8".to_owned(),
            ));
        }
    };
    let mut parser = Parser {
        text,
        bytes: input,
        pos: 0,
        depth: 0,
    };
    if text.starts_with('\u{feff}') {
        parser.pos = '\u{feff}'.len_utf8();
    }
    let result = parser.document();
    result.map_err(|(offset, kind, message)| error_at(input, offset, kind, message))
}

fn error_at(input: &[u8], offset: usize, kind: ParseErrorKind, message: String) -> ParseError {
    ParseError {
        kind,
        offset,
        position: LineIndex::new(input).position(input, offset),
        message,
    }
}

type Failure = (usize, ParseErrorKind, String);
type PResult<T> = Result<T, Failure>;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> PResult<Node> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            return Err(self.fail("the file is empty; expected a JSON value"));
        }
        let node = self.value()?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            let found = self.describe_here();
            return Err(self.fail(format!("unexpected {found} after the JSON value")));
        }
        Ok(node)
    }

    fn fail(&self, message: impl Into<String>) -> Failure {
        (self.pos, ParseErrorKind::Syntax, message.into())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        self.pos += rest
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
    }

    /// The character at the current position, quoted, for messages.
    fn describe_here(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            None => "end of file".to_owned(),
            Some(c) if c.is_control() => format!("character U+{:04X}", u32::from(c)),
            Some(c) => format!("`{c}`"),
        }
    }

    /// When the unexpected token starts a new line, the usual cause is a `,` forgotten at the end
    /// of the previous value's line, which is worth saying since the error points one line late.
    fn missing_comma_hint(&self, previous_end: Option<usize>) -> String {
        let Some(end) = previous_end else {
            return String::new();
        };
        let gap = self.bytes.get(end..self.pos).unwrap_or_default();
        let starts_value = matches!(
            self.peek(),
            Some(b'"' | b'{' | b'[' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
        );
        if !gap.contains(&b'\n') || !starts_value {
            return String::new();
        }
        let line = 1 + self.bytes[..end].iter().filter(|&&b| b == b'\n').count();
        format!(" (is a `,` missing at the end of line {line}?)")
    }

    fn value(&mut self) -> PResult<Node> {
        let start = self.pos;
        let kind = match self.peek() {
            None => return Err(self.fail("unexpected end of file; expected a value")),
            Some(b'{') => return self.object(),
            Some(b'[') => return self.array(),
            Some(b'"') => NodeKind::String(self.string()?),
            Some(b't') => self.literal("true", NodeKind::Bool(true))?,
            Some(b'f') => self.literal("false", NodeKind::Bool(false))?,
            Some(b'n') => self.literal("null", NodeKind::Null)?,
            Some(b'-' | b'0'..=b'9') => NodeKind::Number(self.number()?),
            Some(b'/') => return Err(self.fail("comments are not allowed in JSON")),
            Some(b'\'') => return Err(self.fail("strings must use double quotes (`\"`)")),
            Some(_) => {
                let found = self.describe_here();
                return Err(self.fail(format!("expected a value, found {found}")));
            }
        };
        Ok(Node {
            span: Span::new(start, self.pos),
            kind,
        })
    }

    fn literal(&mut self, word: &str, kind: NodeKind) -> PResult<NodeKind> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.fail("expected a value (`true`, `false`, `null`, a number, a string, an array or an object)"))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((
                self.pos,
                ParseErrorKind::TooDeep,
                format!("arrays and objects nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn object(&mut self) -> PResult<Node> {
        let start = self.pos;
        self.enter()?;
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            let mut comma_at = None;
            loop {
                self.skip_ws();
                match self.peek() {
                    Some(b'"') => {}
                    Some(b'}') => {
                        // Only reachable after a comma: an empty object returned above.
                        if let Some(comma) = comma_at {
                            self.pos = comma;
                        }
                        return Err(self.fail("trailing comma before `}` is not allowed in JSON"));
                    }
                    None => return Err(self.fail("unexpected end of file; expected an object key")),
                    Some(b'/') => return Err(self.fail("comments are not allowed in JSON")),
                    Some(_) => {
                        let found = self.describe_here();
                        return Err(self.fail(format!(
                            "expected an object key in double quotes, found {found}"
                        )));
                    }
                }
                let key_start = self.pos;
                let key = self.string()?;
                let key_span = Span::new(key_start, self.pos);
                self.skip_ws();
                match self.peek() {
                    Some(b':') => self.pos += 1,
                    None => return Err(self.fail("unexpected end of file; expected `:`")),
                    Some(_) => return Err(self.fail("expected `:` after object key")),
                }
                self.skip_ws();
                let value = self.value()?;
                members.push(Member {
                    key,
                    key_span,
                    value,
                });
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        comma_at = Some(self.pos);
                        self.pos += 1;
                    }
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    None => {
                        return Err(self.fail("unexpected end of file; expected `,` or `}`"));
                    }
                    Some(_) => {
                        let hint =
                            self.missing_comma_hint(members.last().map(|m| m.value.span.end));
                        return Err(
                            self.fail(format!("expected `,` or `}}` after object member{hint}"))
                        );
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(Node {
            span: Span::new(start, self.pos),
            kind: NodeKind::Object(members),
        })
    }

    fn array(&mut self) -> PResult<Node> {
        let start = self.pos;
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                if self.peek() == Some(b']') && !items.is_empty() {
                    // Report at the comma that precedes the bracket, where the fix is.
                    self.pos = self.bytes[..self.pos]
                        .iter()
                        .rposition(|&b| b == b',')
                        .unwrap_or(self.pos);
                    return Err(self.fail("trailing comma before `]` is not allowed in JSON"));
                }
                items.push(self.value()?);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    None => return Err(self.fail("unexpected end of file; expected `,` or `]`")),
                    Some(_) => {
                        let hint = self.missing_comma_hint(items.last().map(|n| n.span.end));
                        return Err(
                            self.fail(format!("expected `,` or `]` after array element{hint}"))
                        );
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(Node {
            span: Span::new(start, self.pos),
            kind: NodeKind::Array(items),
        })
    }

    /// Parses a string starting at its opening quote and returns it unescaped.
    fn string(&mut self) -> PResult<String> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the longest run that needs no attention in one go: most strings have no escapes.
            let run_start = self.pos;
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            self.pos += rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            // Both ends sit on ASCII bytes (or the end), so they are character boundaries.
            out.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(b'\n' | b'\r') => {
                    return Err(self.fail(
                        "line break inside a string (a missing closing `\"`? escape it as \\n)",
                    ));
                }
                Some(b) => {
                    return Err(self.fail(format!(
                        "control character U+{b:04X} must be escaped inside a string"
                    )));
                }
                None => {
                    self.pos = open;
                    return Err(
                        self.fail("unterminated string: no closing `\"` before end of file")
                    );
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> PResult<()> {
        let at = self.pos;
        self.pos += 1;
        let Some(b) = self.peek() else {
            return Err(self.fail("unexpected end of file inside a string"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(at, out),
            _ => {
                self.pos = at;
                let found = self
                    .text
                    .get(at + 1..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                return Err(self.fail(format!(
                    "invalid escape `\\{found}` in string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
                )));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self, at: usize) -> PResult<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let value = digits.and_then(|d| {
            d.iter().try_fold(0u32, |acc, &b| {
                char::from(b).to_digit(16).map(|v| acc * 16 + v)
            })
        });
        match value {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => {
                self.pos = at;
                Err(self.fail("invalid unicode escape: `\\u` must be followed by 4 hex digits"))
            }
        }
    }

    fn unicode_escape(&mut self, at: usize, out: &mut String) -> PResult<()> {
        let first = self.hex4(at)?;
        let code = match first {
            0xD800..=0xDBFF => {
                // A high surrogate must be followed by an escaped low surrogate.
                let second_at = self.pos;
                let low = if self.bytes[self.pos..].starts_with(b"\\u") {
                    self.pos += 2;
                    Some(self.hex4(second_at)?)
                } else {
                    None
                };
                match low {
                    Some(low @ 0xDC00..=0xDFFF) => {
                        0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
                    }
                    _ => {
                        self.pos = at;
                        return Err(self.fail(format!(
                            "unpaired surrogate `\\u{first:04X}` in string (a high surrogate must be followed by a `\\uDC00`–`\\uDFFF` escape)"
                        )));
                    }
                }
            }
            0xDC00..=0xDFFF => {
                self.pos = at;
                return Err(self.fail(format!("unpaired surrogate `\\u{first:04X}` in string")));
            }
            other => other,
        };
        match char::from_u32(code) {
            Some(c) => {
                out.push(c);
                Ok(())
            }
            None => {
                self.pos = at;
                Err(self.fail("invalid unicode escape"))
            }
        }
    }

    fn number(&mut self) -> PResult<String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.fail("leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.fail("expected a digit after `-`")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fail("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fail("expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(self
            .text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_owned())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}
