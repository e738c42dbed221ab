//! What `teams run --parallel=8` costs teams itself (issue 6, benchmarks b and c).
//!
//! **b. Supervising 8 agents.** A release `teams run --parallel=8` on 8 independent epics of one
//! story each, with `teams-fake-agent` as `claude`: every builder works 6 s, printing a tool use
//! every 200 ms (30 stream-json events, so teams parses and forwards live output the whole time),
//! then commits; every validator answers after 1 s. While teams runs, its own
//! `/proc/<pid>/status` (`VmHWM`, the peak resident set, and `VmRSS`) and `/proc/<pid>/stat`
//! (`utime` + `stime`: teams' own CPU, not its children's) are sampled every 20 ms; the figures
//! are the last sample before it exits. The fake's record proves the 8 builders overlapped.
//! The agents' own CPU and memory are theirs, not teams', and not counted.
//!
//! **c. Worktree creation.** A repository with 20,000 files (200 directories × 100 files of
//! about 200 bytes, one commit). Per sample, one new branch and worktree each way, alternating:
//! plain `git worktree add -b <branch> <path> <base>` against what teams does when a unit starts
//! (`teams::run::unit_branch` logic through the public `teams::git` API: resolve the integration
//! branch, check the unit branch does not exist, `git branch --no-track`, `git worktree add`).
//! Worktrees are removed between samples (not timed). Median of 15 each.
//!
//! Run: `cargo bench --bench parallel` (builds the fake agent in release mode if missing).
//! Numbers: docs/PERFORMANCE.md.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use teams::git::{GitRunner, Repo, WorktreeManager};
use teams_fake_agent::{Match, Script, Step, read_invocations};

#[path = "common/fake_agent.rs"]
mod fake_agent_bin;
use fake_agent_bin::fake_agent;

fn main() {
    let work = tempfile::Builder::new()
        .prefix("teams-bench-parallel-")
        .tempdir()
        .expect("temp dir");
    supervise_eight(work.path());
    worktree_creation(work.path());
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

fn init_repo(dir: &Path) {
    std::fs::create_dir_all(dir).expect("repo dir");
    git(dir, &["init", "--quiet"]);
    git(dir, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    git(dir, &["config", "user.name", "Bench"]);
    git(dir, &["config", "user.email", "bench@teams.local"]);
}

/// `(VmHWM, VmRSS)` in KiB and `utime + stime` of a live process.
fn sample(pid: u32) -> Option<(u64, u64, Duration)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a constant.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some((
        field("VmHWM:")?,
        field("VmRSS:")?,
        Duration::from_millis(ticks * 1000 / per_sec),
    ))
}

fn supervise_eight(work: &Path) {
    const UNITS: usize = 8;
    let repo = work.join("supervise");
    init_repo(&repo);
    let epics: Vec<serde_json::Value> = (1..=UNITS)
        .map(|e| {
            serde_json::json!({
                "id": format!("EPIC-{e}"), "title": format!("Epic {e}"), "dependsOn": [],
                "userStories": [{"id": format!("US-{e}"), "title": format!("Story {e}"),
                    "description": "A story.", "acceptanceCriteria": ["it exists"], "passes": false}]
            })
        })
        .collect();
    let prd = serde_json::json!({"project": "Bench", "branchName": "main", "epics": epics});
    std::fs::write(repo.join("prd.json"), prd.to_string()).expect("prd");
    std::fs::write(repo.join("teams.toml"), "planner = \"never\"\n").expect("toml");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "PRD"]);

    let mut busy = Vec::new();
    for i in 0..30 {
        busy.push(Step::ToolUse {
            name: "Bash".into(),
            input: serde_json::json!({"command": format!("step {i}")}),
        });
        busy.push(Step::SleepMs(200));
    }
    let mut script = Script {
        root_check: false,
        ..Script::default()
    };
    for e in 1..=UNITS {
        let mut steps = busy.clone();
        steps.push(Step::Commit {
            path: format!("src/{e}.txt"),
            content: Some(format!("{e}\n")),
            message: None,
        });
        steps.push(Step::Final(
            "done: it; evidence: none; risk: low; next: none".into(),
        ));
        script = script.rule(Match::role("builder").story(&format!("US-{e}")), steps);
    }
    script = script.rule(
        Match::role("validator"),
        vec![
            Step::SleepMs(1000),
            Step::Verdict(serde_json::json!({"verdict": "pass",
                "criteria": [{"criterion": "it exists", "met": true, "evidence": "the file"}],
                "feedback": ""})),
        ],
    );
    let script_path = work.join("script.json");
    script.write_to(&script_path).expect("script");
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(fake_agent(), bin.join("claude")).expect("symlink");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let record = work.join("record.jsonl");

    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_teams"))
        .args(["-q", "run", "--parallel=8"])
        .current_dir(&repo)
        .env("PATH", &path)
        .env("TEAMS_FAKE_SCRIPT", &script_path)
        .env("TEAMS_FAKE_RECORD", &record)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn teams");
    let pid = child.id();
    let mut last = None;
    let mut peak_rss = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if let Some(s) = sample(pid) {
            peak_rss = peak_rss.max(s.1);
            last = Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    assert!(status.success(), "teams run failed: {status}");
    let (hwm, _, cpu) = last.expect("sampled teams at least once");
    let runs = read_invocations(&record).expect("record");
    let builders: Vec<_> = runs.iter().filter(|r| r.role == "builder").collect();
    let latest_start = builders.iter().map(|r| r.start_ms).max().unwrap_or(0);
    let earliest_end = builders.iter().filter_map(|r| r.end_ms).min().unwrap_or(0);
    println!(
        "b. teams run --parallel=8, 8 units, builders 6 s with 30 tool uses each, validators 1 s"
    );
    println!(
        "   {} builders all running at once: {}",
        builders.len(),
        latest_start < earliest_end
    );
    println!(
        "   wall {:.2} s; teams' own CPU {:.2} s ({:.1}% of one core); peak RSS (VmHWM) {:.1} MiB, highest sampled VmRSS {:.1} MiB",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
        hwm as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );
}

fn worktree_creation(work: &Path) {
    const DIRS: usize = 200;
    const FILES: usize = 100;
    let repo = work.join("big");
    init_repo(&repo);
    let line = "a line of text in a generated file, long enough to look like source\n";
    for d in 0..DIRS {
        let dir = repo.join(format!("src/mod{d:03}"));
        std::fs::create_dir_all(&dir).expect("dir");
        for f in 0..FILES {
            std::fs::write(dir.join(format!("file{f:03}.rs")), line.repeat(3)).expect("file");
        }
    }
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "20,000 files"]);
    git(&repo, &["branch", "teams/big/main"]);
    let trees = work.join("trees");
    let runner = GitRunner::new(&repo);
    let teams_repo = Repo::open(&repo).expect("open");
    let manager = WorktreeManager::new(runner.clone());

    let samples = 15;
    let mut plain = Vec::new();
    let mut ours = Vec::new();
    for i in 0..samples {
        // Plain git.
        let path = trees.join(format!("plain-{i}"));
        let branch = format!("plain/{i}");
        let start = Instant::now();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "--quiet",
                "-b",
                &branch,
                path.to_str().expect("utf-8 path"),
                "teams/big/main",
            ],
        );
        plain.push(start.elapsed());
        manager.remove(&path, true).expect("remove");

        // What a unit start does.
        let path = trees.join(format!("unit-{i}"));
        let branch = format!("teams/big/unit/U-{i}");
        let start = Instant::now();
        let integration = teams_repo
            .resolve("refs/heads/teams/big/main")
            .expect("resolve")
            .expect("integration branch");
        assert!(!teams_repo.branch_exists(&branch).expect("exists"));
        teams_repo
            .create_branch(&branch, &integration)
            .expect("branch");
        manager.add(&path, &branch).expect("worktree add");
        ours.push(start.elapsed());
        manager.remove(&path, true).expect("remove");
    }
    plain.sort();
    ours.sort();
    let (p, o) = (plain[samples / 2], ours[samples / 2]);
    println!(
        "c. worktree creation on a {}-file repository, median of {samples}",
        DIRS * FILES
    );
    println!(
        "   plain git worktree add -b: {:.1} ms; teams (branch + worktree add): {:.1} ms; ratio {:.3}",
        p.as_secs_f64() * 1000.0,
        o.as_secs_f64() * 1000.0,
        o.as_secs_f64() / p.as_secs_f64()
    );
}
