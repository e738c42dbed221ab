//! A small JSON reader and writer that keeps the position of every value.
//!
//! `serde_json::Value` forgets where each value came from, and `teams validate` must point at the
//! exact line and column of a bad field. It also reorders or drops nothing we need to write back:
//! `prd.json` is edited in place, so unknown fields, key order and duplicate keys must survive a
//! load/save cycle. This module therefore parses into a [`Node`] tree with byte spans, and prints a
//! tree in the canonical form `JSON.stringify(v, null, 2)` produces, which is what ralph-teams and
//! most editors write.
//!
//! The parser is strict RFC 8259: no comments, no trailing commas, no lone surrogates, a nesting
//! limit of [`MAX_DEPTH`], and input that must be UTF-8.

mod line_index;
mod node;
mod parse;
mod print;

pub use line_index::{LineIndex, Position};
pub use node::{Member, Node, NodeKind, Span};
pub use parse::{MAX_DEPTH, ParseError, ParseErrorKind, parse};
pub use print::{PrintOptions, print, print_into};

#[cfg(test)]
mod tests;
