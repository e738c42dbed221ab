//! The planner step shared by the run loop (an epic planned just before it is built, spec §4.4) and
//! `teams plan --auto` (epics planned ahead of a run): the same prompt from the same facts, the same
//! reading of the planner's answer, the same plan file. Only how the agent is called differs (the
//! loop reports events and waits out usage limits; `teams plan` runs one agent in the foreground).

use std::io;
use std::path::PathBuf;

use crate::agent::FailureClass;
use crate::roles::{PlannerContext, PromptTemplates, StoryBrief};

use super::layout::Layout;
use super::unit::{Unit, UnitId};

/// The planner prompt for `unit`: every story of the unit, in build order.
pub fn planner_prompt(
    templates: &PromptTemplates,
    project: &str,
    project_description: &str,
    unit: &Unit,
) -> String {
    let stories: Vec<StoryBrief<'_>> = unit.stories.iter().map(StoryBrief::of).collect();
    templates.planner(&PlannerContext {
        project,
        project_description,
        unit_id: unit.id.as_str(),
        unit_title: &unit.title,
        unit_description: &unit.description,
        stories,
    })
}

/// The plan in a planner's answer, or why there is none (to show after "planning failed").
pub fn plan_from_answer(
    failure: Option<&FailureClass>,
    final_text: Option<String>,
) -> Result<String, String> {
    match (failure, final_text) {
        (None, Some(text)) if !text.trim().is_empty() => Ok(text),
        (Some(failure), _) => Err(failure.describe("planner")),
        (None, _) => Err("it gave no plan".to_owned()),
    }
}

/// Writes `plan` to `.teams/plans/plan-<UNIT>.md` (creating the directory) and returns the path.
pub fn save_plan(layout: &Layout, unit: &UnitId, plan: &str) -> io::Result<PathBuf> {
    let path = layout.plan(unit);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, plan)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_without_text_or_with_a_failure_is_no_plan() {
        assert_eq!(
            plan_from_answer(None, Some("## US-1\n".into())),
            Ok("## US-1\n".into())
        );
        assert_eq!(
            plan_from_answer(None, Some("  \n".into())),
            Err("it gave no plan".into())
        );
        assert_eq!(plan_from_answer(None, None), Err("it gave no plan".into()));
        let failed = plan_from_answer(Some(&FailureClass::EmptyOutput), Some("x".into()));
        assert!(failed.is_err());
    }

    #[test]
    fn plans_are_saved_where_the_loop_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let path = save_plan(&layout, &UnitId::new("EPIC-1"), "plan\n").unwrap();
        assert_eq!(path, dir.path().join(".teams/plans/plan-EPIC-1.md"));
        assert_eq!(std::fs::read_to_string(path).unwrap(), "plan\n");
    }
}
