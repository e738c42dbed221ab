//! Where a run keeps its files under `.teams/` (spec §3): worktrees, agent logs and prompts,
//! plans, guidance, the progress narrative. One type names every path so no two modules invent
//! different spellings of the same file.

use std::io;
use std::path::{Path, PathBuf};

use crate::agent::Role;

use super::unit::UnitId;

/// Names one agent call's files.
#[derive(Debug, Clone, Copy)]
pub struct AgentFileName<'a> {
    pub subject: &'a str,
    pub role: Role,
    pub attempt: u32,
    pub reask: bool,
}

/// An agent call's transcript and prompt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFiles {
    pub log: PathBuf,
    pub prompt: PathBuf,
}

/// The `.teams/` directory of one repository.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout of the repository whose top level is `repo_root`.
    pub fn new(repo_root: &Path) -> Layout {
        Layout {
            dir: repo_root.join(".teams"),
        }
    }

    /// `.teams/` itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates `.teams/` with a `.gitignore` holding `*`, so nothing `teams` keeps locally (state,
    /// worktrees, logs) ever shows up in the user's `git status` or gets committed by an agent.
    pub fn ensure(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(ignore, "*\n")?;
        }
        Ok(())
    }

    /// `.teams/worktrees/<run>/`.
    pub fn run_worktrees(&self, run_id: &str) -> PathBuf {
        self.dir.join("worktrees").join(run_id)
    }

    /// `.teams/worktrees/<run>/<unit>`: where a unit's builder works.
    pub fn unit_worktree(&self, run_id: &str, unit: &UnitId) -> PathBuf {
        self.run_worktrees(run_id).join(unit.as_str())
    }

    /// `.teams/worktrees/<run>/<unit>@validator`: the detached checkout a unit's validators
    /// work in, reused from story to story and removed when the unit ends (`@` cannot appear in
    /// an ID, so it never meets a unit's worktree).
    pub fn validator_checkout(&self, run_id: &str, unit: &UnitId) -> PathBuf {
        self.run_worktrees(run_id).join(format!("{unit}@validator"))
    }

    /// The worktree the integration branch is checked out in while units merge.
    pub fn integration_worktree(&self, run_id: &str) -> PathBuf {
        self.run_worktrees(run_id).join("_integration")
    }

    /// `.teams/logs/<run>/`.
    pub fn run_logs(&self, run_id: &str) -> PathBuf {
        self.dir.join("logs").join(run_id)
    }

    /// The run's event log (JSON lines).
    pub fn events_log(&self, run_id: &str) -> PathBuf {
        self.run_logs(run_id).join("events.jsonl")
    }

    /// `.teams/logs/<run>/<unit>/<subject>.<role>.<attempt>.log`: an agent's raw output, and the
    /// prompt file beside it (`TEAMS_PROMPT_FILE`). The subject is the story ID, or the unit ID
    /// for the planner and merger; a validator's re-ask (spec §5.2) gets `.reask` before `.log`.
    pub fn agent_files(&self, run_id: &str, unit: &UnitId, name: &AgentFileName<'_>) -> AgentFiles {
        let dir = self.run_logs(run_id).join(unit.as_str());
        let stem = format!(
            "{}.{}.{}{}",
            name.subject,
            name.role,
            name.attempt,
            if name.reask { ".reask" } else { "" }
        );
        AgentFiles {
            log: dir.join(format!("{stem}.log")),
            prompt: dir.join(format!("{stem}.prompt.md")),
        }
    }

    /// `.teams/plans/plan-<UNIT>.md`.
    pub fn plan(&self, unit: &UnitId) -> PathBuf {
        self.dir.join("plans").join(format!("plan-{unit}.md"))
    }

    /// `.teams/guidance/guidance-<STORY>.md`, written by `teams discuss`.
    pub fn guidance(&self, story: &str) -> PathBuf {
        self.dir
            .join("guidance")
            .join(format!("guidance-{story}.md"))
    }

    /// `.teams/progress.md`: the human narrative of story results.
    pub fn progress(&self) -> PathBuf {
        self.dir.join("progress.md")
    }

    /// `.teams/state.db`, the run store (spec §6).
    pub fn state_db(&self) -> PathBuf {
        self.dir.join("state.db")
    }

    /// `.teams/lock`, the PID of the `teams` working in this repository.
    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        let layout = Layout::new(Path::new("/r"));
        let unit = UnitId::new("EPIC-1");
        assert_eq!(
            layout.unit_worktree("run1", &unit),
            Path::new("/r/.teams/worktrees/run1/EPIC-1")
        );
        assert_eq!(
            layout.validator_checkout("run1", &unit),
            Path::new("/r/.teams/worktrees/run1/EPIC-1@validator")
        );
        let name = AgentFileName {
            subject: "US-1",
            role: Role::Validator,
            attempt: 2,
            reask: false,
        };
        let files = layout.agent_files("run1", &unit, &name);
        assert_eq!(
            files.log,
            Path::new("/r/.teams/logs/run1/EPIC-1/US-1.validator.2.log")
        );
        assert_eq!(
            files.prompt,
            Path::new("/r/.teams/logs/run1/EPIC-1/US-1.validator.2.prompt.md")
        );
        let reask = layout.agent_files(
            "run1",
            &unit,
            &AgentFileName {
                reask: true,
                ..name
            },
        );
        assert_eq!(
            reask.log,
            Path::new("/r/.teams/logs/run1/EPIC-1/US-1.validator.2.reask.log")
        );
        assert_eq!(
            layout.plan(&unit),
            Path::new("/r/.teams/plans/plan-EPIC-1.md")
        );
        assert_eq!(
            layout.guidance("US-1"),
            Path::new("/r/.teams/guidance/guidance-US-1.md")
        );
    }

    #[test]
    fn ensure_ignores_everything_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path());
        layout.ensure().unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join(".teams/.gitignore")).unwrap(),
            "*\n"
        );
        // A user's edit is kept.
        std::fs::write(tmp.path().join(".teams/.gitignore"), "*\n!keep\n").unwrap();
        layout.ensure().unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join(".teams/.gitignore")).unwrap(),
            "*\n!keep\n"
        );
    }
}
