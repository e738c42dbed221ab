//! The coordination overhead of `teams run` per story attempt: the wall time of the real release
//! binary minus the time its agents spent, divided by the attempts (one builder + one validator).
//!
//! Method. A template repository holds a generated PRD (E epics × S stories, no dependencies, every
//! story passing on its first attempt) and a `teams.toml` with `planner = "never"` (a planner call
//! per epic is an agent call, not coordination). Each timed run gets a fresh copy of it (the copy is
//! not timed) and runs `teams -q run` to the end, sequentially (`parallel = 1`, the default), so
//! agent time never overlaps teams' own work.
//!
//! - **fake**: `claude` on `PATH` is `teams-fake-agent`, scripted to answer at once (builder: commit
//!   one file, handoff line; validator: a pass verdict). Its record gives each process's
//!   `start_ms`/`end_ms` as seen from inside `main`, so the agents' time is the fake's own work
//!   (reading its script and record, writing stream-json, its `git add`/`git commit`); everything
//!   else, including spawning and reaping the fake and the `--version`/`auth status` pre-flight
//!   probes' process start-up, counts against teams.
//! - **sim**: the same PRD with `--backend sim`, the in-process agent: no agent process at all and
//!   no pre-flight. Its builder still runs `git add` + `git commit` itself, which is counted as
//!   overhead here (the profile below shows how much).
//!
//! The start-up and exit of an agent process happen outside the fake's `main`, so they count as
//! teams' here; the bench measures one (`claude --version`, median of 51) and also prints the
//! figures less two of them per attempt.
//!
//! Three shapes separate the costs: 1×1 (a run with one attempt: mostly the fixed per-run cost),
//! 6×3 (the headline) and 1×18 (the same attempts in one unit, so the difference to 6×3 is the
//! per-unit cost: unit branch, worktree, merge). Marginal cost per attempt = (overhead(6×3) −
//! overhead(1×1)) / 17.
//!
//! CPU: user + system time of teams and all its descendants (`RUSAGE_CHILDREN`), which moves much
//! less than wall time when other work shares the machine; for the fake it includes the fakes'
//! own CPU.
//!
//! Then one more 6×3 run per backend with `GIT_TRACE2_EVENT` set profiles the git processes: how
//! many teams starts per attempt, by subcommand, and how long each ran inside git (trace2's
//! `t_abs`, which excludes fork/exec). `cmd_ancestry` tells teams' git processes from the fake's.
//!
//! Run: `cargo bench --bench loop` (builds the fake agent in release mode if it is missing).
//! `TEAMS_BENCH_RUNS=N` changes the number of timed runs per row (default 5); `TEAMS_BENCH_BIN=PATH`
//! measures another `teams` binary (e.g. a copy taken before a change) with the same harness;
//! `TEAMS_BENCH_AB=PATH` adds interleaved runs of that binary against this one on the 6×3 and
//! 1×18 PRDs.
//! `TEAMS_BENCH_KEEP=1` keeps the work directory (templates, scripts, the `bin/claude` symlink)
//! and prints its path, to profile one run by hand (`strace -f -c`, `perf`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use teams_fake_agent::{Match, Script, Step, read_invocations};

#[path = "loop/profile.rs"]
mod profile;
use profile::{print_gaps, print_git_profile};

#[path = "common/fake_agent.rs"]
mod fake_agent_bin;
use fake_agent_bin::fake_agent;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Fake,
    Sim,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Fake => "fake claude",
            Backend::Sim => "sim",
        }
    }
}

#[derive(Clone, Copy)]
struct Shape {
    epics: usize,
    stories: usize,
}

impl Shape {
    fn label(self) -> String {
        format!("{}x{}", self.epics, self.stories)
    }

    fn attempts(self) -> usize {
        self.epics * self.stories
    }
}

/// What one timed run measured.
#[derive(Clone, Default)]
struct RunFigures {
    wall: Duration,
    /// The fake's own time in builder and validator runs.
    agents: Duration,
    /// The fake's own time in pre-flight probes (`--version`, `auth status`).
    probes: Duration,
    probe_count: usize,
    attempts: usize,
    /// When teams was started and when it exited, in Unix milliseconds (to line up with the record).
    spawned_ms: u64,
    exited_ms: u64,
    /// User + system CPU of teams and every process under it (git, and the fake agents).
    cpu: Duration,
}

impl RunFigures {
    fn overhead(&self) -> Duration {
        self.wall.saturating_sub(self.agents + self.probes)
    }

    fn per_attempt(&self) -> Duration {
        self.overhead() / self.attempts.max(1) as u32
    }
}

struct Env {
    teams: PathBuf,
    path: std::ffi::OsString,
    work: PathBuf,
}

fn main() {
    let runs: usize = std::env::var("TEAMS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    // Another build of teams (e.g. a copy of the binary before a change) can be measured instead.
    let teams = std::env::var_os("TEAMS_BENCH_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_teams")), PathBuf::from);
    let fake = fake_agent();
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path().to_path_buf();
    let _tmp = if std::env::var_os("TEAMS_BENCH_KEEP").is_some() {
        println!("work dir:   {} (kept)", work.display());
        let _ = tmp.keep();
        None
    } else {
        Some(tmp)
    };
    let bin_dir = work.join("bin");
    std::fs::create_dir_all(&bin_dir).expect("bin dir");
    std::os::unix::fs::symlink(&fake, bin_dir.join("claude")).expect("symlink the fake as claude");
    let mut paths = vec![bin_dir.clone()];
    if let Some(old) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&old));
    }
    let env = Env {
        teams,
        path: std::env::join_paths(paths).expect("PATH"),
        work,
    };
    println!("teams:      {}", env.teams.display());
    println!("fake agent: {}", fake.display());
    println!(
        "machine:    {} CPUs, {}, temp dir {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        git_version(),
        env.work.display()
    );
    println!(
        "one trivial git process (`git rev-parse --verify HEAD`) from Rust: median {}",
        ms(trivial_git(&env))
    );
    let agent_start = agent_start_up(&fake);
    println!(
        "one fake agent process (`claude --version`: exec, start-up, exit) from Rust: median {} \
         (two per attempt are counted as teams' overhead below)",
        ms(agent_start)
    );
    println!(
        "load average before: {} (other work on the machine inflates every figure)",
        load_average()
    );
    println!("{runs} timed runs per row after one warm-up; sequential (parallel = 1)\n");

    let shapes = [
        Shape {
            epics: 1,
            stories: 1,
        },
        Shape {
            epics: 6,
            stories: 3,
        },
        Shape {
            epics: 1,
            stories: 18,
        },
    ];
    let mut medians: BTreeMap<(String, &'static str), RunFigures> = BTreeMap::new();
    println!(
        "{:<12} {:>5} {:>9} {:>11} {:>10} {:>9} {:>13} {:>34}",
        "backend",
        "shape",
        "attempts",
        "wall",
        "agents",
        "probes",
        "CPU/attempt",
        "overhead/attempt (wall - agents)"
    );
    for backend in [Backend::Fake, Backend::Sim] {
        for shape in shapes {
            let template = make_template(&env, shape);
            let mut figures: Vec<RunFigures> = (0..=runs)
                .map(|i| {
                    run_once(
                        &env,
                        &env.teams,
                        &template,
                        shape,
                        backend,
                        &format!("{i}"),
                        false,
                    )
                    .0
                })
                .skip(1)
                .collect();
            figures.sort_by_key(RunFigures::per_attempt);
            let median = figures[figures.len() / 2].clone();
            println!(
                "{:<12} {:>5} {:>9} {:>11} {:>10} {:>9} {:>13} {:>10} (min {}, max {})",
                backend.name(),
                shape.label(),
                median.attempts,
                ms(median.wall),
                ms(median.agents),
                if median.probe_count > 0 {
                    ms(median.probes)
                } else {
                    "-".to_owned()
                },
                ms(median.cpu / median.attempts.max(1) as u32),
                ms(median.per_attempt()),
                msf(figures[0].per_attempt()),
                msf(figures[figures.len() - 1].per_attempt()),
            );
            medians.insert((shape.label(), backend.name()), median);
        }
    }

    println!("\nderived (from the medians):");
    for backend in [Backend::Fake, Backend::Sim] {
        let one = &medians[&("1x1".to_owned(), backend.name())];
        let many = &medians[&("6x3".to_owned(), backend.name())];
        let flat = &medians[&("1x18".to_owned(), backend.name())];
        let marginal = many.overhead().saturating_sub(one.overhead()) / 17;
        let fixed = one.overhead().saturating_sub(marginal);
        let per_unit = many.overhead().saturating_sub(flat.overhead()) / 5;
        let cpu_marginal = many.cpu.saturating_sub(one.cpu) / 17;
        println!(
            "  {:<12} marginal per attempt {}  fixed per run {}  extra per unit {}  marginal CPU per attempt {}",
            backend.name(),
            ms(marginal),
            ms(fixed),
            ms(per_unit),
            ms(cpu_marginal)
        );
        if backend == Backend::Fake {
            // The agents' own process start-up and exit is agent cost, not coordination.
            let spawns = agent_start * 2;
            println!(
                "  {:<12} less two agent start-ups per attempt ({}): 6x3 {}  1x18 {}  marginal {}",
                "",
                ms(spawns),
                ms(many.per_attempt().saturating_sub(spawns)),
                ms(flat.per_attempt().saturating_sub(spawns)),
                ms(marginal.saturating_sub(spawns))
            );
        }
    }

    let shape = shapes[1];
    for backend in [Backend::Fake, Backend::Sim] {
        let template = make_template(&env, shape);
        let (figures, trace, record) =
            run_once(&env, &env.teams, &template, shape, backend, "trace", true);
        println!(
            "\ngit processes of one {} {} run with GIT_TRACE2_EVENT (wall {}, {} attempts):",
            backend.name(),
            shape.label(),
            ms(figures.wall),
            figures.attempts
        );
        print_git_profile(&trace, figures.attempts, &process_name(&env.teams));
        if let Some(record) = record {
            print_gaps(&record, &figures);
        }
    }
    if let Some(other) = std::env::var_os("TEAMS_BENCH_AB") {
        // 6×3 (the headline, with the per-unit work) and 1×18 (attempts inside one unit).
        compare(&env, Path::new(&other), shapes[1], runs);
        compare(&env, Path::new(&other), shapes[2], runs);
    }
    println!("\nload average after: {}", load_average());
}

/// Interleaved runs of another binary (A) and this one (B) on the same PRD, in ABBA order so a
/// drift in the machine's load hits both alike: the medians and the median paired difference.
fn compare(env: &Env, other: &Path, shape: Shape, runs: usize) {
    let pairs = (runs * 2).max(4);
    println!(
        "\nA/B, {} {pairs} interleaved pairs: A = {}, B = {}",
        shape.label(),
        other.display(),
        env.teams.display()
    );
    for backend in [Backend::Fake, Backend::Sim] {
        let template = make_template(env, shape);
        let one = |teams: &Path, tag: &str| {
            run_once(env, teams, &template, shape, backend, tag, false)
                .0
                .per_attempt()
                .as_secs_f64()
                * 1000.0
        };
        one(other, "warm-a");
        one(&env.teams, "warm-b");
        let (mut a, mut b, mut diff) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..pairs {
            let (x, y) = if i % 2 == 0 {
                let x = one(other, "a");
                (x, one(&env.teams, "b"))
            } else {
                let y = one(&env.teams, "b");
                (one(other, "a"), y)
            };
            a.push(x);
            b.push(y);
            diff.push(y - x);
        }
        let med = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "  {:<12} overhead/attempt: A median {:.2} ms, B median {:.2} ms, B - A median of pairs {:+.2} ms",
            backend.name(),
            med(a),
            med(b),
            med(diff)
        );
    }
}

/// The name the kernel gives a process running `path` (`/proc/<pid>/comm`: at most 15 bytes),
/// which is how trace2's `cmd_ancestry` names git's parent.
fn process_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.chars().take(15).collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn git_version() -> String {
    Command::new("git")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The floor any git call costs: fork, exec, git's start-up, a ref lookup, wait.
/// The median wall time of starting the fake agent for `--version` and reaping it: what one agent
/// process costs before and after its own `main`, which the fake's record cannot see.
fn agent_start_up(fake: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..51)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(fake)
                .arg("--version")
                .stdin(Stdio::null())
                .env_remove("TEAMS_FAKE_RECORD")
                .output()
                .expect("run the fake agent");
            let took = t.elapsed();
            assert!(out.status.success(), "the fake agent's --version failed");
            took
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn trivial_git(env: &Env) -> Duration {
    let dir = env.work.join("trivial");
    std::fs::create_dir_all(&dir).expect("dir");
    git(&dir, &["init", "--quiet"]);
    git(
        &dir,
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "x",
        ],
    );
    let mut times: Vec<Duration> = (0..51)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new("git")
                .args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
                .current_dir(&dir)
                .stdin(Stdio::null())
                .output()
                .expect("git");
            let took = t.elapsed();
            assert!(out.status.success());
            took
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// A repository with a PRD of `shape` (no dependencies) and a `teams.toml`, committed on `main`.
fn make_template(env: &Env, shape: Shape) -> PathBuf {
    let dir = env.work.join(format!("template-{}", shape.label()));
    if dir.exists() {
        return dir;
    }
    std::fs::create_dir_all(&dir).expect("template dir");
    git(&dir, &["init", "--quiet"]);
    git(&dir, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    git(&dir, &["config", "user.name", "Bench"]);
    git(&dir, &["config", "user.email", "bench@teams.local"]);
    let mut epics = Vec::new();
    for e in 1..=shape.epics {
        let stories: Vec<serde_json::Value> = (1..=shape.stories)
            .map(|s| {
                let id = story_id(shape, e, s);
                serde_json::json!({
                    "id": id,
                    "title": format!("Story {id}"),
                    "description": format!("As a user I want feature {id}."),
                    "acceptanceCriteria": [format!("{id} exists"), "Typecheck passes"],
                    "priority": s,
                    "passes": false,
                    "failureReason": null
                })
            })
            .collect();
        epics.push(serde_json::json!({
            "id": format!("EPIC-{e:03}"),
            "title": format!("Epic {e}"),
            "description": format!("Epic number {e}."),
            "status": "pending",
            "planned": false,
            "dependsOn": [],
            "userStories": stories
        }));
    }
    let prd = serde_json::json!({"project": "Bench", "branchName": "main", "epics": epics});
    std::fs::write(
        dir.join("prd.json"),
        serde_json::to_string_pretty(&prd).expect("json"),
    )
    .expect("write prd.json");
    std::fs::write(dir.join("teams.toml"), "planner = \"never\"\n").expect("write teams.toml");
    std::fs::write(dir.join("README.md"), "# Bench\n").expect("write README");
    git(&dir, &["add", "prd.json", "teams.toml", "README.md"]);
    git(&dir, &["commit", "--quiet", "-m", "PRD"]);

    let mut script = Script {
        root_check: false,
        ..Script::default()
    };
    for e in 1..=shape.epics {
        for s in 1..=shape.stories {
            let id = story_id(shape, e, s);
            script = script.rule(
                Match::role("builder").story(&id),
                vec![
                    Step::Commit {
                        path: format!("src/{id}.txt"),
                        content: Some(format!("{id}\n")),
                        message: Some(format!("{id}: add it")),
                    },
                    Step::Final(format!("done: {id}; evidence: none; risk: low; next: none")),
                ],
            );
        }
    }
    script = script.rule(
        Match::role("validator"),
        vec![Step::Verdict(serde_json::json!({
            "verdict": "pass",
            "criteria": [{"criterion": "exists", "met": true, "evidence": "the file"}],
            "feedback": ""
        }))],
    );
    script
        .write_to(&env.work.join(format!("script-{}.json", shape.label())))
        .expect("write the script");
    dir
}

fn story_id(shape: Shape, epic: usize, story: usize) -> String {
    format!("US-{:03}", (epic - 1) * shape.stories + story)
}

/// Copies the template, runs `teams run` on the copy, checks every story passed, and returns the
/// figures (plus the trace2 events and the fake's record when asked).
fn run_once(
    env: &Env,
    teams: &Path,
    template: &Path,
    shape: Shape,
    backend: Backend,
    tag: &str,
    trace: bool,
) -> (
    RunFigures,
    String,
    Option<Vec<teams_fake_agent::Invocation>>,
) {
    let label = format!(
        "{}-{}-{tag}",
        shape.label(),
        if backend == Backend::Fake {
            "fake"
        } else {
            "sim"
        }
    );
    let repo = env.work.join(format!("run-{label}"));
    let _ = std::fs::remove_dir_all(&repo);
    let status = Command::new("cp")
        .arg("-a")
        .arg(template)
        .arg(&repo)
        .status()
        .expect("cp");
    assert!(status.success());
    let record = env.work.join(format!("record-{label}.jsonl"));
    let trace_file = env.work.join(format!("trace-{label}.jsonl"));
    let _ = std::fs::remove_file(&record);
    let _ = std::fs::remove_file(&trace_file);

    let mut cmd = Command::new(teams);
    cmd.args(["-q", "run"])
        .current_dir(&repo)
        .stdin(Stdio::null())
        .env("PATH", &env.path)
        .env(
            "TEAMS_FAKE_SCRIPT",
            env.work.join(format!("script-{}.json", shape.label())),
        )
        .env("TEAMS_FAKE_RECORD", &record)
        .env_remove("CI");
    if backend == Backend::Sim {
        cmd.args(["--backend", "sim"]);
    }
    if trace {
        cmd.env("GIT_TRACE2_EVENT", &trace_file);
    }
    let cpu0 = children_cpu();
    let spawned_ms = unix_ms();
    let start = Instant::now();
    let out = cmd.output().expect("run teams");
    let wall = start.elapsed();
    let exited_ms = unix_ms();
    let cpu = children_cpu().saturating_sub(cpu0);
    assert!(
        out.status.success(),
        "teams run failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let prd: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join("prd.json")).expect("read prd.json"))
            .expect("prd.json is JSON");
    let passed = prd["epics"]
        .as_array()
        .expect("epics")
        .iter()
        .flat_map(|e| e["userStories"].as_array().expect("stories").iter())
        .filter(|s| s["passes"] == true)
        .count();
    assert_eq!(passed, shape.attempts(), "every story passes");

    let mut figures = RunFigures {
        wall,
        attempts: shape.attempts(),
        spawned_ms,
        exited_ms,
        cpu,
        ..RunFigures::default()
    };
    let invocations = if backend == Backend::Fake {
        let runs = read_invocations(&record).expect("read the record");
        let own = |r: &teams_fake_agent::Invocation| {
            Duration::from_millis(r.end_ms.expect("the fake ended by itself") - r.start_ms)
        };
        let builders = runs
            .iter()
            .filter(|r| r.mode == "print" && r.role == "builder")
            .count();
        let validators = runs
            .iter()
            .filter(|r| r.mode == "print" && r.role == "validator")
            .count();
        assert_eq!(builders, shape.attempts(), "one builder per story");
        assert_eq!(validators, shape.attempts(), "one validator per story");
        for run in &runs {
            if run.mode == "print" {
                figures.agents += own(run);
            } else {
                figures.probes += own(run);
                figures.probe_count += 1;
            }
        }
        Some(runs)
    } else {
        None
    };
    let trace_text = if trace {
        std::fs::read_to_string(&trace_file).unwrap_or_default()
    } else {
        String::new()
    };
    let _ = std::fs::remove_dir_all(&repo);
    (figures, trace_text, invocations)
}

/// User + system CPU of this process's waited-for descendants so far.
fn children_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let to = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    to(usage.user_time()) + to(usage.system_time())
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn msf(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}
