//! `.teams/progress.md`: the human narrative of a project's story results, one entry per story
//! result (what changed, files, verdict, the builder's learnings), appended as the run goes.
//! It is for people and for later agents to read; the record `teams` relies on is `prd.json`.

use std::io::Write;
use std::path::Path;

use super::messages::ProgressEntry;
use super::unit::UnitId;

/// Appends one entry to the progress file, creating it with a title when it is new.
pub fn append(
    path: &Path,
    run_id: &str,
    unit: &UnitId,
    entry: &ProgressEntry,
) -> std::io::Result<()> {
    let new = !path.exists();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    if new {
        text.push_str("# Progress\n\nOne entry per story result, newest last. Written by teams.\n");
    }
    text.push_str(&format_entry(run_id, unit, entry));
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// One entry, as markdown.
pub fn format_entry(run_id: &str, unit: &UnitId, entry: &ProgressEntry) -> String {
    let result = if entry.passed { "passed" } else { "failed" };
    let mut text = format!(
        "\n## {} {}: {result} after {} attempt{} (run {run_id}, {unit})\n\n",
        entry.story,
        entry.title,
        entry.attempts,
        if entry.attempts == 1 { "" } else { "s" }
    );
    if let Some(commit) = &entry.commit {
        text.push_str(&format!("- commit: {}\n", &commit[..commit.len().min(12)]));
    }
    if !entry.files.is_empty() {
        const SHOWN: usize = 20;
        let mut files: Vec<String> = entry
            .files
            .iter()
            .take(SHOWN)
            .map(|f| format!("`{f}`"))
            .collect();
        if entry.files.len() > SHOWN {
            files.push(format!("and {} more", entry.files.len() - SHOWN));
        }
        text.push_str(&format!("- files: {}\n", files.join(", ")));
    }
    let verdict = entry.verdict.replace('\n', " ");
    text.push_str(&format!("- verdict: {verdict}\n"));
    if let Some(handoff) = &entry.handoff {
        text.push_str(&format!("- learnings: {handoff}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prd::StoryId;

    #[test]
    fn entries_say_what_changed_and_what_was_learnt() {
        let entry = ProgressEntry {
            story: StoryId::new("US-1"),
            title: "Greet".into(),
            passed: true,
            attempts: 2,
            commit: Some("0123456789abcdef0123".into()),
            files: vec!["src/greet.rs".into()],
            verdict: "pass (2 of 2 criteria met)".into(),
            handoff: Some("done: greet; evidence: cargo test; risk: low; next: none".into()),
        };
        assert_eq!(
            format_entry("run1", &UnitId::new("E1"), &entry),
            "\n## US-1 Greet: passed after 2 attempts (run run1, E1)\n\n\
             - commit: 0123456789ab\n\
             - files: `src/greet.rs`\n\
             - verdict: pass (2 of 2 criteria met)\n\
             - learnings: done: greet; evidence: cargo test; risk: low; next: none\n"
        );
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("progress.md");
        append(&path, "run1", &UnitId::new("E1"), &entry).unwrap();
        append(&path, "run1", &UnitId::new("E1"), &entry).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Progress\n"));
        assert_eq!(text.matches("## US-1 Greet").count(), 2);
    }
}
