//! PRDs and scripts of several units for the parallel and merge tests: epics of one-line
//! stories, builders that commit a file, and two units that write the same file (so the second
//! merge conflicts) with a merger that keeps both lines.

use serde_json::{Value, json};
use teams_fake_agent::{Match, Script, Step};

use crate::durable::{HANDOFF, story, verdict};

pub fn epic(id: &str, depends_on: &[&str], stories: &[&str]) -> Value {
    json!({"id": id, "title": format!("Epic {id}"), "dependsOn": depends_on,
           "userStories": stories.iter().map(|s| story(s, &format!("Story {s}"))).collect::<Vec<_>>()})
}

pub fn prd_of(epics: Vec<Value>) -> Value {
    json!({"project": "Proj", "epics": epics})
}

/// A builder that works `sleep_ms`, then commits `path` with `content`.
pub fn build(sleep_ms: u64, path: &str, content: &str) -> Vec<Step> {
    vec![
        Step::SleepMs(sleep_ms),
        Step::Commit {
            path: path.into(),
            content: Some(content.into()),
            message: None,
        },
        Step::Final(HANDOFF.into()),
    ]
}

/// EPIC-1 and EPIC-2 both write `shared.txt`; EPIC-3 needs both.
pub fn conflicting_prd() -> Value {
    prd_of(vec![
        epic("EPIC-1", &[], &["US-1"]),
        epic("EPIC-2", &[], &["US-2"]),
        epic("EPIC-3", &["EPIC-1", "EPIC-2"], &["US-3"]),
    ])
}

pub fn conflicting_script(merger: Vec<Step>) -> Script {
    Script::default()
        .rule(Match::role("merger"), merger)
        .rule(
            Match::role("builder").story("US-1"),
            build(100, "shared.txt", "one\n"),
        )
        .rule(
            Match::role("builder").story("US-2"),
            build(100, "shared.txt", "two\n"),
        )
        .rule(
            Match::role("builder").story("US-3"),
            build(10, "three.txt", "three\n"),
        )
        .rule(Match::role("validator"), vec![verdict(true, "")])
}

/// A merger that resolves the conflict by keeping both lines.
pub fn resolving_merger() -> Vec<Step> {
    vec![
        Step::Commit {
            path: "shared.txt".into(),
            content: Some("one\ntwo\n".into()),
            message: Some("teams: merge, both kept".into()),
        },
        Step::Final("kept both lines of shared.txt".into()),
    ]
}
