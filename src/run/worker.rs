//! One unit's worker: plans the unit if it needs a plan, then runs its pending stories one after
//! another through the pushback rule (`story.rs`), on its own thread, in its own worktree.
//!
//! Workers own nothing shared. They read the run's settings, work in their worktree, and report
//! everything through [`WorkerMsg`]s; the dispatcher owns `prd.json`, the progress file and the
//! reporters. A worker runs blocking git commands, so it lives on a blocking thread and drives
//! its agents (which are async) through the runtime handle.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::agent::{AgentEvent, FailureClass, Invocation, Role};
use crate::config::PlannerMode;
use crate::error::TeamsError;
use crate::git::{Checkout, GitError};
use crate::prd::{Story, StoryId, StoryResult};
use crate::roles::{PromptTemplates, StoryBrief};
use crate::supervisor::{CancelHandle, StopRequest};

use super::driver::{AgentCall, AgentReply, AgentSet, SimWork};
use super::events::EventKind;
use super::layout::AgentFileName;
use super::messages::{AttemptInfo, ProgressEntry, WorkerEnd, WorkerMsg};
use super::resume::StoryResume;
use super::settings::RunSettings;
use super::setup::RunGit;
use super::unit::Unit;
use super::validator_checkout::ValidatorCheckout;

/// What every worker of a run shares, read-only (plus the run-wide cancel handle and the lock
/// that serialises worktree creation and removal).
pub struct RunShared {
    pub git: RunGit,
    pub settings: RunSettings,
    pub templates: PromptTemplates,
    pub agents: AgentSet,
    pub project: String,
    pub project_description: String,
    pub cancel: CancelHandle,
    /// Set when the budget is reached: no new attempt starts, running agents finish.
    pub budget_stop: AtomicBool,
    pub worktree_lock: Mutex<()>,
    /// Backends paused by a usage limit, shared by every unit (`backend_pause.rs`).
    pub pauses: super::backend_pause::BackendPauses,
}

/// Why a worker stopped before finishing its unit.
pub(super) enum Stop {
    Interrupted,
    Fatal(TeamsError),
}

/// One unit's worker.
pub struct UnitWorker {
    pub(super) shared: Arc<RunShared>,
    pub(super) unit: Unit,
    pub(super) branch: String,
    pub(super) checkout: Checkout,
    pub(super) tx: mpsc::UnboundedSender<WorkerMsg>,
    pub(super) rt: tokio::runtime::Handle,
    /// Where `teams resume` found this unit's stories (empty on a fresh start).
    pub(super) resume: std::collections::BTreeMap<StoryId, StoryResume>,
    /// The store id of the latest builder call, which the story's decision is recorded on.
    pub(super) last_build_attempt: Option<i64>,
    /// The unit's validator checkout, restored and prepared off the critical path.
    pub(super) validator: ValidatorCheckout,
    /// Another story of the unit comes after the one being worked on.
    pub(super) more_stories: bool,
}

/// What an agent call is for, to name its files and events.
pub(super) struct CallInfo<'a> {
    pub role: Role,
    pub story: Option<&'a Story>,
    pub attempt: u32,
    pub reask: bool,
    /// The commit the agent starts from (recorded in the store).
    pub start: Option<&'a crate::git::Sha>,
    /// Told once the agent is under way (its first event after the spawn), so background work
    /// that would compete with its start-up can begin then.
    pub under_way: Option<std::sync::mpsc::Sender<()>>,
}

impl UnitWorker {
    pub fn new(
        shared: Arc<RunShared>,
        unit: Unit,
        branch: String,
        worktree: &Path,
        tx: mpsc::UnboundedSender<WorkerMsg>,
        rt: tokio::runtime::Handle,
        resume: std::collections::BTreeMap<StoryId, StoryResume>,
    ) -> UnitWorker {
        let checkout = Checkout::new(shared.git.repo.git(), worktree);
        let validator = ValidatorCheckout::new(
            shared
                .git
                .layout
                .validator_checkout(&shared.git.run_id, &unit.id),
        );
        UnitWorker {
            validator,
            shared,
            unit,
            branch,
            checkout,
            tx,
            rt,
            resume,
            last_build_attempt: None,
            more_stories: false,
        }
    }

    /// Works on the unit to the end and reports how it ended. Runs on a blocking thread.
    pub fn run(mut self) {
        // A panic ends the run with an internal error (the dispatcher waits for this report,
        // so it must come whatever happens); the unit can be resumed.
        let worked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.work()));
        let end = match worked {
            Ok(Ok(())) => WorkerEnd::Done,
            Ok(Err(Stop::Interrupted)) => WorkerEnd::Interrupted,
            Ok(Err(Stop::Fatal(err))) => WorkerEnd::Fatal(err),
            Err(panic) => WorkerEnd::Fatal(TeamsError::internal(format!(
                "the worker of {} panicked: {}",
                self.unit.id,
                super::failpoint::panic_message(panic.as_ref())
            ))),
        };
        // The dispatcher removes the validator checkout once the next unit has started (so
        // its git processes do not hold the worktree lock the next unit needs).
        let validator_checkout = self.validator.hand_over();
        let _ = self.tx.send(WorkerMsg::Finished {
            unit: self.unit.id.clone(),
            end,
            validator_checkout,
        });
    }

    fn work(&mut self) -> Result<(), Stop> {
        super::failpoint::panic_point("worker-started");
        let plan = self.plan()?;
        let mut handoffs: Vec<(String, String)> = Vec::new();
        let stories: Vec<Story> = self.unit.pending_stories().cloned().collect();
        for (i, story) in stories.iter().enumerate() {
            self.more_stories = i + 1 < stories.len();
            self.check_cancel()?;
            if let Some(handoff) = self.run_story(story, plan.as_deref(), &handoffs)? {
                handoffs.push((story.id.to_string(), handoff));
            }
        }
        Ok(())
    }

    /// The unit's plan: the plan file of a planned unit, or a new one from the planner when the
    /// unit needs one (spec §4.4). A planner that fails only costs the plan: building goes on.
    fn plan(&mut self) -> Result<Option<String>, Stop> {
        let path = self.shared.git.layout.plan(&self.unit.id);
        if self.unit.planned {
            match std::fs::read_to_string(&path) {
                Ok(plan) => return Ok(Some(plan)),
                Err(_) => self.warn(format!(
                    "{} is marked planned but {} is missing; planning it again",
                    self.unit.id,
                    path.display()
                )),
            }
        }
        let pending: Vec<Story> = self.unit.pending_stories().cloned().collect();
        let mode = self.shared.settings.planner;
        let wanted = self.unit.planned || crate::roles::needs_planner(mode, &self.unit.stories);
        if pending.is_empty() || mode == PlannerMode::Never || !wanted {
            return Ok(None);
        }
        let prompt = super::planning::planner_prompt(
            &self.shared.templates,
            &self.shared.project,
            &self.shared.project_description,
            &self.unit,
        );
        let start = self.head()?;
        let stories = self.unit.stories.clone();
        let title = self.unit.title.clone();
        let info = CallInfo {
            role: Role::Planner,
            story: None,
            attempt: 1,
            reask: false,
            start: Some(&start),
            under_way: None,
        };
        let sim = SimWork::Plan {
            title: &title,
            stories: &stories,
        };
        let reply = self.call_agent(&info, prompt, self.checkout.path().to_path_buf(), sim)?;
        // A planner only writes its plan; anything it changed in the worktree is discarded.
        self.checkout
            .force_branch_to(&self.branch, &start)
            .map_err(git_stop)?;
        let plan = match super::planning::plan_from_answer(reply.failure.as_ref(), reply.final_text)
        {
            Ok(plan) => plan,
            Err(why) => {
                self.warn(format!(
                    "{}: planning failed ({why}); building without a plan",
                    self.unit.id
                ));
                return Ok(None);
            }
        };
        match super::planning::save_plan(&self.shared.git.layout, &self.unit.id, &plan) {
            Ok(_) => {
                let _ = self.tx.send(WorkerMsg::Planned {
                    unit: self.unit.id.clone(),
                });
            }
            Err(err) => self.warn(format!("failed to save {}: {err}", path.display())),
        }
        Ok(Some(plan))
    }

    /// Runs one agent call: resolves the role's agent, reports its start and end, waits out
    /// usage limits (not counted, spec §4.3), and turns setup failures into a fatal stop.
    pub(super) fn call_agent(
        &mut self,
        info: &CallInfo<'_>,
        prompt: String,
        dir: std::path::PathBuf,
        sim: SimWork<'_>,
    ) -> Result<AgentReply, Stop> {
        let agent = self
            .shared
            .agents
            .resolve(info.role, &self.unit)
            .map_err(|err| Stop::Fatal(TeamsError::usage(err.to_string())))?;
        let subject = info
            .story
            .map_or(self.unit.id.as_str(), |s| s.id.as_str())
            .to_owned();
        let files = self.shared.git.layout.agent_files(
            &self.shared.git.run_id,
            &self.unit.id,
            &AgentFileName {
                subject: &subject,
                role: info.role,
                attempt: info.attempt,
                reask: info.reask,
            },
        );
        let mut invocation = Invocation::new(
            info.role,
            prompt,
            files.prompt,
            &dir,
            self.shared.git.repo.root(),
        );
        invocation.run_id = Some(self.shared.git.run_id.clone());
        invocation.unit_id = Some(self.unit.id.to_string());
        invocation.story_id = info.story.map(|s| s.id.to_string());
        invocation.attempt = Some(info.attempt);
        invocation.model = agent.model.clone();
        invocation.reasoning = agent.reasoning.clone();
        let call = AgentCall {
            invocation,
            transcript: files.log,
            sim,
            sim_delay: self.shared.settings.sim_delay,
        };
        let story_id = info.story.map(|s| s.id.clone());
        loop {
            self.check_cancel()?;
            self.wait_for_backend(&agent.backend)?;
            let start_sha = info.start.map(|sha| sha.to_string());
            let attempt_id = self.ask(|ack| WorkerMsg::AttemptStarted {
                attempt: AttemptInfo {
                    unit: self.unit.id.clone(),
                    story: story_id.clone(),
                    role: info.role,
                    attempt: info.attempt,
                    reask: info.reask,
                    backend: agent.backend.clone(),
                    model: agent.model.clone(),
                    start_sha,
                },
                ack,
            })?;
            if info.role == Role::Builder {
                self.last_build_attempt = Some(attempt_id);
            }
            self.event(EventKind::AgentStarted {
                unit: self.unit.id.clone(),
                story: story_id.clone(),
                role: info.role,
                attempt: info.attempt,
                backend: agent.backend.clone(),
                model: agent.model.clone(),
            });
            let tx = self.tx.clone();
            let unit = self.unit.id.clone();
            let role = info.role;
            let activity_story = story_id.clone();
            let under_way = info.under_way.clone();
            let told = AtomicBool::new(false);
            let on_event = move |event: &AgentEvent| {
                if !matches!(event, AgentEvent::Spawned { .. })
                    && let Some(under_way) = &under_way
                    && !told.swap(true, Ordering::Relaxed)
                {
                    let _ = under_way.send(());
                }
                match event {
                    AgentEvent::ToolUse { name } => {
                        let _ = tx.send(WorkerMsg::Event(EventKind::AgentActivity {
                            unit: unit.clone(),
                            story: activity_story.clone(),
                            role,
                            activity: name.clone(),
                        }));
                    }
                    AgentEvent::Spawned { pid } => {
                        let _ = tx.send(WorkerMsg::AgentSpawned {
                            attempt_id,
                            pid: *pid,
                        });
                    }
                    _ => {}
                }
            };
            let cancel = self.shared.cancel.clone();
            let reply = self.rt.block_on(agent.run(&call, cancel, on_event));
            self.event(EventKind::AgentFinished {
                unit: self.unit.id.clone(),
                story: story_id.clone(),
                role: info.role,
                attempt: info.attempt,
                duration: reply.duration,
                cost_usd: reply.cost_usd,
                failure: reply
                    .failure
                    .as_ref()
                    .map(|f| f.describe(info.role.as_str())),
            });
            self.record_agent_end(attempt_id, info.role, &reply)?;
            match &reply.failure {
                Some(FailureClass::Cancelled) => return Err(Stop::Interrupted),
                Some(
                    failure
                    @ (FailureClass::NotLoggedIn { .. } | FailureClass::NotInstalled { .. }),
                ) => {
                    let mut error = TeamsError::environment(format!(
                        "{} ({} backend)",
                        failure.describe(info.role.as_str()),
                        agent.backend
                    ));
                    if let Some(hint) = agent.setup_hint(failure) {
                        error = error.with_hint(hint);
                    }
                    return Err(Stop::Fatal(
                        error.with_hint("`teams doctor` checks every backend the roles use"),
                    ));
                }
                Some(FailureClass::UsageLimit { resets_at, .. }) => {
                    // The whole backend pauses, for every unit; this call starts again after it.
                    let wait = self.shared.pauses.pause(&agent.backend, *resets_at);
                    self.warn(format!(
                        "{} hit a usage or rate limit; it is paused for {} s, for every unit (the attempt is not counted)",
                        agent.backend,
                        wait.as_secs()
                    ));
                }
                _ => {
                    self.shared.pauses.succeeded(&agent.backend);
                    return Ok(reply);
                }
            }
        }
    }

    /// Sends a story's result and waits until the dispatcher has written it.
    pub(super) fn record(
        &self,
        story: &StoryId,
        result: StoryResult,
        decided: Option<(i64, Option<String>)>,
        tip: &crate::git::Sha,
        entry: Option<ProgressEntry>,
    ) -> Result<(), Stop> {
        // A passed story with another one after it needs no fsync of its own: the next story's
        // attempt start is synced before anything depends on it (docs/design/durable.md).
        let synced = !(result.passes && self.more_stories);
        self.ask(|ack| WorkerMsg::StoryRecord {
            unit: self.unit.id.clone(),
            story: story.clone(),
            result,
            decided,
            tip: tip.to_string(),
            entry,
            synced,
            ack,
        })
    }

    /// Sends a message that must be durable before the worker goes on, and waits for the
    /// dispatcher's answer.
    pub(super) fn ask<T>(
        &self,
        msg: impl FnOnce(oneshot::Sender<T>) -> WorkerMsg,
    ) -> Result<T, Stop> {
        let (ack, done) = oneshot::channel();
        if self.tx.send(msg(ack)).is_err() {
            return Err(Stop::Interrupted);
        }
        // No answer: the dispatcher is gone and the run is ending.
        done.blocking_recv().map_err(|_| Stop::Interrupted)
    }

    /// Records how an agent ended; a call cut short by a stop or a usage limit is discarded
    /// (it does not count, spec §4.3).
    fn record_agent_end(
        &self,
        attempt_id: i64,
        role: Role,
        reply: &super::driver::AgentReply,
    ) -> Result<(), Stop> {
        let discard = matches!(
            reply.failure,
            Some(FailureClass::Cancelled | FailureClass::UsageLimit { .. })
        );
        let (verdict, feedback) = if role == Role::Validator && reply.failure.is_none() {
            match crate::roles::parse_verdict(reply.final_text.as_deref().unwrap_or("")) {
                Ok(v) if v.pass => (Some("pass".to_owned()), None),
                Ok(v) => (Some("fail".to_owned()), Some(v.failure_reason())),
                Err(_) => (None, None),
            }
        } else {
            (None, None)
        };
        let end = crate::store::AgentEnd {
            exit_code: reply.exit_code,
            failure: reply.failure.as_ref().map(|f| f.describe(role.as_str())),
            cost_usd: reply.cost_usd,
            input_tokens: reply.usage.as_ref().map(|u| u.input_tokens),
            output_tokens: reply.usage.as_ref().map(|u| u.output_tokens),
            session_id: reply.session_id.clone(),
            verdict,
            feedback,
        };
        self.ask(|ack| WorkerMsg::AgentEnded {
            attempt_id,
            role,
            end,
            discard,
            ack,
        })
    }

    pub(super) fn event(&self, kind: EventKind) {
        let _ = self.tx.send(WorkerMsg::Event(kind));
    }

    pub(super) fn warn(&self, message: String) {
        self.event(EventKind::Warning { message });
    }

    pub(super) fn check_cancel(&self) -> Result<(), Stop> {
        let budget = self.shared.budget_stop.load(Ordering::SeqCst);
        if self.shared.cancel.request() == StopRequest::None && !budget {
            Ok(())
        } else {
            Err(Stop::Interrupted)
        }
    }

    /// Waits while `backend` is paused by a usage limit (`backend_pause.rs`).
    fn wait_for_backend(&self, backend: &str) -> Result<(), Stop> {
        let mut said = false;
        while let Some(wait) = self.shared.pauses.remaining(backend) {
            if !said {
                self.warn(format!(
                    "{}: waiting {} s for the {backend} backend's usage limit to reset",
                    self.unit.id,
                    wait.as_secs().max(1)
                ));
                said = true;
            }
            self.sleep_unless_cancelled(wait)?;
        }
        Ok(())
    }

    fn sleep_unless_cancelled(&self, wait: Duration) -> Result<(), Stop> {
        let until = Instant::now() + wait;
        while Instant::now() < until {
            self.check_cancel()?;
            let step = (until - Instant::now()).min(Duration::from_millis(100));
            std::thread::sleep(step);
        }
        self.check_cancel()
    }

    pub(super) fn head(&self) -> Result<crate::git::Sha, Stop> {
        self.checkout
            .head()
            .map_err(git_stop)?
            .ok_or_else(|| Stop::Fatal(TeamsError::internal("the unit worktree has no commit")))
    }
}

/// A git failure inside a worker: the repository is in a state `teams` did not expect, which no
/// agent can fix, so the run stops and says which command failed.
pub(super) fn git_stop(err: GitError) -> Stop {
    Stop::Fatal(super::setup::git_error(err))
}

pub(super) fn brief(story: &Story) -> StoryBrief<'_> {
    StoryBrief {
        id: story.id.as_str(),
        title: &story.title,
        description: &story.description,
        acceptance_criteria: &story.acceptance_criteria,
    }
}
