//! `teams validate`, `teams status` and `teams config show` through the real binary, on good and
//! bad inputs. Human output is pinned with snapshots; every bad input also checks that no file was
//! modified.

mod common;

use common::{TestEnv, transcript};

fn run(env: &TestEnv, args: &[&str]) -> String {
    let output = env.teams().args(args).output().unwrap();
    transcript(env, &output)
}

/// Runs `teams` and asserts that the PRD file is byte-for-byte unchanged afterwards.
fn run_unchanged(env: &TestEnv, rel: &str, args: &[&str]) -> String {
    let before = std::fs::read(env.repo().join(rel)).ok();
    let out = run(env, args);
    let after = std::fs::read(env.repo().join(rel)).ok();
    assert_eq!(
        before,
        after,
        "{rel} was modified by `teams {}`",
        args.join(" ")
    );
    out
}

#[test]
fn validate_accepts_the_example_and_prints_waves() {
    let env = TestEnv::new();
    env.write("prd.json", include_bytes!("../prd.json.example"));
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["validate"]), @r"
    ----- stdout -----
    prd.json is valid: 4 epics, 9 stories, 3 waves
      wave 1: EPIC-001
      wave 2: EPIC-002, EPIC-003
      wave 3: EPIC-004
    ----- stderr -----
    [exit status: 0]
    ");
}

#[test]
fn validate_takes_a_path_and_quiet_silences_success() {
    let env = TestEnv::new();
    env.fixture("prd/valid.json", "plans/my-prd.json");
    let out = run(&env, &["validate", "plans/my-prd.json"]);
    assert!(out.contains("plans/my-prd.json is valid: 3 epics"), "{out}");
    insta::assert_snapshot!(run(&env, &["-q", "validate", "plans/my-prd.json"]), @r"
    ----- stdout -----
    ----- stderr -----
    [exit status: 0]
    ");
}

#[test]
fn validate_reports_every_problem_with_positions() {
    let env = TestEnv::new();
    env.fixture("prd/wrong-types.json", "prd.json");
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["validate"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: prd.json is invalid: 13 problems
      prd.json:3:17: branchName: expected a string or null, found a number
      prd.json:8:17: epics[0].status: unknown status `done`; expected one of: pending, running, completed, partial, failed, blocked, merge-failed
      prd.json:9:18: epics[0].planned: expected a boolean, found a string
      prd.json:10:20: epics[0].dependsOn: expected an array of strings, found a string
      prd.json:12:86: epics[0].userStories[0].priority: expected an integer, found a string
      prd.json:13:73: epics[0].userStories[1].acceptanceCriteria[1]: expected a string, found a number
      prd.json:13:89: epics[0].userStories[1].attempts: expected a count from 0 to 4294967295, found -1
      prd.json:14:84: epics[0].userStories[2].passes: expected a boolean, found a string
      prd.json:15:17: epics[0].userStories[3].id: expected a string, found a number
      prd.json:15:29: epics[0].userStories[3].title: expected a string, found an array
      prd.json:15:58: epics[0].userStories[3].acceptanceCriteria: expected an array of strings, found a string
      prd.json:15:74: epics[0].userStories[3].sim: expected an object, found a boolean
      prd.json:15:92: epics[0].userStories[3].priority: expected an integer, found 1.5
    [exit status: 3]
    ");
}

#[test]
fn validate_names_cycles_unknown_dependencies_and_duplicates() {
    let env = TestEnv::new();
    env.fixture("prd/cycle.json", "cycle.json");
    env.fixture("prd/dangling.json", "dangling.json");
    env.fixture("prd/duplicate-ids.json", "dup.json");
    insta::assert_snapshot!(run_unchanged(&env, "cycle.json", &["validate", "cycle.json"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: cycle.json is invalid: 2 problems
      cycle.json:4:55: epics[0].dependsOn[0]: dependency cycle: EPIC-001 → EPIC-003 → EPIC-001 (each epic depends on the next)
      cycle.json:10:56: epics[3].dependsOn[0]: epic `EPIC-004` depends on itself
    [exit status: 3]
    ");
    let out = run_unchanged(&env, "dangling.json", &["validate", "dangling.json"]);
    assert!(
        out.contains("unknown epic `EPIC-01`; did you mean `EPIC-001`?"),
        "{out}"
    );
    assert!(out.contains("[exit status: 3]"), "{out}");
    let out = run_unchanged(&env, "dup.json", &["validate", "dup.json"]);
    assert!(out.contains("duplicate ID `US-001`"), "{out}");
    assert!(out.contains("[exit status: 3]"), "{out}");
}

#[test]
fn validate_rejects_empty_criteria_and_missing_fields() {
    let env = TestEnv::new();
    env.fixture("prd/empty-criteria.json", "a.json");
    env.fixture("prd/missing-fields.json", "b.json");
    let out = run_unchanged(&env, "a.json", &["validate", "a.json"]);
    assert!(
        out.contains("the story has no acceptance criteria"),
        "{out}"
    );
    let out = run_unchanged(&env, "b.json", &["validate", "b.json"]);
    assert!(out.contains("missing required field `project`"), "{out}");
    assert!(out.contains("[exit status: 3]"), "{out}");
}

#[test]
fn invalid_json_names_the_line_and_column() {
    let env = TestEnv::new();
    env.fixture("prd/syntax-error.json", "prd.json");
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["validate"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: prd.json:7:7: invalid JSON: expected `,` or `}` after object member (is a `,` missing at the end of line 6?)
    hint: fix the JSON at that position, then run `teams validate`
    [exit status: 3]
    ");
}

#[test]
fn a_json_array_is_not_a_prd() {
    let env = TestEnv::new();
    env.write("prd.json", "[1, 2]\n");
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["validate"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: prd.json is invalid: 1 problem
      prd.json:1:1: prd.json must be a JSON object with `project` and `epics`; found an array
    [exit status: 3]
    ");
}

#[test]
fn a_missing_file_and_a_directory_get_hints() {
    let env = TestEnv::new();
    insta::assert_snapshot!(run(&env, &["validate"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: failed to read prd.json: no such file
    hint: create it (`prd.json.example` in the teams repository is a complete example), or pass `--prd PATH`
    [exit status: 3]
    ");
    std::fs::create_dir_all(env.repo().join("prd.json")).unwrap();
    insta::assert_snapshot!(run(&env, &["status"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: failed to read prd.json: it is a directory
    hint: pass the PRD file itself with `--prd PATH`
    [exit status: 3]
    ");
}

#[test]
fn a_50_mb_file_is_refused_without_reading_it() {
    let env = TestEnv::new();
    let path = env.write("prd.json", "");
    // A sparse file: 50 MB on paper, nothing on disk, so the test is cheap.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(50 * 1000 * 1000)
        .unwrap();
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["validate"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: refusing to read prd.json: it is 47.7 MiB, over the 16 MiB limit for a PRD
    hint: check the path: a PRD is a few kilobytes of JSON; pass the right one with `--prd PATH`
    [exit status: 3]
    ");
}

#[test]
fn a_non_utf8_file_names_the_first_bad_byte() {
    let env = TestEnv::new();
    env.write("prd.json", b"{\n  \"project\": \"caf\xe9\"\n}\n");
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["validate"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: prd.json:2:18: the file is not valid UTF-8
    hint: save the file as UTF-8 (it may be UTF-16 or Latin-1, or not a text file)
    [exit status: 3]
    ");
}

#[test]
fn an_unreadable_file_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let path = env.write("prd.json", include_bytes!("../prd.json.example"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = run(&env, &["validate"]);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    if unsafe { libc::geteuid() } == 0 {
        // root reads through mode 000, so the permission error cannot happen; a path through a
        // regular file (ENOTDIR) exercises the same "cannot read" path instead.
        let out = run(&env, &["--prd", "prd.json/inner.json", "validate"]);
        assert!(
            out.contains("error: failed to read prd.json/inner.json"),
            "{out}"
        );
        assert!(out.contains("[exit status: 3]"), "{out}");
    } else {
        assert!(
            out.contains("failed to read prd.json: permission denied"),
            "{out}"
        );
        assert!(out.contains("[exit status: 3]"), "{out}");
    }
    assert_eq!(env.read("prd.json"), include_bytes!("../prd.json.example"));
}

#[test]
fn validate_json_reports_problems_for_scripts() {
    let env = TestEnv::new();
    env.fixture("prd/cycle.json", "prd.json");
    let output = env.teams().args(["validate", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["problems"][0]["line"], 4);
    assert_eq!(report["problems"][0]["path"], "epics[0].dependsOn[0]");

    env.write("prd.json", include_bytes!("../prd.json.example"));
    let output = env.teams().args(["validate", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["stories"], 9);
    assert_eq!(
        report["waves"][1],
        serde_json::json!(["EPIC-002", "EPIC-003"])
    );
}

#[test]
fn status_shows_passes_attempts_shas_and_failures() {
    let env = TestEnv::new();
    env.fixture("prd/with-results.json", "prd.json");
    insta::assert_snapshot!(run_unchanged(&env, "prd.json", &["status"]), @r"
    ----- stdout -----
    Linkshelf (prd.json): 3 epics, 5 stories — 3 passed, 1 failed, 1 pending

    EPIC-001  Bookmark storage                          completed    2/2 passed
      ✓ US-001    Bookmark table and migration              1 attempt   4f2a9c1
      ✓ US-002    Bookmark repository                       2 attempts  9b8c7d6

    EPIC-002  HTTP API                                  partial      1/2 passed  needs EPIC-001
      1 of 2 stories failed
      ✗ US-003    Create and list bookmarks                 2 attempts  failed: validator: POST /bookmarks returns 200, the criterion asks for 201; n…
      ✓ US-004    Delete a bookmark                         1 attempt   1a2b3c4

    EPIC-003  Search                                    blocked      0/1 passed  needs EPIC-002
      blocked: dependency EPIC-002 is partial
      · US-005    Search endpoint                                       pending

    next: teams run
    ----- stderr -----
    [exit status: 0]
    ");
}

#[test]
fn status_json_is_machine_readable() {
    let env = TestEnv::new();
    env.fixture("prd/with-results.json", "prd.json");
    let output = env.teams().args(["status", "--json"]).output().unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["totals"]["passed"], 3);
    assert_eq!(report["totals"]["failed"], 1);
    assert_eq!(report["epics"][1]["status"], "partial");
    assert_eq!(report["epics"][1]["stories"][0]["state"], "failed");
    assert_eq!(report["epics"][0]["stories"][1]["attempts"], 2);
    assert_eq!(
        report["epics"][0]["stories"][0]["commitSha"],
        "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"
    );
}

#[test]
fn status_on_an_invalid_prd_points_to_validate() {
    let env = TestEnv::new();
    env.fixture("prd/wrong-types.json", "prd.json");
    let out = run_unchanged(&env, "prd.json", &["status"]);
    assert!(
        out.contains("error: prd.json is invalid: 13 problems"),
        "{out}"
    );
    assert!(out.contains("… and 8 more"), "{out}");
    assert!(
        out.contains("hint: run `teams validate` to see all problems"),
        "{out}"
    );
    assert!(out.contains("[exit status: 3]"), "{out}");
}

#[test]
fn dash_c_works_in_another_directory() {
    let env = TestEnv::new();
    env.git_init();
    env.write("prd.json", include_bytes!("../prd.json.example"));
    std::fs::create_dir_all(env.repo().join("sub")).unwrap();
    let output = env
        .teams()
        .current_dir(env.root())
        .args(["-C", "repo/sub", "validate"])
        .output()
        .unwrap();
    let out = transcript(&env, &output);
    assert!(out.contains("repo/prd.json is valid: 4 epics"), "{out}");
    let out = run(&env, &["-C", "no/such/dir", "status"]);
    assert!(out.contains("[exit status: 2]"), "{out}");
}

#[test]
fn config_show_lists_sources_and_rejects_typos() {
    let env = TestEnv::new();
    env.write(
        "teams.toml",
        "parallel = 3\n\n[roles.builder]\nmodel = \"sonnet\"\n",
    );
    let output = env
        .teams()
        .env("TEAMS_MAX_ATTEMPTS", "3")
        .args(["config", "show"])
        .output()
        .unwrap();
    let out = transcript(&env, &output);
    assert!(out.contains("parallel = 3 (teams.toml:1)"), "{out}");
    assert!(
        out.contains("max_attempts = 3 (env TEAMS_MAX_ATTEMPTS)"),
        "{out}"
    );
    assert!(
        out.contains("roles.builder.model = sonnet (teams.toml:4)"),
        "{out}"
    );
    assert!(out.contains("backend = claude (default)"), "{out}");

    env.write(
        "teams.toml",
        "backend = \"claude\"\n\n[roles.builder]\ntimout = \"10m\"\n",
    );
    insta::assert_snapshot!(run_unchanged(&env, "teams.toml", &["config", "show"]), @r"
    ----- stdout -----
    ----- stderr -----
    error: teams.toml:4:1: unknown key `timout` in [roles.builder]
    hint: did you mean `timeout`?
    [exit status: 2]
    ");
}

#[test]
fn help_lists_only_working_commands_and_completions_generate() {
    let env = TestEnv::new();
    let output = env.teams().arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "run",
            "resume",
            "demo",
            "reset",
            "validate",
            "status",
            "logs",
            "clean",
            "config",
            "doctor",
            "notify",
            "completions",
            "plan",
            "init",
            "discuss",
            "backlog",
            "sprint",
            "help"
        ]
    );
    for shell in ["bash", "zsh", "fish"] {
        let output = env.teams().args(["completions", shell]).output().unwrap();
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(
            script.contains("validate") && script.contains("status"),
            "{shell}"
        );
    }
    let out = run(&env, &["frobnicate"]);
    assert!(out.contains("[exit status: 2]"), "{out}");
}
