//! `teams run`'s setup faults (spec §4.1, §10) and `teams demo`, through the real binary in real
//! temporary git repositories. Every refusal must exit with the right code, say what is wrong with
//! a `hint:`, and leave everything of the user's as it was: `prd.json`, the branches, HEAD and the
//! working tree (`.teams/` aside, which ignores itself).

mod common;

#[path = "common/fake_agent.rs"]
mod fake_agent;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::TestEnv;

/// One epic, one story: the smallest valid PRD. Its project slug is `demo-app`.
const PRD: &str = r#"{"project":"Demo App","epics":[{"id":"EPIC-1","title":"One","userStories":[{"id":"US-1","title":"A","acceptanceCriteria":["c1"]}]}]}"#;

/// The branches a run of [`PRD`] may create.
const TEAMS_BRANCHES: &str = "refs/heads/teams/demo-app/";

/// `git` in `dir` with the test's hermetic environment; panics on failure, returns stdout.
fn git_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let output = env
        .command("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?} failed in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

fn git(env: &TestEnv, args: &[&str]) -> String {
    git_in(env, &env.repo(), args)
}

/// A repository on `main` with `prd.json` committed.
fn repo_with_prd(env: &TestEnv) -> std::path::PathBuf {
    repo_with_prd_text(env, PRD)
}

/// A repository on `main` with `doc` committed as `prd.json`; returns the PRD's path.
fn repo_with_prd_text(env: &TestEnv, doc: &str) -> std::path::PathBuf {
    env.git_init();
    let prd = env.write("prd.json", doc);
    git(env, &["add", "prd.json"]);
    git(env, &["commit", "-q", "-m", "the PRD"]);
    prd
}

/// What of the user's must survive a refused run.
#[derive(Debug, PartialEq)]
struct UserState {
    prd: Vec<u8>,
    head: String,
    branches: Vec<(String, String)>,
    status: Vec<String>,
}

impl UserState {
    /// Reads the state of the repository at `env.repo()`, whose PRD is `prd`.
    fn capture(env: &TestEnv, prd: &Path) -> UserState {
        let head = format!(
            "{} {}",
            git(env, &["rev-parse", "HEAD"]),
            // Empty when detached.
            env.command("git")
                .args(["symbolic-ref", "-q", "HEAD"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap()
        );
        let branches = git(
            env,
            &[
                "for-each-ref",
                "--format=%(refname) %(objectname)",
                "refs/heads",
            ],
        )
        .lines()
        .map(|line| {
            let (name, sha) = line.split_once(' ').unwrap();
            (name.to_owned(), sha.to_owned())
        })
        .collect();
        let status = git(env, &["status", "--porcelain", "--untracked-files=all"])
            .lines()
            .filter(|line| !line[3..].starts_with(".teams/"))
            .map(str::to_owned)
            .collect();
        UserState {
            prd: std::fs::read(prd).unwrap(),
            head,
            branches,
            status,
        }
    }

    /// Asserts nothing of the user's changed since `self` and returns the branches the run
    /// created (which must all be teams' own).
    fn assert_unchanged(&self, env: &TestEnv, prd: &Path) -> Vec<String> {
        let now = UserState::capture(env, prd);
        assert!(
            self.prd == now.prd,
            "prd.json changed:\n{}",
            String::from_utf8_lossy(&now.prd)
        );
        assert_eq!(self.head, now.head, "HEAD moved");
        assert_eq!(self.status, now.status, "`git status` changed");
        for (name, sha) in &self.branches {
            let after = now.branches.iter().find(|(n, _)| n == name);
            assert_eq!(
                after.map(|(_, s)| s),
                Some(sha),
                "branch {name} was moved or deleted"
            );
        }
        let created: Vec<String> = now
            .branches
            .iter()
            .filter(|(n, _)| !self.branches.iter().any(|(b, _)| b == n))
            .map(|(n, _)| n.clone())
            .collect();
        for name in &created {
            assert!(
                name.starts_with(TEAMS_BRANCHES),
                "the run created a branch outside teams': {name}"
            );
        }
        created
    }
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

fn stderr(env: &TestEnv, output: &Output) -> String {
    redact_shas(&env.normalize(&String::from_utf8_lossy(&output.stderr)))
}

/// Replaces full commit SHAs (which depend on the commit time) with `[SHA]`.
fn redact_shas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 40 { "[SHA]" } else { &run });
        run.clear();
        out.push(c);
    }
    out.push_str(if run.len() == 40 { "[SHA]" } else { &run });
    out
}

fn stdout(env: &TestEnv, output: &Output) -> String {
    env.normalize(&String::from_utf8_lossy(&output.stdout))
}

/// Asserts the exit code and that stderr carries a hint; returns the normalized stderr.
fn refused(env: &TestEnv, output: &Output, expected: i32) -> String {
    let err = stderr(env, output);
    assert_eq!(
        code(output),
        Some(expected),
        "stdout:\n{}\nstderr:\n{err}",
        stdout(env, output)
    );
    assert!(
        err.lines().any(|l| l.starts_with("hint: ")),
        "no hint:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // The summary is for runs that ran; a refused one prints nothing on stdout.
    assert_eq!(stdout(env, output), "", "{err}");
    err
}

fn run_sim(env: &TestEnv) -> Output {
    env.teams()
        .args(["run", "--backend", "sim"])
        .output()
        .unwrap()
}

#[test]
fn not_a_git_repository() {
    let env = TestEnv::new();
    let prd = env.write("prd.json", PRD);
    let output = run_sim(&env);
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    error: [TMP]/repo is not inside a git repository
    hint: teams works in a git repository: `git init && git commit --allow-empty -m init`, or `-C DIR` to point at one
    ");
    assert_eq!(std::fs::read(&prd).unwrap(), PRD.as_bytes());
    assert!(!env.repo().join(".teams").exists());
    assert!(!env.repo().join(".git").exists());
}

#[test]
fn a_bare_repository() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    let bare = env.root().join("bare.git");
    git_in(
        &env,
        env.root(),
        &["clone", "-q", "--bare", "repo", "bare.git"],
    );
    let refs_before = git_in(&env, &bare, &["for-each-ref"]);
    let prd = env.repo().join("prd.json");
    let output = env
        .teams()
        .arg("-C")
        .arg(&bare)
        .arg("--prd")
        .arg(&prd)
        .args(["run", "--backend", "sim"])
        .output()
        .unwrap();
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    error: [TMP]/bare.git is a bare repository; teams needs a working tree
    hint: clone it (`git clone <bare> <dir>`) and run teams in the clone
    ");
    assert_eq!(std::fs::read(&prd).unwrap(), PRD.as_bytes());
    assert_eq!(git_in(&env, &bare, &["for-each-ref"]), refs_before);
    assert!(!bare.join(".teams").exists());
    assert!(!bare.join("worktrees").exists());
}

#[test]
fn a_repository_without_commits() {
    let env = TestEnv::new();
    git(&env, &["init", "-q", "-b", "main"]);
    let prd = env.write("prd.json", PRD);
    let output = run_sim(&env);
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    error: the repository at [TMP]/repo has no commits yet
    hint: make a first commit (`git commit --allow-empty -m init`); worktrees start from it
    ");
    assert_eq!(std::fs::read(&prd).unwrap(), PRD.as_bytes());
    assert_eq!(git(&env, &["for-each-ref", "refs/heads"]), "");
    assert_eq!(git(&env, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(git(&env, &["status", "--porcelain"]), "?? prd.json");
}

#[test]
fn a_detached_head_is_no_base() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    git(&env, &["checkout", "-q", "--detach"]);
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = run_sim(&env);
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    error: HEAD is detached, so there is no base branch to build on
    hint: switch to a branch (`git switch <branch>`) or set `branchName` in the PRD
    ");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
}

#[test]
fn branch_name_names_a_missing_branch() {
    let env = TestEnv::new();
    let doc = PRD.replacen('{', r#"{"branchName":"release","#, 1);
    let prd = repo_with_prd_text(&env, &doc);
    let before = UserState::capture(&env, &prd);
    let output = run_sim(&env);
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    error: the base branch `release` named by `branchName` in the PRD does not exist
    hint: create it (`git branch release`) or change `branchName` in the PRD to an existing branch
    ");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
}

#[test]
fn the_integration_branch_name_is_taken() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    git(&env, &["branch", "teams/demo-app"]);
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = run_sim(&env);
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    error: the integration branch `teams/demo-app/main` cannot be created: the branch `teams/demo-app` exists
    hint: git cannot hold both; rename that branch (`git branch -m teams/demo-app <new-name>`) or change `project` in the PRD
    ");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
}

#[test]
fn the_unit_branch_name_is_taken() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    git(&env, &["branch", "teams/demo-app/unit"]);
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = env
        .teams()
        .env("__TEAMS_RUN_ID", "fixed")
        .args(["run", "--backend", "sim"])
        .output()
        .unwrap();
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    run fixed: main → teams/demo-app/main — simulation (sim backend)
    1 unit (1 at a time), 1 story, up to 2 attempts each
    error: the unit branch `teams/demo-app/unit/EPIC-1` cannot be created: the branch `teams/demo-app/unit` exists
    hint: git cannot hold both; rename that branch (`git branch -m teams/demo-app/unit <new-name>`) or delete it
    ");
    assert_eq!(
        before.assert_unchanged(&env, &prd),
        ["refs/heads/teams/demo-app/main"]
    );
}

#[test]
fn the_worktree_path_already_exists() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    let mine = env.write(".teams/worktrees/fixed/EPIC-1/notes.txt", "mine\n");
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = env
        .teams()
        .env("__TEAMS_RUN_ID", "fixed")
        .args(["run", "--backend", "sim"])
        .output()
        .unwrap();
    insta::assert_snapshot!(refused(&env, &output, 4), @"
    run fixed: main → teams/demo-app/main — simulation (sim backend)
    1 unit (1 at a time), 1 story, up to 2 attempts each
    error: the worktree path [TMP]/repo/.teams/worktrees/fixed/EPIC-1 already exists
    hint: remove it (it is not a worktree teams knows), then run again
    ");
    // The run got as far as its own branches; nothing else of the user's moved.
    let created = before.assert_unchanged(&env, &prd);
    assert!(
        created.iter().all(|b| b == "refs/heads/teams/demo-app/main"
            || b == "refs/heads/teams/demo-app/unit/EPIC-1"),
        "{created:?}"
    );
    let dir = mine.parent().unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["notes.txt"]);
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine\n");
}

#[test]
fn the_integration_branch_diverged_from_the_base() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    // teams/demo-app/main from the first commit, with a commit of its own…
    git(&env, &["branch", "teams/demo-app/main", "HEAD~1"]);
    let side = env.root().join("side");
    git(
        &env,
        &[
            "worktree",
            "add",
            "-q",
            side.to_str().unwrap(),
            "teams/demo-app/main",
        ],
    );
    std::fs::write(side.join("side.txt"), "side\n").unwrap();
    git_in(&env, &side, &["add", "side.txt"]);
    git_in(
        &env,
        &side,
        &["commit", "-q", "-m", "on the integration branch"],
    );
    git(&env, &["worktree", "remove", side.to_str().unwrap()]);
    // …and one more on main.
    env.write("more.txt", "more\n");
    git(&env, &["add", "more.txt"]);
    git(&env, &["commit", "-q", "-m", "more on main"]);
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = run_sim(&env);
    let err = refused(&env, &output, 4);
    insta::assert_snapshot!(err, @"
    error: the integration branch `teams/demo-app/main` and the base `main` have diverged
    hint: bring them together first, e.g. `git switch teams/demo-app/main && git merge main`, then run again
    ");
    assert!(err.contains("git merge main"), "{err}");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
}

#[test]
fn the_integration_branch_is_the_users_checkout() {
    let env = TestEnv::new();
    let doc = PRD.replacen('{', r#"{"branchName":"main","#, 1);
    let prd = repo_with_prd_text(&env, &doc);
    // The integration branch is behind main (a run would fast-forward it) and the user has it
    // checked out: moving it would change their checkout, and no merge could check it out.
    git(&env, &["branch", "teams/demo-app/main"]);
    env.write("more.txt", "more\n");
    git(&env, &["add", "more.txt"]);
    git(&env, &["commit", "-q", "-m", "more on main"]);
    git(&env, &["switch", "-q", "teams/demo-app/main"]);
    let before = UserState::capture(&env, &prd);
    let output = run_sim(&env);
    let err = refused(&env, &output, 4);
    insta::assert_snapshot!(err, @"
    error: the integration branch `teams/demo-app/main` is checked out at [TMP]/repo
    hint: teams merges into it in a worktree of its own: switch to another branch first (`git switch main`), then run again
    ");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
    assert_eq!(git(&env, &["status", "--porcelain"]), "");
}

#[test]
fn a_unit_branch_checked_out_in_a_dirty_worktree() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    let prd = env.repo().join("prd.json");
    let first = run_sim(&env);
    assert_eq!(code(&first), Some(0), "{}", stderr(&env, &first));
    // The user checks the unit branch out elsewhere and starts changing it.
    git(
        &env,
        &[
            "worktree",
            "add",
            "-q",
            "../wt",
            "teams/demo-app/unit/EPIC-1",
        ],
    );
    let wt = env.root().join("wt");
    std::fs::write(wt.join("wip.txt"), "unfinished\n").unwrap();
    std::fs::write(wt.join("README.md"), "edited\n").unwrap();
    // US-1 pending again.
    std::fs::write(&prd, PRD).unwrap();
    let before = UserState::capture(&env, &prd);
    let worktrees_before = git(&env, &["worktree", "list", "--porcelain"]);
    let output = env
        .teams()
        .env("__TEAMS_RUN_ID", "again")
        .args(["run", "--backend", "sim"])
        .output()
        .unwrap();
    let err = refused(&env, &output, 4);
    insta::assert_snapshot!(err, @"
    run again: main → teams/demo-app/main — simulation (sim backend)
    1 unit (1 at a time), 1 story, up to 2 attempts each
    error: the unit branch `teams/demo-app/unit/EPIC-1` is checked out at [TMP]/wt
    hint: commit or discard the work there and remove it: `git worktree remove [TMP]/wt`
    ");
    assert!(err.contains("teams/demo-app/unit/EPIC-1"), "{err}");
    assert!(err.contains("[TMP]/wt"), "{err}");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
    assert_eq!(
        git(&env, &["worktree", "list", "--porcelain"]),
        worktrees_before
    );
    assert_eq!(
        std::fs::read_to_string(wt.join("wip.txt")).unwrap(),
        "unfinished\n"
    );
    assert_eq!(
        git_in(&env, &wt, &["status", "--porcelain"]),
        " M README.md\n?? wip.txt"
    );
    assert_eq!(
        std::fs::read_to_string(wt.join("README.md")).unwrap(),
        "edited\n"
    );
}

#[test]
fn an_agent_cli_that_is_not_logged_in() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    let bin = fake_agent::install_as_claude(&env.root().join("bin"));
    let script = env.root().join("script.json");
    std::fs::write(&script, r#"{"rules": [], "logged_in": false}"#).unwrap();
    let record = env.root().join("record.jsonl");
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = env
        .teams()
        .env("PATH", fake_agent::path_with(&bin))
        .env("TEAMS_FAKE_SCRIPT", &script)
        .env("TEAMS_FAKE_RECORD", &record)
        .arg("run")
        .output()
        .unwrap();
    let err = refused(&env, &output, 4);
    insta::assert_snapshot!(err, @"
    error: an agent CLI this run needs is not ready
      claude login: not logged in: `claude auth status` says loggedIn: false (authMethod: none)
    hint: run `claude` once and log in (or `claude auth login`), or set ANTHROPIC_API_KEY
    hint: `teams doctor` shows every check
    ");
    assert!(err.contains("claude login"), "{err}");
    before.assert_unchanged(&env, &prd);
    // The CLIs are checked before anything is created: no `.teams/`, no branch.
    assert!(!env.repo().join(".teams").exists());
    assert_eq!(git(&env, &["branch", "--list", "teams/*"]), "");
    // Only checks ran: no agent was given a prompt.
    let calls = teams_fake_agent::read_invocations(&record).unwrap_or_default();
    assert!(
        calls.iter().all(|c| c.mode != "print"),
        "an agent ran: {calls:?}"
    );
}

#[test]
fn an_unknown_epic_is_a_usage_error() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = env
        .teams()
        .args(["run", "--backend", "sim", "--epic", "NOPE"])
        .output()
        .unwrap();
    let err = refused(&env, &output, 2);
    insta::assert_snapshot!(err, @"
    error: the PRD has no epic `NOPE`
    hint: epics: EPIC-1
    ");
    assert!(err.contains("EPIC-1"), "{err}");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
    assert!(!env.repo().join(".teams").exists());
}

#[test]
fn dry_run_prints_the_schedule_and_changes_nothing() {
    let env = TestEnv::new();
    repo_with_prd(&env);
    let prd = env.repo().join("prd.json");
    let before = UserState::capture(&env, &prd);
    let output = env
        .teams()
        .args(["run", "--backend", "sim", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(code(&output), Some(0), "{}", stderr(&env, &output));
    insta::assert_snapshot!(stdout(&env, &output), @"
    dry run: nothing is started; 1 pending story to build
      wave 1: EPIC-1
    critical path: EPIC-1
    ");
    assert_eq!(before.assert_unchanged(&env, &prd), Vec::<String>::new());
    assert!(!env.repo().join(".teams").exists());
}

/// The one `teams-demo-*` directory under `parent`.
fn demo_repo(parent: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("teams-demo-"))
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

#[test]
fn the_demo_runs_the_loop_end_to_end() {
    let env = TestEnv::new();
    // `--dir` may name a directory that does not exist yet.
    let parent = env.root().join("demos/new");
    let output = env
        .teams()
        .arg("demo")
        .arg("--dir")
        .arg(&parent)
        .args(["--agent-ms", "0"])
        .output()
        .unwrap();
    let out = stdout(&env, &output);
    assert_eq!(code(&output), Some(0), "{out}\n{}", stderr(&env, &output));
    assert!(out.contains("DONE: 3/3 stories passed"), "{out}");
    let repo = demo_repo(&parent);
    assert!(
        out.contains(&env.normalize(&repo.display().to_string())),
        "{out}"
    );
    // The configured identity is used: no fallback warning.
    assert!(
        !stderr(&env, &output).contains("teams@localhost"),
        "{}",
        stderr(&env, &output)
    );

    git_in(
        &env,
        &repo,
        &["rev-parse", "--verify", "refs/teams/failed/US-002/1"],
    );
    let prd: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join("prd.json")).unwrap()).unwrap();
    let stories: Vec<&serde_json::Value> = prd["epics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["userStories"].as_array().unwrap())
        .collect();
    assert_eq!(stories.len(), 3);
    for story in &stories {
        assert_eq!(story["passes"], true, "{story}");
        let sha = story["commitSha"]
            .as_str()
            .unwrap_or_else(|| panic!("{story}"));
        git_in(
            &env,
            &repo,
            &["merge-base", "--is-ancestor", sha, "teams/greeter/main"],
        );
        let expected_attempts = if story["id"] == "US-002" { 2 } else { 1 };
        assert_eq!(story["attempts"], expected_attempts, "{story}");
    }
    let merges = git_in(
        &env,
        &repo,
        &["log", "--merges", "--format=%s", "teams/greeter/main"],
    );
    let merges: Vec<&str> = merges.lines().collect();
    assert!(
        merges.contains(&"teams: merge EPIC-001 Greeting core"),
        "{merges:?}"
    );
    assert!(
        merges.contains(&"teams: merge EPIC-002 Command line"),
        "{merges:?}"
    );
    // The user's branch is where the demo made it.
    let roots = git_in(
        &env,
        &repo,
        &["rev-list", "--max-parents=0", "teams/greeter/main"],
    );
    assert_eq!(git_in(&env, &repo, &["rev-parse", "main"]), roots);
    assert_eq!(git_in(&env, &repo, &["rev-list", "--count", "main"]), "1");
}

#[test]
fn the_demo_works_without_a_git_identity() {
    let env = TestEnv::new();
    let parent = env.root().join("demos");
    std::fs::create_dir_all(&parent).unwrap();
    let output = env
        .teams()
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .arg("demo")
        .arg("--dir")
        .arg(&parent)
        .args(["--agent-ms", "0"])
        .output()
        .unwrap();
    let err = stderr(&env, &output);
    let out = stdout(&env, &output);
    assert_eq!(code(&output), Some(0), "{out}\n{err}");
    assert!(out.contains("DONE: 3/3 stories passed"), "{out}");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("warning") && l.contains("`teams <teams@localhost>`"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "the fallback identity is told once:\n{err}"
    );
    let repo = demo_repo(&parent);
    let idents = git_in(
        &env,
        &repo,
        &["log", "--all", "--format=%an <%ae> / %cn <%ce>"],
    );
    for line in idents.lines() {
        assert_eq!(line, "teams <teams@localhost> / teams <teams@localhost>");
    }
}
