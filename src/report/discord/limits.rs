//! Discord's size limits, enforced by `teams` itself before anything is sent (spec §11).
//!
//! serenity 0.12.5 checks only the 2000-character content and the 6000-character total of a
//! single embed; every per-field limit is left to Discord, which answers 400 "Invalid Form Body"
//! and the message is lost. So every message is cut here: long text is split at line breaks
//! (then spaces, then anywhere) into parts marked `[i/n]`, and each part fits on its own.
//! Lengths are counted in `char`s, as Discord and serenity count them.

/// Characters of a message's `content`.
pub const CONTENT: usize = 2000;
/// Characters of an embed's title.
pub const EMBED_TITLE: usize = 256;
/// Characters of an embed's description.
pub const EMBED_DESCRIPTION: usize = 4096;
/// Fields of one embed.
pub const EMBED_FIELDS: usize = 25;
/// Characters of a field's name.
pub const FIELD_NAME: usize = 256;
/// Characters of a field's value.
pub const FIELD_VALUE: usize = 1024;
/// Characters of an embed's footer.
pub const FOOTER: usize = 2048;
/// Characters of title, description, field names and values and footer, summed over every embed
/// of one message (`teams` sends at most one embed per message).
pub const MESSAGE_EMBED_TOTAL: usize = 6000;

/// The number of `char`s in `text`.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to at most `max` characters, ending with `…` when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if chars(text) <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The `[i/n]` marker of part `i` (from 1) of `n`.
pub fn part_marker(i: usize, n: usize) -> String {
    format!("[{i}/{n}]")
}

/// Splits `text` into parts that each fit in `max` characters once prefixed with their `[i/n] `
/// marker; a text that fits whole comes back unchanged and unmarked.
pub fn split_marked(text: &str, max: usize) -> Vec<String> {
    if chars(text) <= max {
        return vec![text.to_owned()];
    }
    // The marker's width depends on the number of parts, which depends on the room the marker
    // leaves; start with one digit and widen until the count fits the assumed width.
    let mut digits = 1;
    loop {
        let marker = 2 * digits + 4; // "[" i "/" n "] "
        let parts = split(text, max.saturating_sub(marker).max(1));
        if parts.len() == 1 {
            // Only the whitespace around it was too much.
            return parts;
        }
        if parts.len().to_string().len() <= digits {
            let n = parts.len();
            return parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| format!("{} {part}", part_marker(i + 1, n)))
                .collect();
        }
        digits += 1;
    }
}

/// Splits `text` into pieces of at most `max` characters, preferring to cut after a line break,
/// then after a space, and only then inside a word. Pieces are trimmed of the whitespace they
/// were cut at, and none is empty.
pub fn split(text: &str, max: usize) -> Vec<String> {
    assert!(max > 0, "a piece must hold at least one character");
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if chars(rest) <= max {
            pieces.push(rest.to_owned());
            break;
        }
        // The byte index just past the `max`-th character: the piece is `rest[..end]` at most.
        let end = rest
            .char_indices()
            .nth(max)
            .map_or(rest.len(), |(index, _)| index);
        let window = &rest[..end];
        let cut = window
            .rfind('\n')
            .or_else(|| window.rfind(' '))
            .filter(|&at| at > 0)
            .unwrap_or(end);
        let piece = rest[..cut].trim_end();
        if !piece.is_empty() {
            pieces.push(piece.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    pieces
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_text_is_left_alone() {
        assert_eq!(split_marked("hello", 2000), vec!["hello"]);
        assert_eq!(truncate("hello", 5), "hello");
    }

    #[test]
    fn truncation_ends_with_an_ellipsis_within_the_limit() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(chars(&truncate(&"é".repeat(300), 256)), 256);
    }

    #[test]
    fn split_prefers_line_breaks_then_spaces() {
        assert_eq!(split("aaa bbb\nccc ddd", 9), vec!["aaa bbb", "ccc ddd"]);
        assert_eq!(split("aaa bbb ccc", 8), vec!["aaa bbb", "ccc"]);
        assert_eq!(split("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn marked_parts_fit_and_are_numbered() {
        let text = "word ".repeat(1000);
        let parts = split_marked(&text, CONTENT);
        assert_eq!(parts.len(), 3);
        for (i, part) in parts.iter().enumerate() {
            assert!(chars(part) <= CONTENT, "{}", chars(part));
            assert!(part.starts_with(&format!("[{}/3] word", i + 1)), "{part}");
        }
    }

    #[test]
    fn the_marker_widens_when_there_are_ten_parts_or_more() {
        let text = "x".repeat(200);
        let parts = split_marked(&text, 20);
        assert!(parts.len() >= 10);
        assert!(parts.iter().all(|p| chars(p) <= 20));
        assert!(parts[0].starts_with(&format!("[1/{}] ", parts.len())));
    }

    proptest! {
        #[test]
        fn splitting_keeps_every_word_and_respects_the_limit(
            words in prop::collection::vec("[a-zé€😀]{1,30}", 0..300),
            max in 40usize..300,
        ) {
            let text = words.join(" ");
            let parts = split_marked(&text, max);
            for part in &parts {
                prop_assert!(chars(part) <= max, "{} > {max}", chars(part));
            }
            let rejoined: String = if parts.len() > 1 {
                parts.iter().map(|p| p.split_once("] ").unwrap().1).collect::<Vec<_>>().concat()
            } else {
                parts.concat()
            };
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            prop_assert_eq!(squeeze(&rejoined), squeeze(&text));
        }
    }
}
