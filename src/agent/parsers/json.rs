//! Small, forgiving accessors over `serde_json::Value` shared by the JSON parsers.
//!
//! The CLIs add and rename fields between releases; every accessor returns `None` on a missing
//! or mistyped field instead of failing the whole line, so one odd event never hides the rest.

use serde_json::Value;

/// The line as a JSON object, or `None` for blank lines, non-JSON and JSON that is not an object.
pub(crate) fn parse_object(line: &str) -> Option<Value> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    serde_json::from_str::<Value>(trimmed)
        .ok()
        .filter(Value::is_object)
}

/// The value at `path` (object keys).
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// The string at `path`.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

/// The non-negative integer at `path` (also accepts a float or a numeric string).
pub(crate) fn u64_at(value: &Value, path: &[&str]) -> Option<u64> {
    match at(value, path)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The number at `path`.
pub(crate) fn f64_at(value: &Value, path: &[&str]) -> Option<f64> {
    at(value, path).and_then(Value::as_f64)
}

/// A value as message text: strings as they are, anything else as compact JSON.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_object_accepts_only_objects() {
        assert!(parse_object(r#"  {"a":1}  "#).is_some());
        for line in ["", "[1]", "\"x\"", "{broken", "hello", "42"] {
            assert!(parse_object(line).is_none(), "{line}");
        }
    }

    #[test]
    fn accessors_tolerate_missing_and_mistyped_fields() {
        let v: Value = serde_json::json!({"a": {"b": "x", "n": 3, "f": 2.5, "s": "7"}});
        assert_eq!(str_at(&v, &["a", "b"]), Some("x"));
        assert_eq!(str_at(&v, &["a", "n"]), None);
        assert_eq!(u64_at(&v, &["a", "n"]), Some(3));
        assert_eq!(u64_at(&v, &["a", "f"]), Some(2));
        assert_eq!(u64_at(&v, &["a", "s"]), Some(7));
        assert_eq!(u64_at(&v, &["a", "missing"]), None);
        assert_eq!(f64_at(&v, &["a", "f"]), Some(2.5));
        assert_eq!(text_of(&serde_json::json!({"k": 1})), r#"{"k":1}"#);
        assert_eq!(text_of(&Value::Null), "");
    }
}
