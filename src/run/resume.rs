//! `teams resume`: reconcile what the store recorded with what git and the process table show,
//! so the run continues as if it had never stopped (spec §6).
//!
//! The store records each transition before the step after it runs, and git holds the work; so
//! after a crash anywhere, the state is one of a few: an agent was running (its attempt is
//! discarded and not counted, its leftovers go), a build made its commit but was not yet checked
//! (the commit is adopted and validated), or a result was recorded but `prd.json` not yet
//! rewritten (it is rewritten here from the store). Nothing that passed runs again.

use std::collections::BTreeMap;
use std::path::Path;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::error::{Result, TeamsError};
use crate::git::Sha;
use crate::prd::{EpicId, EpicStatus, StoryId, StoryResult};
use crate::store::{RunState, Store};

use super::dispatcher::Continuation;
use super::records::RunRecords;
use super::setup::{RunGit, git_error};
use super::unit::{Unit, UnitId};

/// Where a story stood when its run stopped.
#[derive(Debug, Clone)]
pub struct StoryResume {
    /// HEAD when the story first started: the base of its validator diff.
    pub story_start: Sha,
    /// Counted attempts so far.
    pub attempts: u32,
    /// The last counted failure's feedback, for the next builder.
    pub feedback: Option<String>,
    /// A build that made its commit but was never decided: validated as the next attempt.
    pub adopt: Option<AdoptedBuild>,
}

#[derive(Debug, Clone)]
pub struct AdoptedBuild {
    /// The builder's row in the store.
    pub attempt_id: i64,
    /// Where that attempt started.
    pub attempt_start: Sha,
}

/// What reconciling found: how the dispatcher continues, and what to tell the user.
pub(super) struct Reconciled {
    pub continuation: Continuation,
    pub warnings: Vec<String>,
}

/// Brings the store, git and `prd.json` into agreement before an interrupted run continues:
///
/// - agents that outlived the crashed `teams` are killed (they would race the new ones);
/// - every attempt still marked running is discarded and not counted, except a build whose
///   commit is on the unit branch, which is adopted and validated;
/// - validator checkouts, the integration worktree and unit worktrees of the run are removed
///   (the uncommitted leftovers of a killed agent go with them, and a worktree a crash left
///   locked in the middle of `git worktree add` goes too); unit worktrees are recreated
///   from their branches when the units start again;
/// - unit branches are checked to still hold every passed story's commit;
/// - `prd.json` is rewritten from the store, and stories added to it since are added to the store.
pub(super) fn reconcile(
    git: &RunGit,
    store: &mut Store,
    run_id: &str,
    doc: &mut RunRecords,
    units: &[Unit],
) -> Result<Reconciled> {
    let state = store
        .run_state(run_id)?
        .ok_or_else(|| TeamsError::internal(format!("run {run_id} vanished from the store")))?;
    let mut warnings = Vec::new();
    let stopped = stop_leftover_agents(git.repo.root(), run_id, &state);
    if stopped > 0 {
        warnings.push(format!(
            "stopped {} left running by the interrupted teams",
            crate::helpers::plural(stopped, "agent process", "agent processes")
        ));
    }
    remove_run_worktrees(git, run_id)?;

    let mut continuation = Continuation::default();
    for unit in &state.units {
        let id = UnitId::new(&unit.id);
        *continuation.costs.entry(id.clone()).or_default() += state.unit_cost_usd(&unit.id);
        match EpicStatus::parse(&unit.status) {
            Some(status) if is_final(status) => {
                continuation.finished.insert(id, status);
                continue;
            }
            _ => {}
        }
        let Some(branch) = &unit.branch else {
            continue; // never started
        };
        continuation.started.insert(id.clone());
        let stories = resume_unit(git, store, &state, unit, branch, &mut warnings)?;
        if !stories.is_empty() {
            continuation.stories.insert(id, stories);
        }
    }
    for attempt in &state.attempts {
        if let (Some(story), Some(cost)) = (&attempt.story_id, attempt.cost_usd) {
            *continuation
                .story_costs
                .entry(StoryId::new(story.as_str()))
                .or_default() += cost;
        }
    }
    // Whatever is still marked running was cut short: it does not count.
    for attempt in &state.attempts {
        let adopted = continuation
            .stories
            .values()
            .flat_map(|m| m.values())
            .any(|r| r.adopt.as_ref().is_some_and(|a| a.attempt_id == attempt.id));
        if attempt.state == "running" && !adopted {
            store.attempt_discarded(attempt.id)?;
        }
    }
    apply_to_prd(store, run_id, &state, doc, units, &mut warnings)?;
    Ok(Reconciled {
        continuation,
        warnings,
    })
}

fn is_final(status: EpicStatus) -> bool {
    !matches!(status, EpicStatus::Pending | EpicStatus::Running)
}

/// The running story of a unit that was running, and the branch put where the store says.
fn resume_unit(
    git: &RunGit,
    store: &Store,
    state: &RunState,
    unit: &crate::store::UnitRow,
    branch: &str,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<StoryId, StoryResume>> {
    let repo = &git.repo;
    let branch_ref = format!("refs/heads/{branch}");
    let Some(tip) = repo.resolve(&branch_ref).map_err(git_error)? else {
        return Err(TeamsError::environment(format!(
            "the unit branch `{branch}` of the interrupted run was deleted"
        ))
        .with_hint(match &unit.tip {
            Some(tip) => format!(
                "recreate it where the run left it: `git branch {branch} {tip}`; or `teams run --fresh`"
            ),
            None => "`teams run --fresh` starts a new run".to_owned(),
        }));
    };
    let stories: Vec<&crate::store::StoryRow> = state
        .stories
        .iter()
        .filter(|s| s.unit_id == unit.id)
        .collect();
    for story in stories.iter().filter(|s| s.status == "passed") {
        let Some(commit) = &story.commit_sha else {
            continue;
        };
        let commit = Sha::new(commit.as_str());
        if !repo.is_ancestor(&commit, &tip).map_err(git_error)? {
            return Err(TeamsError::environment(format!(
                "the unit branch `{branch}` was moved: the commit {} of the passed story {} is no longer on it",
                commit.short(),
                story.id
            ))
            .with_hint(match &unit.tip {
                Some(recorded) => format!(
                    "put it back where the run left it (`git branch -f {branch} {recorded}`), or start over with `teams run --fresh`"
                ),
                None => "start over with `teams run --fresh`".to_owned(),
            }));
        }
    }
    let mut resumes = BTreeMap::new();
    for story in stories.iter().filter(|s| s.status == "running") {
        let next = story.attempts + 1;
        // The build of the attempt in progress, if one started and was not decided.
        let build = state.attempts.iter().rev().find(|a| {
            a.story_id.as_deref() == Some(story.id.as_str())
                && a.role == "builder"
                && a.attempt == next
                && a.state != "discarded"
                && !a.counted
        });
        let mut adopt = None;
        if let Some(build) = build
            && let Some(start) = build.start_sha.as_deref().map(Sha::new)
        {
            if tip != start && repo.is_ancestor(&start, &tip).map_err(git_error)? {
                warnings.push(format!(
                    "{}: the builder of attempt {next} committed {} before teams stopped; it is validated now",
                    story.id,
                    tip.short()
                ));
                adopt = Some(AdoptedBuild {
                    attempt_id: build.id,
                    attempt_start: start,
                });
            } else if tip != start {
                repo.set_ref(&branch_ref, &start).map_err(git_error)?;
                warnings.push(format!(
                    "{}: put `{branch}` back on {} where attempt {next} started",
                    story.id,
                    start.short()
                ));
            }
        }
        if let Some(adopted) = &adopt {
            store.attempt_finished(
                adopted.attempt_id,
                &crate::store::AgentEnd {
                    failure: Some(
                        "teams stopped before this build was checked; its commit is validated on resume"
                            .to_owned(),
                    ),
                    ..Default::default()
                },
            )?;
        }
        let story_start = story
            .start_sha
            .as_deref()
            .map_or_else(|| tip.clone(), Sha::new);
        resumes.insert(
            StoryId::new(story.id.as_str()),
            StoryResume {
                story_start,
                attempts: story.attempts,
                feedback: story.feedback.clone(),
                adopt,
            },
        );
    }
    Ok(resumes)
}

/// Rewrites `prd.json` from the store (the store is the truth during a run), and records stories
/// and units the file gained since the run started.
fn apply_to_prd(
    store: &mut Store,
    run_id: &str,
    state: &RunState,
    doc: &mut RunRecords,
    units: &[Unit],
    warnings: &mut Vec<String>,
) -> Result<()> {
    for story in &state.stories {
        let id = StoryId::new(story.id.as_str());
        let result = StoryResult {
            passes: story.status == "passed",
            commit_sha: story
                .commit_sha
                .clone()
                .filter(|_| story.status == "passed"),
            attempts: story.attempts,
            failure_reason: story
                .failure_reason
                .clone()
                .filter(|_| story.status == "failed"),
        };
        if doc.set_story_result(&id, result).is_err() {
            warnings.push(format!(
                "{} is in the interrupted run but no longer in {}; it is skipped",
                story.id,
                doc.path().display()
            ));
        }
    }
    for unit in &state.units {
        let epic = EpicId::new(unit.id.as_str());
        let status = EpicStatus::parse(&unit.status)
            .filter(|s| is_final(*s))
            .unwrap_or(EpicStatus::Pending);
        let _ = doc.set_epic_status(&epic, status, unit.reason.clone());
        if unit.planned {
            let _ = doc.set_epic_planned(&epic, true);
        }
    }
    let added: Vec<_> = units
        .iter()
        .filter(|u| {
            state.unit(u.id.as_str()).is_none()
                || u.stories
                    .iter()
                    .any(|s| state.story(s.id.as_str()).is_none())
        })
        .collect();
    if !added.is_empty() {
        let rows: Vec<_> = added.iter().map(|u| super::execute::new_unit(u)).collect();
        store.add_units(run_id, &rows)?;
    }
    if doc.is_modified() {
        doc.save().map_err(|err| {
            TeamsError::environment(err.to_string()).with_hint(
                "check the disk and the file's permissions; `teams resume` again continues",
            )
        })?;
    }
    Ok(())
}

/// Removes every worktree of the run (validator checkouts, the integration worktree, unit
/// worktrees); units get theirs back from their branches when they start again.
fn remove_run_worktrees(git: &RunGit, run_id: &str) -> Result<()> {
    let manager = git.worktrees();
    let dir = git.layout.run_worktrees(run_id);
    let list = manager.list().map_err(git_error)?;
    for worktree in list.iter().filter(|w| w.path.starts_with(&dir)) {
        if worktree.path.exists() {
            let removed = if worktree.locked {
                // teams makes worktrees in the background (validator checkouts, the next
                // unit's), and a crash during `git worktree add` leaves one locked
                // "initializing"; an add that outlived teams may still be finishing it.
                wait_for_unlock(&worktree.path);
                manager.remove_even_locked(&worktree.path)
            } else {
                manager.remove(&worktree.path, true)
            };
            removed.map_err(|err| {
                TeamsError::environment(format!(
                    "failed to remove the worktree {} of the interrupted run",
                    worktree.path.display()
                ))
                .with_source(err)
                .with_hint(
                    "remove it by hand (`git worktree remove --force <path>`), then `teams resume`",
                )
            })?;
        }
    }
    manager.prune().map_err(git_error)?;
    // Anything left in the run's directory is not a worktree git knows: a leftover of a crash
    // in the middle of `git worktree add`.
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Waits (a moment at most) until the worktree at `path` is no longer locked: a `git worktree
/// add` that outlived the crashed `teams` unlocks it when it is done.
fn wait_for_unlock(path: &Path) {
    let Some(admin) = std::fs::read_to_string(path.join(".git"))
        .ok()
        .and_then(|text| {
            text.strip_prefix("gitdir: ")
                .map(|d| path.join(d.trim_end()))
        })
    else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while admin.join("locked").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Kills the process group of every agent of this run that is still alive. Agents are found by
/// the `TEAMS_RUN_ID` and `TEAMS_REPO_ROOT` every agent gets (spec §5.1), so an agent whose pid
/// never reached the store is found too; where there is no `/proc`, the recorded pids are used.
/// Returns how many were stopped.
fn stop_leftover_agents(root: &Path, run_id: &str, state: &RunState) -> usize {
    let mut groups: Vec<i32> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        let run = format!("TEAMS_RUN_ID={run_id}");
        let repo = format!("TEAMS_REPO_ROOT={}", root.display());
        let me = std::process::id() as i32;
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if pid == me {
                continue;
            }
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
                continue;
            };
            let mut vars = environ.split(|b| *b == 0);
            let (mut has_run, mut has_repo) = (false, false);
            for var in vars.by_ref() {
                has_run |= var == run.as_bytes();
                has_repo |= var == repo.as_bytes();
            }
            if has_run && has_repo {
                let pgid =
                    nix::unistd::getpgid(Some(Pid::from_raw(pid))).map_or(pid, |g| g.as_raw());
                if !groups.contains(&pgid) {
                    groups.push(pgid);
                }
            }
        }
    } else {
        for attempt in state.attempts.iter().filter(|a| a.state == "running") {
            if let Some(pid) = attempt.pid.and_then(|p| i32::try_from(p).ok()) {
                groups.push(pid);
            }
        }
    }
    let mut stopped = 0;
    for pgid in &groups {
        if pgid <= &1 {
            continue;
        }
        if nix::sys::signal::killpg(Pid::from_raw(*pgid), Signal::SIGKILL).is_ok() {
            stopped += 1;
        }
    }
    // Give the kernel a moment to take them down, so none writes into a worktree being removed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline && groups.iter().any(|g| group_running(*g)) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stopped
}

/// Whether a process group still has a member that is not a zombie. Killed agents whose parent
/// (the crashed `teams`) is gone stay zombies until init reaps them, which some containers' init
/// never does; a zombie runs nothing, so it does not count.
fn group_running(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return nix::sys::signal::killpg(Pid::from_raw(pgid), None).is_ok();
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // Fields after the command name: state, ppid, pgrp, …
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let group = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
        group == Some(pgid) && state != Some("Z")
    })
}
