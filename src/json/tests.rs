//! Tests of the parser and printer together: error positions, strictness, and round trips.

use proptest::prelude::*;

use super::*;

fn err(input: &str) -> (usize, usize, String) {
    let e = parse(input.as_bytes()).expect_err("input should be rejected");
    (e.position.line, e.position.column, e.message)
}

fn canonical(input: &str) -> String {
    let node = parse(input.as_bytes()).expect("input should parse");
    print(&node, &PrintOptions::default())
}

#[test]
fn parses_values_with_spans_and_key_order() {
    let input = br#" {"b": [1, -2.5e3, true, null], "a": "x", "b": {}} "#;
    let node = parse(input).unwrap();
    assert_eq!(node.span, Span::new(1, input.len() - 1));
    let members = node.as_object().unwrap();
    let keys: Vec<_> = members.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["b", "a", "b"], "order and duplicates are kept");
    assert_eq!(
        &input[members[1].key_span.start..members[1].key_span.end],
        b"\"a\""
    );
    let items = members[0].value.as_array().unwrap();
    assert_eq!(items[1].kind, NodeKind::Number("-2.5e3".into()));
    assert_eq!(&input[items[1].span.start..items[1].span.end], b"-2.5e3");
    assert_eq!(items[2].kind, NodeKind::Bool(true));
    assert_eq!(items[3].kind, NodeKind::Null);
}

#[test]
fn unescapes_strings_including_surrogate_pairs() {
    let node = parse(br#""a\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00 \u20AC""#).unwrap();
    assert_eq!(
        node.as_str(),
        Some("a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1F600} \u{20AC}")
    );
    // Raw non-ASCII passes through untouched.
    assert_eq!(
        parse("\"h\u{e9}\u{1F600}\"".as_bytes()).unwrap().as_str(),
        Some("h\u{e9}\u{1F600}")
    );
}

#[test]
fn rejects_bad_strings_with_positions() {
    let (l, c, m) = err(r#"["\uD800"]"#);
    assert_eq!((l, c), (1, 3));
    assert!(m.contains("unpaired surrogate `\\uD800`"), "{m}");
    let (_, _, m) = err(r#"["\uDC00"]"#);
    assert!(m.contains("unpaired surrogate"), "{m}");
    let (_, _, m) = err(r#"["\uD800\u0041"]"#);
    assert!(m.contains("unpaired surrogate"), "{m}");
    let (l, c, m) = err(r#"["\q"]"#);
    assert_eq!((l, c), (1, 3));
    assert!(m.starts_with("invalid escape `\\q`"), "{m}");
    let (_, _, m) = err(r#"["\u12G4"]"#);
    assert!(m.contains("4 hex digits"), "{m}");
    let (l, c, m) = err("{\"a\": \"open\n}");
    assert_eq!((l, c), (1, 12));
    assert!(m.starts_with("line break inside a string"), "{m}");
    let (_, _, m) = err("[\"a\u{1}\"]");
    assert_eq!(
        m,
        "control character U+0001 must be escaped inside a string"
    );
    let (l, c, m) = err("[\"abc");
    assert_eq!((l, c), (1, 2));
    assert!(m.starts_with("unterminated string"), "{m}");
}

#[test]
fn syntax_errors_name_the_problem_and_its_position() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        ("", (1, 1), "the file is empty; expected a JSON value"),
        ("  \n ", (2, 2), "the file is empty; expected a JSON value"),
        (
            "{\"a\": 1",
            (1, 8),
            "unexpected end of file; expected `,` or `}`",
        ),
        (
            "{\"a\": 1\n \"b\": 2}",
            (2, 2),
            "expected `,` or `}` after object member (is a `,` missing at the end of line 1?)",
        ),
        (
            "{\"a\": 1 \"b\": 2}",
            (1, 9),
            "expected `,` or `}` after object member",
        ),
        (
            "[1\n\n 2]",
            (3, 2),
            "expected `,` or `]` after array element (is a `,` missing at the end of line 1?)",
        ),
        ("[1 2]", (1, 4), "expected `,` or `]` after array element"),
        ("{\"a\" 1}", (1, 6), "expected `:` after object key"),
        (
            "{\"a\": 1,\n}",
            (1, 8),
            "trailing comma before `}` is not allowed in JSON",
        ),
        (
            "[1,\n  2 , ]",
            (2, 5),
            "trailing comma before `]` is not allowed in JSON",
        ),
        (
            "{a: 1}",
            (1, 2),
            "expected an object key in double quotes, found `a`",
        ),
        ("// hi\n{}", (1, 1), "comments are not allowed in JSON"),
        ("{} x", (1, 4), "unexpected `x` after the JSON value"),
        (
            "[tru]",
            (1, 2),
            "expected a value (`true`, `false`, `null`, a number, a string, an array or an object)",
        ),
        ("['a']", (1, 2), "strings must use double quotes (`\"`)"),
        ("[01]", (1, 3), "leading zeros are not allowed in numbers"),
        ("[1.]", (1, 4), "expected a digit after the decimal point"),
        ("[1e+]", (1, 5), "expected a digit in the exponent"),
        ("[-]", (1, 3), "expected a digit after `-`"),
        ("[\u{e9}]", (1, 2), "expected a value, found `\u{e9}`"),
        (
            "{\"\u{e9}\u{e9}\": ,}",
            (1, 8),
            "expected a value, found `,`",
        ),
        ("[", (1, 2), "unexpected end of file; expected a value"),
    ];
    for &(input, position, message) in cases {
        let (l, c, m) = err(input);
        assert_eq!(
            ((l, c), m.as_str()),
            (position, message),
            "input: {input:?}"
        );
    }
}

#[test]
fn reports_the_first_non_utf8_byte() {
    let input = b"{\n  \"a\": \"\xC3\xA9\xFF\"\n}";
    let e = parse(input).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::NotUtf8);
    assert_eq!((e.position.line, e.position.column), (2, 10));
    assert_eq!(e.offset, 12);
}

#[test]
fn nesting_is_limited() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse(ok.as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let e = parse(deep.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::TooDeep);
    assert_eq!(e.position.column, MAX_DEPTH + 1);
    // Far deeper input fails the same way instead of overflowing the stack.
    let hostile = "{\"a\":".repeat(100_000);
    assert_eq!(
        parse(hostile.as_bytes()).unwrap_err().kind,
        ParseErrorKind::TooDeep
    );
}

#[test]
fn skips_a_byte_order_mark() {
    assert!(parse("\u{feff}{}".as_bytes()).is_ok());
}

#[test]
fn prints_like_json_stringify() {
    let input = r#"{"project":"x","n":[],"o":{},"a":[1,{"k":1.50}],"s":"q\"\\\n\t\u0001\u001F\u007f\u00e9\u2028/"}"#;
    // Expected output produced by node: JSON.stringify(JSON.parse(input), null, 2), except that
    // the number keeps its source text (`1.50`).
    let expected = "{\n  \"project\": \"x\",\n  \"n\": [],\n  \"o\": {},\n  \"a\": [\n    1,\n    {\n      \"k\": 1.50\n    }\n  ],\n  \"s\": \"q\\\"\\\\\\n\\t\\u0001\\u001f\u{7f}\u{e9}\u{2028}/\"\n}\n";
    assert_eq!(canonical(input), expected);
}

#[test]
fn prints_with_other_indents_and_compact() {
    let node = parse(br#"{"a": [1, 2], "b": {"c": null}}"#).unwrap();
    let tabs = PrintOptions {
        indent: "\t".into(),
        trailing_newline: false,
    };
    assert_eq!(
        print(&node, &tabs),
        "{\n\t\"a\": [\n\t\t1,\n\t\t2\n\t],\n\t\"b\": {\n\t\t\"c\": null\n\t}\n}"
    );
    let compact = PrintOptions {
        indent: String::new(),
        trailing_newline: false,
    };
    assert_eq!(print(&node, &compact), r#"{"a":[1,2],"b":{"c":null}}"#);
}

#[test]
fn set_member_keeps_positions_and_reports_changes() {
    let mut node = parse(br#"{"a": 1, "b": 2}"#).unwrap();
    assert!(
        !node.set_member("a", Node::integer(1)),
        "same value is no change"
    );
    assert!(node.set_member("a", Node::integer(5)));
    assert!(node.set_member("c", Node::bool(true)));
    assert!(node.remove_member("b"));
    assert!(!node.remove_member("b"));
    let compact = PrintOptions {
        indent: String::new(),
        trailing_newline: false,
    };
    assert_eq!(print(&node, &compact), r#"{"a":5,"c":true}"#);
}

/// Arbitrary JSON trees, with strings that exercise escapes, control characters and non-ASCII.
fn arb_node() -> impl Strategy<Value = Node> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u32..1000, -20i32..20).prop_map(|(i, f, e)| format!("{i}.{f}e{e}")),
        Just("0".to_owned()),
        Just("-0.0E+00".to_owned()),
    ];
    let text = prop::collection::vec(
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '"', '\\', '\n', '\t', '\u{0}', '\u{1f}', '\u{7f}', '/', '\u{2028}'
            ]),
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>());
    let leaf = prop_oneof![
        Just(NodeKind::Null),
        any::<bool>().prop_map(NodeKind::Bool),
        number.prop_map(NodeKind::Number),
        text.clone().prop_map(NodeKind::String),
    ]
    .prop_map(Node::synthetic);
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|v| Node::synthetic(NodeKind::Array(v))),
            prop::collection::vec((text.clone(), inner), 0..6).prop_map(|members| {
                Node::synthetic(NodeKind::Object(
                    members
                        .into_iter()
                        .map(|(key, value)| Member {
                            key,
                            key_span: Span::default(),
                            value,
                        })
                        .collect(),
                ))
            }),
        ]
    })
}

proptest! {
    #[test]
    fn print_parse_print_is_stable(node in arb_node(), indent in prop::sample::select(vec!["", "  ", "    ", "\t"])) {
        let options = PrintOptions { indent: indent.to_owned(), trailing_newline: true };
        let printed = print(&node, &options);
        let reparsed = parse(printed.as_bytes()).expect("printed output must parse");
        prop_assert!(reparsed.same_value(&node));
        prop_assert_eq!(print(&reparsed, &options), printed.clone());
        // An independent parser reads the same value.
        let ours: serde_json::Value = serde_json::from_str(&printed).expect("serde_json must accept our output");
        prop_assert_eq!(ours.is_object(), node.as_object().is_some());
    }

    /// Strictness: on inputs built from JSON's own tokens (and a few invalid ones), we accept
    /// exactly what serde_json accepts. Exponents are left out because serde_json rejects numbers
    /// outside f64's range while we keep them as text.
    #[test]
    fn accepts_what_serde_json_accepts(tokens in prop::collection::vec(prop::sample::select(vec![
        "{", "}", "[", "]", ",", ":", " ", "\n", "\"a\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"",
        "\"\\x\"", "1", "-0", "01", "1.5", "1.", "true", "nul", "null", "\"", "\\",
    ]), 0..14)) {
        let input = tokens.concat();
        let ours = parse(input.as_bytes()).is_ok();
        let theirs = serde_json::from_str::<serde_json::Value>(&input).is_ok();
        prop_assert_eq!(ours, theirs, "input: {:?}", input);
    }
}
