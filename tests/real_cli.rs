//! Proof with the real agent CLIs: `teams run` drives the real Claude Code and the real Codex,
//! installed from npm at pinned versions (`common/real_clis.rs`), against a scripted model server
//! on loopback (`common/model_server.rs`). Fully offline after the one install.
//!
//! Each CLI is pointed at the server through its own settings, as a user would point it at a
//! proxy: Claude with `ANTHROPIC_BASE_URL` + `ANTHROPIC_API_KEY` +
//! `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`; Codex with a custom model provider in
//! `$CODEX_HOME/config.toml` and its key in `MOCK_KEY`. Dummy keys travel in the environment only.
//!
//! What is asserted from the outside: stories pass with commits the CLI's own tools made, the
//! store holds the SHAs, costs and tokens parsed from the real streams, the validator's request
//! holds no builder reasoning, a failing verdict reaches the second builder, a 401 is a setup
//! error (exit 4) and not a failed story, a 429 pauses without counting the attempt, and a CLI
//! killed by its timeout leaves no process behind.
//!
//! Without npm the tests say SKIPPED on the terminal (and fail on CI), see `real_clis.rs`.

mod common;
#[path = "common/model_server.rs"]
mod model_server;
#[path = "common/real_clis.rs"]
mod real_clis;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::TestEnv;
use model_server::{BUILDER_REASONING, Fault, ModelServer, Role, Scenario, feedback_for};
use real_clis::{RealClis, real_clis};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cli {
    Claude,
    Codex,
}

impl Cli {
    fn name(self) -> &'static str {
        match self {
            Cli::Claude => "claude",
            Cli::Codex => "codex",
        }
    }
}

/// A dummy key, long so no CLI mistakes it for something else; it never leaves the environment.
const DUMMY_KEY: &str = "sk-teams-real-cli-test-dummy-key-0123456789";

/// A repository with a PRD, the real CLI configured against a model server.
struct Project {
    env: TestEnv,
    cli: Cli,
    clis: RealClis,
    server: ModelServer,
}

impl Project {
    fn new(cli: Cli, clis: RealClis, prd: Value, extra_toml: &str, scenario: Scenario) -> Self {
        let env = TestEnv::new();
        env.git_init();
        env.write(
            "prd.json",
            serde_json::to_string_pretty(&prd).unwrap() + "\n",
        );
        env.write(
            "teams.toml",
            format!(
                "backend = \"{}\"\ngrace_period = \"2s\"\n{extra_toml}",
                cli.name()
            ),
        );
        let git = |args: &[&str]| {
            assert!(env.command("git").args(args).status().unwrap().success());
        };
        git(&["add", "prd.json", "teams.toml"]);
        git(&["commit", "-q", "-m", "the PRD"]);
        let server = ModelServer::start(scenario);
        if cli == Cli::Codex {
            let codex_home = env.root().join("codex-home");
            std::fs::create_dir_all(&codex_home).unwrap();
            std::fs::write(
                codex_home.join("config.toml"),
                format!(
                    "model_provider = \"mock\"\nmodel = \"mock-model\"\n\n\
                     [model_providers.mock]\nname = \"mock\"\nbase_url = \"{}/v1\"\n\
                     wire_api = \"responses\"\nenv_key = \"MOCK_KEY\"\n",
                    server.base_url()
                ),
            )
            .unwrap();
        }
        Project {
            env,
            cli,
            clis,
            server,
        }
    }

    fn teams(&self, args: &[&str]) -> Output {
        let mut cmd = self.env.teams();
        cmd.args(args)
            .env("PATH", self.clis.path_var())
            .env("CI", "true")
            .env("__TEAMS_BACKOFF_MS", "200")
            .timeout(Duration::from_secs(400));
        match self.cli {
            Cli::Claude => {
                cmd.env("ANTHROPIC_BASE_URL", self.server.base_url())
                    .env("ANTHROPIC_API_KEY", DUMMY_KEY)
                    .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
            }
            Cli::Codex => {
                cmd.env("CODEX_HOME", self.env.root().join("codex-home"))
                    .env("MOCK_KEY", DUMMY_KEY);
            }
        }
        cmd.output().unwrap()
    }

    fn prd(&self) -> Value {
        serde_json::from_slice(&self.env.read("prd.json")).unwrap()
    }

    fn story(&self, id: &str) -> Value {
        let prd = self.prd();
        prd["epics"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["userStories"].as_array().unwrap().clone())
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no story {id}"))
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.env.command("git").args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Every agent run the store recorded, in order.
    fn attempts(&self) -> Vec<AttemptRow> {
        let db = rusqlite::Connection::open(self.env.repo().join(".teams/state.db")).unwrap();
        let mut stmt = db
            .prepare(
                "SELECT role, story_id, cost_usd, input_tokens, result_sha, counted, state \
                 FROM attempts ORDER BY id",
            )
            .unwrap();
        stmt.query_map([], |row| {
            Ok(AttemptRow {
                role: row.get(0)?,
                story: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                cost_usd: row.get(2)?,
                input_tokens: row.get(3)?,
                result_sha: row.get(4)?,
                counted: row.get::<_, i64>(5)? != 0,
                state: row.get(6)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}

#[derive(Debug)]
struct AttemptRow {
    role: String,
    story: String,
    cost_usd: Option<f64>,
    input_tokens: Option<i64>,
    result_sha: Option<String>,
    counted: bool,
    state: String,
}

fn story(id: &str, title: &str, priority: u32) -> Value {
    json!({"id": id, "title": title,
           "description": format!("As a user, I want {title}."),
           "acceptanceCriteria": [format!("{} exists and names the attempt that built it", id.to_lowercase() + ".txt")],
           "priority": priority, "passes": false, "failureReason": null})
}

/// Two epics: EPIC-001 (two stories) and EPIC-002 after it.
fn two_epic_prd() -> Value {
    json!({"project": "RealCli", "branchName": "main",
           "description": "A project built by the real agent CLIs against a scripted model.",
           "epics": [
               {"id": "EPIC-001", "title": "Greeting files", "status": "pending",
                "planned": false, "dependsOn": [],
                "userStories": [story("US-001", "the first greeting file", 1),
                                story("US-002", "the second greeting file", 2)]},
               {"id": "EPIC-002", "title": "Farewell file", "status": "pending",
                "planned": false, "dependsOn": ["EPIC-001"],
                "userStories": [story("US-003", "the farewell file", 1)]}]})
}

fn one_story_prd() -> Value {
    json!({"project": "RealCli", "branchName": "main",
           "epics": [{"id": "EPIC-001", "title": "Greeting", "status": "pending",
                      "planned": false, "dependsOn": [],
                      "userStories": [story("US-001", "the greeting file", 1)]}]})
}

/// The first number under `key` anywhere in `value`.
fn find_number(value: &Value, key: &str) -> Option<f64> {
    match value {
        Value::Object(map) => map
            .get(key)
            .and_then(Value::as_f64)
            .or_else(|| map.values().find_map(|v| find_number(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_number(v, key)),
        _ => None,
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------------------------
// The full loop.

fn full_loop(cli: Cli, test: &str) {
    let Some(clis) = real_clis(test) else { return };
    let scenario = Scenario {
        fail_first: BTreeSet::from(["US-002".to_owned()]),
        ..Scenario::default()
    };
    let project = Project::new(
        cli,
        clis,
        two_epic_prd(),
        "planner = \"always\"\n",
        scenario,
    );
    let out = project.teams(&["run"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("DONE: 3/3 stories passed"),
        "{shown}"
    );

    // Every story passed with a commit the CLI's own shell tool made, on the integration branch.
    let integration = "teams/realcli/main";
    for (id, attempts) in [("US-001", 1), ("US-002", 2), ("US-003", 1)] {
        let story = project.story(id);
        assert_eq!(story["passes"], true, "{id}: {story}\n{shown}");
        assert_eq!(story["attempts"], attempts, "{id}: {story}");
        let sha = story["commitSha"].as_str().expect("a commit SHA");
        assert_eq!(
            project.git(&["log", "-1", "--format=%s", sha]),
            format!("{id}: attempt {attempts}"),
            "the commit message the scripted builder gave its git command"
        );
        let file = match attempts {
            1 => format!("{}.txt", id.to_lowercase()),
            n => format!("{}.attempt{n}.txt", id.to_lowercase()),
        };
        assert_eq!(
            project.git(&["show", &format!("{sha}:{file}")]),
            format!("{id} built by attempt {attempts}"),
            "the file the CLI's write tool wrote"
        );
        assert!(
            project
                .env
                .command("git")
                .args(["merge-base", "--is-ancestor", sha, integration])
                .status()
                .unwrap()
                .success(),
            "{id}'s commit is merged into {integration}"
        );
    }

    // The store holds what teams parsed from the real streams.
    let rows = project.attempts();
    let builders: Vec<&AttemptRow> = rows.iter().filter(|r| r.role == "builder").collect();
    assert_eq!(builders.len(), 4, "{rows:#?}");
    for row in &rows {
        assert_eq!(row.state, "finished", "{row:?}");
        // Three model requests of 1200 input tokens for a builder, one for the others.
        assert!(row.input_tokens.unwrap_or(0) >= 1200, "{row:?}");
        match cli {
            // Claude prices the tokens itself (list prices of the model it asked for).
            Cli::Claude => assert!(row.cost_usd.is_some_and(|c| c > 0.0), "{row:?}"),
            // Codex reports tokens only.
            Cli::Codex => assert_eq!(row.cost_usd, None, "{row:?}"),
        }
    }
    // `teams status --json` shows the run's spend: the sum of what the streams reported.
    let status = project.teams(&["status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let spent = find_number(&status, "costUsd").expect("costUsd in `teams status --json`");
    let recorded: f64 = rows.iter().filter_map(|r| r.cost_usd).sum();
    assert!((spent - recorded).abs() < 1e-6, "{spent} vs {recorded}");
    assert_eq!(spent > 0.0, cli == Cli::Claude, "{status}");
    let us002: Vec<&&AttemptRow> = builders.iter().filter(|r| r.story == "US-002").collect();
    assert_eq!(us002.len(), 2);
    assert!(us002.iter().all(|r| r.counted && r.result_sha.is_some()));

    // What the CLIs sent: the builder's reasoning stays away from the validator, the verdict's
    // feedback reaches the second builder and only it, and the planner ran for EPIC-001.
    for id in ["US-001", "US-002", "US-003"] {
        let builds = project.server.requests_of(Role::Builder, id);
        assert!(
            builds.iter().any(|r| r.prompt.contains(BUILDER_REASONING)),
            "the builder's later requests carry its own reasoning"
        );
        let validations = project.server.requests_of(Role::Validator, id);
        assert!(!validations.is_empty(), "{id} was validated");
        for request in validations {
            assert!(
                !request.body.contains("BUILDER-REASONING"),
                "the validator of {id} saw the builder's reasoning"
            );
            assert!(request.prompt.contains(&format!("{id} built by attempt")));
        }
    }
    let us002_builds = project.server.requests_of(Role::Builder, "US-002");
    let feedback = feedback_for("US-002");
    assert!(
        us002_builds
            .iter()
            .filter(|r| r.attempt == Some(1))
            .all(|r| !r.prompt.contains(&feedback))
    );
    let second: Vec<_> = us002_builds
        .iter()
        .filter(|r| r.attempt == Some(2))
        .collect();
    assert!(!second.is_empty(), "a second builder ran for US-002");
    assert!(
        second.iter().all(|r| r.prompt.contains(&feedback)),
        "the second builder's request holds the validator's feedback"
    );
    assert!(
        !project
            .server
            .requests_of(Role::Planner, "EPIC-001")
            .is_empty(),
        "the planner ran for EPIC-001"
    );
    let plan = project.env.repo().join(".teams/plans/plan-EPIC-001.md");
    assert!(
        std::fs::read_to_string(&plan)
            .unwrap_or_default()
            .contains("# Plan for EPIC-001"),
        "the planner's final message is the plan"
    );
}

#[test]
fn claude_builds_validates_and_pushes_back() {
    full_loop(Cli::Claude, "claude_builds_validates_and_pushes_back");
}

#[test]
fn codex_builds_validates_and_pushes_back() {
    full_loop(Cli::Codex, "codex_builds_validates_and_pushes_back");
}

// ---------------------------------------------------------------------------------------------
// Failure classes.

fn not_logged_in(cli: Cli, test: &str, fault: Fault) {
    let Some(clis) = real_clis(test) else { return };
    let scenario = Scenario {
        fault: fault.clone(),
        ..Scenario::default()
    };
    let project = Project::new(cli, clis, one_story_prd(), "", scenario);
    let out = project.teams(&["run"]);
    let shown = text(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a setup error (spec §10)\n{shown}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not logged in"), "{shown}");
    assert!(!stderr.contains(DUMMY_KEY), "the key is never printed");
    // Not a failed story: nothing counted, nothing recorded as its failure.
    let story = project.story("US-001");
    assert_eq!(story["passes"], false, "{story}");
    assert!(story["failureReason"].is_null(), "{story}");
    assert!(
        story.get("attempts").is_none() || story["attempts"] == 0,
        "{story}"
    );
    let refused = project
        .server
        .requests()
        .iter()
        .filter(|r| r.status == 401)
        .count();
    if fault == Fault::Unauthorized {
        assert!(refused >= 1, "the CLI really called the server");
    } else {
        // Stopped after its third retry: Claude alone would ask 11 times, Codex 6.
        assert!(
            (3..=5).contains(&refused),
            "{refused} refused requests\n{shown}"
        );
    }
}

#[test]
fn claude_401_is_not_logged_in() {
    not_logged_in(
        Cli::Claude,
        "claude_401_is_not_logged_in",
        Fault::Unauthorized,
    );
}

/// Without `x-should-retry: false` Claude retries a 401 ten times over about three minutes;
/// teams stops it after the third retry (the CLI's own retry events say why).
#[test]
fn claude_retrying_a_401_is_stopped_as_not_logged_in() {
    not_logged_in(
        Cli::Claude,
        "claude_retrying_a_401_is_stopped_as_not_logged_in",
        Fault::UnauthorizedRetryable,
    );
}

/// Codex retries a 401 five times (its default); teams stops it after the third.
#[test]
fn codex_401_is_not_logged_in() {
    not_logged_in(
        Cli::Codex,
        "codex_401_is_not_logged_in",
        Fault::UnauthorizedRetryable,
    );
}

fn rate_limited(cli: Cli, test: &str) {
    let Some(clis) = real_clis(test) else { return };
    let scenario = Scenario {
        fault: Fault::RateLimitOnce { reset_in_secs: 2 },
        ..Scenario::default()
    };
    let project = Project::new(cli, clis, one_story_prd(), "", scenario);
    let out = project.teams(&["run"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    // The pause comes from the reset time the CLI printed, not from teams' backoff (200 ms here,
    // which would print "paused for 0 s"): Claude says "try again in 2 seconds"; Codex names the
    // clock minute ("try again at 1:18 AM"), which ends within a minute.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let waited: u64 = stderr
        .split("hit a usage or rate limit; it is paused for ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("no usage-limit warning\n{shown}"));
    match cli {
        Cli::Claude => assert!((1..=2).contains(&waited), "waited {waited} s\n{shown}"),
        Cli::Codex => assert!(waited <= 60, "waited {waited} s\n{shown}"),
    }
    let story = project.story("US-001");
    assert_eq!(story["passes"], true, "{story}");
    assert_eq!(
        story["attempts"], 1,
        "the limited attempt is not counted: {story}"
    );
    let builders: Vec<AttemptRow> = project
        .attempts()
        .into_iter()
        .filter(|r| r.role == "builder")
        .collect();
    assert_eq!(builders.len(), 2, "{builders:#?}");
    assert_eq!(builders[0].state, "discarded", "{builders:#?}");
    assert!(!builders[0].counted);
    assert!(builders[1].counted && builders[1].state == "finished");
    assert_eq!(
        project
            .server
            .requests()
            .iter()
            .filter(|r| r.status == 429)
            .count(),
        1
    );
}

#[test]
fn claude_429_pauses_without_counting_the_attempt() {
    rate_limited(
        Cli::Claude,
        "claude_429_pauses_without_counting_the_attempt",
    );
}

#[test]
fn codex_429_pauses_without_counting_the_attempt() {
    rate_limited(Cli::Codex, "codex_429_pauses_without_counting_the_attempt");
}

fn timeout_kills_everything(cli: Cli, test: &str) {
    let Some(clis) = real_clis(test) else { return };
    // A marker no other process has, in the command line of the builder's hanging command.
    let marker = format!(
        "3{}.{}",
        std::process::id() % 100,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let scenario = Scenario {
        hang: BTreeSet::from(["US-001".to_owned()]),
        hang_marker: marker.clone(),
        ..Scenario::default()
    };
    let toml = "max_attempts = 1\n[roles.builder]\ntimeout = \"8s\"\n";
    let project = Project::new(cli, clis, one_story_prd(), toml, scenario);
    let root = project.env.root().display().to_string();
    // Watch for the hanging command while teams runs, so the check below is not vacuous.
    let running = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (running, marker) = (running.clone(), marker.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                if !leftovers(&marker, "\0no-root\0").is_empty() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        })
    };
    let out = project.teams(&["run"]);
    running.store(false, Ordering::SeqCst);
    let shown = text(&out);
    assert!(
        watcher.join().unwrap(),
        "the CLI's shell tool never ran the hanging command {marker}\n{shown}"
    );
    assert_eq!(out.status.code(), Some(10), "{shown}");
    let story = project.story("US-001");
    assert_eq!(story["passes"], false);
    assert!(
        story["failureReason"]
            .as_str()
            .is_some_and(|r| r.contains("timed out")),
        "{story}"
    );
    assert!(
        project
            .server
            .requests_of(Role::Builder, "US-001")
            .iter()
            .any(|r| r.step == 0),
        "the builder really started its tool call"
    );
    // Nothing of the agent survives: not the CLI (its environment names this test's directory),
    // not the shell it started, not the hanging command. Reaping may trail teams' exit by a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = leftovers(&marker, &root);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        left = leftovers(&marker, &root);
    }
    assert!(left.is_empty(), "processes left behind: {left:#?}\n{shown}");
}

/// Live processes whose command line holds `marker` or whose environment mentions `root`.
fn leftovers(marker: &str, root: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let dir = entry.path();
        if !entry
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if is_zombie(&dir) {
            continue;
        }
        let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let environ = std::fs::read(dir.join("environ")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) || String::from_utf8_lossy(&environ).contains(root) {
            found.push(format!("{}: {cmdline}", dir.display()));
        }
    }
    found
}

fn is_zombie(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("stat"))
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
            Some(after == 'Z' || after == 'X')
        })
        .unwrap_or(true)
}

#[test]
fn claude_killed_by_timeout_leaves_no_process() {
    timeout_kills_everything(Cli::Claude, "claude_killed_by_timeout_leaves_no_process");
}

#[test]
fn codex_killed_by_timeout_leaves_no_process() {
    timeout_kills_everything(Cli::Codex, "codex_killed_by_timeout_leaves_no_process");
}

// ---------------------------------------------------------------------------------------------
// Pre-flight.

/// `teams doctor` (the same checks a run starts with) finds the real CLI installed, answering
/// `--version`, and ready: Claude through `claude auth status` with the API key, Codex through
/// its custom model provider, where `codex login status` would say "Not logged in".
fn doctor_sees_the_cli_ready(cli: Cli, test: &str) {
    let Some(clis) = real_clis(test) else { return };
    let project = Project::new(cli, clis, one_story_prd(), "", Scenario::default());
    let out = project.teams(&["doctor"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let version = match cli {
        Cli::Claude => &project.clis.claude_version,
        Cli::Codex => &project.clis.codex_version,
    };
    assert!(stdout.contains(version.as_str()), "{shown}");
    match cli {
        Cli::Claude => assert!(
            stdout.contains("ok       claude login: logged in"),
            "{shown}"
        ),
        Cli::Codex => assert!(
            stdout.contains("ok       codex login: uses the model provider `mock`"),
            "{shown}"
        ),
    }
    assert!(!shown.contains(DUMMY_KEY), "the key is never printed");
}

#[test]
fn claude_doctor_sees_the_cli_ready() {
    doctor_sees_the_cli_ready(Cli::Claude, "claude_doctor_sees_the_cli_ready");
}

#[test]
fn codex_doctor_sees_the_cli_ready() {
    doctor_sees_the_cli_ready(Cli::Codex, "codex_doctor_sees_the_cli_ready");
}
