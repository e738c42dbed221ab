//! What Discord costs a run (spec §11: sending never blocks the run).
//!
//! Method. A template repository holds a 6 × 3 PRD (six independent epics of three stories, every
//! story passing on its first attempt with the in-process `sim` agent, so the run itself is short
//! and any Discord cost shows as large as it can). Each timed run gets a fresh copy and runs
//! `teams -q run --backend sim` to the end, with the webhook pointed at the loopback fake Discord
//! of the tests in one of these states, the runs of all states interleaved:
//!
//! - **off**: no webhook variable (the baseline);
//! - **ok**: every post answered 200 at once;
//! - **500**: every post answered 500 (the first message is tried 4 times with 0.5/1/2 s backoff,
//!   later ones once);
//! - **hang**: the server never answers (per-request timeout 10 s; the drain bound at the end
//!   shortened to 1 s with `__TEAMS_DISCORD_DRAIN_MS`, so a row takes seconds, not minutes).
//!
//! Besides wall time, each run reports (through `TEAMS_LOG=teams::report::discord=debug`) the time
//! its own thread spent inside the Discord reporter (`blocked_us`: composing and queueing) and the
//! time the end of the run waited for the queue (`drained_ms`).
//!
//! Run: `cargo bench --bench discord` (`TEAMS_BENCH_RUNS=N` timed runs per state, default 5).

#[path = "../tests/common/fake_discord.rs"]
mod fake_discord;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_discord::{FakeDiscord, Reply};

const EPICS: usize = 6;
const STORIES: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Off,
    Ok,
    ServerError,
    Hang,
}

impl State {
    const ALL: [State; 4] = [State::Off, State::Ok, State::ServerError, State::Hang];

    fn name(self) -> &'static str {
        match self {
            State::Off => "off",
            State::Ok => "ok",
            State::ServerError => "500",
            State::Hang => "hang",
        }
    }
}

#[derive(Default, Clone)]
struct Figures {
    wall: Duration,
    blocked: Duration,
    slowest: Duration,
    drained: Duration,
    messages: usize,
}

fn main() {
    let runs: usize = std::env::var("TEAMS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let teams = PathBuf::from(env!("CARGO_BIN_EXE_teams"));
    let work = tempfile::Builder::new()
        .prefix("teams-bench-discord-")
        .tempdir()
        .expect("temp dir");
    let template = make_template(work.path());
    let servers = [
        (State::Ok, FakeDiscord::ok()),
        (
            State::ServerError,
            FakeDiscord::start(Vec::new(), Reply::ServerError),
        ),
        (State::Hang, FakeDiscord::start(Vec::new(), Reply::Hang)),
    ];
    let base = |state: State| {
        servers
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, server)| server.base())
    };

    println!(
        "teams run --backend sim, {EPICS}x{STORIES} PRD, {runs} runs per state, interleaved ({})",
        teams.display()
    );
    let mut results: Vec<(State, Vec<Figures>)> =
        State::ALL.iter().map(|s| (*s, Vec::new())).collect();
    // One untimed warm-up run, then the timed rounds.
    run_once(&teams, &template, work.path(), State::Off, None, "warmup");
    for round in 0..runs {
        for (state, figures) in &mut results {
            let tag = format!("{}-{round}", state.name());
            figures.push(run_once(
                &teams,
                &template,
                work.path(),
                *state,
                base(*state),
                &tag,
            ));
        }
    }

    let baseline = median(results[0].1.iter().map(|f| f.wall).collect());
    println!(
        "\n{:<6} {:>10} {:>9} {:>14} {:>14} {:>12} {:>9}",
        "state",
        "wall (med)",
        "vs off",
        "blocked (med)",
        "blocked (max)",
        "drained max",
        "messages"
    );
    for (state, figures) in &results {
        let wall = median(figures.iter().map(|f| f.wall).collect());
        let delta = wall.as_secs_f64() / baseline.as_secs_f64() * 100.0 - 100.0;
        let blocked_median = median(figures.iter().map(|f| f.blocked).collect());
        let blocked = figures.iter().map(|f| f.blocked).max().unwrap_or_default();
        let slowest = figures.iter().map(|f| f.slowest).max().unwrap_or_default();
        let drained = figures.iter().map(|f| f.drained).max().unwrap_or_default();
        println!(
            "{:<6} {:>8.0}ms {:>+8.1}% {:>12}us {:>12}us {:>10}ms {:>9}   (slowest call {}us)",
            state.name(),
            wall.as_secs_f64() * 1000.0,
            delta,
            blocked_median.as_micros(),
            blocked.as_micros(),
            drained.as_millis(),
            figures.first().map_or(0, |f| f.messages),
            slowest.as_micros(),
        );
    }
}

fn run_once(
    teams: &Path,
    template: &Path,
    work: &Path,
    state: State,
    base: Option<String>,
    tag: &str,
) -> Figures {
    let repo = work.join(format!("run-{tag}"));
    let status = Command::new("cp")
        .arg("-a")
        .arg(template)
        .arg(&repo)
        .status()
        .expect("cp");
    assert!(status.success());
    let mut cmd = Command::new(teams);
    cmd.args(["-q", "run", "--backend", "sim"])
        .current_dir(&repo)
        .stdin(Stdio::null())
        .env_remove("CI")
        .env_remove("TEAMS_DISCORD_WEBHOOK")
        .env_remove("TEAMS_DISCORD_TOKEN")
        .env("TEAMS_LOG", "teams::report::discord=debug");
    if state != State::Off {
        let url = format!(
            "https://discord.com/api/webhooks/123456789012345678/{}",
            "T".repeat(68)
        );
        cmd.env("TEAMS_DISCORD_WEBHOOK", url)
            .env("TEAMS_DISCORD_API_BASE", base.expect("a server"));
    }
    if state == State::Hang {
        cmd.env("__TEAMS_DISCORD_DRAIN_MS", "1000");
    }
    let start = Instant::now();
    let out = cmd.output().expect("run teams");
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "teams run failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&repo);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> u64 {
        stderr
            .lines()
            .find(|l| l.contains("discord reporter closed"))
            .and_then(|line| {
                line.split_whitespace()
                    .find_map(|word| word.strip_prefix(&format!("{name}=")))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    };
    Figures {
        wall,
        blocked: Duration::from_micros(field("blocked_us")),
        slowest: Duration::from_micros(field("slowest_us")),
        drained: Duration::from_millis(field("drained_ms")),
        messages: field("queued") as usize,
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?} failed");
}

fn make_template(work: &Path) -> PathBuf {
    let dir = work.join("template");
    std::fs::create_dir_all(&dir).expect("template dir");
    git(&dir, &["init", "--quiet"]);
    git(&dir, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    git(&dir, &["config", "user.name", "Bench"]);
    git(&dir, &["config", "user.email", "bench@teams.local"]);
    let epics: Vec<serde_json::Value> = (1..=EPICS)
        .map(|e| {
            let stories: Vec<serde_json::Value> = (1..=STORIES)
                .map(|s| {
                    let id = format!("US-{:03}", (e - 1) * STORIES + s);
                    serde_json::json!({"id": id, "title": format!("Story {id}"),
                        "description": "A story.", "acceptanceCriteria": [format!("{id} exists")],
                        "priority": s, "passes": false})
                })
                .collect();
            serde_json::json!({"id": format!("EPIC-{e:03}"), "title": format!("Epic {e}"),
                "dependsOn": [], "userStories": stories})
        })
        .collect();
    let prd = serde_json::json!({"project": "Bench", "branchName": "main", "epics": epics});
    std::fs::write(
        dir.join("prd.json"),
        serde_json::to_string_pretty(&prd).expect("json"),
    )
    .expect("write prd.json");
    std::fs::write(dir.join("teams.toml"), "planner = \"never\"\n").expect("write teams.toml");
    git(&dir, &["add", "prd.json", "teams.toml"]);
    git(&dir, &["commit", "--quiet", "-m", "PRD"]);
    dir
}
