//! Parsing and checking one value of a given [`Kind`], from TOML or from text (environment
//! variables), into a [`Value`].
//!
//! Each kind's rules live here once, so `parallel = 0` in `teams.toml`, `TEAMS_PARALLEL=0` and
//! `--parallel 0` are rejected with the same words; callers only add where the value came from.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::duration::Duration;
use super::error::{did_you_mean, suggest};
use super::schema::Kind;
use super::types::{DiscordEvent, OutputFormat, PLACEHOLDERS, PlannerMode, Sourced};

/// One layer's settings: dotted key → value and where it was set. Layers are merged by letting
/// the higher layer's entries replace the lower one's.
pub(crate) type Layer = BTreeMap<String, Sourced<Value>>;

/// A parsed value, before it is moved into the typed [`super::Config`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Count(u32),
    Bool(bool),
    Money(f64),
    List(Vec<String>),
    Duration(Duration),
    Planner(PlannerMode),
    Output(OutputFormat),
    Events(Vec<DiscordEvent>),
}

/// Why a value was rejected; the caller adds the location.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// Reads after "invalid value for `key`: ".
    pub message: String,
    pub hint: Option<String>,
    /// A narrower span than the whole value (one array element), when known.
    pub span: Option<Range<usize>>,
}

impl Problem {
    fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: None,
            span: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    fn at(mut self, span: Range<usize>) -> Self {
        self.span = Some(span);
        self
    }
}

impl Kind {
    /// What a valid value looks like, for "expected …" messages.
    fn expected(self) -> &'static str {
        match self {
            Kind::Backend => "a backend name",
            Kind::Count => "a whole number of at least 1",
            Kind::Bool => "true or false",
            Kind::Money => "an amount of US dollars (0 = no cap)",
            Kind::Commands => "a list of shell commands",
            Kind::Planner => "\"auto\", \"always\" or \"never\"",
            Kind::Duration | Kind::PositiveDuration => "a duration such as \"90s\" or \"10m\"",
            Kind::Model => "a model name",
            Kind::Reasoning => "a reasoning level such as \"low\", \"medium\" or \"high\"",
            Kind::Path => "a file path",
            Kind::EnvVarName => "the name of an environment variable",
            Kind::ChannelId => "a Discord channel ID (digits)",
            Kind::Events => "a list of \"run\", \"unit\", \"failure\", \"merge\", \"sprint\"",
            Kind::Argv => "a list of strings: the program, then its arguments",
            Kind::Output => "\"text\" or \"claude-stream-json\"",
        }
    }

    /// Parses text, as found in a TOML string or an environment variable.
    pub(crate) fn parse_text(self, text: &str) -> Result<Value, Problem> {
        let bad = || Problem::new(format!("expected {}, got {text:?}", self.expected()));
        let word = |allowed: fn(char) -> bool| {
            if text.is_empty() || !text.chars().all(allowed) {
                return Err(bad());
            }
            Ok(Value::Text(text.to_owned()))
        };
        let value = match self {
            Kind::Backend | Kind::Model => word(|c| !c.is_whitespace())?,
            Kind::Path => word(|_| true)?,
            Kind::Reasoning => word(|c| c.is_ascii_lowercase())?,
            Kind::ChannelId => word(|c| c.is_ascii_digit())?,
            Kind::EnvVarName => Value::Text(parse_env_var_name(text)?),
            Kind::Count => Value::Count(text.parse().map_err(|_| bad())?),
            Kind::Bool => Value::Bool(parse_bool(text).ok_or_else(bad)?),
            Kind::Money => Value::Money(text.parse().map_err(|_| bad())?),
            Kind::Planner => Value::Planner(PlannerMode::from_name(text).ok_or_else(|| {
                bad().hint_opt(did_you_mean(
                    text,
                    PlannerMode::ALL.map(PlannerMode::as_str),
                ))
            })?),
            Kind::Output => Value::Output(OutputFormat::from_name(text).ok_or_else(|| {
                bad().hint_opt(did_you_mean(
                    text,
                    OutputFormat::ALL.map(OutputFormat::as_str),
                ))
            })?),
            Kind::Duration | Kind::PositiveDuration => Value::Duration(
                text.parse()
                    .map_err(|err| Problem::new(format!("invalid duration {text:?}: {err}")))?,
            ),
            Kind::Commands | Kind::Events | Kind::Argv => return Err(bad()),
        };
        self.check(&value)?;
        Ok(value)
    }

    /// Parses a TOML value; problems inside an array point at the element.
    pub(crate) fn parse_toml(self, value: &Spanned<DeValue<'_>>) -> Result<Value, Problem> {
        let parsed = match (self, value.get_ref()) {
            (_, DeValue::String(text)) if self.is_textual() => return self.parse_text(text),
            (Kind::Count, DeValue::Integer(int)) => {
                let n = i64::from_str_radix(int.as_str(), int.radix()).ok();
                Value::Count(n.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                    Problem::new(format!("expected {}, got {int}", self.expected()))
                })?)
            }
            (Kind::Money, DeValue::Integer(int)) => {
                let n = i64::from_str_radix(int.as_str(), int.radix()).ok();
                // Budgets are far below 2^53, so the conversion is exact for any sensible value.
                Value::Money(n.map(|n| n as f64).ok_or_else(|| {
                    Problem::new(format!("expected {}, got {int}", self.expected()))
                })?)
            }
            (Kind::Money, DeValue::Float(float)) => Value::Money(
                float
                    .as_str()
                    .parse()
                    .map_err(|_| Problem::new(format!("expected {}", self.expected())))?,
            ),
            (Kind::Bool, DeValue::Boolean(b)) => Value::Bool(*b),
            (Kind::ChannelId, DeValue::Integer(int)) if int.radix() == 10 => {
                return self.parse_text(int.as_str());
            }
            (Kind::Commands | Kind::Argv | Kind::Events, DeValue::Array(items)) => {
                let mut strings = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(text) => strings.push(text.to_string()),
                        other => {
                            return Err(Problem::new(format!(
                                "expected {}, found {} in the list",
                                self.expected(),
                                article(other.type_str())
                            ))
                            .at(item.span()));
                        }
                    }
                }
                self.parse_list(strings, items)?
            }
            (_, other) => return Err(self.type_mismatch(other)),
        };
        self.check(&parsed)?;
        Ok(parsed)
    }

    /// Kinds written as TOML strings. Numbers and booleans are not: `parallel = "4"` is refused
    /// in a file (with a hint) even though `TEAMS_PARALLEL=4` is text, so a file has one spelling.
    fn is_textual(self) -> bool {
        !matches!(
            self,
            Kind::Count | Kind::Bool | Kind::Money | Kind::Commands | Kind::Events | Kind::Argv
        )
    }

    /// Interprets a list of strings; `items` gives each element's span for errors.
    fn parse_list(
        self,
        strings: Vec<String>,
        items: &[Spanned<DeValue<'_>>],
    ) -> Result<Value, Problem> {
        let span = |i: usize| items[i].span();
        match self {
            Kind::Events => {
                let mut events = Vec::new();
                for (i, name) in strings.iter().enumerate() {
                    let event = DiscordEvent::from_name(name).ok_or_else(|| {
                        Problem::new(format!(
                            "unknown event {name:?}; expected {}",
                            self.expected()
                        ))
                        .hint_opt(did_you_mean(
                            name,
                            DiscordEvent::ALL.map(DiscordEvent::as_str),
                        ))
                        .at(span(i))
                    })?;
                    if !events.contains(&event) {
                        events.push(event);
                    }
                }
                Ok(Value::Events(events))
            }
            Kind::Argv => {
                if strings.first().is_none_or(String::is_empty) {
                    return Err(Problem::new("the command needs at least a program name")
                        .hint("e.g. command = [\"mycli\", \"--prompt-file\", \"{prompt_file}\"]"));
                }
                for (i, arg) in strings.iter().enumerate() {
                    check_placeholders(arg).map_err(|p| p.at(span(i)))?;
                }
                Ok(Value::List(strings))
            }
            _ => {
                if let Some(i) = strings.iter().position(|s| s.trim().is_empty()) {
                    return Err(Problem::new("a check command is empty").at(span(i)));
                }
                Ok(Value::List(strings))
            }
        }
    }

    fn type_mismatch(self, found: &DeValue<'_>) -> Problem {
        let problem = Problem::new(format!(
            "expected {}, found {}",
            self.expected(),
            article(found.type_str())
        ));
        match (self, found) {
            (Kind::Count | Kind::Money | Kind::Bool, DeValue::String(_)) => {
                problem.hint("remove the quotes around the value")
            }
            (Kind::Duration | Kind::PositiveDuration, DeValue::Integer(int)) => problem.hint(
                format!("write the unit in a string, e.g. \"{int}s\" or \"{int}m\""),
            ),
            (Kind::Commands, DeValue::String(text)) => {
                problem.hint(format!("use a list: [{text:?}]"))
            }
            _ => problem,
        }
    }

    /// Range rules, shared by every layer (flags arrive already typed and only go through this).
    pub(crate) fn check(self, value: &Value) -> Result<(), Problem> {
        match (self, value) {
            (Kind::Count, Value::Count(0)) => Err(Problem::new("must be at least 1, got 0")),
            (Kind::Money, Value::Money(amount)) if !amount.is_finite() || *amount < 0.0 => Err(
                Problem::new(format!("must be 0 (no cap) or more, got {amount}")),
            ),
            (Kind::PositiveDuration, Value::Duration(d)) if d.is_zero() => {
                Err(Problem::new("must be longer than zero")
                    .hint("use a generous limit such as \"24h\" to effectively disable it"))
            }
            _ => Ok(()),
        }
    }
}

/// `integer` → `an integer`, for "found …" messages.
pub(crate) fn article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// Booleans as people write them in the environment.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// These keys name a variable so the secret stays out of a committed file; a value that looks
/// like the secret itself is refused before it can be committed or shown.
fn parse_env_var_name(text: &str) -> Result<String, Problem> {
    let mut chars = text.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return Ok(text.to_owned());
    }
    let looks_secret = text.contains("://") || text.len() > 40;
    let message = if looks_secret {
        "expected the name of an environment variable, got what looks like the secret itself"
            .to_owned()
    } else {
        format!("expected the name of an environment variable, got {text:?}")
    };
    Err(Problem::new(message).hint(
        "put the secret in an environment variable and name it here, e.g. \"TEAMS_DISCORD_WEBHOOK\"",
    ))
}

/// Every `{name}` made of identifier characters must be a known placeholder; other braces (such
/// as JSON in an argument) are left alone.
fn check_placeholders(arg: &str) -> Result<(), Problem> {
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if !name.is_empty() && after[name_len..].starts_with('}') && !PLACEHOLDERS.contains(&name) {
            let known = PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ");
            let hint = match suggest(name, PLACEHOLDERS) {
                Some(close) => format!("did you mean `{{{close}}}`?"),
                None => format!("known placeholders: {known}"),
            };
            return Err(Problem::new(format!("unknown placeholder `{{{name}}}`")).hint(hint));
        }
        rest = after;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_value(kind: Kind, text: &str) -> Result<Value, Problem> {
        let doc = format!("v = {text}");
        let table = toml::de::DeTable::parse(&doc).unwrap();
        kind.parse_toml(table.get_ref().get("v").unwrap())
    }

    #[test]
    fn counts_must_be_positive_integers() {
        assert_eq!(toml_value(Kind::Count, "3"), Ok(Value::Count(3)));
        assert_eq!(
            toml_value(Kind::Count, "0").unwrap_err().message,
            "must be at least 1, got 0"
        );
        assert!(toml_value(Kind::Count, "-1").is_err());
        let quoted = toml_value(Kind::Count, "\"x\"").unwrap_err();
        assert!(quoted.message.contains("whole number"), "{quoted:?}");
        assert_eq!(
            Kind::Count.parse_text("4").map_err(|p| p.message),
            Ok(Value::Count(4))
        );
    }

    #[test]
    fn money_accepts_integers_and_floats_but_not_negatives() {
        assert_eq!(toml_value(Kind::Money, "0"), Ok(Value::Money(0.0)));
        assert_eq!(toml_value(Kind::Money, "12.5"), Ok(Value::Money(12.5)));
        assert!(toml_value(Kind::Money, "-1").is_err());
        assert!(Kind::Money.parse_text("-0.5").is_err());
        assert!(Kind::Money.parse_text("inf").is_err());
    }

    #[test]
    fn durations_given_as_numbers_get_a_hint() {
        let problem = toml_value(Kind::PositiveDuration, "10").unwrap_err();
        assert_eq!(
            problem.hint.as_deref(),
            Some("write the unit in a string, e.g. \"10s\" or \"10m\"")
        );
        assert!(toml_value(Kind::PositiveDuration, "\"0s\"").is_err());
        assert!(toml_value(Kind::Duration, "\"0s\"").is_ok());
    }

    #[test]
    fn bools_from_env_text() {
        assert_eq!(Kind::Bool.parse_text("yes").ok(), Some(Value::Bool(true)));
        assert_eq!(Kind::Bool.parse_text("0").ok(), Some(Value::Bool(false)));
        assert!(Kind::Bool.parse_text("maybe").is_err());
    }

    #[test]
    fn argv_placeholders_must_be_known() {
        assert!(
            toml_value(
                Kind::Argv,
                r#"["x", "{prompt_file}", "--cwd={worktree}", "{role}:{model}"]"#
            )
            .is_ok()
        );
        // JSON-looking arguments are not placeholders.
        assert!(toml_value(Kind::Argv, r#"["x", "{\"a\": 1}", "{}"]"#).is_ok());
        let problem = toml_value(Kind::Argv, r#"["x", "--file", "{prompt}"]"#).unwrap_err();
        assert_eq!(problem.message, "unknown placeholder `{prompt}`");
        assert_eq!(
            problem.hint.as_deref(),
            Some("did you mean `{prompt_file}`?")
        );
        // The span points at the third element.
        assert_eq!(problem.span, Some(20..30));
        let problem = toml_value(Kind::Argv, r#"["x", "{zzzzzz}"]"#).unwrap_err();
        assert!(
            problem
                .hint
                .unwrap()
                .starts_with("known placeholders: {prompt_file}")
        );
        assert!(toml_value(Kind::Argv, "[]").is_err());
        assert!(
            toml_value(Kind::Argv, "[\"x\", 3]")
                .unwrap_err()
                .span
                .is_some()
        );
    }

    #[test]
    fn env_var_names_refuse_secrets() {
        assert!(Kind::EnvVarName.parse_text("MY_HOOK").is_ok());
        let problem = Kind::EnvVarName
            .parse_text("https://discord.com/api/webhooks/1/abc")
            .unwrap_err();
        assert!(problem.message.contains("looks like the secret"));
        assert!(
            !problem.message.contains("discord.com"),
            "the secret must not be echoed"
        );
    }

    #[test]
    fn text_kinds_check_their_characters() {
        assert!(Kind::Path.parse_text("my prompts/builder.md").is_ok());
        assert!(Kind::Path.parse_text("").is_err());
        assert!(Kind::Model.parse_text("claude sonnet").is_err());
        assert!(Kind::Reasoning.parse_text("High").is_err());
        assert_eq!(
            toml_value(Kind::ChannelId, "123"),
            Ok(Value::Text("123".into()))
        );
        let problem = toml_value(Kind::ChannelId, "\"12a\"").unwrap_err();
        assert_eq!(
            problem.message,
            "expected a Discord channel ID (digits), got \"12a\""
        );
    }

    #[test]
    fn events_are_checked_and_deduplicated() {
        assert_eq!(
            toml_value(Kind::Events, r#"["run", "merge", "run"]"#),
            Ok(Value::Events(vec![DiscordEvent::Run, DiscordEvent::Merge]))
        );
        let problem = toml_value(Kind::Events, r#"["run", "failures"]"#).unwrap_err();
        assert_eq!(problem.hint.as_deref(), Some("did you mean `failure`?"));
    }
}
