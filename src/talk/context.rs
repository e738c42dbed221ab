//! Everything known about a failed story, gathered for `teams discuss` (spec §2): the story and its
//! criteria, each attempt's failure (validator feedback or verification error), the diff of each
//! failed attempt kept under `refs/teams/failed/<story>/<n>`, the tails of the agents' transcripts,
//! and the plan section.
//!
//! [`gather_story_context`] is the one entry point, so when the SQLite run store (`.teams/state.db`)
//! becomes the record of attempts, only this file changes: today the attempts are read from what
//! the runs leave behind, `.teams/logs/<run>/events.jsonl` (`attempt_failed` events), the
//! transcripts beside it and the failed-attempt refs.

use std::collections::BTreeMap;
use std::path::Path;

use crate::git::GitRunner;
use crate::prd::{Epic, Prd, Story};
use crate::run::{Layout, UnitId};

/// How much of one failed attempt's diff the agent is shown.
pub const MAX_DIFF_BYTES: usize = 24 * 1024;
/// How many lines of the end of each transcript the agent is shown.
pub const TRANSCRIPT_TAIL_LINES: usize = 25;
/// Longest transcript line shown (JSON stream lines can be very long).
const TRANSCRIPT_LINE_CHARS: usize = 400;

/// A failed story and its epic.
#[derive(Debug, Clone, Copy)]
pub struct FailedStory<'a> {
    pub epic: &'a Epic,
    pub story: &'a Story,
}

/// The stories that failed in an earlier run (not passed, with a failure reason), in file order.
pub fn failed_stories(prd: &Prd) -> Vec<FailedStory<'_>> {
    prd.epics
        .iter()
        .flat_map(|epic| {
            epic.stories
                .iter()
                .map(move |story| FailedStory { epic, story })
        })
        .filter(|f| !f.story.passes && f.story.failure_reason.is_some())
        .collect()
}

/// One attempt at the story, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The run it belonged to (the `.teams/logs/<run>` directory name).
    pub run_id: String,
    /// 1-based within its run.
    pub attempt: u32,
    /// Why it failed: the validator's feedback, a failed check's output, a verification error.
    pub failure: Option<String>,
    /// `refs/teams/failed/<story>/<n>` when the attempt's commits were kept.
    pub failed_ref: Option<String>,
    /// `git diff` of the kept commits against where the story started (cut to
    /// [`MAX_DIFF_BYTES`]).
    pub diff: Option<String>,
    /// `(file name, last lines)` of each transcript of the attempt (builder, validator).
    pub transcripts: Vec<(String, String)>,
}

/// What `teams discuss` tells the agent about one failed story.
#[derive(Debug, Clone)]
pub struct StoryContext {
    pub epic_id: String,
    pub epic_title: String,
    pub story: Story,
    /// The story's section of `.teams/plans/plan-<EPIC>.md`, when the epic was planned.
    pub plan_section: Option<String>,
    /// Oldest first.
    pub attempts: Vec<AttemptRecord>,
}

/// Gathers the context of `failed` in the repository at `repo_root`. Missing pieces (no logs, a
/// pruned ref, no git) leave gaps rather than errors: the discussion is still worth having.
pub fn gather_story_context(repo_root: &Path, prd: &Prd, failed: FailedStory<'_>) -> StoryContext {
    let layout = Layout::new(repo_root);
    let story_id = failed.story.id.as_str();
    let unit = UnitId::new(failed.epic.id.as_str());
    let plan_section = std::fs::read_to_string(layout.plan(&unit))
        .ok()
        .and_then(|plan| crate::roles::plan_section(&plan, story_id));

    let mut attempts: BTreeMap<(String, u32), AttemptRecord> = BTreeMap::new();
    let logs = layout.dir().join("logs");
    for run_id in run_dirs(&logs) {
        let run_dir = logs.join(&run_id);
        for (attempt, reason) in failed_attempts(&run_dir.join("events.jsonl"), story_id) {
            let record = attempts
                .entry((run_id.clone(), attempt))
                .or_insert_with(|| new_record(&run_id, attempt));
            record.failure = Some(reason);
        }
        for (attempt, name, tail) in transcript_tails(&run_dir.join(unit.as_str()), story_id) {
            attempts
                .entry((run_id.clone(), attempt))
                .or_insert_with(|| new_record(&run_id, attempt))
                .transcripts
                .push((name, tail));
        }
    }

    let git = GitRunner::new(repo_root);
    let unit_branch = format!(
        "teams/{}/unit/{}",
        crate::run::setup::project_slug(&prd.project),
        unit
    );
    for (attempt, refname) in failed_refs(&git, story_id) {
        // A kept attempt belongs to the latest run that had that attempt number.
        let key = attempts
            .keys()
            .rev()
            .find(|(_, n)| *n == attempt)
            .cloned()
            .unwrap_or_else(|| (String::new(), attempt));
        let record = attempts
            .entry(key.clone())
            .or_insert_with(|| new_record(&key.0, attempt));
        record.diff = attempt_diff(&git, &refname, &unit_branch);
        record.failed_ref = Some(refname);
    }

    StoryContext {
        epic_id: failed.epic.id.to_string(),
        epic_title: failed.epic.title.clone(),
        story: failed.story.clone(),
        plan_section,
        attempts: attempts.into_values().collect(),
    }
}

fn new_record(run_id: &str, attempt: u32) -> AttemptRecord {
    AttemptRecord {
        run_id: run_id.to_owned(),
        attempt,
        ..AttemptRecord::default()
    }
}

/// The run directories under `.teams/logs`, oldest first (run IDs are UTC timestamps).
fn run_dirs(logs: &Path) -> Vec<String> {
    let mut runs: Vec<String> = std::fs::read_dir(logs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    runs.sort();
    runs
}

/// `(attempt, reason)` of every counted `attempt_failed` event for `story` in an event log.
fn failed_attempts(events: &Path, story: &str) -> Vec<(u32, String)> {
    let Ok(text) = std::fs::read_to_string(events) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| {
            event["event"] == "attempt_failed"
                && event["story"] == story
                && event["counted"] != false
        })
        .filter_map(|event| {
            let attempt = u32::try_from(event["attempt"].as_u64()?).ok()?;
            Some((attempt, event["reason"].as_str()?.to_owned()))
        })
        .collect()
}

/// `(attempt, file name, tail)` of the builder and validator transcripts of `story` in a unit's log
/// directory (`<story>.<role>.<n>.log`, and `<story>.validator.<n>.reask.log`).
fn transcript_tails(unit_logs: &Path, story: &str) -> Vec<(u32, String, String)> {
    let prefix = format!("{story}.");
    let mut found: Vec<(u32, String, String)> = std::fs::read_dir(unit_logs)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|name| {
            let rest = name.strip_prefix(&prefix)?.strip_suffix(".log")?;
            let rest = rest.strip_suffix(".reask").unwrap_or(rest);
            let (_role, attempt) = rest.rsplit_once('.')?;
            let attempt = attempt.parse().ok()?;
            let bytes = std::fs::read(unit_logs.join(&name)).ok()?;
            Some((attempt, name, tail(&String::from_utf8_lossy(&bytes))))
        })
        .collect();
    found.sort();
    found
}

/// The last [`TRANSCRIPT_TAIL_LINES`] non-blank lines, each cut to a readable length.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(TRANSCRIPT_TAIL_LINES);
    lines[start..]
        .iter()
        .map(|line| crate::helpers::truncate(line, TRANSCRIPT_LINE_CHARS))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(attempt, ref name)` of the kept failed attempts of `story`.
fn failed_refs(git: &GitRunner, story: &str) -> Vec<(u32, String)> {
    let prefix = format!("refs/teams/failed/{story}/");
    let Ok(list) = git.run(["for-each-ref", "--format=%(refname)", &prefix]) else {
        return Vec::new();
    };
    let mut refs: Vec<(u32, String)> = list
        .lines()
        .filter_map(|name| Some((name.strip_prefix(&prefix)?.parse().ok()?, name.to_owned())))
        .collect();
    refs.sort();
    refs
}

/// The failed attempt's changes: from where it left the unit's branch (or, when the branch is
/// gone, the current branch) to the kept commit.
fn attempt_diff(git: &GitRunner, refname: &str, unit_branch: &str) -> Option<String> {
    let base_branch = format!("refs/heads/{unit_branch}");
    let against = if git
        .succeeds(["rev-parse", "--verify", "--quiet", &base_branch])
        .unwrap_or(false)
    {
        base_branch
    } else {
        "HEAD".to_owned()
    };
    let base = git.run(["merge-base", refname, &against]).ok()?;
    let diff = git
        .run_lossy([
            "diff",
            "--stat",
            "--patch",
            "--no-color",
            "--no-ext-diff",
            &base,
            refname,
        ])
        .ok()?;
    Some(cut(&diff, MAX_DIFF_BYTES))
}

/// `text` cut to at most `max` bytes at a line boundary, saying how much was left out.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!(
        "{}\n[… {} more bytes of the diff left out]",
        &text[..end],
        text.len() - end
    )
}

/// The attempts as markdown for the discuss prompt.
pub fn render_attempts(ctx: &StoryContext) -> String {
    if ctx.attempts.is_empty() {
        return "No record of the attempts was found (the logs may have been cleaned); the recorded \
                failure reason above is all there is."
            .to_owned();
    }
    let mut out = String::new();
    for record in &ctx.attempts {
        let run = if record.run_id.is_empty() {
            String::new()
        } else {
            format!(" (run {})", record.run_id)
        };
        out.push_str(&format!("### Attempt {}{run}\n\n", record.attempt));
        match &record.failure {
            Some(failure) => out.push_str(&format!("Why it failed: {}\n\n", failure.trim())),
            None => out.push_str("Why it failed: not recorded.\n\n"),
        }
        match (&record.failed_ref, &record.diff) {
            (Some(refname), Some(diff)) => {
                out.push_str(&format!("Its commits (kept as `{refname}`):\n\n"));
                out.push_str(&fenced("diff", diff));
            }
            (Some(refname), None) => {
                out.push_str(&format!("Its commits are kept as `{refname}`.\n\n"))
            }
            _ => out.push_str("It left no commits.\n\n"),
        }
        for (name, tail) in &record.transcripts {
            out.push_str(&format!("End of the transcript `{name}`:\n\n"));
            out.push_str(&fenced("text", tail));
        }
    }
    out
}

/// A fenced block that no line of `text` can close.
fn fenced(info: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{}\n{fence}\n\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_give_counted_failures_of_the_story_only() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.jsonl");
        std::fs::write(
            &events,
            concat!(
                "{\"v\":1,\"event\":\"attempt_failed\",\"story\":\"US-1\",\"attempt\":1,\"counted\":true,\"reason\":\"no test\"}\n",
                "{\"v\":1,\"event\":\"attempt_failed\",\"story\":\"US-2\",\"attempt\":1,\"counted\":true,\"reason\":\"other\"}\n",
                "{\"v\":1,\"event\":\"attempt_failed\",\"story\":\"US-1\",\"attempt\":2,\"counted\":false,\"reason\":\"interrupted\"}\n",
                "not json\n",
                "{\"v\":1,\"event\":\"attempt_failed\",\"story\":\"US-1\",\"attempt\":2,\"counted\":true,\"reason\":\"still no test\"}\n",
            ),
        )
        .unwrap();
        assert_eq!(
            failed_attempts(&events, "US-1"),
            [(1, "no test".to_owned()), (2, "still no test".to_owned())]
        );
    }

    #[test]
    fn transcripts_are_matched_by_story_and_attempt() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "US-1.builder.1.log",
            "US-1.validator.1.reask.log",
            "US-10.builder.1.log",
            "US-1.builder.1.prompt.md",
        ] {
            std::fs::write(dir.path().join(name), "a\n\nb\n").unwrap();
        }
        let found = transcript_tails(dir.path(), "US-1");
        let names: Vec<(u32, &str)> = found.iter().map(|(n, f, _)| (*n, f.as_str())).collect();
        assert_eq!(
            names,
            [(1, "US-1.builder.1.log"), (1, "US-1.validator.1.reask.log")]
        );
        assert_eq!(found[0].2, "a\nb");
    }

    #[test]
    fn long_diffs_are_cut_at_a_line() {
        let text = "line one\nline two\nline three\n";
        assert_eq!(cut(text, 100), text);
        assert_eq!(
            cut(text, 12),
            "line one\n[… 21 more bytes of the diff left out]"
        );
    }

    #[test]
    fn no_attempts_says_so() {
        let ctx = StoryContext {
            epic_id: "E".into(),
            epic_title: "e".into(),
            story: Story {
                id: crate::prd::StoryId::new("US-1"),
                title: "t".into(),
                description: String::new(),
                acceptance_criteria: vec!["works".into()],
                priority: None,
                passes: false,
                failure_reason: Some("no".into()),
                commit_sha: None,
                attempts: 2,
                checks: Vec::new(),
                sim_fail_first: false,
            },
            plan_section: None,
            attempts: Vec::new(),
        };
        assert!(render_attempts(&ctx).starts_with("No record"));
    }
}
