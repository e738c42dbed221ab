//! A unit's validator checkout (`.teams/worktrees/<run>/<unit>@validator`) between validations,
//! kept off the critical path of an attempt.
//!
//! The checkout must show a validator exactly the commit it judges: the commit's tracked files,
//! nothing a previous validator changed, made or ignored. Restoring it takes two git processes (a
//! forced checkout and `clean -ffdx`), and between a builder's exit and its validator's start
//! every process counts (issue 4's overhead goal). So the work is moved to where nobody waits:
//!
//! - right after a validation the checkout is only marked used; when the unit's next builder
//!   starts, a thread puts the checkout back on the validated commit and cleans it, while the
//!   builder works (the last story of a unit never pays for it: the checkout is removed instead);
//!   a unit's first builder has the checkout created the same way, on the commit it starts from;
//! - when a builder exits, a thread moves the (by then pristine) checkout to the builder's tip
//!   with one `reset --hard` of its detached HEAD while the build is verified; if verification
//!   settles on another commit (`auto_commit`) or anything failed, the checkout is restored in
//!   full before the validator starts, exactly as without these shortcuts.
//!
//! Every thread is joined before the checkout is used or removed, so git never runs twice in it
//! at once; worktree creation and removal still take the run's worktree lock (the move in place
//! does not need it: it reads and writes only this checkout's files).

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::git::{Sha, WorktreeError};

use super::worker::RunShared;

/// What is known about the checkout.
enum State {
    /// Nothing certain (not created yet, or a restore failed): the next use restores it in full.
    Unknown,
    /// A validator worked in it on this commit.
    Used(Sha),
    /// Being put back on a commit, pristine, by a background thread (its result: the commit, if
    /// that worked).
    Restoring(JoinHandle<Option<Sha>>),
    /// Exactly this commit's files and nothing else.
    Pristine(Sha),
}

/// The validator checkout of one unit; owned by the unit's worker.
pub(super) struct ValidatorCheckout {
    path: PathBuf,
    state: State,
}

/// A checkout being moved to a builder's tip while the build is verified.
pub(super) struct Preparing(Option<JoinHandle<Option<Sha>>>);

impl Preparing {
    /// Waits for the thread: the commit the checkout is now pristine at, if it got there.
    pub(super) fn wait(mut self) -> Option<Sha> {
        self.0.take().and_then(|h| h.join().ok().flatten())
    }
}

impl Drop for Preparing {
    fn drop(&mut self) {
        // Never leave git running in the checkout behind the worker's back.
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

impl ValidatorCheckout {
    pub(super) fn new(path: PathBuf) -> ValidatorCheckout {
        ValidatorCheckout {
            path,
            state: State::Unknown,
        }
    }

    pub(super) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// When a builder starts: restores a used checkout in the background, on the commit its
    /// validator saw (a forced checkout and a clean; a broken checkout is made anew), or makes a
    /// checkout not made yet, on `start` (the commit the builder starts from). The work begins
    /// once `under_way` says the builder is under way, or its sender is gone (the call ended
    /// first), so its git processes do not compete with the builder's start-up.
    pub(super) fn restore_in_background(
        &mut self,
        shared: &Arc<RunShared>,
        under_way: std::sync::mpsc::Receiver<()>,
        start: &Sha,
    ) {
        let commit = match std::mem::replace(&mut self.state, State::Unknown) {
            State::Used(commit) => commit,
            State::Unknown if !self.path.exists() => start.clone(),
            _ => return,
        };
        let shared = Arc::clone(shared);
        let path = self.path.clone();
        self.state = State::Restoring(std::thread::spawn(move || {
            let _ = under_way.recv();
            let _lock = shared.worktree_lock.lock();
            shared
                .git
                .worktrees()
                .reuse_detached(&path, &commit)
                .ok()
                .map(|()| commit)
        }));
    }

    /// When a builder exits: moves the checkout to `tip` (the commit the validator will most
    /// likely see) in the background. [`Preparing::wait`] gives the result to
    /// [`ValidatorCheckout::prepared`].
    pub(super) fn prepare(&mut self, shared: &Arc<RunShared>, tip: Option<Sha>) -> Preparing {
        let Some(tip) = tip else {
            return Preparing(None);
        };
        let state = std::mem::replace(&mut self.state, State::Unknown);
        let shared = Arc::clone(shared);
        let path = self.path.clone();
        Preparing(Some(std::thread::spawn(move || {
            let pristine = match state {
                State::Restoring(handle) => handle.join().ok().flatten().is_some(),
                State::Pristine(_) => true,
                State::Unknown | State::Used(_) => false,
            };
            let worktrees = shared.git.worktrees();
            if pristine && worktrees.move_pristine(&path, &tip) {
                return Some(tip);
            }
            let _lock = shared.worktree_lock.lock();
            worktrees.reuse_detached(&path, &tip).ok().map(|()| tip)
        })))
    }

    /// Takes the result of [`ValidatorCheckout::prepare`].
    pub(super) fn prepared(&mut self, at: Option<Sha>) {
        self.state = at.map_or(State::Unknown, State::Pristine);
    }

    /// Puts the checkout exactly on `commit` for a validator (waiting for any background work
    /// first) and marks it used.
    pub(super) fn ready_for(
        &mut self,
        shared: &RunShared,
        commit: &Sha,
    ) -> Result<(), WorktreeError> {
        let state = self.settle();
        let worktrees = shared.git.worktrees();
        match state {
            State::Pristine(at) if at == *commit => {}
            State::Pristine(_) => {
                let _lock = shared.worktree_lock.lock();
                worktrees.reuse_pristine_detached(&self.path, commit)?;
            }
            _ => {
                let _lock = shared.worktree_lock.lock();
                worktrees.reuse_detached(&self.path, commit)?;
            }
        }
        self.state = State::Used(commit.clone());
        Ok(())
    }

    /// The unit is done: waits for any background work and gives the checkout's path (when it
    /// exists) for the dispatcher to remove with `--force` once the next unit has started.
    pub(super) fn hand_over(&mut self) -> Option<PathBuf> {
        self.settle();
        self.path.exists().then(|| self.path.clone())
    }

    /// Waits for a background restore and returns what is known now (the state is left
    /// `Unknown` for the caller to set).
    fn settle(&mut self) -> State {
        match std::mem::replace(&mut self.state, State::Unknown) {
            State::Restoring(handle) => handle
                .join()
                .ok()
                .flatten()
                .map_or(State::Unknown, State::Pristine),
            other => other,
        }
    }
}

impl Drop for ValidatorCheckout {
    fn drop(&mut self) {
        self.settle();
    }
}
