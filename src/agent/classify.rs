//! Deciding why an agent run failed, from the facts the supervisor recorded.
//!
//! The order matters and is fixed here, once, for every backend:
//! 1. the process never started → [`FailureClass::NotInstalled`];
//! 2. `teams` stopped it → [`FailureClass::Cancelled`] (whatever the agent printed while dying);
//! 3. the backend recognises a setup or quota problem (not logged in, usage limit) — before the
//!    timeouts, because a CLI stuck retrying against a limit is a limit, not a slow agent;
//! 4. a timeout fired → wall or idle timeout;
//! 5. a non-zero exit or a signal → [`FailureClass::Crashed`];
//! 6. the CLI's own report says it failed → crashed;
//! 7. no final message → [`FailureClass::EmptyOutput`];
//! 8. otherwise the run succeeded (`None`).
//!
//! Backend-specific recognition (step 3) shares `detect_setup_failure`: it only looks at runs
//! that did not clearly succeed, so an agent that merely *talks* about rate limits in a
//! successful answer is never mistaken for one that hit them.

use std::time::SystemTime;

use super::backend::Backend;
use super::event::FailureClass;
use super::outcome::{ProcessOutcome, TimeoutKind};
use super::reset_time::{local_utc_offset_secs, parse_reset_time};

/// Evidence strings are cut to this many characters so a failure reason stays one paragraph.
const MAX_EVIDENCE_CHARS: usize = 400;

/// Phrases that mean a usage or rate limit, for every CLI (compared in lowercase). HTTP 429 is only
/// matched with a word around it, so a line number or a count of 429 is not a rate limit.
pub(crate) const LIMIT_PATTERNS: &[&str] = &[
    "usage limit",
    "hit your limit",
    "rate limit",
    "rate_limit",
    "ratelimit",
    "too many requests",
    "resource_exhausted",
    "resource exhausted",
    "quota exceeded",
    "exceeded your current quota",
    "status 429",
    "error 429",
    "error: 429",
    "http 429",
    "code 429",
    "\"code\":429",
    "429 too many",
];

/// Classifies a finished run of `backend` (see the module docs for the order).
pub fn classify(backend: &dyn Backend, outcome: &ProcessOutcome) -> Option<FailureClass> {
    if let Some(error) = &outcome.spawn_error {
        return Some(FailureClass::NotInstalled {
            program: backend.program().to_owned(),
            error: error.clone(),
        });
    }
    if outcome.cancelled {
        return Some(FailureClass::Cancelled);
    }
    if let Some(class) = backend.classify(outcome) {
        return Some(class);
    }
    let after_secs = outcome.duration.as_secs();
    match outcome.timeout {
        Some(TimeoutKind::Wall) => return Some(FailureClass::WallTimeout { after_secs }),
        Some(TimeoutKind::Idle) => return Some(FailureClass::IdleTimeout { after_secs }),
        None => {}
    }
    let exited_badly = outcome.exit_code.is_some_and(|code| code != 0);
    if exited_badly || outcome.signal.is_some() {
        return Some(crashed(outcome, None));
    }
    match &outcome.final_report {
        Some(report) if report.is_error => Some(crashed(outcome, Some(&report.text))),
        Some(report) if !report.text.trim().is_empty() => None,
        _ => Some(FailureClass::EmptyOutput),
    }
}

/// A crash with the best evidence at hand: the stderr tail, else the CLI's own error text, else
/// the stdout tail (Claude in text mode prints its errors on stdout).
fn crashed(outcome: &ProcessOutcome, report_text: Option<&str>) -> FailureClass {
    let candidates = [
        outcome.stderr_tail.as_str(),
        report_text.unwrap_or(""),
        outcome.stdout_tail.as_str(),
    ];
    let tail = candidates
        .into_iter()
        .find(|text| !text.trim().is_empty())
        .unwrap_or("");
    FailureClass::Crashed {
        exit_code: outcome.exit_code,
        signal: outcome.signal,
        stderr_tail: tail.trim_end().to_owned(),
    }
}

/// Whether the run clearly succeeded: exit 0, a final report that is not an error and has text.
fn clearly_succeeded(outcome: &ProcessOutcome) -> bool {
    outcome.exit_code == Some(0)
        && outcome.signal.is_none()
        && outcome.timeout.is_none()
        && outcome
            .final_report
            .as_ref()
            .is_some_and(|report| !report.is_error && !report.text.trim().is_empty())
}

/// Where a backend looks for failure evidence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evidence<'a> {
    /// Phrases meaning "not logged in" for this CLI (lowercase).
    pub auth: &'a [&'a str],
    /// Whether stdout is plain text (search its tail too). JSON backends leave it out because
    /// their stdout tail holds the agent's own words, which may mention limits.
    pub stdout_is_text: bool,
}

/// The lines worth searching, most specific first: stream errors, the CLI's error report, stderr,
/// and stdout when it is text or no report was parsed.
fn evidence_lines<'a>(outcome: &'a ProcessOutcome, evidence: Evidence<'_>) -> Vec<&'a str> {
    let mut lines: Vec<&str> = outcome.stream_errors.iter().map(String::as_str).collect();
    if let Some(report) = &outcome.final_report {
        lines.extend(report.text.lines());
    }
    lines.extend(outcome.stderr_tail.lines());
    if evidence.stdout_is_text || outcome.final_report.is_none() {
        lines.extend(outcome.stdout_tail.lines());
    }
    lines
}

fn find_line<'a>(lines: &[&'a str], patterns: &[&str]) -> Option<&'a str> {
    lines.iter().copied().find(|line| {
        let lower = line.to_ascii_lowercase();
        patterns.iter().any(|pattern| lower.contains(pattern))
    })
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_EVIDENCE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The shared step-3 recognition: not logged in, then usage limit, on runs that did not clearly
/// succeed. The reset time is read from the matching line, else from any evidence line.
pub(crate) fn detect_setup_failure(
    outcome: &ProcessOutcome,
    evidence: Evidence<'_>,
) -> Option<FailureClass> {
    detect_setup_failure_at(outcome, evidence, SystemTime::now())
}

pub(crate) fn detect_setup_failure_at(
    outcome: &ProcessOutcome,
    evidence: Evidence<'_>,
    now: SystemTime,
) -> Option<FailureClass> {
    if clearly_succeeded(outcome) {
        return None;
    }
    let lines = evidence_lines(outcome, evidence);
    if let Some(line) = find_line(&lines, evidence.auth) {
        return Some(FailureClass::NotLoggedIn {
            evidence: shorten(line),
        });
    }
    let line = find_line(&lines, LIMIT_PATTERNS)?;
    let offset = local_utc_offset_secs(now);
    let resets_at = parse_reset_time(line, now, offset).or_else(|| {
        lines
            .iter()
            .find_map(|other| parse_reset_time(other, now, offset))
    });
    Some(FailureClass::UsageLimit {
        evidence: shorten(line),
        resets_at,
    })
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
