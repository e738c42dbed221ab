//! Small shared helpers for text shown to people.

/// `1 story`, `2 stories`: pluralisation is never written inline.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The width of the widest of `ids` (in bytes; IDs are ASCII), for an aligned ID column.
pub fn column_width<'a>(ids: impl IntoIterator<Item = &'a str>) -> usize {
    ids.into_iter().map(str::len).max().unwrap_or(0)
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut; newlines become spaces.
pub fn truncate(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_and_truncate() {
        assert_eq!(plural(1, "epic", "epics"), "1 epic");
        assert_eq!(plural(0, "epic", "epics"), "0 epics");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a long\nline of text", 8), "a long …");
        assert_eq!(truncate("ééééé", 5), "ééééé");
    }
}
