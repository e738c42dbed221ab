//! The next unit's branch and worktree, made while the running unit builds its last story.
//!
//! Creating a unit's worktree (`git worktree add -b`, which runs `git branch` and `git reset
//! --hard` inside it) is the largest cost between one unit's last validator and the next unit's
//! first builder (issue 4's overhead). When every slot of `--parallel` is taken and a unit's last
//! story starts building, the unit that will take the slot it frees is already known (the same
//! policy that will start it, `plan::ready`), so its branch and worktree are made then, on a
//! thread of their own.
//!
//! The unit's branch starts from the integration tip when it is made; if the tip moves before the
//! unit starts (another unit merged meanwhile), the branch, which holds nothing yet, is
//! fast-forwarded in its worktree when the unit starts, so the unit begins from the integration
//! tip of its start as always. Only a new branch is made ahead (never one an earlier run left,
//! never a unit `teams resume` continues). If the guess is wrong the worktree waits for its unit;
//! if the run ends first, the worktree is removed and the empty branch deleted (only while it is
//! still where it was made). After a crash, `teams run` and `teams resume` handle what is left like
//! any leftover of an earlier run: our own clean worktree is removed and the branch, an ancestor
//! of the integration branch, is fast-forwarded.

use std::thread::JoinHandle;

use crate::error::{Result, TeamsError};
use crate::git::{Checkout, Sha};
use crate::plan::ready::{self, Action};

use super::dispatcher::Dispatcher;
use super::setup::git_error;
use super::unit::UnitId;
use super::unit_branch::prepare_unit_worktree;

/// A unit's branch and worktree being made, or made, ahead of its start.
pub(super) struct Ahead {
    unit: UnitId,
    /// The integration tip the branch starts from.
    base: Sha,
    making: JoinHandle<Result<()>>,
}

impl Dispatcher<'_> {
    /// A unit's story started building: when it is the unit's last story and no slot is free,
    /// makes the branch and worktree of the unit that will start in its place.
    pub(super) fn build_started(&mut self, unit: &UnitId, story: Option<&str>) {
        let last = self
            .units
            .iter()
            .find(|u| &u.id == unit)
            .and_then(|u| u.pending_stories().last())
            .map(|s| s.id.as_str());
        if self.ahead.is_some() || story.is_none() || story != last || self.may_start() {
            return;
        }
        let progress = self.progress();
        let next = ready::next_actions(&self.deps, &progress, 1)
            .into_iter()
            .find_map(|action| match action {
                Action::Start(index) => Some(index),
                Action::Block { .. } => None,
            });
        let Some(index) = next else {
            return;
        };
        let id = self.units[index].id.clone();
        if self.continuing.contains(&id) {
            return;
        }
        let git = &self.shared.git;
        let branch = git.unit_branch(&id);
        let base = match (
            git.repo.branch_exists(&branch),
            git.repo
                .resolve(&format!("refs/heads/{}", git.integration_branch)),
        ) {
            (Ok(false), Ok(Some(base))) => base,
            _ => return,
        };
        let shared = self.shared.clone();
        let worktree = git.layout.unit_worktree(&git.run_id, &id);
        let making = std::thread::spawn(move || {
            let _lock = shared.worktree_lock.lock();
            prepare_unit_worktree(&shared.git, &branch, &worktree, false)
        });
        self.ahead = Some(Ahead {
            unit: id,
            base,
            making,
        });
    }

    /// When `unit` starts: whether its branch and worktree were made ahead (and are ready now,
    /// on the integration tip). `false` means the caller makes them as usual.
    pub(super) fn take_ahead(&mut self, unit: &UnitId) -> Result<bool> {
        let Some(ahead) = self.ahead.take_if(|a| &a.unit == unit) else {
            return Ok(false);
        };
        let made = ahead
            .making
            .join()
            .map_err(|_| TeamsError::internal("making a unit's worktree panicked"))?;
        if made.is_err() {
            // Made the usual way, which also says what is wrong.
            return Ok(false);
        }
        let git = &self.shared.git;
        let tip = git
            .repo
            .resolve(&format!("refs/heads/{}", git.integration_branch))
            .map_err(git_error)?;
        if let Some(tip) = tip
            && tip != ahead.base
        {
            let worktree = git.layout.unit_worktree(&git.run_id, unit);
            Checkout::new(git.repo.git(), worktree)
                .git()
                .run(["merge", "--ff-only", "--quiet", tip.as_str()])
                .map_err(git_error)?;
        }
        Ok(true)
    }

    /// At the end of the run: a worktree made for a unit that never started is removed, and its
    /// branch deleted while it is still where it was made.
    pub(super) fn discard_ahead(&mut self) {
        let Some(ahead) = self.ahead.take() else {
            return;
        };
        if !matches!(ahead.making.join(), Ok(Ok(()))) {
            return;
        }
        let git = &self.shared.git;
        let worktree = git.layout.unit_worktree(&git.run_id, &ahead.unit);
        let removed = {
            let _lock = self.shared.worktree_lock.lock();
            git.worktrees().remove(&worktree, false)
        };
        if removed.is_ok() {
            let name = format!("refs/heads/{}", git.unit_branch(&ahead.unit));
            let _ = git
                .repo
                .git()
                .run(["update-ref", "-d", name.as_str(), ahead.base.as_str()]);
        }
    }
}
