//! [`RunRecords`]: what a run writes its results into — `prd.json` for epics and, when a sprint is
//! open, `backlog.json` for its todos (spec §8) — behind the editing calls the dispatcher and
//! `teams resume` already make on a `PrdDocument` (`set_story_result`, `set_epic_status`, …).
//!
//! Why one type: the loop is written against units, and a todo is a unit with one story. The
//! records keep one typed view holding the PRD's epics and the sprint's todos (each as an epic
//! with one story), so scheduling, tallies and the summary read todos exactly like epics; only
//! where a result is written differs. A todo's story result stays in the view (and the store)
//! until its unit ends; then its item becomes `done`, or `carried-over` with a pending copy, and
//! when every todo has ended the sprint closes (history file, `current_sprint.md`, a
//! `SprintClosed` event for the reporters and Discord). The store stays the truth during a run:
//! `teams resume` replays its results through the same calls, and every backlog step is
//! idempotent, so a crash anywhere loses nothing and runs nothing twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::backlog::{BacklogDocument, SprintStatus};
use crate::error::Result;
use crate::git::{Repo, Sha};
use crate::prd::{
    EditError, EpicId, EpicStatus, Prd, PrdDocument, SaveError, StoryId, StoryResult,
};
use crate::sprint::clock::Moment;
use crate::sprint::requests::{self, Request};
use crate::sprint::{self, TodoResult, todo};

use super::events::EventKind;
use super::unit::{Unit, UnitId};

/// The open sprint a run works on.
struct SprintRun {
    doc: BacklogDocument,
    id: String,
    todos: BTreeSet<String>,
    teams_dir: PathBuf,
    /// For commit subjects (history, commit-form check); set once the run's git is known.
    repo: Option<(Repo, String)>,
    running: BTreeSet<String>,
    costs: BTreeMap<String, f64>,
    /// Todos the continued run already worked on (they stay units of the run once ended).
    in_run: BTreeSet<String>,
}

/// The documents a run records results in.
pub(crate) struct RunRecords {
    prd: PrdDocument,
    view: Prd,
    sprint: Option<SprintRun>,
    notices: Vec<EventKind>,
}

impl RunRecords {
    /// Records for `prd` and, when `backlog` holds an open sprint, its todos. A stopped sprint
    /// starts no todo: it is closed here (its unstarted todos go back to pending).
    ///
    /// `run_todos` are the todos a continued run already recorded: when their sprint closed
    /// meanwhile (the crash came after closing), that sprint is still this run's sprint.
    pub fn new(
        prd: PrdDocument,
        backlog: Option<BacklogDocument>,
        teams_dir: &Path,
        run_todos: &BTreeSet<String>,
    ) -> RunRecords {
        let mut records = RunRecords {
            view: prd.prd().clone(),
            prd,
            sprint: None,
            notices: Vec::new(),
        };
        let Some(doc) = backlog else {
            return records;
        };
        let open = doc.backlog().open_sprint().cloned().or_else(|| {
            doc.backlog()
                .sprints
                .iter()
                .rev()
                .find(|s| s.todos.iter().any(|t| run_todos.contains(t)))
                .cloned()
        });
        let Some(open) = open else {
            return records;
        };
        records.sprint = Some(SprintRun {
            id: open.id.clone(),
            todos: open.todos.iter().cloned().collect(),
            teams_dir: teams_dir.to_owned(),
            repo: None,
            running: BTreeSet::new(),
            costs: BTreeMap::new(),
            in_run: run_todos.clone(),
            doc,
        });
        records.refresh_todo_view();
        records.poll_requests();
        records.maybe_close();
        records
    }

    /// Lets the records read commit subjects (history, commit-form warnings).
    pub fn attach_git(&mut self, repo: Repo, integration_branch: &str) {
        if let Some(s) = &mut self.sprint {
            s.repo = Some((repo, integration_branch.to_owned()));
        }
    }

    /// The view: the PRD's epics, then the open sprint's todos as one-story epics.
    pub fn prd(&self) -> &Prd {
        &self.view
    }

    /// The PRD itself (project, base branch, path).
    pub fn prd_document(&self) -> &PrdDocument {
        &self.prd
    }

    pub fn path(&self) -> &Path {
        self.prd.path()
    }

    /// The units of this run: the PRD's epics and the open sprint's todos still to do. `only`
    /// (`--epic`) keeps those units and what they need; `sprint_only` (`--sprint`) keeps the
    /// todos and what they need (the epics they depend on).
    pub fn units(&self, only: &[UnitId], sprint_only: bool) -> Result<Vec<Unit>> {
        let mut all = Unit::all_from_prd(self.prd.prd());
        let mut todos: Vec<Unit> = Vec::new();
        if let Some(s) = &self.sprint
            && let Some(sprint) = s.doc.backlog().sprint(&s.id)
        {
            if sprint.status == SprintStatus::Active {
                todos = todo::todo_units(s.doc.backlog(), sprint);
            }
            // Todos the continued run already ended stay its units (summary, outcome).
            for id in sprint.todos.iter().filter(|t| s.in_run.contains(*t)) {
                if todos.iter().any(|u| u.id.as_str() == id) {
                    continue;
                }
                if let Some(epic) = self.view.epic(id) {
                    let mut unit = Unit::from_epic(epic);
                    unit.kind = super::unit::UnitKind::Todo;
                    todos.push(unit);
                }
            }
        }
        // A todo's story result lives in the view (and the store) until its unit ends: a
        // resumed run must see a story that passed before the crash as passed.
        for unit in &mut todos {
            if let Some(epic) = self.view.epic(unit.id.as_str()) {
                unit.stories = epic.stories.clone();
                unit.status = epic.status;
            }
        }
        if sprint_only {
            if todos.is_empty() {
                return Ok(Vec::new());
            }
            let wanted: Vec<UnitId> = todos.iter().map(|u| u.id.clone()).collect();
            all.extend(todos);
            return super::execute::select_units(all, &wanted);
        }
        all.extend(todos);
        super::execute::select_units(all, only)
    }

    /// Whether this unit is a todo of the open sprint.
    fn is_todo(&self, id: &str) -> bool {
        self.sprint.as_ref().is_some_and(|s| s.todos.contains(id))
    }

    /// A todo that may not start: its sprint is stopped (or closed).
    pub fn held_back(&self, unit: &UnitId) -> bool {
        let Some(s) = &self.sprint else {
            return false;
        };
        s.todos.contains(unit.as_str())
            && s.doc
                .backlog()
                .sprint(&s.id)
                .is_none_or(|sp| sp.status != SprintStatus::Active)
    }

    /// Events for the reporters that the records produced (warnings, a closed sprint).
    pub fn take_notices(&mut self) -> Vec<EventKind> {
        std::mem::take(&mut self.notices)
    }

    /// What the unit's agents cost so far in this run (kept for the todo's item and the report).
    pub fn note_cost(&mut self, unit: &UnitId, cost: f64) {
        if let Some(s) = &mut self.sprint
            && s.todos.contains(unit.as_str())
        {
            s.costs.insert(unit.to_string(), cost);
        }
    }

    pub fn is_modified(&self) -> bool {
        self.prd.is_modified() || self.sprint.as_ref().is_some_and(|s| s.doc.is_modified())
    }

    /// Saves `backlog.json` (atomically) when it changed, and returns `prd.json`'s new bytes
    /// for the run's writer thread (`prd_writer.rs`) when it changed.
    pub fn save_deferring_prd(
        &mut self,
    ) -> std::result::Result<Option<(PathBuf, Vec<u8>)>, SaveError> {
        let prd = self.prd.is_modified().then(|| self.prd.take_for_save());
        if let Some(s) = &mut self.sprint {
            s.doc.save()?;
        }
        Ok(prd)
    }

    /// Saves `prd.json` and `backlog.json` (each atomically) when they changed.
    pub fn save(&mut self) -> std::result::Result<(), SaveError> {
        if self.prd.is_modified() {
            self.prd.save()?;
        }
        if let Some(s) = &mut self.sprint {
            s.doc.save()?;
        }
        Ok(())
    }

    pub fn set_story_result(
        &mut self,
        id: &StoryId,
        result: StoryResult,
    ) -> std::result::Result<(), EditError> {
        if !self.is_todo(id.as_str()) {
            self.prd.set_story_result(id, result)?;
            self.mirror_prd_epic_of_story(id);
            return Ok(());
        }
        // Checked once, when the pass is first recorded (not again when a resume replays it).
        let known = self
            .view
            .story(id.as_str())
            .is_some_and(|(_, story)| story.passes && story.commit_sha == result.commit_sha);
        if result.passes
            && !known
            && let Some(sha) = &result.commit_sha
        {
            self.check_commit_form(id.as_str(), sha);
        }
        if let Some(story) = self
            .view
            .epics
            .iter_mut()
            .find(|e| e.id.as_str() == id.as_str())
            .and_then(|e| e.stories.first_mut())
        {
            story.passes = result.passes;
            story.commit_sha = result.commit_sha;
            story.attempts = result.attempts;
            story.failure_reason = result.failure_reason;
        }
        Ok(())
    }

    pub fn set_epic_status(
        &mut self,
        id: &EpicId,
        status: EpicStatus,
        reason: Option<String>,
    ) -> std::result::Result<(), EditError> {
        if !self.is_todo(id.as_str()) {
            self.prd.set_epic_status(id, status, reason)?;
            self.mirror_prd_epic(id.as_str());
            return Ok(());
        }
        let Some(epic) = self.view.epics.iter_mut().find(|e| &e.id == id) else {
            return Err(EditError::UnknownEpic(id.clone()));
        };
        epic.status = status;
        epic.failure_reason = reason.clone();
        let story = epic.stories.first().cloned();
        let Some(s) = &mut self.sprint else {
            return Ok(());
        };
        match status {
            EpicStatus::Running => {
                s.running.insert(id.to_string());
            }
            EpicStatus::Pending => {
                s.running.remove(id.as_str());
            }
            _ => {
                s.running.remove(id.as_str());
                let passed = status == EpicStatus::Completed;
                let result = TodoResult {
                    passed,
                    commit_sha: story.as_ref().and_then(|st| st.commit_sha.clone()),
                    attempts: story.as_ref().map_or(0, |st| st.attempts),
                    // The story's own reason (the validator's feedback) says most; a todo that
                    // never ran (blocked, merge-failed) has only the unit's.
                    failure_reason: if passed {
                        None
                    } else {
                        story
                            .as_ref()
                            .and_then(|st| st.failure_reason.clone())
                            .or(reason)
                    },
                    cost_usd: s.costs.get(id.as_str()).copied().unwrap_or(0.0),
                };
                sprint::record_todo(&mut s.doc, id.as_str(), &result);
                self.maybe_close();
            }
        }
        Ok(())
    }

    pub fn set_epic_planned(
        &mut self,
        id: &EpicId,
        planned: bool,
    ) -> std::result::Result<(), EditError> {
        if self.is_todo(id.as_str()) {
            // A todo's plan lives in .teams/plans/ only; the backlog has no `planned` field.
            return Ok(());
        }
        self.prd.set_epic_planned(id, planned)?;
        self.mirror_prd_epic(id.as_str());
        Ok(())
    }

    /// Applies a `sprint stop`/`restart` left by another terminal (see `sprint::requests`).
    pub fn poll_requests(&mut self) {
        let Some(s) = &mut self.sprint else {
            return;
        };
        let Some(request) = requests::peek(&s.teams_dir) else {
            return;
        };
        requests::clear(&s.teams_dir);
        if request.sprint() != s.id {
            return;
        }
        let applied = match request {
            Request::Stop(_) => sprint::stop(&mut s.doc).map(|id| {
                format!(
                    "sprint {id} stops: running todos finish, no new todo starts, then it closes"
                )
            }),
            Request::Restart(_) => sprint::restart(&mut s.doc)
                .map(|id| format!("sprint {id} continues: its remaining todos start again")),
        };
        match applied {
            Ok(message) => {
                self.notices.push(EventKind::Warning { message });
                if let Err(err) = self.save_sprint() {
                    self.notices.push(EventKind::Warning { message: err });
                }
                self.maybe_close();
            }
            Err(err) => self.notices.push(EventKind::Warning {
                message: format!("ignored a sprint request: {err}"),
            }),
        }
    }

    fn save_sprint(&mut self) -> std::result::Result<(), String> {
        let Some(s) = &mut self.sprint else {
            return Ok(());
        };
        s.doc.save().map_err(|e| e.to_string())?;
        sprint::write_current(&s.doc, &s.teams_dir).map_err(|e| e.to_string())
    }

    /// Closes the sprint when every todo has ended, or when it is stopped and none is running.
    fn maybe_close(&mut self) {
        let Some(s) = &mut self.sprint else {
            return;
        };
        let Some(open) = s.doc.backlog().sprint(&s.id).cloned() else {
            return;
        };
        let due = match open.status {
            SprintStatus::Active => sprint::all_todos_ended(&s.doc, &open),
            SprintStatus::Stopped => s.running.is_empty(),
            SprintStatus::Closed => false,
        };
        if !due {
            return;
        }
        let repo = s.repo.as_ref().map(|(r, _)| r);
        let subject = |sha: &str| repo.and_then(|r| r.subject(&Sha::new(sha)).ok());
        match sprint::close_sprint(&mut s.doc, &s.id, &s.teams_dir, Moment::now(), &subject) {
            Ok(Some(report)) => self.notices.push(EventKind::SprintClosed { report }),
            Ok(None) => {}
            Err(err) => self.notices.push(EventKind::Warning {
                message: format!("failed to close sprint {}: {err}", s.id),
            }),
        }
        self.refresh_todo_view();
    }

    /// Warns about each commit of a passed todo whose subject does not follow the sprint's
    /// commit form (spec §8); the work still counts.
    fn check_commit_form(&mut self, todo_id: &str, sha: &str) {
        let Some(s) = &self.sprint else {
            return;
        };
        let Some((repo, integration)) = &s.repo else {
            return;
        };
        let tip = match repo.resolve(&format!("refs/heads/{integration}")) {
            Ok(Some(tip)) => tip,
            _ => return,
        };
        let Ok(commits) = repo.commits_between(&tip, &Sha::new(sha)) else {
            return;
        };
        for commit in commits {
            let Ok(subject) = repo.subject(&commit) else {
                continue;
            };
            if !todo::follows_commit_form(&s.id, todo_id, &subject) {
                self.notices.push(EventKind::Warning {
                    message: format!(
                        "{todo_id}: commit {} \"{subject}\" does not follow the sprint commit form `{}`",
                        commit.short(),
                        todo::commit_form(&s.id, todo_id)
                    ),
                });
            }
        }
    }

    /// The todo epics of the view, rebuilt from the backlog (the PRD's epics come first).
    fn refresh_todo_view(&mut self) {
        let mut epics = self.prd.prd().epics.clone();
        if let Some(s) = &self.sprint
            && let Some(sp) = s.doc.backlog().sprint(&s.id)
        {
            let mut todo_epics = todo::sprint_epics(s.doc.backlog(), sp);
            // Results not yet on the item (decided, unit not ended) stay as the view had them.
            for epic in &mut todo_epics {
                if let Some(old) = self.view.epics.iter().find(|e| e.id == epic.id)
                    && epic.status == EpicStatus::Pending
                {
                    *epic = old.clone();
                }
            }
            epics.extend(todo_epics);
        }
        self.view.epics = epics;
    }

    fn mirror_prd_epic(&mut self, id: &str) {
        if let (Some(src), Some(dst)) = (
            self.prd.prd().epic(id).cloned(),
            self.view.epics.iter_mut().find(|e| e.id.as_str() == id),
        ) {
            *dst = src;
        }
    }

    fn mirror_prd_epic_of_story(&mut self, story: &StoryId) {
        if let Some((epic, _)) = self.prd.prd().story(story.as_str()) {
            let id = epic.id.to_string();
            self.mirror_prd_epic(&id);
        }
    }
}
