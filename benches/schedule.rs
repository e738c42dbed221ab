//! How close `--parallel N` scheduling comes to the best possible makespan (issue 6, benchmark a).
//!
//! Method. Random DAGs of 50 units (each unit depends on each of the previous 8 units with
//! probability 0.2, so graphs have both long chains and wide layers) with random agent durations
//! (log-uniform between 2 and 60 minutes per unit). Each DAG is scheduled in simulated time
//! (an event queue of unit completions, no sleeping) by:
//!
//! - **teams**: the dispatcher's own policy, `teams::plan::ready::next_actions` — called after
//!   every completion exactly as `Dispatcher::start_ready` calls it (ready = dependencies
//!   completed and merged; the longest chain of waiting units first, counted in units; ties in
//!   file order; no barrier);
//! - **file order**: the same greedy start with ready units in file order only (what teams did
//!   before the chain came first);
//! - **cp-priority**: a greedy list scheduler that, when a slot frees, starts the ready unit with
//!   the longest remaining chain (HLFET) — the classic heuristic, a yardstick for "the bound a
//!   greedy list scheduler can reach". It knows every agent's duration in advance, which no real
//!   run does;
//! - **waves**: a wave-barrier schedule of the same DAG (the topological layers of
//!   `teams::plan::dag::layers`, each layer list-scheduled on N slots, the next layer starting
//!   when the whole layer is done), as other tools run.
//!
//! Each makespan is divided by the lower bound max(critical path, total work / N), which no
//! schedule can beat. Merges are taken as instantaneous (seconds against agent minutes).
//!
//! Run: `cargo bench --bench schedule`. `TEAMS_BENCH_DAGS=N` changes the number of DAGs per
//! row (default 500). Numbers: docs/PERFORMANCE.md.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use teams::plan::dag::{layers, longest_path};
use teams::plan::ready::{Action, Dependency, Progress, next_actions};

const UNITS: usize = 50;
const WINDOW: usize = 8;
const EDGE_PROBABILITY: f64 = 0.2;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Dag {
    deps: Vec<Vec<usize>>,
    /// Agent time per unit, in seconds.
    secs: Vec<u64>,
}

fn random_dag(rng: &mut Rng) -> Dag {
    let mut deps = Vec::with_capacity(UNITS);
    let mut secs = Vec::with_capacity(UNITS);
    for i in 0..UNITS {
        let d: Vec<usize> = (i.saturating_sub(WINDOW)..i)
            .filter(|_| rng.unit() < EDGE_PROBABILITY)
            .collect();
        deps.push(d);
        let minutes = 2.0 * (30.0f64).powf(rng.unit());
        secs.push((minutes * 60.0) as u64);
    }
    Dag { deps, secs }
}

fn lower_bound(dag: &Dag, n: usize) -> u64 {
    let path = longest_path(&dag.deps, |i| dag.secs[i]).expect("acyclic");
    let critical: u64 = path.iter().map(|&i| dag.secs[i]).sum();
    let work: u64 = dag.secs.iter().sum();
    critical.max(work.div_ceil(n as u64))
}

/// The dispatcher's policy in simulated time.
fn teams_makespan(dag: &Dag, n: usize) -> u64 {
    let deps: Vec<Vec<Dependency>> = dag
        .deps
        .iter()
        .map(|d| d.iter().map(|&i| Dependency::Unit(i)).collect())
        .collect();
    let mut progress = vec![Progress::Waiting; UNITS];
    let mut running: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut now = 0;
    loop {
        for action in next_actions(&deps, &progress, n - running.len()) {
            if let Action::Start(i) = action {
                progress[i] = Progress::Running;
                running.push(Reverse((now + dag.secs[i], i)));
            }
        }
        let Some(Reverse((at, i))) = running.pop() else {
            break;
        };
        now = at;
        progress[i] = Progress::Completed;
        while let Some(Reverse((at, j))) = running.peek().copied() {
            if at != now {
                break;
            }
            running.pop();
            progress[j] = Progress::Completed;
        }
    }
    assert!(progress.iter().all(|p| *p == Progress::Completed));
    now
}

/// A greedy list scheduler over `units` (all of whose dependencies outside `units` are done),
/// picking among ready units by `priority` (highest first, then file order). Returns the end.
fn list_schedule(dag: &Dag, units: &[usize], n: usize, start: u64, priority: &[u64]) -> u64 {
    // Units outside this group are done already (earlier waves) or not scheduled here.
    let mut done: Vec<bool> = (0..UNITS).map(|i| !units.contains(&i)).collect();
    let mut started = [false; UNITS];
    let mut running: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut now = start;
    let mut end = start;
    loop {
        while running.len() < n {
            let next = units
                .iter()
                .copied()
                .filter(|&i| !started[i] && dag.deps[i].iter().all(|&d| done[d]))
                .max_by(|&a, &b| priority[a].cmp(&priority[b]).then(b.cmp(&a)));
            let Some(i) = next else { break };
            started[i] = true;
            running.push(Reverse((now + dag.secs[i], i)));
        }
        let Some(Reverse((at, i))) = running.pop() else {
            break;
        };
        now = at;
        end = end.max(at);
        done[i] = true;
    }
    end
}

/// Longest remaining chain from each unit (its own time included).
fn bottom_levels(dag: &Dag) -> Vec<u64> {
    let mut level = vec![0u64; UNITS];
    for i in (0..UNITS).rev() {
        let below = (i + 1..UNITS)
            .filter(|&j| dag.deps[j].contains(&i))
            .map(|j| level[j])
            .max()
            .unwrap_or(0);
        level[i] = dag.secs[i] + below;
    }
    level
}

fn cp_priority_makespan(dag: &Dag, n: usize) -> u64 {
    let all: Vec<usize> = (0..UNITS).collect();
    list_schedule(dag, &all, n, 0, &bottom_levels(dag))
}

fn file_order_makespan(dag: &Dag, n: usize) -> u64 {
    let all: Vec<usize> = (0..UNITS).collect();
    let file_order: Vec<u64> = (0..UNITS).map(|i| (UNITS - i) as u64).collect();
    list_schedule(dag, &all, n, 0, &file_order)
}

fn waves_makespan(dag: &Dag, n: usize) -> u64 {
    let file_order: Vec<u64> = (0..UNITS).map(|i| (UNITS - i) as u64).collect();
    let mut now = 0;
    for layer in layers(&dag.deps).expect("acyclic") {
        now = list_schedule(dag, &layer, n, now, &file_order);
    }
    now
}

struct Stats {
    ratios: Vec<f64>,
}

impl Stats {
    fn mean(&self) -> f64 {
        self.ratios.iter().sum::<f64>() / self.ratios.len() as f64
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.ratios.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }
}

fn main() {
    let dags: usize = std::env::var("TEAMS_BENCH_DAGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let mut rng = Rng(0x5EED_0F7E_A115);
    let graphs: Vec<Dag> = (0..dags).map(|_| random_dag(&mut rng)).collect();
    let edges: usize = graphs
        .iter()
        .map(|g| g.deps.iter().map(Vec::len).sum::<usize>())
        .sum();
    let depth: usize = graphs
        .iter()
        .map(|g| layers(&g.deps).expect("acyclic").len())
        .sum();
    println!(
        "{dags} random DAGs of {UNITS} units: {:.1} edges and {:.1} layers on average; agent time 2-60 min log-uniform",
        edges as f64 / dags as f64,
        depth as f64 / dags as f64
    );
    println!("makespan / lower bound max(critical path, work/N): mean, p95, worst");
    println!(
        "{:>3}  {:<22} {:<22} {:<22} {:<22} {:>12}",
        "N",
        "teams (plan::ready)",
        "file order only",
        "cp-priority list",
        "wave barrier",
        "teams vs cp"
    );
    for n in [2usize, 4, 8] {
        let mut teams = Stats { ratios: Vec::new() };
        let mut cp = Stats { ratios: Vec::new() };
        let mut waves = Stats { ratios: Vec::new() };
        let mut file = Stats { ratios: Vec::new() };
        let mut versus = Stats { ratios: Vec::new() };
        for dag in &graphs {
            let bound = lower_bound(dag, n) as f64;
            let t = teams_makespan(dag, n) as f64;
            let c = cp_priority_makespan(dag, n) as f64;
            teams.ratios.push(t / bound);
            cp.ratios.push(c / bound);
            waves.ratios.push(waves_makespan(dag, n) as f64 / bound);
            file.ratios.push(file_order_makespan(dag, n) as f64 / bound);
            versus.ratios.push(t / c);
        }
        let show = |s: &Stats| {
            format!(
                "{:.3} {:.3} {:.3}",
                s.mean(),
                s.percentile(0.95),
                s.percentile(1.0)
            )
        };
        println!(
            "{n:>3}  {:<22} {:<22} {:<22} {:<22} {:>12}",
            show(&teams),
            show(&file),
            show(&cp),
            show(&waves),
            format!("{:.3} mean", versus.mean())
        );
    }
    // The policy's own cost: one decision over 50 units.
    let dag = &graphs[0];
    let deps: Vec<Vec<Dependency>> = dag
        .deps
        .iter()
        .map(|d| d.iter().map(|&i| Dependency::Unit(i)).collect())
        .collect();
    let progress = vec![Progress::Waiting; UNITS];
    let calls = 20_000;
    let start = Instant::now();
    let mut started = 0;
    for _ in 0..calls {
        started += std::hint::black_box(next_actions(&deps, &progress, 8)).len();
    }
    let per = start.elapsed() / calls;
    println!("one next_actions call over {UNITS} waiting units: {per:?} ({started} starts)");
}
