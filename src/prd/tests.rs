//! Loading, problems, edits and saves, against the fixtures in `tests/fixtures/prd/`.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::plan;

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prd")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(fixture_path(name)).expect("fixture exists")
}

/// The problems of an invalid fixture, one per line, as `teams validate` would list them.
fn problems_of(name: &str) -> String {
    match PrdDocument::parse(fixture(name), name) {
        Ok(_) => panic!("{name} should be invalid"),
        Err(LoadError::Invalid { problems, .. }) => problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        Err(other) => panic!("{name}: expected problems, got {other}"),
    }
}

/// A copy of a fixture in a fresh directory, for tests that save.
fn scratch_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prd.json");
    fs::write(&path, fixture(name)).expect("write fixture copy");
    (dir, path)
}

#[test]
fn loads_the_typed_view() {
    let doc = PrdDocument::load(fixture_path("valid.json")).expect("valid.json loads");
    let prd = doc.prd();
    assert_eq!(prd.project, "TaskBoard");
    assert_eq!(prd.branch_name.as_deref(), Some("main"));
    let ids: Vec<&str> = prd.epics.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["EPIC-001", "EPIC-002", "EPIC-003"]);
    let digest = &prd.epics[2];
    assert_eq!(
        digest.depends_on,
        [EpicId::new("EPIC-001"), EpicId::new("EPIC-002")]
    );
    assert_eq!(digest.status, EpicStatus::Pending);
    assert!(!digest.planned);
    assert_eq!(prd.epics[1].checks, ["npm test"]);
    let (epic, story) = prd.story("US-003").expect("US-003 exists");
    assert_eq!(epic.id.as_str(), "EPIC-002");
    assert!(story.sim_fail_first);
    assert_eq!(story.priority, Some(1));
    assert!(!prd.story("US-001").expect("exists").1.sim_fail_first);
    assert_eq!(
        digest.stories[1].acceptance_criteria,
        ["An email with the digest is sent every Monday at 08:00 local time"]
    );
    assert!(!doc.is_modified());
    assert_eq!(
        plan::waves(prd).expect("no cycle"),
        vec![
            vec![EpicId::new("EPIC-001"), EpicId::new("EPIC-002")],
            vec![EpicId::new("EPIC-003")]
        ]
    );
    assert_eq!(
        plan::critical_path(prd).expect("no cycle"),
        [EpicId::new("EPIC-001"), EpicId::new("EPIC-003")]
    );
}

#[test]
fn defaults_for_missing_optional_fields() {
    let doc = PrdDocument::parse(
        br#"{"project": "p", "epics": [{"id": "E", "title": "t", "status": null,
            "userStories": [{"id": "S", "title": "t", "acceptanceCriteria": ["c"],
            "failureReason": null, "priority": null, "sim": {}}]}]}"#
            .to_vec(),
        "prd.json",
    )
    .expect("minimal PRD loads");
    let epic = &doc.prd().epics[0];
    assert_eq!(epic.status, EpicStatus::Pending);
    assert!(!epic.planned && epic.depends_on.is_empty() && epic.checks.is_empty());
    assert_eq!(
        (epic.backend.as_deref(), epic.failure_reason.as_deref()),
        (None, None)
    );
    let story = &epic.stories[0];
    assert!(!story.passes && !story.sim_fail_first);
    assert_eq!(
        (story.attempts, story.priority, story.commit_sha.as_deref()),
        (0, None, None)
    );
    assert_eq!(story.description, "");
}

#[test]
fn reports_cycles_and_self_dependencies() {
    assert_eq!(
        problems_of("cycle.json"),
        "4:55: epics[0].dependsOn[0]: dependency cycle: EPIC-001 → EPIC-003 → EPIC-001 (each epic depends on the next)\n\
         10:56: epics[3].dependsOn[0]: epic `EPIC-004` depends on itself"
    );
}

#[test]
fn reports_unknown_dependencies_with_suggestions() {
    assert_eq!(
        problems_of("dangling.json"),
        "6:55: epics[1].dependsOn[0]: unknown epic `EPIC-01`; did you mean `EPIC-001`?\n\
         6:66: epics[1].dependsOn[1]: `US-001` is a story; `dependsOn` names epics\n\
         6:76: epics[1].dependsOn[2]: unknown epic `EPIC-999`"
    );
}

#[test]
fn reports_duplicate_ids_across_epics_and_stories() {
    let unique = "(IDs are unique across epics and stories)";
    assert_eq!(
        problems_of("duplicate-ids.json"),
        format!(
            "7:17: epics[0].userStories[1].id: duplicate ID `US-001`: the story at epics[0].userStories[0] (6:17) already uses it {unique}\n\
             9:13: epics[1].id: duplicate ID `EPIC-001`: the epic at epics[0] (4:13) already uses it {unique}\n\
             11:13: epics[2].id: duplicate ID `EPIC-002`: the story at epics[1].userStories[0] (10:32) already uses it {unique}"
        )
    );
}

#[test]
fn reports_every_wrong_type_at_once() {
    assert_eq!(
        problems_of("wrong-types.json"),
        "3:17: branchName: expected a string or null, found a number\n\
         8:17: epics[0].status: unknown status `done`; expected one of: pending, running, completed, partial, failed, blocked, merge-failed\n\
         9:18: epics[0].planned: expected a boolean, found a string\n\
         10:20: epics[0].dependsOn: expected an array of strings, found a string\n\
         12:86: epics[0].userStories[0].priority: expected an integer, found a string\n\
         13:73: epics[0].userStories[1].acceptanceCriteria[1]: expected a string, found a number\n\
         13:89: epics[0].userStories[1].attempts: expected a count from 0 to 4294967295, found -1\n\
         14:84: epics[0].userStories[2].passes: expected a boolean, found a string\n\
         15:17: epics[0].userStories[3].id: expected a string, found a number\n\
         15:29: epics[0].userStories[3].title: expected a string, found an array\n\
         15:58: epics[0].userStories[3].acceptanceCriteria: expected an array of strings, found a string\n\
         15:74: epics[0].userStories[3].sim: expected an object, found a boolean\n\
         15:92: epics[0].userStories[3].priority: expected an integer, found 1.5"
    );
}

#[test]
fn reports_a_root_that_is_not_an_object() {
    assert_eq!(
        problems_of("array-root.json"),
        "1:1: prd.json must be a JSON object with `project` and `epics`; found an array"
    );
}

#[test]
fn reports_missing_fields_and_misspelled_keys() {
    assert_eq!(
        problems_of("missing-fields.json"),
        "1:1: missing required field `project`\n\
         3:5: epics[0]: missing required field `id`\n\
         4:24: epics[0].userStories[0]: missing required field `title`\n\
         5:5: epics[1]: missing required field `title`\n\
         6:24: epics[1].userStories[0]: missing required field `acceptanceCriteria`\n\
         6:24: epics[1].userStories[0]: missing required field `id`\n\
         7:5: epics[2]: missing required field `userStories`\n\
         7:48: epics[2].depends_on: unknown field `depends_on`; did you mean `dependsOn`?"
    );
}

#[test]
fn reports_empty_and_blank_parts() {
    assert_eq!(
        problems_of("empty-criteria.json"),
        "6:63: epics[0].userStories[0].acceptanceCriteria: the story has no acceptance criteria; the validator needs at least one to check\n\
         7:36: epics[0].userStories[1].title: must not be blank\n\
         7:74: epics[0].userStories[1].acceptanceCriteria[1]: must not be blank\n\
         9:56: epics[1].userStories: the epic has no stories; add at least one"
    );
    let empty = PrdDocument::parse(br#"{"project": "p", "epics": []}"#.to_vec(), "prd.json")
        .expect_err("no epics");
    assert_eq!(
        empty.problems()[0].to_string(),
        "1:27: epics: the PRD has no epics; add at least one"
    );
}

#[test]
fn reports_duplicate_keys() {
    let err = PrdDocument::parse(
        br#"{"project": "p", "project": "q", "epics": [{"id": "E", "title": "t",
            "userStories": [{"id": "S", "title": "t", "acceptanceCriteria": ["c"]}]}]}"#
            .to_vec(),
        "prd.json",
    )
    .expect_err("duplicate key");
    assert_eq!(
        err.problems()[0].to_string(),
        "1:18: project: duplicate key `project`; JSON tools disagree on which one counts"
    );
}

#[test]
fn syntax_and_encoding_errors_carry_positions() {
    let err = PrdDocument::load(fixture_path("syntax-error.json")).expect_err("bad JSON");
    let LoadError::Syntax {
        line,
        column,
        message,
        ..
    } = &err
    else {
        panic!("expected a syntax error, got {err:?}");
    };
    assert_eq!((*line, *column), (7, 7));
    assert_eq!(
        message,
        "expected `,` or `}` after object member (is a `,` missing at the end of line 6?)"
    );
    assert!(err.to_string().starts_with("failed to parse "), "{err}");
    assert!(err.to_string().contains("syntax-error.json:7:7: "), "{err}");

    let err = PrdDocument::parse(b"{\"project\": \"caf\xe9\"}".to_vec(), "prd.json")
        .expect_err("latin-1");
    assert_eq!(
        err.to_string(),
        "failed to read prd.json:1:17: the file is not valid UTF-8"
    );
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("prd.json");
    let err = PrdDocument::load(&missing).expect_err("missing");
    assert!(matches!(err, LoadError::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("failed to read {}: no such file", missing.display())
    );
    assert_eq!(err.path(), missing);

    let err = PrdDocument::load(dir.path()).expect_err("a directory");
    assert!(matches!(err, LoadError::IsDirectory { .. }), "{err:?}");

    // A sparse file: the size check must refuse it before reading 17 MiB.
    let big = dir.path().join("big.json");
    fs::File::create(&big)
        .and_then(|f| f.set_len(MAX_PRD_BYTES + 1))
        .expect("sparse file");
    let err = PrdDocument::load(&big).expect_err("too large");
    assert_eq!(
        err.to_string(),
        format!(
            "failed to read {}: the file is 16777217 bytes, larger than the 16 MiB limit for a PRD",
            big.display()
        )
    );
}

#[test]
fn saving_an_untouched_prd_keeps_its_bytes() {
    for name in ["valid.json", "non-canonical.json"] {
        let (_dir, path) = scratch_copy(name);
        let mut doc = PrdDocument::load(&path).expect("loads");
        doc.save().expect("saves");
        assert_eq!(fs::read(&path).expect("read back"), fixture(name), "{name}");
    }
}

#[test]
fn an_edit_that_changes_nothing_keeps_the_bytes() {
    let (_dir, path) = scratch_copy("non-canonical.json");
    let story = StoryId::new("US-001");
    let mut doc = PrdDocument::load(&path).expect("loads");
    // US-001 is already pending with nothing to clear: resetting it changes nothing.
    doc.reset_story(&story).expect("known story");
    assert!(!doc.is_modified());
    // An edit and its undo: the tree equals the loaded one again.
    doc.set_story_result(
        &story,
        StoryResult {
            passes: true,
            commit_sha: Some("abc".into()),
            attempts: 1,
            failure_reason: None,
        },
    )
    .expect("known story");
    assert!(doc.is_modified());
    doc.reset_story(&story).expect("known story");
    // The save writes the original bytes, not a reformatted file.
    doc.save().expect("saves");
    assert_eq!(
        fs::read(&path).expect("read back"),
        fixture("non-canonical.json")
    );
}

#[test]
fn edits_keep_unknown_fields_key_order_and_indentation() {
    let (_dir, path) = scratch_copy("non-canonical.json");
    let mut doc = PrdDocument::load(&path).expect("loads");
    doc.set_story_result(
        &StoryId::new("US-001"),
        StoryResult {
            passes: true,
            commit_sha: Some("0123abc".into()),
            attempts: 2,
            failure_reason: None,
        },
    )
    .expect("known story");
    doc.set_epic_status(&EpicId::new("EPIC-001"), EpicStatus::Completed, None)
        .expect("known epic");
    doc.save().expect("saves");
    let expected = r#"{
    "project": "Compact",
    "epics": [
        {
            "id": "EPIC-001",
            "title": "One",
            "dependsOn": [],
            "custom": {
                "keep": [
                    1,
                    2.50,
                    "x"
                ]
            },
            "userStories": [
                {
                    "id": "US-001",
                    "title": "a",
                    "acceptanceCriteria": [
                        "works",
                        "still works"
                    ],
                    "passes": true,
                    "commitSha": "0123abc",
                    "attempts": 2
                }
            ],
            "status": "completed"
        }
    ],
    "extra": true
}
"#;
    assert_eq!(fs::read_to_string(&path).expect("read back"), expected);
    assert!(!doc.is_modified());
    // The typed view matches what a fresh load of the saved file sees.
    let reloaded = PrdDocument::load(&path).expect("saved file loads");
    assert_eq!(reloaded.prd(), doc.prd());
}

#[test]
fn canonical_files_change_only_the_edited_lines() {
    let (_dir, path) = scratch_copy("valid.json");
    let mut doc = PrdDocument::load(&path).expect("loads");
    doc.set_story_result(
        &StoryId::new("US-003"),
        StoryResult {
            passes: false,
            commit_sha: None,
            attempts: 2,
            failure_reason: Some("criterion 2 not met: labels are not stored".into()),
        },
    )
    .expect("known story");
    doc.set_epic_status(
        &EpicId::new("EPIC-002"),
        EpicStatus::Failed,
        Some("no story passed".into()),
    )
    .expect("known epic");
    doc.set_epic_planned(&EpicId::new("EPIC-003"), true)
        .expect("known epic");
    doc.save().expect("saves");
    let before = String::from_utf8(fixture("valid.json")).expect("utf-8");
    let after = fs::read_to_string(&path).expect("read back");
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    // The file grows by the epic's failureReason and the story's attempts; the rest is the same
    // up to the first insertion.
    assert_eq!(after.lines().count(), before.lines().count() + 2);
    assert_eq!(
        changed[0],
        (
            r#"      "status": "pending","#,
            r#"      "status": "failed","#
        )
    );
    assert!(after.contains(
        "          \"failureReason\": \"criterion 2 not met: labels are not stored\",\n          \"sim\": {"
    ));
    assert!(after.contains("          },\n          \"attempts\": 2\n        }"));
    assert!(after.contains("      ],\n      \"failureReason\": \"no story passed\"\n    },"));
    assert!(
        after.contains("      \"planned\": true,\n      \"dependsOn\": [\n        \"EPIC-001\"")
    );
    assert!(after.contains("\"x-owner\": \"ana\""));
    let reloaded = PrdDocument::load(&path).expect("saved file loads");
    assert_eq!(reloaded.prd(), doc.prd());
    let (_, story) = reloaded.prd().story("US-003").expect("exists");
    assert_eq!(story.attempts, 2);
    assert_eq!(reloaded.prd().epics[1].status, EpicStatus::Failed);
}

#[test]
fn reset_epic_clears_stories_but_keeps_the_plan_flag() {
    let (_dir, path) = scratch_copy("valid.json");
    let mut doc = PrdDocument::load(&path).expect("loads");
    let epic = EpicId::new("EPIC-001");
    doc.set_epic_planned(&epic, true).expect("known");
    doc.set_epic_status(&epic, EpicStatus::Partial, Some("US-002 failed".into()))
        .expect("known");
    for (id, passes) in [("US-001", true), ("US-002", false)] {
        doc.set_story_result(
            &StoryId::new(id),
            StoryResult {
                passes,
                commit_sha: passes.then(|| "abc".to_owned()),
                attempts: 2,
                failure_reason: (!passes).then(|| "no".to_owned()),
            },
        )
        .expect("known");
    }
    doc.reset_epic(&epic).expect("known");
    let e = &doc.prd().epics[0];
    assert_eq!(
        (e.status, e.planned, e.failure_reason.as_deref()),
        (EpicStatus::Pending, true, None)
    );
    assert!(
        e.stories
            .iter()
            .all(|s| !s.passes && s.attempts == 0 && s.commit_sha.is_none())
    );
    let printed = String::from_utf8(doc.to_bytes()).expect("utf-8");
    assert!(!printed.contains("commitSha") && !printed.contains("attempts"));
    assert_eq!(
        printed.matches("\"failureReason\": null").count(),
        6,
        "{printed}"
    );
}

#[test]
fn edits_of_unknown_ids_fail() {
    let mut doc = PrdDocument::load(fixture_path("valid.json")).expect("loads");
    let err = doc
        .reset_story(&StoryId::new("US-404"))
        .expect_err("unknown");
    assert_eq!(err.to_string(), "failed to find story `US-404` in the PRD");
    let err = doc
        .set_epic_planned(&EpicId::new("US-001"), true)
        .expect_err("a story is not an epic");
    assert_eq!(err, EditError::UnknownEpic(EpicId::new("US-001")));
    assert!(!doc.is_modified());
}

#[test]
fn a_failed_save_leaves_the_original_untouched() {
    for step in ["create", "write", "sync", "rename"] {
        let (dir, path) = scratch_copy("valid.json");
        let mut doc = PrdDocument::load(&path).expect("loads");
        doc.set_epic_planned(&EpicId::new("EPIC-001"), true)
            .expect("known");
        save::FAIL_STEP.with(|f| f.set(Some(step)));
        let result = doc.save();
        save::FAIL_STEP.with(|f| f.set(None));
        let err = result.expect_err("injected failure");
        assert!(err.to_string().starts_with("failed to save "), "{err}");
        assert_eq!(
            fs::read(&path).expect("read"),
            fixture("valid.json"),
            "step {step}"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            leftovers,
            ["prd.json"],
            "no temporary file left after step {step}"
        );
        assert!(
            doc.is_modified(),
            "the edit is still pending after a failed save"
        );
        doc.save().expect("a later save succeeds");
        assert_ne!(fs::read(&path).expect("read"), fixture("valid.json"));
    }
}

#[test]
fn a_read_only_directory_fails_the_save_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = scratch_copy("valid.json");
    let mut doc = PrdDocument::load(&path).expect("loads");
    doc.set_epic_planned(&EpicId::new("EPIC-001"), true)
        .expect("known");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root ignores directory permissions; then there is nothing to observe here (the injected
    // failures above cover the same guarantee).
    let denied = fs::File::create(dir.path().join("probe")).is_err();
    let result = doc.save();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod back");
    if denied {
        let err = result.expect_err("directory is read-only");
        assert!(
            err.to_string()
                .contains("could not create a temporary file in"),
            "{err}"
        );
        assert_eq!(fs::read(&path).expect("read"), fixture("valid.json"));
    }
}

#[test]
fn saving_keeps_permissions_and_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, target) = scratch_copy("valid.json");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let mut doc = PrdDocument::load(&link).expect("loads through the link");
    doc.set_epic_planned(&EpicId::new("EPIC-001"), true)
        .expect("known");
    doc.save().expect("saves");
    assert!(
        fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    let mode = fs::metadata(&target).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert!(
        fs::read_to_string(&target)
            .expect("read")
            .contains("\"planned\": true")
    );
}

/// One write-back call, for the property test below.
#[derive(Debug, Clone)]
enum Edit {
    Result(usize, bool, Option<String>, u32, Option<String>),
    ResetStory(usize),
    Status(usize, EpicStatus, Option<String>),
    Planned(usize, bool),
    ResetEpic(usize),
}

fn arb_edit() -> impl proptest::strategy::Strategy<Value = Edit> {
    use proptest::prelude::*;
    let text = proptest::option::of("[a-z \"\\\\\n]{0,12}");
    let status = proptest::sample::select(EpicStatus::ALL.to_vec());
    prop_oneof![
        (
            0..5usize,
            any::<bool>(),
            text.clone(),
            0..4u32,
            text.clone()
        )
            .prop_map(|(s, p, sha, a, r)| Edit::Result(s, p, sha, a, r)),
        (0..5usize).prop_map(Edit::ResetStory),
        (0..3usize, status, text).prop_map(|(e, st, r)| Edit::Status(e, st, r)),
        (0..3usize, any::<bool>()).prop_map(|(e, p)| Edit::Planned(e, p)),
        (0..3usize).prop_map(Edit::ResetEpic),
    ]
}

proptest::proptest! {
    /// Whatever edits are made, the bytes a save would write load back into exactly the typed
    /// view the document holds, and the unknown field survives.
    #[test]
    fn edits_keep_tree_and_view_in_step(edits in proptest::collection::vec(arb_edit(), 0..12)) {
        let mut doc = PrdDocument::parse(fixture("valid.json"), "prd.json").expect("loads");
        let story_ids = ["US-001", "US-002", "US-003", "US-004", "US-005"];
        let epic_ids = ["EPIC-001", "EPIC-002", "EPIC-003"];
        for edit in edits {
            let applied = match edit {
                Edit::Result(s, passes, commit_sha, attempts, failure_reason) => doc.set_story_result(
                    &StoryId::new(story_ids[s]),
                    StoryResult { passes, commit_sha, attempts, failure_reason },
                ),
                Edit::ResetStory(s) => doc.reset_story(&StoryId::new(story_ids[s])),
                Edit::Status(e, status, reason) => doc.set_epic_status(&EpicId::new(epic_ids[e]), status, reason),
                Edit::Planned(e, planned) => doc.set_epic_planned(&EpicId::new(epic_ids[e]), planned),
                Edit::ResetEpic(e) => doc.reset_epic(&EpicId::new(epic_ids[e])),
            };
            proptest::prop_assert!(applied.is_ok());
        }
        let bytes = doc.to_bytes();
        let reloaded = PrdDocument::parse(bytes.clone(), "prd.json").expect("edited PRD loads");
        proptest::prop_assert_eq!(reloaded.prd(), doc.prd());
        proptest::prop_assert!(String::from_utf8(bytes).expect("utf-8").contains("\"x-owner\": \"ana\""));
    }
}

#[test]
fn ids_that_cannot_be_branch_or_file_names_are_rejected() {
    let err = PrdDocument::parse(
        br#"{"project": "p", "epics": [{"id": "E/1", "title": "t",
            "userStories": [{"id": "..", "title": "t", "acceptanceCriteria": ["c"]},
                            {"id": "US-1.ok_2", "title": "t", "acceptanceCriteria": ["c"]}]}]}"#
            .to_vec(),
        "prd.json",
    )
    .expect_err("bad ids");
    let problems: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("1:35: epics[0].id: ID `E/1` cannot be used"),
        "{}",
        problems[0]
    );
    assert!(problems[1].contains("epics[0].userStories[0].id: ID `..` cannot be used"));
}
