//! Measures what `teams validate` and the start of `teams run` cost on a large PRD: 1,000 epics of
//! 10 stories each (about 3 MB), parsed, checked, scheduled, edited and printed.
//!
//! Run with `cargo bench --bench validate`. A plain harness (no criterion) keeps the dependency
//! list short; each step reports the best of several runs, which is stable enough to catch an
//! accidental quadratic step.

use std::hint::black_box;
use std::time::{Duration, Instant};

use teams::json::{self, PrintOptions};
use teams::plan;
use teams::prd::{EpicId, PrdDocument, StoryId, StoryResult};

/// A canonical PRD with `epics` epics of `stories` stories; each epic depends on up to three
/// earlier ones, so the schedule has many waves.
fn generate(epics: usize, stories: usize) -> String {
    let mut epic_nodes = Vec::with_capacity(epics);
    for e in 0..epics {
        // A chain broken every 50 epics, plus a few longer jumps.
        let deps: Vec<String> = [1usize, 7, 31]
            .iter()
            .filter(|&&back| back <= e && (back != 1 || e % 50 != 0))
            .map(|back| format!("\"EPIC-{:04}\"", e - back))
            .collect();
        let story_nodes: Vec<String> = (0..stories)
            .map(|s| {
                let n = e * stories + s;
                format!(
                    r#"{{"id": "US-{n:05}", "title": "Story {n}", "description": "As a user, I want feature {n} so that the board does more.", "acceptanceCriteria": ["Criterion one for {n}", "Criterion two for {n} with \"quotes\" and unicode é", "Typecheck passes"], "priority": {p}, "passes": false, "failureReason": null}}"#,
                    p = s + 1
                )
            })
            .collect();
        epic_nodes.push(format!(
            r#"{{"id": "EPIC-{e:04}", "title": "Epic {e}", "description": "Epic number {e}.", "status": "pending", "planned": false, "dependsOn": [{}], "userStories": [{}]}}"#,
            deps.join(", "),
            story_nodes.join(", ")
        ));
    }
    let compact = format!(
        r#"{{"project": "Bench", "branchName": "main", "epics": [{}]}}"#,
        epic_nodes.join(", ")
    );
    // Reprint canonically, as a real prd.json would be written.
    let tree = json::parse(compact.as_bytes()).expect("generated JSON parses");
    json::print(&tree, &PrintOptions::default())
}

/// The fastest of `runs` calls. Dropping the result is not timed: the CLI keeps what it loads.
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let value = black_box(f());
            let elapsed = start.elapsed();
            drop(value);
            elapsed
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let text = generate(1000, 10);
    let bytes = text.into_bytes();
    println!("PRD: 1,000 epics × 10 stories, {} bytes", bytes.len());

    let parse = best_of(10, || json::parse(&bytes).expect("parses"));
    println!("json::parse                      {parse:>10.2?}");
    // A reference point on the same machine and input.
    let serde = best_of(10, || {
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("parses")
    });
    println!("(serde_json::from_slice::<Value> {serde:>10.2?})");

    let tree = json::parse(&bytes).expect("parses");
    let print = best_of(10, || json::print(&tree, &PrintOptions::default()));
    println!("json::print                      {print:>10.2?}");

    let load = best_of(10, || {
        PrdDocument::parse(bytes.clone(), "prd.json").expect("valid")
    });
    println!("PrdDocument::parse (+ validate)  {load:>10.2?}");

    let doc = PrdDocument::parse(bytes.clone(), "prd.json").expect("valid");
    let waves = best_of(10, || plan::waves(doc.prd()).expect("acyclic"));
    let wave_count = plan::waves(doc.prd()).expect("acyclic").len();
    println!("plan::waves ({wave_count} waves)           {waves:>10.2?}");
    let critical = best_of(10, || plan::critical_path(doc.prd()).expect("acyclic"));
    println!("plan::critical_path              {critical:>10.2?}");
    println!("total parse + validate + waves   {:>10.2?}", load + waves);

    let edit = best_of(10, || {
        let mut doc = doc.clone();
        doc.set_story_result(
            &StoryId::new("US-05000"),
            StoryResult {
                passes: true,
                commit_sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
                attempts: 1,
                failure_reason: None,
            },
        )
        .expect("known story");
        doc.set_epic_planned(&EpicId::new("EPIC-0500"), true)
            .expect("known epic");
        doc.to_bytes()
    });
    println!("clone + 2 edits + to_bytes       {edit:>10.2?}");

    // The goal is about the whole `teams validate` process (start-up, read, parse, check, waves,
    // print), so also time the real binary on the same file.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prd.json");
    std::fs::write(&path, &bytes).expect("write the PRD");
    let mut runs: Vec<Duration> = (0..21)
        .map(|_| {
            let start = Instant::now();
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_teams"))
                .args(["-q", "validate"])
                .arg(&path)
                .output()
                .expect("run teams");
            let elapsed = start.elapsed();
            assert!(output.status.success(), "teams validate failed: {output:?}");
            elapsed
        })
        .collect();
    runs.sort();
    println!(
        "`teams validate` process        median {:>8.2?}  best {:>8.2?}  (21 runs)",
        runs[runs.len() / 2],
        runs[0]
    );
}
