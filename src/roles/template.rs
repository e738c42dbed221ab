//! The prompt template language: `{{name}}` inserts a value, `{{#name}}…{{/name}}` keeps its body
//! only when the value is non-empty, `{{^name}}…{{/name}}` only when it is empty.
//!
//! Why not a template crate: prompts need exactly these three constructs, every name must be
//! checked against the role's list when the file is loaded (with line and column, so a bad
//! override fails before any agent runs), and values must be inserted verbatim. A diff routinely
//! contains `{{`, so rendering walks the parsed template once and never looks inside a value.
//!
//! Two rules keep templates readable:
//! - A block tag alone on its line (only whitespace around it) takes its whole line with it, so
//!   an absent optional section leaves no blank line behind.
//! - `{{` that does not open a well-formed tag (`{{`, optional `#`, `^` or `/`, a name of letters,
//!   digits and `_`, then `}}` on the same line) is plain text, so prose and code samples can
//!   contain braces.

use std::borrow::Cow;
use std::fmt;

/// A parsed template whose every name is one of its role's placeholders.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Value(&'static str),
    Block {
        name: &'static str,
        /// `{{^name}}`: rendered when the value is empty.
        inverted: bool,
        body: Vec<Node>,
    },
}

/// The values of one rendering, looked up by placeholder name.
pub(crate) struct Values<'a>(Vec<(&'static str, Cow<'a, str>)>);

impl<'a> Values<'a> {
    pub(crate) fn new() -> Self {
        Values(Vec::new())
    }

    /// Adds `name = value` (builder style, since every role sets a dozen or so).
    pub(crate) fn set(mut self, name: &'static str, value: impl Into<Cow<'a, str>>) -> Self {
        self.0.push((name, value.into()));
        self
    }

    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_ref())
    }
}

/// Why a template cannot be used, with the 1-based line and column of the offending tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {problem}")]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub problem: TemplateProblem,
}

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateProblem {
    /// A name the role does not provide.
    UnknownPlaceholder {
        name: String,
        /// The role's placeholders.
        allowed: &'static [&'static str],
        /// The closest allowed name, when it looks like a typo.
        suggestion: Option<&'static str>,
    },
    /// `{{/name}}` with no block open.
    UnexpectedClose { name: String },
    /// `{{/name}}` while a different block is open.
    MismatchedClose {
        name: String,
        open: String,
        open_line: usize,
        open_column: usize,
    },
    /// `{{#name}}` or `{{^name}}` never closed; `tag` is the opening tag as written.
    UnclosedBlock { tag: String },
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateProblem::UnknownPlaceholder {
                name,
                allowed,
                suggestion,
            } => {
                write!(f, "unknown placeholder `{{{{{name}}}}}`")?;
                if let Some(suggestion) = suggestion {
                    write!(f, " (did you mean `{{{{{suggestion}}}}}`?)")?;
                }
                write!(f, "; this prompt can use {}", allowed.join(", "))
            }
            TemplateProblem::UnexpectedClose { name } => {
                write!(f, "`{{{{/{name}}}}}` closes no open block")
            }
            TemplateProblem::MismatchedClose {
                name,
                open,
                open_line,
                open_column,
            } => write!(
                f,
                "`{{{{/{name}}}}}` does not match the block `{open}` opened at {open_line}:{open_column}"
            ),
            TemplateProblem::UnclosedBlock { tag } => {
                write!(f, "block `{tag}` is never closed")
            }
        }
    }
}

/// One `{{…}}` tag as written.
struct Tag<'s> {
    sigil: Option<char>,
    name: &'s str,
    /// Byte offset of the first `{` and one past the last `}`.
    start: usize,
    end: usize,
}

/// An open block while parsing.
struct Frame {
    name: &'static str,
    inverted: bool,
    written: String,
    line: usize,
    column: usize,
    nodes: Vec<Node>,
}

impl Template {
    /// Parses `source`, accepting only the names in `allowed`.
    pub(crate) fn parse(
        source: &str,
        allowed: &'static [&'static str],
    ) -> Result<Template, TemplateError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Vec<Node> = Vec::new();
        let mut text = String::new();
        let mut pos = 0;
        while let Some(found) = source[pos..].find("{{") {
            let start = pos + found;
            let Some(tag) = read_tag(source, start) else {
                // Not a tag: keep one brace as text and look again right after it, so `{{{x}}}`
                // still finds the tag `{{x}}`.
                text.push_str(&source[pos..=start]);
                pos = start + 1;
                continue;
            };
            let (line, column) = line_col(source, start);
            let name = allowed
                .iter()
                .copied()
                .find(|allowed| *allowed == tag.name)
                .ok_or_else(|| TemplateError {
                    line,
                    column,
                    problem: TemplateProblem::UnknownPlaceholder {
                        name: tag.name.to_owned(),
                        allowed,
                        suggestion: crate::config::suggest(tag.name, allowed.iter().copied()),
                    },
                })?;
            let mut end = tag.end;
            text.push_str(&source[pos..start]);
            if tag.sigil.is_some()
                && let Some(after_line) = standalone(source, start, tag.end)
            {
                // Drop the tag's indentation (already in `text`) and its line break.
                let indent = start - source[..start].rfind('\n').map_or(0, |i| i + 1);
                text.truncate(text.len() - indent);
                end = after_line;
            }
            let nodes = stack.last_mut().map_or(&mut root, |frame| &mut frame.nodes);
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(&mut text)));
            }
            match tag.sigil {
                None => nodes.push(Node::Value(name)),
                Some(sigil @ ('#' | '^')) => stack.push(Frame {
                    name,
                    inverted: sigil == '^',
                    written: source[tag.start..tag.end].to_owned(),
                    line,
                    column,
                    nodes: Vec::new(),
                }),
                Some(_) => {
                    let Some(frame) = stack.pop() else {
                        return Err(TemplateError {
                            line,
                            column,
                            problem: TemplateProblem::UnexpectedClose {
                                name: name.to_owned(),
                            },
                        });
                    };
                    if frame.name != name {
                        return Err(TemplateError {
                            line,
                            column,
                            problem: TemplateProblem::MismatchedClose {
                                name: name.to_owned(),
                                open: frame.written,
                                open_line: frame.line,
                                open_column: frame.column,
                            },
                        });
                    }
                    let block = Node::Block {
                        name: frame.name,
                        inverted: frame.inverted,
                        body: frame.nodes,
                    };
                    stack
                        .last_mut()
                        .map_or(&mut root, |frame| &mut frame.nodes)
                        .push(block);
                }
            }
            pos = end;
        }
        if let Some(frame) = stack.pop() {
            return Err(TemplateError {
                line: frame.line,
                column: frame.column,
                problem: TemplateProblem::UnclosedBlock { tag: frame.written },
            });
        }
        text.push_str(&source[pos..]);
        if !text.is_empty() {
            root.push(Node::Text(text));
        }
        Ok(Template { nodes: root })
    }

    /// Renders the template. Values are copied in as they are; a missing value is empty.
    pub(crate) fn render(&self, values: &Values<'_>) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, values, &mut out);
        out
    }
}

fn render_nodes(nodes: &[Node], values: &Values<'_>, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Value(name) => out.push_str(values.get(name)),
            Node::Block {
                name,
                inverted,
                body,
            } => {
                let present = !values.get(name).trim().is_empty();
                if present != *inverted {
                    render_nodes(body, values, out);
                }
            }
        }
    }
}

/// The tag starting at `start` (which holds `{{`), if it is well formed.
fn read_tag(source: &str, start: usize) -> Option<Tag<'_>> {
    let rest = &source[start + 2..];
    let close = rest.find("}}")?;
    let inner = &rest[..close];
    if inner.contains('\n') {
        return None;
    }
    let inner = inner.trim();
    let (sigil, name) = match inner.chars().next()? {
        c @ ('#' | '^' | '/') => (Some(c), inner[1..].trim_start()),
        _ => (None, inner),
    };
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(Tag {
        sigil,
        name,
        start,
        end: start + 2 + close + 2,
    })
}

/// When the tag spanning `start..end` is alone on its line, the offset just past that line.
fn standalone(source: &str, start: usize, end: usize) -> Option<usize> {
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    if !source[line_start..start]
        .chars()
        .all(|c| c == ' ' || c == '\t')
    {
        return None;
    }
    let after = &source[end..];
    let line_end = after.find('\n').map_or(after.len(), |i| i + 1);
    after[..line_end]
        .trim()
        .is_empty()
        .then_some(end + line_end)
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["name", "feedback", "diff", "story_id"];

    fn render(source: &str, values: Values<'_>) -> String {
        Template::parse(source, NAMES).unwrap().render(&values)
    }

    fn error(source: &str) -> TemplateError {
        Template::parse(source, NAMES).unwrap_err()
    }

    #[test]
    fn inserts_values_and_keeps_plain_text() {
        let values = Values::new().set("name", "Ada");
        assert_eq!(
            render("Hello {{name}}, {{ name }}!", values),
            "Hello Ada, Ada!"
        );
        assert_eq!(
            render("no tags at all\n", Values::new()),
            "no tags at all\n"
        );
    }

    #[test]
    fn blocks_render_only_when_the_value_is_non_empty() {
        let source = "A\n{{#feedback}}\nFix: {{feedback}}\n{{/feedback}}\n{{^feedback}}\nfirst try\n{{/feedback}}\nB\n";
        let with = Values::new().set("feedback", "the test fails");
        assert_eq!(render(source, with), "A\nFix: the test fails\nB\n");
        assert_eq!(render(source, Values::new()), "A\nfirst try\nB\n");
        // Whitespace only counts as empty.
        let blank = Values::new().set("feedback", " \n ");
        assert_eq!(render(source, blank), "A\nfirst try\nB\n");
    }

    #[test]
    fn inline_blocks_keep_their_line() {
        let source = "Run the checks{{#diff}} below{{/diff}}.\n";
        assert_eq!(
            render(source, Values::new().set("diff", "x")),
            "Run the checks below.\n"
        );
        assert_eq!(render(source, Values::new()), "Run the checks.\n");
    }

    #[test]
    fn standalone_tags_take_their_indentation_and_line_break() {
        let source = "- a\n  {{#name}}  \n- {{name}}\n  {{/name}}\n- b";
        assert_eq!(
            render(source, Values::new().set("name", "x")),
            "- a\n- x\n- b"
        );
        assert_eq!(render(source, Values::new()), "- a\n- b");
    }

    #[test]
    fn nested_blocks() {
        let source = "{{#name}}\n[{{#feedback}}{{name}}: {{feedback}}{{/feedback}}]\n{{/name}}\n";
        let both = Values::new().set("name", "n").set("feedback", "f");
        assert_eq!(render(source, both), "[n: f]\n");
        assert_eq!(render(source, Values::new().set("name", "n")), "[]\n");
        assert_eq!(render(source, Values::new().set("feedback", "f")), "");
    }

    #[test]
    fn inserted_values_are_never_scanned_for_tags() {
        let diff = "+let s = \"{{name}}\";\n+{{#feedback}}oops{{/feedback}}\n+{{unknown}}\n";
        let values = Values::new()
            .set("diff", diff)
            .set("name", "SHOULD NOT APPEAR");
        assert_eq!(render("<{{diff}}>", values), format!("<{diff}>"));
    }

    #[test]
    fn malformed_tags_are_plain_text() {
        let source = "{{ not a tag }} {{}} {{#}} {{1x}} {{name\n}} {{{name}}} }}";
        let values = Values::new().set("name", "N");
        assert_eq!(
            render(source, values),
            "{{ not a tag }} {{}} {{#}} {{1x}} {{name\n}} {N} }}"
        );
    }

    #[test]
    fn unknown_placeholder_has_position_and_suggestion() {
        let err = error("line one\n  text {{stroy_id}} more");
        assert_eq!((err.line, err.column), (2, 8));
        assert_eq!(
            err.to_string(),
            "2:8: unknown placeholder `{{stroy_id}}` (did you mean `{{story_id}}`?); \
             this prompt can use name, feedback, diff, story_id"
        );
        let err = error("{{#zzz}}{{/zzz}}");
        assert!(matches!(
            err.problem,
            TemplateProblem::UnknownPlaceholder {
                suggestion: None,
                ..
            }
        ));
    }

    #[test]
    fn unbalanced_blocks_are_errors() {
        let err = error("a\n{{#name}}\nb");
        assert_eq!(err.to_string(), "2:1: block `{{#name}}` is never closed");
        let err = error("a {{/name}}");
        assert_eq!(err.to_string(), "1:3: `{{/name}}` closes no open block");
        let err = error("{{#name}}\n{{^feedback}}\n{{/name}}\n{{/feedback}}");
        assert_eq!(
            err.to_string(),
            "3:1: `{{/name}}` does not match the block `{{^feedback}}` opened at 2:1"
        );
    }

    #[test]
    fn columns_count_characters() {
        let err = error("é {{x_y}}");
        assert_eq!((err.line, err.column), (1, 3));
    }
}
