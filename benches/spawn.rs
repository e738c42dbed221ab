//! What `teams` itself costs per agent: spawning and supervising one fake agent that exits at once,
//! and the peak memory while supervising a 100 MiB flood.
//!
//! Method: the same command (the fake agent answering one stream-json turn) is run N times
//! sequentially, first with a bare `std::process::Command::output()` (the floor: fork, exec, the
//! fake's own work, wait) and then through `supervise` (process group, prompt on stdin, transcript
//! file, line splitting, a JSON parser). Reported: the median wall time of each and their difference,
//! plus this process's own user+sys CPU per agent from `getrusage(RUSAGE_SELF)` (children excluded,
//! so the fake's CPU does not count). The flood runs in a re-executed copy of this binary so its
//! `ru_maxrss` high-water mark is not polluted by anything else.
//!
//! Run: `cargo build --release -p teams-fake-agent && cargo bench --bench spawn`.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use teams::agent::{AgentEvent, CommandSpec, FinalReport, OutputParser, StdinInput};
use teams::supervisor::{CancelHandle, SuperviseOptions, supervise};

#[path = "common/fake_agent.rs"]
mod fake_agent_bin;
use fake_agent_bin::fake_agent;

const RUNS: usize = 200;
const FLOOD_ENV: &str = "__TEAMS_BENCH_FLOOD";

/// Parses every line as JSON, as the real stream-json parser does, so the cost is realistic.
struct JsonLines;

impl OutputParser for JsonLines {
    fn stdout_line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            return Vec::new();
        };
        if v["type"] == "result" {
            return vec![AgentEvent::Final(FinalReport {
                text: v["result"].as_str().unwrap_or_default().to_owned(),
                ..FinalReport::default()
            })];
        }
        Vec::new()
    }
}

fn spec(fake: &Path, dir: &Path, script: Option<&Path>) -> CommandSpec {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("IS_SANDBOX".into(), "1".into()),
        ("TEAMS_ROLE".into(), "builder".into()),
    ];
    if let Some(script) = script {
        env.push(("TEAMS_FAKE_SCRIPT".into(), script.into()));
    }
    CommandSpec {
        program: fake.into(),
        args: [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions",
        ]
        .map(OsString::from)
        .to_vec(),
        env,
        cwd: dir.to_path_buf(),
        stdin: StdinInput::Bytes(b"Build the thing.".to_vec()),
    }
}

/// User+sys CPU of this process so far.
fn self_cpu() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let to = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    to(usage.user_time()) + to(usage.system_time())
}

fn max_rss_mib() -> f64 {
    let kib = getrusage(UsageWho::RUSAGE_SELF)
        .expect("getrusage")
        .max_rss();
    // Linux reports KiB.
    kib as f64 / 1024.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let fake = fake_agent();
    let dir = tempfile::tempdir().expect("temp dir");
    if std::env::var_os(FLOOD_ENV).is_some() {
        flood(&fake, dir.path());
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let spec = spec(&fake, dir.path(), None);
    println!("fake agent: {}", fake.display());

    // Warm up the page cache and the runtime.
    for _ in 0..10 {
        let _ = Command::new(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::null())
            .output();
    }

    // Interleaved, so drift in the machine's load hits both series alike; CPU is summed per run.
    let (mut bare, mut supervised) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    let (mut bare_cpu, mut sup_cpu) = (Duration::ZERO, Duration::ZERO);
    for i in 0..RUNS {
        let cpu0 = self_cpu();
        let t = Instant::now();
        let out = Command::new(&spec.program)
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .arg("Build the thing.")
            .stdin(Stdio::null())
            .output()
            .expect("bare run");
        bare.push(t.elapsed());
        bare_cpu += self_cpu() - cpu0;
        assert!(out.status.success());

        let opts = SuperviseOptions {
            transcript_path: Some(dir.path().join(format!("logs/{i}.log"))),
            timeout: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(60)),
            ..SuperviseOptions::default()
        };
        let cpu0 = self_cpu();
        let t = Instant::now();
        let outcome = rt.block_on(supervise(
            spec.clone(),
            Box::new(JsonLines),
            opts,
            CancelHandle::new(),
            |_| {},
        ));
        supervised.push(t.elapsed());
        sup_cpu += self_cpu() - cpu0;
        assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
        assert!(outcome.final_report.is_some());
    }
    let (bare_cpu, sup_cpu) = (bare_cpu / RUNS as u32, sup_cpu / RUNS as u32);

    let (b, s) = (median(bare), median(supervised));
    println!("spawn+exit, {RUNS} sequential runs each:");
    println!(
        "  bare Command::output  median {}  self CPU/agent {}",
        ms(b),
        ms(bare_cpu)
    );
    println!(
        "  supervise             median {}  self CPU/agent {}",
        ms(s),
        ms(sup_cpu)
    );
    println!(
        "  supervise - bare      median {:+.3} ms",
        (s.as_secs_f64() - b.as_secs_f64()) * 1000.0
    );

    let out = Command::new(std::env::current_exe().expect("own path"))
        .env(FLOOD_ENV, "1")
        .output()
        .expect("flood run");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// In a fresh process: supervise a 100 MiB flood, report throughput and peak RSS.
fn flood(fake: &Path, dir: &Path) {
    let script = dir.join("flood.json");
    std::fs::write(
        &script,
        r#"{"default": {"steps": [{"flood": {"mb": 100}}, {"final": "ok"}]}}"#,
    )
    .expect("script");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let before = max_rss_mib();
    let opts = SuperviseOptions {
        transcript_path: Some(dir.join("flood.log")),
        ..SuperviseOptions::default()
    };
    let cpu0 = self_cpu();
    let t = Instant::now();
    let outcome = rt.block_on(supervise(
        spec(fake, dir, Some(&script)),
        Box::new(JsonLines),
        opts,
        CancelHandle::new(),
        |_| {},
    ));
    let took = t.elapsed();
    let cpu = self_cpu() - cpu0;
    assert_eq!(outcome.exit_code, Some(0));
    let mib = outcome.output_bytes as f64 / (1024.0 * 1024.0);
    println!("100 MiB flood ({mib:.1} MiB read, transcript written):");
    println!(
        "  wall {}  ({:.0} MiB/s)  self CPU {}",
        ms(took),
        mib / took.as_secs_f64(),
        ms(cpu)
    );
    println!(
        "  peak RSS {:.1} MiB (before the flood {:.1} MiB)",
        max_rss_mib(),
        before
    );
}
