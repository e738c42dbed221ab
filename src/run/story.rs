//! One story through the pushback rule (spec §4.3): build, verify against git, validate in a
//! separate read-only checkout, decide; at most `max_attempts` counted attempts.
//!
//! A fresh builder of attempt N+1 works on top of attempt N's commits when the validator or a
//! check rejected them (it gets the feedback and fixes what is missing), but starts again from
//! attempt N's start when the commits broke a rule (protected files, rewritten history, another
//! branch) or the builder crashed. The validator therefore always gets the story's whole change,
//! `git diff <story start>..<commit>`, which for a first attempt is exactly the attempt's diff.
//! Every failed attempt's commits stay reachable under `refs/teams/failed/<story>/<attempt>`.

use crate::agent::Role;
use crate::git::{Review, Sha};
use crate::prd::{Story, StoryResult};
use crate::roles::{BuilderContext, ValidatorContext, parse_handoff, parse_verdict, plan_section};

use super::driver::SimWork;
use super::events::EventKind;
use super::messages::ProgressEntry;
use super::verify::{BuildCheck, Rejection, Verified, run_checks, verify_build};
use super::worker::{CallInfo, Stop, UnitWorker, brief, git_stop};

/// The most of a diff put into a validator's prompt; beyond it the validator is told to read the
/// rest from git in its checkout.
const MAX_DIFF_BYTES: usize = 200_000;
/// The most of a failure reason written to `prd.json`.
const MAX_REASON_CHARS: usize = 1500;

/// How one attempt ended.
enum AttemptEnd {
    Passed {
        commit: Sha,
        verdict: String,
        files: Vec<String>,
    },
    Failed {
        reason: String,
        keep_commits: bool,
    },
}

impl UnitWorker {
    /// Runs `story` to a result and records it. Returns the builder's handoff line on a pass,
    /// for the stories after it.
    pub(super) fn run_story(
        &mut self,
        story: &Story,
        plan: Option<&str>,
        handoffs: &[(String, String)],
    ) -> Result<Option<String>, Stop> {
        let resume = self.resume.remove(&story.id);
        let story_start = match &resume {
            Some(r) => r.story_start.clone(),
            None => self.head()?,
        };
        self.ask(|ack| super::messages::WorkerMsg::StoryStarted {
            story: story.id.clone(),
            start_sha: story_start.to_string(),
            ack,
        })?;
        let max = self.shared.settings.max_attempts;
        let guidance = std::fs::read_to_string(self.shared.git.layout.guidance(story.id.as_str()))
            .ok()
            .filter(|g| !g.trim().is_empty());
        let section = plan.and_then(|p| plan_section(p, story.id.as_str()));
        let recorded = resume.as_ref().map_or(story.attempts, |r| r.attempts);
        let mut attempts = recorded.min(max.saturating_sub(1));
        let mut feedback: Option<String> = resume.as_ref().and_then(|r| r.feedback.clone());
        let mut adopt = resume.and_then(|r| r.adopt);
        // The first attempt starts where the story does (nothing has run since `story_start` was
        // read) unless a resumed story continues; a later one starts wherever the failed attempt
        // left the worktree.
        let mut known_start = (attempts == 0 && adopt.is_none()).then(|| story_start.clone());
        while attempts < max {
            let n = attempts + 1;
            let attempt_start = match (adopt.as_ref(), known_start.take()) {
                (Some(adopted), _) => adopted.attempt_start.clone(),
                (None, Some(start)) => start,
                (None, None) => self.head()?,
            };
            let built = match adopt.take() {
                // A build whose commit survived a crash is validated, not rebuilt (spec §6).
                Some(adopted) => {
                    self.last_build_attempt = Some(adopted.attempt_id);
                    Ok(None)
                }
                None => self.build(
                    story,
                    n,
                    &attempt_start,
                    section.as_deref(),
                    guidance.as_deref(),
                    handoffs,
                    feedback.as_deref(),
                ),
            };
            let (end, handoff) = match built {
                Ok(handoff) => (
                    self.check_and_validate(story, n, &story_start, &attempt_start),
                    handoff,
                ),
                Err(BuildError::Stop(stop)) => return Err(self.discard(stop, &attempt_start)),
                Err(BuildError::Failed(reason)) => (
                    Ok(AttemptEnd::Failed {
                        reason,
                        keep_commits: false,
                    }),
                    None,
                ),
            };
            let end = match end {
                Ok(end) => end,
                Err(stop) => return Err(self.discard(stop, &attempt_start)),
            };
            match end {
                AttemptEnd::Passed {
                    commit,
                    verdict,
                    files,
                } => {
                    self.record(
                        &story.id,
                        StoryResult {
                            passes: true,
                            commit_sha: Some(commit.to_string()),
                            attempts: n,
                            failure_reason: None,
                        },
                        self.last_build_attempt.map(|id| (id, None)),
                        &commit,
                        Some(ProgressEntry {
                            story: story.id.clone(),
                            title: story.title.clone(),
                            passed: true,
                            attempts: n,
                            commit: Some(commit.to_string()),
                            files,
                            verdict,
                            handoff: handoff.clone(),
                        }),
                    )?;
                    self.event(EventKind::StoryFinished {
                        unit: self.unit.id.clone(),
                        story: story.id.clone(),
                        title: story.title.clone(),
                        passed: true,
                        attempts: n,
                        commit: Some(commit.to_string()),
                        reason: None,
                    });
                    return Ok(handoff);
                }
                AttemptEnd::Failed {
                    reason,
                    keep_commits,
                } => {
                    attempts = n;
                    self.event(EventKind::AttemptFailed {
                        unit: self.unit.id.clone(),
                        story: story.id.clone(),
                        attempt: n,
                        counted: true,
                        reason: reason.clone(),
                    });
                    let next_start = self.keep_failed(story, n, &attempt_start, keep_commits)?;
                    if attempts < max {
                        self.record(
                            &story.id,
                            StoryResult {
                                passes: false,
                                commit_sha: None,
                                attempts,
                                failure_reason: None,
                            },
                            self.last_build_attempt.map(|id| (id, Some(reason.clone()))),
                            &next_start,
                            None,
                        )?;
                    }
                    feedback = Some(reason);
                }
            }
        }
        // Out of attempts: the branch goes back to where the story started (spec §4.3).
        self.checkout
            .force_branch_to(&self.branch, &story_start)
            .map_err(git_stop)?;
        let reason = shorten(feedback.as_deref().unwrap_or("no attempt was made"));
        self.record(
            &story.id,
            StoryResult {
                passes: false,
                commit_sha: None,
                attempts,
                failure_reason: Some(reason.clone()),
            },
            self.last_build_attempt.map(|id| (id, feedback.clone())),
            &story_start,
            Some(ProgressEntry {
                story: story.id.clone(),
                title: story.title.clone(),
                passed: false,
                attempts,
                commit: None,
                files: Vec::new(),
                verdict: reason.clone(),
                handoff: None,
            }),
        )?;
        self.event(EventKind::StoryFinished {
            unit: self.unit.id.clone(),
            story: story.id.clone(),
            title: story.title.clone(),
            passed: false,
            attempts,
            commit: None,
            reason: Some(reason),
        });
        Ok(None)
    }

    /// Step 1: a fresh builder. When it finished normally, returns its handoff line (if it gave
    /// one).
    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        story: &Story,
        n: u32,
        attempt_start: &Sha,
        plan_section: Option<&str>,
        guidance: Option<&str>,
        handoffs: &[(String, String)],
        feedback: Option<&str>,
    ) -> Result<Option<String>, BuildError> {
        let checks = self.all_checks(story);
        let prompt = self.shared.templates.builder(&BuilderContext {
            project: &self.shared.project,
            unit_id: self.unit.id.as_str(),
            unit_title: &self.unit.title,
            unit_description: &self.unit.description,
            story: brief(story),
            attempt: n,
            max_attempts: self.shared.settings.max_attempts,
            branch: &self.branch,
            plan_section,
            guidance,
            earlier_handoffs: handoffs,
            feedback,
            checks: &checks,
        });
        let checkout = self.checkout.clone();
        // While the builder works, the last validation's checkout is restored for the next one,
        // from the moment the builder is under way (so it does not slow the builder's start).
        let (under_way, builder_under_way) = std::sync::mpsc::channel();
        self.validator
            .restore_in_background(&self.shared, builder_under_way, attempt_start);
        let info = CallInfo {
            role: Role::Builder,
            story: Some(story),
            attempt: n,
            reask: false,
            start: Some(attempt_start),
            under_way: Some(under_way),
        };
        let sim = SimWork::Build {
            story,
            attempt: n,
            checkout: &checkout,
        };
        let reply = self
            .call_agent(&info, prompt, checkout.path().to_path_buf(), sim)
            .map_err(BuildError::Stop)?;
        if let Some(failure) = &reply.failure {
            return Err(BuildError::Failed(failure.describe("builder")));
        }
        let handoff = reply
            .final_text
            .as_deref()
            .and_then(parse_handoff)
            .map(|h| h.to_line());
        Ok(handoff)
    }

    /// Steps 2 and 3: verify against git and run the checks, then validate.
    fn check_and_validate(
        &mut self,
        story: &Story,
        n: u32,
        story_start: &Sha,
        attempt_start: &Sha,
    ) -> Result<AttemptEnd, Stop> {
        // The validator's checkout moves to the builder's tip while the build is verified.
        let tip = self.checkout.head().ok().flatten();
        let preparing = self.validator.prepare(&self.shared, tip);
        let checked = self.verify_and_check(story, n, story_start, attempt_start);
        self.validator.prepared(preparing.wait());
        match checked? {
            Ok((commit, review)) => self.validate(story, n, story_start, &commit, review),
            Err(end) => Ok(end),
        }
    }

    /// Step 2: verification against git and the checks. Gives the commit to validate and the
    /// story's change, or how the attempt ended.
    fn verify_and_check(
        &mut self,
        story: &Story,
        n: u32,
        story_start: &Sha,
        attempt_start: &Sha,
    ) -> Result<Result<(Sha, Review), AttemptEnd>, Stop> {
        let auto_commit = format!(
            "{}: commit the builder's leftovers (teams auto_commit, attempt {n})",
            story.id
        );
        let git = &self.shared.git;
        let verified = verify_build(&BuildCheck {
            repo: &git.repo,
            checkout: &self.checkout,
            branch: &self.branch,
            story_start,
            attempt_start,
            protected: &git.protected,
            auto_commit: self
                .shared
                .settings
                .auto_commit
                .then_some(auto_commit.as_str()),
        })
        .map_err(git_stop)?;
        let Verified { commit, review } = match verified {
            Ok(verified) => {
                if let Some(attempt_id) = self.last_build_attempt {
                    self.ask(|ack| super::messages::WorkerMsg::CommitSeen {
                        attempt_id,
                        commit: verified.commit.to_string(),
                        ack,
                    })?;
                }
                verified
            }
            Err(rejection) => {
                // Rule-breaking commits are not built upon; a dirty tree only loses its leftovers.
                let keep_commits = matches!(rejection, Rejection::Dirty { .. });
                return Ok(Err(AttemptEnd::Failed {
                    reason: rejection.reason(),
                    keep_commits,
                }));
            }
        };
        let checks = self.all_checks(story);
        if !checks.is_empty() {
            let dir = self.checkout.path().to_path_buf();
            let timeout = self.shared.settings.check_timeout;
            let result = self.rt.block_on(run_checks(&dir, &checks, timeout));
            // Whatever the checks left behind (build output that is not ignored) goes, so the next
            // builder starts from the commit.
            self.checkout.reset_hard(&commit).map_err(git_stop)?;
            if let Err(rejection) = result {
                return Ok(Err(AttemptEnd::Failed {
                    reason: rejection.reason(),
                    keep_commits: true,
                }));
            }
        }
        Ok(Ok((commit, review)))
    }

    /// Step 3: the validator in its own read-only checkout of `commit`, with one re-ask when it
    /// gives no usable verdict (spec §5.2). `review` is the story's change up to `commit`, as
    /// verification read it.
    fn validate(
        &mut self,
        story: &Story,
        n: u32,
        story_start: &Sha,
        commit: &Sha,
        review: Review,
    ) -> Result<AttemptEnd, Stop> {
        let Review {
            files,
            text: mut diff,
        } = review;
        if diff.len() > MAX_DIFF_BYTES {
            let mut cut = MAX_DIFF_BYTES;
            while !diff.is_char_boundary(cut) {
                cut -= 1;
            }
            diff.truncate(cut);
            diff.push_str(&format!(
                "\n\n[diff truncated at {MAX_DIFF_BYTES} bytes; see the rest with `git diff {story_start} {commit}` in your checkout]\n"
            ));
        }
        // The unit's validator checkout, exactly on `commit` with nothing of the previous
        // validation left in it (`validator_checkout.rs`); it goes when the unit ends.
        self.validator
            .ready_for(&self.shared, commit)
            .map_err(|err| Stop::Fatal(worktree_error(err)))?;
        let path = self.validator.path().to_path_buf();
        let ctx = ValidatorContext {
            story: brief(story),
            commit: commit.as_str(),
            diff: &diff,
        };
        let mut prompt = self.shared.templates.validator(&ctx);
        let mut result = Err("validator gave no verdict".to_owned());
        for reask in [false, true] {
            let info = CallInfo {
                role: Role::Validator,
                story: Some(story),
                attempt: n,
                reask,
                start: Some(commit),
                under_way: None,
            };
            let reply = self.call_agent(
                &info,
                prompt.clone(),
                path.clone(),
                SimWork::Validate { story },
            )?;
            if let Some(failure) = &reply.failure {
                result = Err(failure.describe("validator"));
                break;
            }
            match parse_verdict(reply.final_text.as_deref().unwrap_or("")) {
                Ok(verdict) => {
                    result = Ok(verdict);
                    break;
                }
                Err(problem) if !reask => {
                    prompt = self
                        .shared
                        .templates
                        .validator_reask(&ctx, &problem.to_string());
                }
                Err(_) => result = Err("validator gave no verdict".to_owned()),
            }
        }
        self.ensure_branch_at(commit)?;
        Ok(match result {
            Ok(verdict) if verdict.pass => AttemptEnd::Passed {
                commit: commit.clone(),
                files,
                verdict: format!(
                    "pass ({} of {} criteria met)",
                    verdict.criteria.iter().filter(|c| c.met).count(),
                    verdict.criteria.len()
                ),
            },
            Ok(verdict) => AttemptEnd::Failed {
                reason: verdict.failure_reason(),
                keep_commits: true,
            },
            Err(reason) => AttemptEnd::Failed {
                reason,
                keep_commits: true,
            },
        })
    }

    /// A validator works in its own checkout, but git lets it move the unit branch from there;
    /// if it did, the branch is put back on the validated commit.
    fn ensure_branch_at(&self, commit: &Sha) -> Result<(), Stop> {
        let (head, tip) = self
            .checkout
            .head_and_branch_tip(&self.branch)
            .map_err(git_stop)?;
        if tip.as_ref() != Some(commit) || head.as_ref() != Some(commit) {
            self.warn(format!(
                "{} moved during validation; putting it back on {}",
                self.branch,
                commit.short()
            ));
            self.checkout
                .force_branch_to(&self.branch, commit)
                .map_err(git_stop)?;
        }
        Ok(())
    }

    /// After a failed attempt: its commits are kept under `refs/teams/failed/<story>/<n>`; the
    /// worktree keeps them for the next builder only when they broke no rule. Returns where the
    /// next attempt starts.
    fn keep_failed(
        &self,
        story: &Story,
        n: u32,
        attempt_start: &Sha,
        keep_commits: bool,
    ) -> Result<Sha, Stop> {
        let repo = &self.shared.git.repo;
        let (head, tip) = self
            .checkout
            .head_and_branch_tip(&self.branch)
            .map_err(git_stop)?;
        // The builder's work is wherever the worktree's HEAD is (it may have left the branch).
        let work = head.or(tip.clone());
        if let Some(work) = work.as_ref().filter(|w| *w != attempt_start) {
            repo.set_ref(&format!("refs/teams/failed/{}/{n}", story.id), work)
                .map_err(git_stop)?;
        }
        let on_branch = self.checkout.branch().map_err(git_stop)?.as_deref() == Some(&*self.branch);
        let descends = match &tip {
            Some(tip) => repo.is_ancestor(attempt_start, tip).map_err(git_stop)?,
            None => false,
        };
        match tip {
            Some(tip) if keep_commits && on_branch && descends => {
                self.checkout.reset_hard(&tip).map_err(git_stop)?;
                Ok(tip)
            }
            _ => {
                self.checkout
                    .force_branch_to(&self.branch, attempt_start)
                    .map_err(git_stop)?;
                Ok(attempt_start.clone())
            }
        }
    }

    /// An attempt cut short by `teams` stopping is not counted: its work is set aside and the
    /// worktree goes back to where it started.
    fn discard(&self, stop: Stop, attempt_start: &Sha) -> Stop {
        if let Err(err) = self.checkout.force_branch_to(&self.branch, attempt_start) {
            return git_stop(err);
        }
        stop
    }

    /// The run's, the unit's and the story's checks, in that order.
    fn all_checks(&self, story: &Story) -> Vec<String> {
        self.shared
            .settings
            .checks
            .iter()
            .chain(&self.unit.checks)
            .chain(&story.checks)
            .cloned()
            .collect()
    }
}

/// Why a build did not get to verification.
enum BuildError {
    Stop(Stop),
    /// The builder crashed, timed out or gave no final message: a counted failure.
    Failed(String),
}

fn worktree_error(err: crate::git::WorktreeError) -> crate::error::TeamsError {
    crate::error::TeamsError::environment("failed to create a validator checkout")
        .with_source(err)
        .with_hint("`git worktree prune` clears stale worktree records; `teams clean` removes old run worktrees")
}

/// A failure reason bounded for `prd.json`, cut on a character boundary.
fn shorten(reason: &str) -> String {
    if reason.chars().count() <= MAX_REASON_CHARS {
        return reason.to_owned();
    }
    let cut: String = reason.chars().take(MAX_REASON_CHARS).collect();
    format!("{cut}…")
}
