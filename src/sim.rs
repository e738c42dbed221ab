//! The `sim` backend (spec §5.4): a deterministic, in-process stand-in for an agent, so `teams
//! demo` and `teams run --backend sim` show the whole loop with no agent CLI and no credentials.
//!
//! It does real work against real git: the builder writes `sim/<STORY>.txt` listing the story's
//! acceptance criteria and commits it; the validator reads that file in its read-only checkout
//! and checks every criterion is there, answering with the same JSON verdict a real validator
//! must give (so the verdict parser and the pushback rule run unchanged). A story with
//! `"sim": {"failFirst": true}` gets a first build that leaves out its last criterion, which the
//! validator then catches. Everything it writes says it is a simulation.

use std::path::Path;

use crate::git::{Checkout, GitError};
use crate::prd::Story;

/// The file the simulated builder writes for a story, relative to the worktree.
pub fn story_file(story_id: &str) -> String {
    format!("sim/{story_id}.txt")
}

/// What the file must contain for the validator to pass it.
pub fn expected_content(story: &Story) -> String {
    let mut text = format!(
        "# {}: {}\n# written by the teams simulation (sim backend), not by a real agent\n",
        story.id, story.title
    );
    for criterion in &story.acceptance_criteria {
        text.push_str("- ");
        text.push_str(criterion.trim());
        text.push('\n');
    }
    text
}

/// The simulated builder: writes and commits the story's file. With `failFirst`, attempt 1
/// leaves out the last criterion. Returns the final message, ending with the handoff line.
pub fn build(checkout: &Checkout, story: &Story, attempt: u32) -> Result<String, GitError> {
    let mut content = expected_content(story);
    let leave_out = story.sim_fail_first && attempt == 1 && !story.acceptance_criteria.is_empty();
    if leave_out {
        let keep = content.lines().count() - 1;
        content = content
            .lines()
            .take(keep)
            .map(|line| format!("{line}\n"))
            .collect();
    }
    let rel = story_file(story.id.as_str());
    let path = checkout.path().join(&rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| io_error(checkout, source))?;
    }
    std::fs::write(&path, content).map_err(|source| io_error(checkout, source))?;
    checkout.git().run(["add", "--", rel.as_str()])?;
    let message = format!("{}: {} (simulated)", story.id, story.title);
    checkout
        .git()
        .run(["commit", "--quiet", "--no-verify", "-m", &message])?;
    let done = if leave_out {
        format!("wrote {rel} but missed one criterion (simulated first-attempt slip)")
    } else {
        format!(
            "wrote {rel} covering {} criteria",
            story.acceptance_criteria.len()
        )
    };
    Ok(format!(
        "Simulated build of {}.\n\ndone: {done}; evidence: simulation, no tests run; risk: none, this is a simulation; next: nothing",
        story.id
    ))
}

/// The simulated validator: checks the story's file in `checkout` and answers with a verdict
/// block in the format of spec §5.2.
pub fn validate(checkout: &Path, story: &Story) -> String {
    let rel = story_file(story.id.as_str());
    let text = std::fs::read_to_string(checkout.join(&rel)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let criteria: Vec<serde_json::Value> = story
        .acceptance_criteria
        .iter()
        .map(|criterion| {
            let wanted = format!("- {}", criterion.trim());
            let met = lines.contains(&wanted.as_str());
            let evidence = if met {
                format!("{rel} lists it")
            } else {
                format!("{rel} does not list it")
            };
            serde_json::json!({"criterion": criterion, "met": met, "evidence": evidence})
        })
        .collect();
    let missing: Vec<&str> = story
        .acceptance_criteria
        .iter()
        .zip(&criteria)
        .filter(|(_, c)| c["met"] == false)
        .map(|(criterion, _)| criterion.as_str())
        .collect();
    let pass = missing.is_empty();
    let feedback = if pass {
        String::new()
    } else {
        format!(
            "{rel} must list every acceptance criterion; missing: {}",
            missing.join("; ")
        )
    };
    let verdict = serde_json::json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": criteria,
        "feedback": feedback,
    });
    format!(
        "Simulated validation of {}.\n\n```json\n{}\n```\n",
        story.id,
        serde_json::to_string_pretty(&verdict).unwrap_or_default()
    )
}

/// The simulated planner: one section per story, in the format planners use.
pub fn plan(unit_title: &str, stories: &[Story]) -> String {
    let mut text = format!("# Plan: {unit_title} (simulated)\n\n");
    for story in stories {
        text.push_str(&format!(
            "## {}: {}\n\nWrite `{}` listing the acceptance criteria, then commit.\n\n",
            story.id,
            story.title,
            story_file(story.id.as_str())
        ));
    }
    text
}

fn io_error(checkout: &Checkout, source: std::io::Error) -> GitError {
    GitError::Failed {
        args: "(sim) write story file".into(),
        dir: checkout.path().to_path_buf(),
        code: None,
        stderr: source.to_string(),
    }
}
