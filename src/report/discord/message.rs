//! A Discord message as `teams` writes it, and [`fit`], which cuts one message into as many as
//! Discord's limits need.
//!
//! These are our own plain types rather than serenity's builders so that formatting and cutting
//! are pure, comparable in tests, and independent of how the message is finally sent (a webhook
//! and a bot post take different serenity builders).

use super::limits::{self, chars, part_marker, split, split_marked, truncate};

/// One message: text, an embed, or both.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub content: String,
    pub embed: Option<Embed>,
}

/// A rich embed (the run summary).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embed {
    pub title: String,
    pub description: String,
    /// `0xRRGGBB`.
    pub colour: u32,
    pub fields: Vec<Field>,
    pub footer: String,
}

/// One name/value pair of an embed.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

impl Field {
    pub fn new(name: impl Into<String>, value: impl Into<String>, inline: bool) -> Field {
        Field {
            name: name.into(),
            value: value.into(),
            inline,
        }
    }
}

impl Embed {
    /// Characters that count against [`limits::MESSAGE_EMBED_TOTAL`].
    pub fn total_chars(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + chars(&self.footer)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
    }
}

impl Message {
    pub fn text(content: impl Into<String>) -> Message {
        Message {
            content: content.into(),
            embed: None,
        }
    }
}

/// Room kept in an embed title for a ` [i/n]` marker added when the embed is split.
const TITLE_MARKER_ROOM: usize = 10;

/// Cuts `message` into messages that each respect every limit in [`limits`]; a message that fits
/// comes back as it is. Long content becomes several `[i/n]` messages; an embed too big for one
/// message becomes several embeds titled `… [i/n]`; a field value too long becomes several
/// fields named `… [i/n]`. Nothing is dropped except what [`truncate`] cuts from titles and names.
pub fn fit(message: Message) -> Vec<Message> {
    let mut out: Vec<Message> = split_marked(&message.content, limits::CONTENT)
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(Message::text)
        .collect();
    if let Some(embed) = message.embed {
        let mut pages = fit_embed(embed).into_iter();
        // The first page rides with the last piece of text, so a short message stays one message.
        match (out.last_mut(), pages.next()) {
            (Some(last), Some(page)) => last.embed = Some(page),
            (None, Some(page)) => out.push(Message {
                content: String::new(),
                embed: Some(page),
            }),
            (_, None) => {}
        }
        out.extend(pages.map(|page| Message {
            content: String::new(),
            embed: Some(page),
        }));
    }
    out
}

/// Splits one embed into pages that each fit in a message.
fn fit_embed(embed: Embed) -> Vec<Embed> {
    let footer = truncate(&embed.footer, limits::FOOTER);
    let title = truncate(&embed.title, limits::EMBED_TITLE - TITLE_MARKER_ROOM);
    let fields: Vec<Field> = embed.fields.into_iter().flat_map(fit_field).collect();
    // Room for the description on a page that also holds the title and footer.
    let overhead = chars(&title) + TITLE_MARKER_ROOM + chars(&footer);
    let description_room = limits::EMBED_DESCRIPTION.min(limits::MESSAGE_EMBED_TOTAL - overhead);
    let descriptions = if embed.description.is_empty() {
        Vec::new()
    } else {
        split_marked(&embed.description, description_room)
    };

    let new_page = |description: String| Embed {
        title: title.clone(),
        description,
        colour: embed.colour,
        fields: Vec::new(),
        footer: String::new(),
    };
    let mut pages: Vec<Embed> = descriptions.into_iter().map(new_page).collect();
    if pages.is_empty() {
        pages.push(new_page(String::new()));
    }
    for field in fields {
        let page = pages.last_mut().expect("there is always a page");
        let fits = page.fields.len() < limits::EMBED_FIELDS
            && page.total_chars() + TITLE_MARKER_ROOM + chars(&footer) + field_chars(&field)
                <= limits::MESSAGE_EMBED_TOTAL;
        if fits {
            page.fields.push(field);
        } else {
            let mut page = new_page(String::new());
            page.fields.push(field);
            pages.push(page);
        }
    }
    let n = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        if n > 1 {
            let marker = part_marker(i + 1, n);
            page.title = format!("{} {marker}", page.title).trim_start().to_owned();
        }
        page.footer = footer.clone();
    }
    pages
}

fn field_chars(field: &Field) -> usize {
    chars(&field.name) + chars(&field.value)
}

/// One field, or several `name [i/n]` fields when its value is too long; Discord rejects empty
/// names and values, so those become a dash.
fn fit_field(field: Field) -> Vec<Field> {
    let name = if field.name.trim().is_empty() {
        "-".to_owned()
    } else {
        field.name
    };
    let value = if field.value.trim().is_empty() {
        "-".to_owned()
    } else {
        field.value
    };
    let values = split(&value, limits::FIELD_VALUE);
    let n = values.len();
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let name = if n > 1 {
                format!(
                    "{} {}",
                    truncate(&name, limits::FIELD_NAME - TITLE_MARKER_ROOM),
                    part_marker(i + 1, n)
                )
            } else {
                truncate(&name, limits::FIELD_NAME)
            };
            Field {
                name,
                value,
                inline: field.inline && n == 1,
            }
        })
        .collect()
}

/// Whether `message` respects every limit (what [`fit`] guarantees; used by the tests).
pub fn within_limits(message: &Message) -> bool {
    let content_ok = chars(&message.content) <= limits::CONTENT;
    let embed_ok = message.embed.as_ref().is_none_or(|e| {
        chars(&e.title) <= limits::EMBED_TITLE
            && chars(&e.description) <= limits::EMBED_DESCRIPTION
            && e.fields.len() <= limits::EMBED_FIELDS
            && chars(&e.footer) <= limits::FOOTER
            && e.total_chars() <= limits::MESSAGE_EMBED_TOTAL
            && e.fields.iter().all(|f| {
                chars(&f.name) <= limits::FIELD_NAME
                    && chars(&f.value) <= limits::FIELD_VALUE
                    && !f.name.is_empty()
                    && !f.value.is_empty()
            })
    });
    content_ok && embed_ok
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
