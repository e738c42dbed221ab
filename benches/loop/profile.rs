//! The loop bench's profile of one traced run: teams' own git processes by subcommand (from
//! `GIT_TRACE2_EVENT`), and the gaps between agent processes (from the fake agent's record).

use std::collections::BTreeMap;

use super::RunFigures;

/// One git process from the trace2 event stream.
#[derive(Default)]
struct GitProcess {
    argv: Vec<String>,
    parent: String,
    nested: bool,
    t_abs: f64,
}

/// Groups teams' own git processes by subcommand: count per attempt and time inside git.
pub fn print_git_profile(trace: &str, attempts: usize, teams_name: &str) {
    let mut by_sid: BTreeMap<String, GitProcess> = BTreeMap::new();
    for line in trace.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let sid = event["sid"].as_str().unwrap_or_default().to_owned();
        let entry = by_sid.entry(sid.clone()).or_default();
        entry.nested = sid.contains('/');
        match event["event"].as_str() {
            Some("start") => {
                entry.argv = event["argv"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            }
            Some("cmd_ancestry") => {
                entry.parent = event["ancestry"][0].as_str().unwrap_or_default().to_owned();
            }
            Some("exit") | Some("atexit") => {
                entry.t_abs = entry.t_abs.max(event["t_abs"].as_f64().unwrap_or(0.0));
            }
            _ => {}
        }
    }
    // (count, seconds) per label, for teams' processes, nested ones and the agent's.
    let mut ours: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let (mut nested, mut nested_s, mut agent, mut agent_s) = (0usize, 0.0f64, 0usize, 0.0f64);
    for process in by_sid.values() {
        if process.nested || process.parent == "git" {
            nested += 1;
            nested_s += process.t_abs;
        } else if process.parent == teams_name {
            let slot = ours.entry(git_label(&process.argv)).or_default();
            slot.0 += 1;
            slot.1 += process.t_abs;
        } else {
            agent += 1;
            agent_s += process.t_abs;
        }
    }
    let mut rows: Vec<(String, usize, f64)> =
        ours.into_iter().map(|(k, (n, s))| (k, n, s)).collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2));
    let n = attempts.max(1) as f64;
    let (total_n, total_s) = rows
        .iter()
        .fold((0, 0.0), |(c, s), (_, n, t)| (c + n, s + t));
    println!(
        "  {:<34} {:>6} {:>10} {:>16} {:>12}",
        "teams' git process", "count", "per att.", "in git, per att.", "mean each"
    );
    for (label, count, secs) in &rows {
        println!(
            "  {:<34} {:>6} {:>10.2} {:>13.2} ms {:>9.2} ms",
            label,
            count,
            *count as f64 / n,
            secs * 1000.0 / n,
            secs * 1000.0 / *count as f64
        );
    }
    println!(
        "  {:<34} {:>6} {:>10.2} {:>13.2} ms",
        "total",
        total_n,
        total_n as f64 / n,
        total_s * 1000.0 / n
    );
    println!(
        "  (nested git processes started by git itself: {nested}, {:.1} ms in all, inside their parents' time; \
         the agent's own git processes: {agent}, {:.1} ms)",
        nested_s * 1000.0,
        agent_s * 1000.0
    );
}

/// `worktree add`, `diff --stat`, `rev-parse`…: the subcommand after any `-c` settings, with the
/// word or option that tells its uses apart.
fn git_label(argv: &[String]) -> String {
    let mut args = argv.iter().skip(1).peekable();
    while args.peek().is_some_and(|a| a.as_str() == "-c") {
        args.next();
        args.next();
    }
    let rest: Vec<&String> = args.collect();
    let Some(sub) = rest.first() else {
        return "(none)".to_owned();
    };
    let detail = match sub.as_str() {
        "worktree" => rest.get(1).map(|s| s.to_string()),
        "diff" => rest
            .iter()
            .find(|a| a.as_str() == "--name-only" || a.as_str() == "--stat")
            .map(|s| s.to_string())
            .or(Some("(patch)".to_owned())),
        "rev-parse" | "symbolic-ref" | "status" | "merge-base" | "update-ref" | "rev-list" => None,
        _ => rest
            .get(1)
            .filter(|a| a.starts_with("--"))
            .map(|s| s.to_string()),
    };
    match detail {
        Some(d) => format!("{sub} {d}"),
        None => sub.to_string(),
    }
}

/// The gaps between agent processes, from the fake's record (ms resolution): what teams does
/// between a builder's end and its validator's start, and between a validator's end and the next
/// builder's start (within a unit, and across units).
pub fn print_gaps(runs: &[teams_fake_agent::Invocation], figures: &RunFigures) {
    let agents: Vec<&teams_fake_agent::Invocation> =
        runs.iter().filter(|r| r.mode == "print").collect();
    let mut build_to_validate = Vec::new();
    let mut next_in_unit = Vec::new();
    let mut next_unit = Vec::new();
    for pair in agents.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let gap = b.start_ms.saturating_sub(a.end_ms.unwrap_or(a.start_ms));
        match (a.role.as_str(), b.role.as_str()) {
            ("builder", "validator") => build_to_validate.push(gap),
            ("validator", "builder") if a.unit == b.unit => next_in_unit.push(gap),
            ("validator", "builder") => next_unit.push(gap),
            _ => {}
        }
    }
    let first = agents.first().map_or(0, |r| r.start_ms);
    let last = agents.last().and_then(|r| r.end_ms).unwrap_or(0);
    let med = |mut v: Vec<u64>| -> String {
        if v.is_empty() {
            return "-".to_owned();
        }
        v.sort_unstable();
        format!("{} ms (n={})", v[v.len() / 2], v.len())
    };
    println!("  gaps between agent processes (fake record, ms resolution, median):");
    println!(
        "    builder end -> its validator start       {}",
        med(build_to_validate)
    );
    println!(
        "    validator end -> next builder, same unit {}",
        med(next_in_unit)
    );
    println!(
        "    validator end -> next unit's builder     {}",
        med(next_unit)
    );
    println!(
        "    teams started -> first builder start     {} ms (pre-flight probes: {} ms of it)",
        first.saturating_sub(figures.spawned_ms),
        figures.probes.as_millis()
    );
    println!(
        "    last validator end -> teams exited       {} ms",
        figures.exited_ms.saturating_sub(last)
    );
}
