//! When an epic gets a planner (spec §4.4) and how a builder gets its part of the plan.
//!
//! The `auto` decision is a deliberately simple, predictable heuristic rather than another agent
//! call: no tokens go to coordination (spec §1), and a user can read from the PRD why an epic
//! was or was not planned.

use crate::config::PlannerMode;
use crate::prd::Story;

/// Stories at which an epic counts as non-trivial by size alone.
const MANY_STORIES: usize = 3;

/// Words that, in a story's description or criteria, suggest new structure whose shape later
/// stories depend on (spec §4.4: "criteria that name new modules, APIs, pages or
/// integrations"). A plan pays off there, because builders in separate sessions must agree on
/// names and interfaces. Matched as whole words, case-insensitively; entries with a space are
/// consecutive words. Plurals are listed because matching is exact.
const STRUCTURAL_WORDS: &[&str] = &[
    "module",
    "modules",
    "api",
    "apis",
    "endpoint",
    "endpoints",
    "route",
    "routes",
    "page",
    "pages",
    "screen",
    "screens",
    "integration",
    "integrations",
    "integrate",
    "service",
    "services",
    "microservice",
    "microservices",
    "schema",
    "schemas",
    "migration",
    "migrations",
    "database table",
    "subcommand",
    "subcommands",
    "cli command",
    "cli commands",
];

/// Whether an unplanned epic with these stories should be planned before building. Callers
/// handle epics that are already `planned: true`.
pub fn needs_planner(mode: PlannerMode, stories: &[Story]) -> bool {
    match mode {
        PlannerMode::Always => true,
        PlannerMode::Never => false,
        PlannerMode::Auto => {
            stories.len() >= MANY_STORIES
                || stories.iter().any(|story| {
                    names_structure(&story.description)
                        || story.acceptance_criteria.iter().any(|c| names_structure(c))
                })
        }
    }
}

/// Whether `text` contains one of [`STRUCTURAL_WORDS`] as whole words.
fn names_structure(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    STRUCTURAL_WORDS.iter().any(|keyword| {
        let keyword: Vec<&str> = keyword.split(' ').collect();
        words
            .windows(keyword.len())
            .any(|window| window.iter().zip(&keyword).all(|(w, k)| w == k))
    })
}

/// The section of `plan` for `story_id`: from the first heading (any level) that contains the ID
/// as a whole word, up to the next heading of the same or a higher level. Headings inside fenced
/// code blocks do not count.
pub fn plan_section(plan: &str, story_id: &str) -> Option<String> {
    let lines: Vec<&str> = plan.lines().collect();
    let headings = headings(&lines);
    let (index, &(start, level)) = headings
        .iter()
        .enumerate()
        .find(|(_, (line, _))| contains_id(lines[*line], story_id))?;
    let end = headings[index + 1..]
        .iter()
        .find(|(_, l)| *l <= level)
        .map_or(lines.len(), |(line, _)| *line);
    let section = lines[start..end].join("\n");
    Some(section.trim_end().to_owned())
}

/// `(line index, level)` of every ATX heading outside fenced code blocks.
fn headings(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut fence: Option<(char, usize)> = None;
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        let indented = line.len() - trimmed.len() > 3;
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        if let Some(ch) = fence_char.filter(|_| !indented) {
            let len = trimmed.len() - trimmed.trim_start_matches(ch).len();
            if len >= 3 {
                match fence {
                    None => fence = Some((ch, len)),
                    Some((open, open_len)) if open == ch && len >= open_len => fence = None,
                    Some(_) => {}
                }
                continue;
            }
        }
        if fence.is_some() || indented {
            continue;
        }
        let level = trimmed.len() - trimmed.trim_start_matches('#').len();
        let after = &trimmed[level..];
        if (1..=6).contains(&level) && (after.is_empty() || after.starts_with([' ', '\t'])) {
            found.push((index, level));
        }
    }
    found
}

/// Whether `line` contains `id` (ASCII case-insensitive) with no ID character on either side.
fn contains_id(line: &str, id: &str) -> bool {
    if id.is_empty() {
        return false;
    }
    let is_id_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let line_lower = line.to_ascii_lowercase();
    let id_lower = id.to_ascii_lowercase();
    line_lower.match_indices(&id_lower).any(|(at, _)| {
        let before = line_lower[..at].chars().next_back();
        let after = line_lower[at + id_lower.len()..].chars().next();
        !before.is_some_and(is_id_char) && !after.is_some_and(is_id_char)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prd::StoryId;

    fn story(description: &str, criteria: &[&str]) -> Story {
        Story {
            id: StoryId::new("US-001"),
            title: "t".into(),
            description: description.into(),
            acceptance_criteria: criteria.iter().map(|c| c.to_string()).collect(),
            priority: None,
            passes: false,
            failure_reason: None,
            commit_sha: None,
            attempts: 0,
            checks: Vec::new(),
            sim_fail_first: false,
        }
    }

    #[test]
    fn modes_always_and_never_ignore_the_stories() {
        let big = vec![story("add an API", &[]); 5];
        assert!(needs_planner(PlannerMode::Always, &[]));
        assert!(!needs_planner(PlannerMode::Never, &big));
    }

    #[test]
    fn auto_plans_three_or_more_stories() {
        let plain = story("rename a label", &["the label reads Save"]);
        assert!(!needs_planner(PlannerMode::Auto, &vec![plain.clone(); 2]));
        assert!(needs_planner(PlannerMode::Auto, &vec![plain; 3]));
    }

    #[test]
    fn auto_plans_stories_that_name_new_structure() {
        for text in [
            "Add a REST API for orders",
            "a new /orders endpoint",
            "The settings Page shows the email",
            "create the orders table migration",
            "Integrate with Stripe",
            "add a `teams sprint` CLI command",
            "a new billing service",
            "the user_module exports",
        ] {
            let as_description = [story(text, &["works"])];
            let as_criterion = [story("", &["works", text])];
            let expected = !text.contains("user_module");
            assert_eq!(
                needs_planner(PlannerMode::Auto, &as_description),
                expected,
                "{text}"
            );
            assert_eq!(
                needs_planner(PlannerMode::Auto, &as_criterion),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn auto_matches_whole_words_only() {
        for text in [
            "update the homepage footer",
            "rapid fix",
            "pagination shows 10 rows",
            "the command prints help",
            "capital letters",
        ] {
            assert!(
                !needs_planner(PlannerMode::Auto, &[story(text, &["ok"])]),
                "{text}"
            );
        }
    }

    const PLAN: &str = "# Plan for EPIC-001\n\nShared notes.\n\n## US-001: Sign in\n\nAdd `auth.rs`.\n\n### Tests\n\n```markdown\n## US-002: not a heading\n```\n\n## US-0010: Another\n\nTen.\n\n## us-002 — Sign out\n\nRemove the cookie.\n\n# Appendix\n\nEnd.\n";

    #[test]
    fn plan_section_cuts_at_the_next_heading_of_the_same_level() {
        assert_eq!(
            plan_section(PLAN, "US-001").as_deref(),
            Some(
                "## US-001: Sign in\n\nAdd `auth.rs`.\n\n### Tests\n\n```markdown\n## US-002: not a heading\n```"
            )
        );
        assert_eq!(
            plan_section(PLAN, "US-002").as_deref(),
            Some("## us-002 — Sign out\n\nRemove the cookie.")
        );
        assert_eq!(
            plan_section(PLAN, "US-0010").as_deref(),
            Some("## US-0010: Another\n\nTen.")
        );
    }

    #[test]
    fn plan_section_absent() {
        assert_eq!(plan_section(PLAN, "US-003"), None);
        assert_eq!(plan_section(PLAN, "US-00"), None);
        assert_eq!(plan_section("", "US-001"), None);
        // A mention in body text is not a heading.
        assert_eq!(plan_section("intro US-003 text\n", "US-003"), None);
    }

    #[test]
    fn plan_section_at_any_level() {
        let plan = "### US-001\nbody\n#### detail\nmore\n### US-002\nx\n";
        assert_eq!(
            plan_section(plan, "US-001").as_deref(),
            Some("### US-001\nbody\n#### detail\nmore")
        );
        assert_eq!(
            plan_section(plan, "US-002").as_deref(),
            Some("### US-002\nx")
        );
    }
}
