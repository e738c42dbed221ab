//! Reading the validator's verdict (spec §5.2): the last fenced `json` block of its final message.
//!
//! The verdict is the only thing `teams` takes from the validator, so parsing is strict about
//! shape and precise about what is wrong: a [`VerdictError`] is one sentence that goes straight
//! into the re-ask prompt, and the validator gets exactly one chance to fix it. The rules of
//! the decision live here too: a "pass" with an unmet criterion is a fail, and a fail always
//! carries feedback for the next builder.

use serde_json::{Map, Value};

/// A validator's decision on one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// True only when the validator said "pass" and met every criterion it listed.
    pub pass: bool,
    pub criteria: Vec<CriterionResult>,
    /// What the builder must fix; never empty on a fail.
    pub feedback: String,
}

/// The validator's judgement of one acceptance criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionResult {
    pub criterion: String,
    pub met: bool,
    pub evidence: String,
}

/// Why a validator's answer holds no usable verdict. Each message is one lowercase sentence,
/// written to be shown to the validator in the re-ask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerdictError {
    #[error("the answer has no fenced ```json block")]
    NoJsonBlock,
    #[error(
        "the last ```json block is not valid JSON: {message} at line {line}, column {column} of the block"
    )]
    InvalidJson {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("the last ```json block is {found}, not a JSON object")]
    NotAnObject { found: &'static str },
    #[error("the verdict object has no `verdict` field")]
    MissingVerdict,
    #[error("`verdict` is {found}, but it must be \"pass\" or \"fail\"")]
    InvalidVerdict { found: String },
    #[error("the verdict object has no `criteria` field")]
    MissingCriteria,
    #[error("`criteria` is {found}, but it must be an array of objects")]
    CriteriaNotArray { found: &'static str },
    #[error("`criteria[{index}]` {problem}")]
    InvalidCriterion { index: usize, problem: String },
    #[error("`feedback` is {found}, but it must be a string")]
    InvalidFeedback { found: &'static str },
}

/// Reads the verdict from the validator's final message: the last fenced block tagged `json`
/// (any case), or an untagged fence holding a JSON object with a `verdict` key, whichever
/// comes last.
pub fn parse_verdict(text: &str) -> Result<Verdict, VerdictError> {
    let block = fenced_blocks(text)
        .into_iter()
        .rfind(|block| block.is_json || (block.untagged && looks_like_verdict(&block.content)))
        .ok_or(VerdictError::NoJsonBlock)?;
    let value: Value = serde_json::from_str(&block.content).map_err(|e| {
        let full = e.to_string();
        let message = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(message, _)| message)
            .to_owned();
        VerdictError::InvalidJson {
            message,
            line: e.line(),
            column: e.column(),
        }
    })?;
    let Value::Object(object) = value else {
        return Err(VerdictError::NotAnObject {
            found: kind(&value),
        });
    };
    verdict_from(&object)
}

fn verdict_from(object: &Map<String, Value>) -> Result<Verdict, VerdictError> {
    let said_pass = match object.get("verdict") {
        None => return Err(VerdictError::MissingVerdict),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("pass") => true,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("fail") => false,
        Some(other) => {
            return Err(VerdictError::InvalidVerdict {
                found: other.to_string(),
            });
        }
    };
    let criteria = match object.get("criteria") {
        None => return Err(VerdictError::MissingCriteria),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                criterion(item).map_err(|problem| VerdictError::InvalidCriterion { index, problem })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(VerdictError::CriteriaNotArray { found: kind(other) });
        }
    };
    let feedback = match object.get("feedback") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => {
            return Err(VerdictError::InvalidFeedback { found: kind(other) });
        }
    };
    let unmet: Vec<&CriterionResult> = criteria.iter().filter(|c| !c.met).collect();
    let (pass, feedback) = if said_pass && !unmet.is_empty() {
        // Spec §5.2: a pass with an unmet criterion is a fail; say why, then anything it added.
        let mut text = format!(
            "The validator answered \"pass\" but marked criteria as not met.\n{}",
            unmet_list(&unmet)
        );
        if !feedback.is_empty() {
            text.push_str("\n\n");
            text.push_str(&feedback);
        }
        (false, text)
    } else if !said_pass && feedback.is_empty() {
        let text = if unmet.is_empty() {
            "The validator rejected the attempt without saying why. Check every acceptance \
             criterion against the code and make sure each one is visibly met."
                .to_owned()
        } else {
            unmet_list(&unmet)
        };
        (false, text)
    } else {
        (said_pass, feedback)
    };
    Ok(Verdict {
        pass,
        criteria,
        feedback,
    })
}

/// One entry of `criteria`, or what is wrong with it (completing "`criteria[i]` …").
fn criterion(item: &Value) -> Result<CriterionResult, String> {
    let Value::Object(fields) = item else {
        return Err(format!("is {}, not an object", kind(item)));
    };
    let text = |key: &str| -> Result<String, String> {
        match fields.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(other) => Err(format!("has `{key}` {}, not a string", kind(other))),
        }
    };
    let criterion = text("criterion")?;
    if criterion.is_empty() {
        return Err("has no `criterion` text".to_owned());
    }
    let met = match fields.get("met") {
        Some(Value::Bool(met)) => *met,
        None => return Err("has no `met` field".to_owned()),
        Some(other) => return Err(format!("has `met` {other}, not true or false")),
    };
    Ok(CriterionResult {
        criterion,
        met,
        evidence: text("evidence")?,
    })
}

/// "Not met:" and one line per criterion, with the validator's evidence.
fn unmet_list(unmet: &[&CriterionResult]) -> String {
    let mut text = String::from("These acceptance criteria are not met:");
    for c in unmet {
        text.push_str("\n- ");
        text.push_str(&c.criterion);
        if !c.evidence.is_empty() {
            text.push_str(" (");
            text.push_str(&c.evidence);
            text.push(')');
        }
    }
    text
}

impl Verdict {
    /// One paragraph for `prd.json`'s `failureReason`: the feedback, plus any unmet criterion it
    /// does not already name; at most about 1,000 characters.
    pub fn failure_reason(&self) -> String {
        let mut reason = self.feedback.clone();
        let missing: Vec<&str> = self
            .criteria
            .iter()
            .filter(|c| !c.met && !self.feedback.contains(&c.criterion))
            .map(|c| c.criterion.as_str())
            .collect();
        if !missing.is_empty() {
            if !reason.is_empty() {
                reason.push(' ');
            }
            reason.push_str("Unmet criteria: ");
            reason.push_str(&missing.join("; "));
            reason.push('.');
        }
        crate::helpers::truncate(&reason, FAILURE_REASON_MAX_CHARS)
    }
}

/// `failureReason` is read in `prd.json` and in status tables; longer text lives in the logs.
const FAILURE_REASON_MAX_CHARS: usize = 1000;

/// "an array", "a string", … for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn looks_like_verdict(content: &str) -> bool {
    serde_json::from_str::<Map<String, Value>>(content).is_ok_and(|o| o.contains_key("verdict"))
}

/// A fenced code block of a markdown text.
#[derive(Debug)]
struct Block {
    /// The info string's first word is `json` (any case).
    is_json: bool,
    /// No info string.
    untagged: bool,
    content: String,
}

/// The fenced code blocks of `text`, in order, following CommonMark's fence rules closely
/// enough for agent output: up to three spaces of indentation, three or more backticks or
/// tildes, closed by a fence of the same character at least as long (or the end of the text).
fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(char, usize, Block)> = None;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let fence = fence_of(line);
        match (&mut open, fence) {
            (None, Some((ch, len, info))) => {
                let word = info.split_whitespace().next().unwrap_or("");
                if ch == '`' && info.contains('`') {
                    // Not a fence (CommonMark): a backtick fence's info string has no backticks.
                    continue;
                }
                let block = Block {
                    is_json: word.eq_ignore_ascii_case("json"),
                    untagged: word.is_empty(),
                    content: String::new(),
                };
                open = Some((ch, len, block));
            }
            (Some((ch, len, _)), Some((c, l, info)))
                if c == *ch && l >= *len && info.trim().is_empty() =>
            {
                if let Some((_, _, block)) = open.take() {
                    blocks.push(block);
                }
            }
            (Some((_, _, block)), _) => {
                block.content.push_str(line);
                block.content.push('\n');
            }
            (None, None) => {}
        }
    }
    if let Some((_, _, block)) = open {
        blocks.push(block);
    }
    blocks
}

/// `(fence char, fence length, info string)` when `line` is a code fence.
fn fence_of(line: &str) -> Option<(char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.len() - rest.trim_start_matches(ch).len();
    (len >= 3).then(|| (ch, len, rest[len..].trim()))
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
