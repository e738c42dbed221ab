use super::*;

fn answer(block: &str) -> String {
    format!("I checked everything.\n\n```json\n{block}\n```\n")
}

const PASS: &str = r#"{"verdict": "pass", "criteria": [
  {"criterion": "returns 200", "met": true, "evidence": "test_login_ok"},
  {"criterion": "sets a cookie", "met": true, "evidence": "auth.rs:40"}
], "feedback": ""}"#;

#[test]
fn pass() {
    let verdict = parse_verdict(&answer(PASS)).unwrap();
    assert!(verdict.pass);
    assert_eq!(verdict.feedback, "");
    assert_eq!(
        verdict.criteria,
        vec![
            CriterionResult {
                criterion: "returns 200".into(),
                met: true,
                evidence: "test_login_ok".into()
            },
            CriterionResult {
                criterion: "sets a cookie".into(),
                met: true,
                evidence: "auth.rs:40".into()
            },
        ]
    );
}

#[test]
fn fail_keeps_the_validators_feedback() {
    let verdict = parse_verdict(&answer(
        r#"{"verdict": " FAIL ", "criteria": [{"criterion": "returns 401", "met": false, "evidence": "returns 500"}], "feedback": "Handle the wrong-password case."}"#,
    ))
    .unwrap();
    assert!(!verdict.pass);
    assert_eq!(verdict.feedback, "Handle the wrong-password case.");
    assert_eq!(
        verdict.failure_reason(),
        "Handle the wrong-password case. Unmet criteria: returns 401."
    );
}

#[test]
fn pass_with_an_unmet_criterion_is_a_fail() {
    let verdict = parse_verdict(&answer(
        r#"{"verdict": "Pass", "criteria": [
            {"criterion": "returns 200", "met": true, "evidence": "ok"},
            {"criterion": "sets a cookie", "met": false, "evidence": "no Set-Cookie header"}
        ], "feedback": "Minor: add a test."}"#,
    ))
    .unwrap();
    assert!(!verdict.pass);
    assert_eq!(
        verdict.feedback,
        "The validator answered \"pass\" but marked criteria as not met.\n\
         These acceptance criteria are not met:\n\
         - sets a cookie (no Set-Cookie header)\n\nMinor: add a test."
    );
    // The unmet criterion is already named in the feedback, so it is not repeated.
    assert_eq!(
        verdict.failure_reason(),
        "The validator answered \"pass\" but marked criteria as not met. These acceptance \
         criteria are not met: - sets a cookie (no Set-Cookie header) Minor: add a test."
    );
}

#[test]
fn fail_without_feedback_gets_feedback() {
    let verdict = parse_verdict(&answer(
        r#"{"verdict": "fail", "criteria": [{"criterion": "returns 401", "met": false}]}"#,
    ))
    .unwrap();
    assert_eq!(
        verdict.feedback,
        "These acceptance criteria are not met:\n- returns 401"
    );
    let verdict = parse_verdict(&answer(
        r#"{"verdict": "fail", "criteria": [], "feedback": null}"#,
    ))
    .unwrap();
    assert!(
        verdict
            .feedback
            .starts_with("The validator rejected the attempt without saying why.")
    );
}

#[test]
fn last_json_block_wins() {
    let text = format!(
        "First thought:\n```json\n{PASS}\n```\nOn reflection:\n```JSON\n{}\n```\nA trailing ```rust block is ignored:\n```rust\nfn x() {{}}\n```\n",
        r#"{"verdict": "fail", "criteria": [], "feedback": "no tests"}"#
    );
    let verdict = parse_verdict(&text).unwrap();
    assert!(!verdict.pass);
    assert_eq!(verdict.feedback, "no tests");
}

#[test]
fn untagged_fence_with_a_verdict_counts() {
    let text = format!("```\n{PASS}\n```\n");
    assert!(parse_verdict(&text).unwrap().pass);
    // An untagged block without a verdict is just code, and a later one does not hide it.
    let text = format!("```json\n{PASS}\n```\n```\n{{\"other\": 1}}\n```\n");
    assert!(parse_verdict(&text).unwrap().pass);
}

#[test]
fn fences_inside_longer_fences_are_content() {
    let text = format!("````markdown\n```json\n{PASS}\n```\n````\n");
    assert_eq!(parse_verdict(&text), Err(VerdictError::NoJsonBlock));
}

#[test]
fn unclosed_block_runs_to_the_end() {
    let text = format!("```json\n{PASS}\n");
    assert!(parse_verdict(&text).unwrap().pass);
}

#[test]
fn no_block() {
    let err = parse_verdict("Looks good to me. verdict: pass").unwrap_err();
    assert_eq!(err, VerdictError::NoJsonBlock);
    assert_eq!(err.to_string(), "the answer has no fenced ```json block");
}

#[test]
fn malformed_json_reports_position_in_the_block() {
    let err = parse_verdict(&answer("{\"verdict\": \"pass\",\n \"criteria\": [],\n}")).unwrap_err();
    assert_eq!(
        err,
        VerdictError::InvalidJson {
            message: "trailing comma".into(),
            line: 3,
            column: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "the last ```json block is not valid JSON: trailing comma at line 3, column 1 of the block"
    );
}

#[test]
fn shape_errors_say_what_is_wrong() {
    let cases = [
        (
            r#"["pass"]"#,
            "the last ```json block is an array, not a JSON object",
        ),
        (
            r#"{"criteria": []}"#,
            "the verdict object has no `verdict` field",
        ),
        (
            r#"{"verdict": "maybe", "criteria": []}"#,
            "`verdict` is \"maybe\", but it must be \"pass\" or \"fail\"",
        ),
        (
            r#"{"verdict": true, "criteria": []}"#,
            "`verdict` is true, but it must be \"pass\" or \"fail\"",
        ),
        (
            r#"{"verdict": "pass"}"#,
            "the verdict object has no `criteria` field",
        ),
        (
            r#"{"verdict": "pass", "criteria": "all met"}"#,
            "`criteria` is a string, but it must be an array of objects",
        ),
        (
            r#"{"verdict": "pass", "criteria": ["ok"]}"#,
            "`criteria[0]` is a string, not an object",
        ),
        (
            r#"{"verdict": "pass", "criteria": [{"criterion": "a", "met": true}, {"criterion": "b", "met": "yes"}]}"#,
            "`criteria[1]` has `met` \"yes\", not true or false",
        ),
        (
            r#"{"verdict": "pass", "criteria": [{"criterion": "a"}]}"#,
            "`criteria[0]` has no `met` field",
        ),
        (
            r#"{"verdict": "pass", "criteria": [{"met": true}]}"#,
            "`criteria[0]` has no `criterion` text",
        ),
        (
            r#"{"verdict": "pass", "criteria": [{"criterion": 3, "met": true}]}"#,
            "`criteria[0]` has `criterion` a number, not a string",
        ),
        (
            r#"{"verdict": "pass", "criteria": [], "feedback": ["x"]}"#,
            "`feedback` is an array, but it must be a string",
        ),
    ];
    for (block, message) in cases {
        assert_eq!(
            parse_verdict(&answer(block)).unwrap_err().to_string(),
            message,
            "{block}"
        );
    }
}

#[test]
fn crlf_and_indented_fences() {
    let text = format!(
        "text\r\n   ```json\r\n{}\r\n   ```\r\n",
        PASS.replace('\n', "\r\n")
    );
    assert!(parse_verdict(&text).unwrap().pass);
}

#[test]
fn failure_reason_is_one_capped_paragraph() {
    let verdict = Verdict {
        pass: false,
        criteria: Vec::new(),
        feedback: format!("line one\n\nline two {}", "é".repeat(2000)),
    };
    let reason = verdict.failure_reason();
    assert!(reason.starts_with("line one line two éé"));
    assert_eq!(reason.chars().count(), 1000);
    assert!(reason.ends_with('…'));
    assert!(!reason.contains('\n'));
}
