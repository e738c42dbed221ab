//! The builder's handoff line (spec §5.2):
//! `done: <what changed>; evidence: <tests/commands run>; risk: <what may break>; next: <advice>`.
//!
//! The handoff is recorded and shown to the builders of later stories; it is never evidence of
//! success, so parsing is forgiving. Agents decorate their last lines with list markers, quotes,
//! bold and backticks, and sometimes drop a part; all of that still yields a handoff rather than
//! losing the notes.

/// A builder's notes for the stories after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handoff {
    pub done: String,
    pub evidence: String,
    pub risk: String,
    pub next: String,
}

impl Handoff {
    /// The canonical one-line form, newlines flattened.
    pub fn to_line(&self) -> String {
        let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        format!(
            "done: {}; evidence: {}; risk: {}; next: {}",
            flat(&self.done),
            flat(&self.evidence),
            flat(&self.risk),
            flat(&self.next)
        )
    }
}

/// The parts after `done:`, in the order the format lists them.
const LATER_PARTS: [&str; 3] = ["evidence", "risk", "next"];

/// The handoff in a builder's final message: the last line that starts with `done:` (any case,
/// after markdown decoration). Parts that are missing are empty.
pub fn parse_handoff(final_text: &str) -> Option<Handoff> {
    final_text.lines().rev().find_map(|line| {
        let line = undecorate(line);
        let rest = strip_key(&line, "done")?;
        Some(split_parts(rest))
    })
}

/// `line` without list markers, quote markers, bold and wrapping backticks.
fn undecorate(line: &str) -> String {
    let mut line = line.trim();
    loop {
        let before = line;
        for prefix in [">", "- ", "* ", "+ "] {
            line = line.strip_prefix(prefix).unwrap_or(line).trim_start();
        }
        if line == before {
            break;
        }
    }
    let line = line.replace("**", "").replace("__", "");
    let mut line = line.trim();
    while line.len() >= 2 && line.starts_with('`') && line.ends_with('`') {
        line = line[1..line.len() - 1].trim();
    }
    line.to_owned()
}

/// The text after `key` `:` at the start of `text` (any case, spaces allowed before the colon).
fn strip_key<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let head = text.get(..key.len())?;
    if !head.eq_ignore_ascii_case(key) {
        return None;
    }
    text[key.len()..].trim_start().strip_prefix(':')
}

/// Splits `<done>; evidence: …; risk: …; next: …` at each `; <part>:` marker.
fn split_parts(rest: &str) -> Handoff {
    // Each later part's marker: (where the `;` is, where its value starts).
    let mut markers: Vec<(usize, usize, usize)> = Vec::new();
    for (part, key) in LATER_PARTS.iter().enumerate() {
        let mut search = 0;
        while let Some(found) = rest[search..].find(';') {
            let semi = search + found;
            let after = rest[semi + 1..].trim_start();
            if let Some(value) = strip_key(after, key) {
                markers.push((semi, rest.len() - value.len(), part));
                break;
            }
            search = semi + 1;
        }
    }
    markers.sort_unstable();
    let value_end = |i: usize| markers.get(i + 1).map_or(rest.len(), |m| m.0);
    let mut handoff = Handoff {
        done: rest[..markers.first().map_or(rest.len(), |m| m.0)]
            .trim()
            .to_owned(),
        ..Handoff::default()
    };
    for (i, &(_, start, part)) in markers.iter().enumerate() {
        let value = rest[start..value_end(i)].trim().to_owned();
        match part {
            0 => handoff.evidence = value,
            1 => handoff.risk = value,
            _ => handoff.next = value,
        }
    }
    handoff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff(done: &str, evidence: &str, risk: &str, next: &str) -> Handoff {
        Handoff {
            done: done.into(),
            evidence: evidence.into(),
            risk: risk.into(),
            next: next.into(),
        }
    }

    #[test]
    fn plain_line() {
        let text = "I added the endpoint.\n\ndone: added /login; evidence: cargo test passed; risk: none known; next: reuse the session helper\n";
        assert_eq!(
            parse_handoff(text),
            Some(handoff(
                "added /login",
                "cargo test passed",
                "none known",
                "reuse the session helper"
            ))
        );
    }

    #[test]
    fn markdown_decoration_and_case() {
        for line in [
            "- done: a; evidence: b; risk: c; next: d",
            "* **done:** a; **evidence:** b; **risk:** c; **next:** d",
            "> `done: a; evidence: b; risk: c; next: d`",
            "**DONE**: a ;  Evidence : b;risk: c;   NEXT:d",
        ] {
            assert_eq!(
                parse_handoff(line),
                Some(handoff("a", "b", "c", "d")),
                "{line}"
            );
        }
    }

    #[test]
    fn last_done_line_wins_and_trailing_text_is_ignored() {
        let text = "done: first; evidence: x; risk: y; next: z\nmore work\n```\ndone: second; evidence: tests; risk: low; next: -\n```\n";
        assert_eq!(parse_handoff(text).unwrap().done, "second");
    }

    #[test]
    fn missing_parts_are_empty() {
        assert_eq!(
            parse_handoff("done: only this"),
            Some(handoff("only this", "", "", ""))
        );
        assert_eq!(
            parse_handoff("done: a; risk: r"),
            Some(handoff("a", "", "r", ""))
        );
    }

    #[test]
    fn semicolons_inside_values_stay() {
        let parsed = parse_handoff("done: a; b; evidence: `x; y`; risk: r; next: n").unwrap();
        assert_eq!(parsed.done, "a; b");
        assert_eq!(parsed.evidence, "`x; y`");
    }

    #[test]
    fn no_handoff() {
        assert_eq!(parse_handoff(""), None);
        assert_eq!(parse_handoff("All done: the story is implemented."), None);
        assert_eq!(parse_handoff("undone: x"), None);
    }

    #[test]
    fn to_line_round_trips() {
        let h = handoff("a\nb", "c", "d", "e");
        assert_eq!(h.to_line(), "done: a b; evidence: c; risk: d; next: e");
        assert_eq!(
            parse_handoff(&h.to_line()),
            Some(handoff("a b", "c", "d", "e"))
        );
    }
}
