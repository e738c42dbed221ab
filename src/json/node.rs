//! The tree the parser builds: every value and every object key remembers its byte span.

/// A half-open byte range `start..end` into the parsed input.
///
/// Nodes created by edits (not parsed) get an empty span at 0, which only matters for error
/// positions, and those are only reported for parsed input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// One JSON value and where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value was in the input.
    pub span: Span,
    /// The value.
    pub kind: NodeKind,
}

/// The kinds of JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, kept as its exact source text so printing never changes `1.0` into `1` or loses
    /// digits of a large integer.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object: members in file order, duplicates kept so a validator can report them.
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The unescaped key.
    pub key: String,
    /// Where the key (with its quotes) was.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Node {
    /// A node without a source position, for values created by edits.
    pub fn synthetic(kind: NodeKind) -> Self {
        Node {
            span: Span::default(),
            kind,
        }
    }

    /// A synthetic string node.
    pub fn string(s: impl Into<String>) -> Self {
        Node::synthetic(NodeKind::String(s.into()))
    }

    /// A synthetic boolean node.
    pub fn bool(b: bool) -> Self {
        Node::synthetic(NodeKind::Bool(b))
    }

    /// A synthetic number node from an integer.
    pub fn integer(n: impl Into<i128>) -> Self {
        Node::synthetic(NodeKind::Number(n.into().to_string()))
    }

    /// A synthetic `null`.
    pub fn null() -> Self {
        Node::synthetic(NodeKind::Null)
    }

    /// What kind of value this is, as a noun for messages ("expected a boolean, found a string").
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Array(_) => "an array",
            NodeKind::Object(_) => "an object",
        }
    }

    /// The members if this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            NodeKind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements if this is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The string if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first member named `key` if this is an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// Whether two trees hold the same value, ignoring spans (and so formatting).
    pub fn same_value(&self, other: &Node) -> bool {
        match (&self.kind, &other.kind) {
            (NodeKind::Null, NodeKind::Null) => true,
            (NodeKind::Bool(a), NodeKind::Bool(b)) => a == b,
            (NodeKind::Number(a), NodeKind::Number(b)) => a == b,
            (NodeKind::String(a), NodeKind::String(b)) => a == b,
            (NodeKind::Array(a), NodeKind::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_value(y))
            }
            (NodeKind::Object(a), NodeKind::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.key == y.key && x.value.same_value(&y.value))
            }
            _ => false,
        }
    }

    /// Sets member `key` of this object to `value`: an existing key keeps its position (the first
    /// one, if the key is duplicated), a new key is appended. Returns whether the tree changed;
    /// `false` as well when this is not an object.
    pub fn set_member(&mut self, key: &str, value: Node) -> bool {
        let NodeKind::Object(members) = &mut self.kind else {
            return false;
        };
        match members.iter_mut().find(|m| m.key == key) {
            Some(member) if member.value.same_value(&value) => false,
            Some(member) => {
                member.value = value;
                true
            }
            None => {
                members.push(Member {
                    key: key.to_owned(),
                    key_span: Span::default(),
                    value,
                });
                true
            }
        }
    }

    /// Removes every member named `key` from this object. Returns whether the tree changed.
    pub fn remove_member(&mut self, key: &str) -> bool {
        let NodeKind::Object(members) = &mut self.kind else {
            return false;
        };
        let before = members.len();
        members.retain(|m| m.key != key);
        members.len() != before
    }
}
