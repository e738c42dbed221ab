//! Loading, validating and editing `backlog.json`.

use super::*;

fn ids(epics: &[&str]) -> PrdIds {
    PrdIds {
        epics: epics.iter().map(|s| (*s).to_owned()).collect(),
        stories: ["US-1".to_owned()].into_iter().collect(),
    }
}

fn problems(text: &str) -> Vec<String> {
    match BacklogDocument::parse(text, "backlog.json", Some(&ids(&["EPIC-1"]))) {
        Ok(_) => Vec::new(),
        Err(err) => {
            let mut out = vec![err.to_string()];
            out.extend(err.problems().iter().map(|p| p.to_string()));
            out
        }
    }
}

#[test]
fn a_valid_backlog_loads_with_defaults() {
    let doc = BacklogDocument::parse(
        r#"{"items": [{"id": "B-001", "title": "Fix it", "acceptanceCriteria": ["fixed"],
             "dependsOn": ["EPIC-1"], "custom": 1}]}"#,
        "backlog.json",
        Some(&ids(&["EPIC-1"])),
    )
    .unwrap();
    let item = &doc.backlog().items[0];
    assert_eq!(item.kind, ItemKind::Enhancement);
    assert_eq!(item.status, ItemStatus::Pending);
    assert_eq!(item.rank, 0);
    assert_eq!(doc.backlog().next_item_id(), "B-002");
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let text = r#"{
  "items": [
    {"id": "B-001", "title": "A", "acceptanceCriteria": [], "dependsOn": ["B-002"]},
    {"id": "B-002", "title": "B", "acceptanceCriteria": ["ok"], "dependsOn": ["B-001"]},
    {"id": "B-002", "title": "C", "acceptanceCriteria": ["ok"], "dependsOn": ["B-09", "US-1"],
     "kind": "task", "status": "doing", "rank": -1}
  ]
}"#;
    insta::assert_snapshot!(problems(text).join("\n"), @r"
    failed to validate backlog.json: 8 problems
    3:57: items[0].acceptanceCriteria: the item has no acceptance criteria; the validator needs at least one to check
    3:75: items[0].dependsOn[0]: dependency cycle: B-001 → B-002 → B-001 (each item depends on the next)
    5:12: items[2].id: duplicate ID `B-002`: the item at items[1] (4:12) already uses it
    5:79: items[2].dependsOn[0]: unknown item or epic `B-09`; did you mean `B-001`?
    5:87: items[2].dependsOn[1]: `US-1` is a story of prd.json; `dependsOn` names items or epics
    6:14: items[2].kind: unknown kind `task`; expected one of: bug, feature, enhancement, chore
    6:32: items[2].status: unknown status `doing`; expected one of: pending, selected, done, blocked, carried-over, dropped
    6:49: items[2].rank: expected a whole number from 0, found -1
    ");
}

#[test]
fn syntax_errors_have_line_and_column() {
    let err = BacklogDocument::parse("{\n  \"items\": [,]\n}", "backlog.json", None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to parse backlog.json:2:13:"),
        "{err}"
    );
}

#[test]
fn sprints_name_real_items_and_only_one_is_open() {
    let text = r#"{"items": [{"id": "B-001", "title": "A", "acceptanceCriteria": ["ok"]}],
 "sprints": [
  {"id": "S-20260101-1", "milestone": "M", "status": "active", "todos": ["B-001"]},
  {"id": "S-20260101-2", "milestone": "M", "status": "stopped", "todos": ["B-404"]}
 ]}"#;
    let found = problems(text).join("\n");
    assert!(found.contains("only one sprint may be open"), "{found}");
    assert!(
        found.contains("sprints[1].todos[0]: unknown item `B-404`"),
        "{found}"
    );
}

#[test]
fn an_item_id_may_not_clash_with_the_prd() {
    let text = r#"{"items": [{"id": "EPIC-1", "title": "A", "acceptanceCriteria": ["ok"]}]}"#;
    assert!(
        problems(text)
            .join("\n")
            .contains("is also used in prd.json")
    );
}

#[test]
fn edits_keep_unknown_fields_and_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backlog.json");
    std::fs::write(
        &path,
        "{\n  \"team\": \"core\",\n  \"items\": [\n    {\"id\": \"B-007\", \"title\": \"Old\", \"acceptanceCriteria\": [\"x\"], \"note\": \"keep\"}\n  ]\n}\n",
    )
    .unwrap();
    let mut doc = BacklogDocument::load(&path, None).unwrap();
    let id = doc
        .add_item(
            ItemFields {
                title: Some("New".into()),
                acceptance: vec!["works".into()],
                kind: Some(ItemKind::Bug),
                rank: Some(2),
                depends_on: vec!["B-007".into()],
                ..ItemFields::default()
            },
            None,
        )
        .unwrap();
    assert_eq!(id, "B-008");
    // No criteria: refused, and the document is as before.
    let refused = doc.add_item(
        ItemFields {
            title: Some("Empty".into()),
            ..ItemFields::default()
        },
        None,
    );
    assert!(matches!(refused, Err(BacklogError::Invalid(_))));
    assert_eq!(doc.backlog().items.len(), 2);
    // A dependency cycle through an edit is refused too.
    let cycle = doc.edit_item_fields(
        "B-007",
        ItemFields {
            depends_on: vec!["B-008".into()],
            ..ItemFields::default()
        },
        None,
    );
    assert!(matches!(cycle, Err(BacklogError::Invalid(_))));
    doc.drop_item("B-007").unwrap();
    doc.save().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("\"team\": \"core\""), "{saved}");
    assert!(saved.contains("\"note\": \"keep\""), "{saved}");
    let again = BacklogDocument::load(&path, None).unwrap();
    assert_eq!(
        again.backlog().item("B-007").unwrap().status,
        ItemStatus::Dropped
    );
    assert_eq!(again.backlog().item("B-008").unwrap().rank, 2);
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn a_missing_file_is_an_empty_backlog() {
    let dir = tempfile::tempdir().unwrap();
    let doc = BacklogDocument::load_or_empty(&dir.path().join("backlog.json"), None).unwrap();
    assert!(!doc.exists());
    assert!(doc.backlog().items.is_empty());
}
