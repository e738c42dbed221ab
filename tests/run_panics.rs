//! A bug that panics a unit's worker or a merge job must not leave the run waiting for a report
//! that never comes: the run ends with an internal error naming the unit (exit 1), and `teams
//! resume` finishes it as if nothing happened. The panics come from test-only panic points
//! (`__TEAMS_PANICPOINT`, `src/run/failpoint.rs`).

mod common;
#[path = "common/durable.rs"]
mod durable;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use durable::*;

fn panics_then_resumes(point: &str, said: &str) {
    let p = Project::new(TOML, &script());
    let out = p
        .teams(&["run"])
        .env("__TEAMS_PANICPOINT", point)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{point}: {}", describe(&out));
    assert!(text(&out.stderr).contains(said), "{}", describe(&out));
    assert_eq!(p.live_agents(), Vec::<u32>::new());

    let out = p.teams(&["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(&p.normalized_prd(), &baseline().0);
    assert_eq!(&p.integration_tree(), &baseline().1);
}

#[test]
fn a_worker_that_panics_ends_the_run_and_resume_finishes_it() {
    panics_then_resumes("worker-started", "the worker of EPIC-1 panicked");
}

#[test]
fn a_merge_that_panics_ends_the_run_and_resume_finishes_it() {
    panics_then_resumes("merge-started", "the merge of EPIC-1 panicked");
}
