//! The run store's cost (issue: durable runs), three figures:
//!
//! 1. **Per transition**: each kind of write the dispatcher makes during a story (attempt
//!    started, agent spawned, agent finished, commit seen, story recorded, event appended), timed
//!    one by one on a real file in WAL mode with `synchronous=FULL` (an fsync per commit), in the
//!    system temp directory (the same disk as the repositories). Median and p95 per kind.
//! 2. **`teams status` on a big store**: a store holding one run of 100 units × 10 stories with
//!    10,000 attempts and 20,000 events, and the matching `prd.json`; the release binary's
//!    `teams status` and `teams status --json` timed end to end (process start to exit).
//! 3. **Resume after a crash in a 100-unit run**: `teams run --backend sim` on a 100-epic PRD is
//!    killed (SIGKILL, the test-only kill point `story-started@50`), then `teams resume` is
//!    started; the figure is the time from its start to the first `unit_started` event it records
//!    (reconciling the store, git and `prd.json`, and restarting the interrupted unit).
//!
//! Run: `cargo bench --bench store`. `TEAMS_BENCH_RUNS=N` sets the repetitions of 2 and 3
//! (default 10 and 3).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use teams::store::{
    AgentEnd, AttemptDecision, AttemptStart, NewRun, NewStory, NewUnit, Store, StoryUpdate,
};

fn main() {
    let runs: usize = std::env::var("TEAMS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    per_transition();
    status_on_a_big_store(if runs == 0 { 10 } else { runs });
    resume_after_a_crash(if runs == 0 { 3 } else { runs });
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "  {name:<28} median {:>7.3} ms   p95 {:>7.3} ms   (n={})",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        samples.len()
    );
}

fn per_transition() {
    println!("store cost per transition (WAL, synchronous=FULL, fsync per commit):");
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db")).unwrap();
    const STORIES: usize = 300;
    let ids: Vec<String> = (0..STORIES).map(|i| format!("US-{i:03}")).collect();
    store
        .create_run(&NewRun {
            id: "bench",
            base: "main",
            integration_branch: "teams/bench/main",
            prd_path: "prd.json",
            settings_json: "{}",
            pid: std::process::id(),
            units: vec![NewUnit {
                id: "E1",
                kind: "epic",
                title: "Bench",
                status: "pending",
                planned: false,
                stories: ids
                    .iter()
                    .map(|id| NewStory {
                        id,
                        status: "pending",
                        attempts: 0,
                        commit_sha: None,
                        failure_reason: None,
                    })
                    .collect(),
            }],
        })
        .unwrap();
    let mut kinds: Vec<(&str, Vec<Duration>)> = [
        "story started",
        "attempt started",
        "agent spawned",
        "agent finished",
        "commit seen",
        "story recorded",
        "event appended",
    ]
    .into_iter()
    .map(|k| (k, Vec::new()))
    .collect();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let event = r#"{"elapsed_ms":1,"event":"agent_finished","unit":"E1","story":"US-001","role":"builder","attempt":1,"duration_ms":1200,"cost_usd":0.05}"#;
    for id in &ids {
        let mut timed = |k: usize, f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            kinds[k].1.push(t.elapsed());
        };
        timed(0, &mut || store.story_started("bench", id, sha).unwrap());
        let mut attempt = 0;
        timed(1, &mut || {
            attempt = store
                .attempt_started(&AttemptStart {
                    run_id: "bench",
                    unit_id: "E1",
                    story_id: Some(id),
                    role: "builder",
                    attempt: 1,
                    reask: false,
                    backend: "claude",
                    model: None,
                    start_sha: Some(sha),
                })
                .unwrap();
        });
        timed(2, &mut || store.attempt_spawned(attempt, 4242).unwrap());
        timed(3, &mut || {
            store
                .attempt_finished(
                    attempt,
                    &AgentEnd {
                        exit_code: Some(0),
                        cost_usd: Some(0.05),
                        input_tokens: Some(1200),
                        output_tokens: Some(300),
                        session_id: Some("s".into()),
                        ..AgentEnd::default()
                    },
                )
                .unwrap()
        });
        timed(4, &mut || store.attempt_commit(attempt, sha).unwrap());
        timed(5, &mut || {
            store
                .story_result(&StoryUpdate {
                    run_id: "bench",
                    unit_id: "E1",
                    story_id: id,
                    status: "passed",
                    attempts: 1,
                    commit_sha: Some(sha),
                    failure_reason: None,
                    decision: Some(AttemptDecision {
                        attempt_id: attempt,
                        result_sha: Some(sha),
                        passed: true,
                        feedback: None,
                    }),
                    tip: sha,
                    // The bench times the synced record (a unit's last story, or a failed one).
                    synced: true,
                })
                .unwrap()
        });
        timed(6, &mut || {
            store
                .append_event("bench", 1, "agent_finished", event)
                .unwrap()
        });
    }
    let mut all = Vec::new();
    for (name, samples) in kinds {
        all.extend(samples.iter().copied());
        stats(name, samples);
    }
    stats("all transitions", all);
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn prd(units: usize, stories: usize) -> serde_json::Value {
    let epics: Vec<_> = (0..units)
        .map(|u| {
            serde_json::json!({
                "id": format!("E{u:03}"), "title": format!("Epic {u}"), "dependsOn": [],
                "userStories": (0..stories).map(|s| serde_json::json!({
                    "id": format!("US-{u:03}-{s:02}"), "title": "A story",
                    "description": "Do it.", "acceptanceCriteria": ["it works"],
                    "passes": false
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    serde_json::json!({"project": "Bench", "epics": epics})
}

fn repo_with(prd: &serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(
        dir.path().join("prd.json"),
        serde_json::to_string_pretty(prd).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("teams.toml"), "planner = \"never\"\n").unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "prd"]);
    dir
}

fn teams(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_teams"));
    cmd.current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@localhost")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn status_on_a_big_store(runs: usize) {
    println!("teams status against a store with 10,000 attempts (release binary, end to end):");
    let dir = repo_with(&prd(100, 10));
    let mut store = Store::open(&dir.path().join(".teams/state.db")).unwrap();
    let ids: Vec<(String, Vec<String>)> = (0..100)
        .map(|u| {
            (
                format!("E{u:03}"),
                (0..10).map(|s| format!("US-{u:03}-{s:02}")).collect(),
            )
        })
        .collect();
    store
        .create_run(&NewRun {
            id: "big",
            base: "main",
            integration_branch: "teams/bench/main",
            prd_path: "prd.json",
            settings_json: "{}",
            pid: 1,
            units: ids
                .iter()
                .map(|(u, stories)| NewUnit {
                    id: u,
                    kind: "epic",
                    title: "Epic",
                    status: "pending",
                    planned: false,
                    stories: stories
                        .iter()
                        .map(|id| NewStory {
                            id,
                            status: "pending",
                            attempts: 0,
                            commit_sha: None,
                            failure_reason: None,
                        })
                        .collect(),
                })
                .collect(),
        })
        .unwrap();
    // Fill fast: this part is setup, not measured.
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(".teams/state.db")).unwrap();
    conn.execute_batch("PRAGMA synchronous=OFF; BEGIN").unwrap();
    for (u, stories) in &ids {
        for s in stories {
            for n in 1..=10 {
                conn.execute(
                    "INSERT INTO attempts (run_id, unit_id, story_id, role, attempt, backend, state,
                        started_at, ended_at, cost_usd, counted)
                     VALUES ('big', ?1, ?2, 'builder', ?3, 'claude', 'finished', 0, 1000, 0.01, 1)",
                    rusqlite::params![u, s, n],
                )
                .unwrap();
                for kind in ["agent_started", "agent_finished"] {
                    conn.execute(
                        "INSERT INTO events (run_id, at, elapsed_ms, kind, body)
                         VALUES ('big', 0, 0, ?1, '{}')",
                        [kind],
                    )
                    .unwrap();
                }
            }
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    drop(conn);
    for args in [&["status"][..], &["status", "--json"][..]] {
        let mut samples = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            assert!(teams(dir.path()).args(args).status().unwrap().success());
            samples.push(t.elapsed());
        }
        stats(&format!("teams {}", args.join(" ")), samples);
    }
    let store = Store::open_read_only(&dir.path().join(".teams/state.db"))
        .unwrap()
        .unwrap();
    let mut samples = Vec::new();
    for _ in 0..runs * 10 {
        let t = Instant::now();
        store.latest_overview().unwrap().unwrap();
        samples.push(t.elapsed());
    }
    stats("store query (in process)", samples);
}

fn resume_after_a_crash(runs: usize) {
    println!(
        "teams resume after a crash in a 100-unit run (sim backend): start → first unit_started"
    );
    let mut samples = Vec::new();
    for _ in 0..runs {
        let dir = repo_with(&prd(100, 1));
        let status = teams(dir.path())
            .args(["run", "--backend", "sim"])
            .env("__TEAMS_FAILPOINT", "story-started@50")
            .status()
            .unwrap();
        assert!(!status.success(), "the run was not killed");
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let ok = teams(dir.path())
            .args(["resume", "--backend", "sim"])
            .status()
            .unwrap();
        assert!(ok.success(), "resume failed");
        let store = Store::open_read_only(&dir.path().join(".teams/state.db"))
            .unwrap()
            .unwrap();
        let run = store.latest_run().unwrap().unwrap();
        let first = store
            .events(&run.id, 0, None)
            .unwrap()
            .into_iter()
            .find(|e| e.kind == "unit_started" && e.at >= started)
            .expect("the resumed run started a unit");
        samples.push(Duration::from_millis((first.at - started) as u64));
    }
    stats("resume to first unit", samples);
}
