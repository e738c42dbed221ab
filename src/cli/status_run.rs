//! The run part of `teams status`: the last run from the store — running, interrupted or
//! finished, what its agents are doing now and for how long, the spend — and the next command to
//! type. Read-only: it never takes the lock and never blocks a run in progress (WAL readers).

use serde::Serialize;

use crate::error::Result;
use crate::prd::Prd;
use crate::run::Layout;
use crate::store::{RunOverview, Store, now_ms};

/// The last run as `teams status` reports it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub id: String,
    /// running | crashed | interrupted | finished | abandoned
    pub state: String,
    pub outcome: Option<String>,
    pub pid: Option<u32>,
    pub elapsed_ms: i64,
    pub cost_usd: f64,
    pub attempts: i64,
    pub agents: Vec<AgentView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    pub unit: String,
    pub story: Option<String>,
    pub role: String,
    pub attempt: u32,
    pub backend: String,
    pub running_ms: i64,
}

/// The last run in the repository's store, if there is one.
pub fn load(layout: &Layout) -> Result<Option<RunView>> {
    let Some(store) = Store::open_read_only(&layout.state_db())? else {
        return Ok(None);
    };
    let Some(overview) = store.latest_overview()? else {
        return Ok(None);
    };
    let holder = crate::run::lock::live_holder(&layout.lock());
    Ok(Some(view(overview, holder)))
}

fn view(o: RunOverview, holder: Option<u32>) -> RunView {
    let now = now_ms();
    let state = match o.run.status.as_str() {
        // A run marked running whose teams is gone crashed (or was killed).
        "running" if holder.is_none() => "crashed",
        other => other,
    }
    .to_owned();
    let live = state == "running";
    let end = if live {
        now
    } else {
        o.run.finished_at.unwrap_or(o.run.updated_at)
    };
    RunView {
        id: o.run.id,
        pid: holder.filter(|_| live),
        outcome: o.run.outcome,
        elapsed_ms: end - o.run.started_at,
        cost_usd: o.cost_usd,
        attempts: o.attempts,
        agents: if live {
            o.running
                .into_iter()
                .map(|a| AgentView {
                    unit: a.unit_id,
                    story: a.story_id,
                    role: a.role,
                    attempt: a.attempt,
                    backend: a.backend,
                    running_ms: now - a.started_at,
                })
                .collect()
        } else {
            Vec::new()
        },
        state,
    }
}

/// The human lines: the run, its agents, and what to type next.
pub fn format(run: Option<&RunView>, prd: &Prd) -> String {
    let mut out = String::new();
    if let Some(run) = run {
        let mut line = format!("run {}: {}", run.id, run.state);
        if let Some(pid) = run.pid {
            line.push_str(&format!(" (PID {pid})"));
        }
        if let Some(outcome) = run.outcome.as_deref().filter(|_| run.state == "finished") {
            line.push_str(&format!(", {outcome}"));
        }
        line.push_str(&format!(
            " — {}, ${:.2} spent over {} agent {}\n",
            duration(run.elapsed_ms),
            run.cost_usd,
            run.attempts,
            if run.attempts == 1 { "call" } else { "calls" }
        ));
        out.push_str(&line);
        for agent in &run.agents {
            out.push_str(&format!(
                "  now: {} {} {} attempt {} ({}), for {}\n",
                agent.unit,
                agent.story.as_deref().unwrap_or("-"),
                agent.role,
                agent.attempt,
                agent.backend,
                duration(agent.running_ms)
            ));
        }
    }
    if let Some(next) = next_command(run, prd) {
        out.push_str(&format!("next: {next}\n"));
    }
    out
}

/// What to type next.
pub fn next_command(run: Option<&RunView>, prd: &Prd) -> Option<String> {
    match run.map(|r| r.state.as_str()) {
        Some("running") => return Some("teams logs --follow  (watch the run)".to_owned()),
        Some("crashed" | "interrupted") => return Some("teams resume".to_owned()),
        _ => {}
    }
    let stories = || prd.epics.iter().flat_map(|e| &e.stories);
    let failed: Vec<&str> = stories()
        .filter(|s| !s.passes && s.failure_reason.is_some())
        .map(|s| s.id.as_str())
        .collect();
    if stories().any(|s| !s.passes && s.failure_reason.is_none()) {
        Some("teams run".to_owned())
    } else if !failed.is_empty() {
        Some(format!("teams reset {} && teams run", failed.join(" ")))
    } else {
        None
    }
}

fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}
