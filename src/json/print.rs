//! Prints a [`Node`] tree the way `JSON.stringify(value, null, indent)` does, so a file written by
//! `teams` looks like one written by ralph-teams, an agent or a JavaScript tool.
//!
//! Numbers are written with their source text (never reformatted), strings are escaped minimally
//! like JavaScript does (`"`, `\`, and control characters; everything else, non-ASCII included,
//! is written as is).

use super::node::{Node, NodeKind};

/// How to lay the tree out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintOptions {
    /// One level of indentation. Empty means compact output on one line with no spaces, like
    /// `JSON.stringify(value)`.
    pub indent: String,
    /// Whether to end the output with a newline.
    pub trailing_newline: bool,
}

impl Default for PrintOptions {
    /// Two spaces and a trailing newline: what most editors and formatters write.
    fn default() -> Self {
        PrintOptions {
            indent: "  ".to_owned(),
            trailing_newline: true,
        }
    }
}

/// Prints `node` into a new string.
pub fn print(node: &Node, options: &PrintOptions) -> String {
    let mut out = String::new();
    print_into(&mut out, node, options);
    out
}

/// Prints `node` at the end of `out`.
pub fn print_into(out: &mut String, node: &Node, options: &PrintOptions) {
    Printer {
        out,
        indent: &options.indent,
    }
    .value(node, 0);
    if options.trailing_newline {
        out.push('\n');
    }
}

struct Printer<'a> {
    out: &'a mut String,
    indent: &'a str,
}

impl Printer<'_> {
    fn newline(&mut self, depth: usize) {
        if !self.indent.is_empty() {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(self.indent);
            }
        }
    }

    fn value(&mut self, node: &Node, depth: usize) {
        match &node.kind {
            NodeKind::Null => self.out.push_str("null"),
            NodeKind::Bool(true) => self.out.push_str("true"),
            NodeKind::Bool(false) => self.out.push_str("false"),
            NodeKind::Number(raw) => self.out.push_str(raw),
            NodeKind::String(s) => write_string(self.out, s),
            NodeKind::Array(items) if items.is_empty() => self.out.push_str("[]"),
            NodeKind::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1);
                }
                self.newline(depth);
                self.out.push(']');
            }
            NodeKind::Object(members) if members.is_empty() => self.out.push_str("{}"),
            NodeKind::Object(members) => {
                self.out.push('{');
                for (i, member) in members.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    write_string(self.out, &member.key);
                    self.out.push(':');
                    if !self.indent.is_empty() {
                        self.out.push(' ');
                    }
                    self.value(&member.value, depth + 1);
                }
                self.newline(depth);
                self.out.push('}');
            }
        }
    }
}

/// Writes `s` as a JSON string literal, escaping what JavaScript escapes and nothing more.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0x00..=0x1F => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slice ends are character boundaries.
        out.push_str(&s[run_start..i]);
        if escaped.is_empty() {
            // JavaScript writes the remaining control characters as lowercase `\u00xx`.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push_str(escaped);
        }
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}
