use proptest::prelude::*;

use super::*;

fn embed(title: &str, description: &str, fields: Vec<Field>) -> Embed {
    Embed {
        title: title.to_owned(),
        description: description.to_owned(),
        colour: 0x2ECC71,
        fields,
        footer: "teams".to_owned(),
    }
}

#[test]
fn a_message_that_fits_is_unchanged() {
    let message = Message {
        content: "run started".into(),
        embed: Some(embed("t", "d", vec![Field::new("a", "b", true)])),
    };
    assert_eq!(fit(message.clone()), vec![message]);
}

#[test]
fn long_content_becomes_numbered_messages_and_the_embed_rides_with_the_last() {
    let message = Message {
        content: "line\n".repeat(1000),
        embed: Some(embed("summary", "short", Vec::new())),
    };
    let parts = fit(message);
    assert_eq!(parts.len(), 3);
    assert!(parts[0].content.starts_with("[1/3] line"));
    assert!(parts[2].content.starts_with("[3/3] line"));
    assert!(parts[..2].iter().all(|m| m.embed.is_none()));
    assert_eq!(parts[2].embed.as_ref().unwrap().title, "summary");
    assert!(parts.iter().all(within_limits));
}

#[test]
fn a_long_title_is_cut_with_an_ellipsis() {
    let parts = fit(Message {
        content: String::new(),
        embed: Some(embed(&"T".repeat(300), "d", Vec::new())),
    });
    let title = &parts[0].embed.as_ref().unwrap().title;
    assert!(title.ends_with('…'));
    assert!(limits::chars(title) <= limits::EMBED_TITLE);
}

#[test]
fn a_long_description_continues_on_numbered_pages() {
    let parts = fit(Message {
        content: String::new(),
        embed: Some(embed("run", &"failure reason ".repeat(600), Vec::new())),
    });
    assert_eq!(parts.len(), 3);
    for (i, part) in parts.iter().enumerate() {
        let page = part.embed.as_ref().unwrap();
        assert_eq!(page.title, format!("run [{}/3]", i + 1));
        assert!(
            page.description.starts_with(&format!("[{}/3] ", i + 1)),
            "{}",
            &page.description[..20]
        );
        assert_eq!(page.footer, "teams");
        assert!(within_limits(part));
    }
}

#[test]
fn more_than_25_fields_continue_on_a_second_page() {
    let fields = (0..30)
        .map(|i| Field::new(format!("US-{i}"), "passed", true))
        .collect();
    let parts = fit(Message {
        content: String::new(),
        embed: Some(embed("run", "", fields)),
    });
    assert_eq!(parts.len(), 2);
    let first = parts[0].embed.as_ref().unwrap();
    assert_eq!(first.fields.len(), 25);
    assert_eq!(first.title, "run [1/2]");
    assert_eq!(parts[1].embed.as_ref().unwrap().fields.len(), 5);
    assert_eq!(parts[1].embed.as_ref().unwrap().fields[0].name, "US-25");
}

#[test]
fn a_long_field_value_becomes_numbered_fields() {
    let parts = fit(Message {
        content: String::new(),
        embed: Some(embed(
            "run",
            "",
            vec![Field::new(
                "Failures",
                "US-1 failed: why\n".repeat(150),
                true,
            )],
        )),
    });
    let fields = &parts[0].embed.as_ref().unwrap().fields;
    assert_eq!(fields.len(), 3);
    assert_eq!(fields[0].name, "Failures [1/3]");
    assert_eq!(fields[2].name, "Failures [3/3]");
    assert!(fields.iter().all(|f| !f.inline));
    assert!(within_limits(&parts[0]));
}

#[test]
fn the_6000_total_splits_an_embed_whose_fields_each_fit() {
    let fields = (0..10)
        .map(|i| Field::new(format!("field {i}"), "v".repeat(1000), false))
        .collect();
    let parts = fit(Message {
        content: String::new(),
        embed: Some(embed("run", "", fields)),
    });
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(within_limits));
    let count: usize = parts
        .iter()
        .map(|p| p.embed.as_ref().unwrap().fields.len())
        .sum();
    assert_eq!(count, 10);
}

#[test]
fn empty_field_names_and_values_become_a_dash() {
    let parts = fit(Message {
        content: String::new(),
        embed: Some(embed("run", "", vec![Field::new("", " ", false)])),
    });
    let field = &parts[0].embed.as_ref().unwrap().fields[0];
    assert_eq!((field.name.as_str(), field.value.as_str()), ("-", "-"));
}

proptest! {
    #[test]
    fn every_part_is_within_every_limit(
        content in prop::collection::vec("[a-z€ \n]{0,80}", 0..60),
        title in "[A-Za-z ]{0,400}",
        description in prop::collection::vec("[a-z ]{0,200}", 0..60),
        fields in prop::collection::vec(("[a-z]{0,300}", "[a-z \n]{0,2500}"), 0..40),
    ) {
        let message = Message {
            content: content.concat(),
            embed: Some(Embed {
                title,
                description: description.concat(),
                colour: 0,
                fields: fields.into_iter().map(|(n, v)| Field::new(n, v, true)).collect(),
                footer: "teams".into(),
            }),
        };
        for part in fit(message) {
            prop_assert!(within_limits(&part), "{part:?}");
        }
    }
}
