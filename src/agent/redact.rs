//! Keeping secrets out of what `teams` prints and stores (spec §12).
//!
//! Command lines and environments end up in the debug log, the state store and `teams doctor`
//! output. Variables whose names end in `TOKEN`, `KEY`, `SECRET` or `WEBHOOK` are shown as
//! `[redacted]`; [`SecretValues`] also scrubs the *values* of such variables out of free text such
//! as transcripts, because an agent may echo its own environment.

use std::borrow::Cow;
use std::ffi::OsStr;

use super::spec::{CommandSpec, StdinInput};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Name suffixes that mark a variable as secret (compared case-insensitively).
const SECRET_SUFFIXES: [&str; 4] = ["TOKEN", "KEY", "SECRET", "WEBHOOK"];

/// Values shorter than this are not scrubbed from free text: a one-letter "key" would otherwise
/// mangle every word containing that letter (Copilot shows exactly this bug, research §3.3).
const MIN_SCRUB_LEN: usize = 8;

/// Whether a variable with this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_SUFFIXES.iter().any(|suffix| upper.ends_with(suffix))
}

/// An environment as printable pairs, with secret values replaced by [`REDACTED`].
pub fn redact_env<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(key, value)| {
            let key = key.as_ref().to_string_lossy().into_owned();
            let value = if is_secret_name(&key) {
                REDACTED.to_owned()
            } else {
                value.as_ref().to_string_lossy().into_owned()
            };
            (key, value)
        })
        .collect()
}

/// One argument for display: `NAME=value` arguments with a secret name (e.g. `-c api_key=…`)
/// lose their value even though `teams` never puts secrets on argv itself; a user's `command`
/// backend might.
fn redact_arg(arg: &str) -> Cow<'_, str> {
    match arg.split_once('=') {
        Some((name, _)) if is_secret_name(name.trim_start_matches('-')) => {
            Cow::Owned(format!("{name}={REDACTED}"))
        }
        _ => Cow::Borrowed(arg),
    }
}

/// Quotes `word` for a POSIX shell when it needs it, so a printed command can be pasted back.
fn shell_quote(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// A one-line, shell-like rendering of a command for logs: the `TEAMS_*` and other added
/// variables (secrets redacted), the program and its arguments, and what stdin gets.
pub fn display_command(spec: &CommandSpec) -> String {
    let mut words = Vec::new();
    for (key, value) in redact_env(&spec.env) {
        words.push(format!("{key}={}", shell_quote(&value)));
    }
    words.push(shell_quote(&spec.program.to_string_lossy()).into_owned());
    for arg in &spec.args {
        let arg = arg.to_string_lossy();
        words.push(shell_quote(&redact_arg(&arg)).into_owned());
    }
    match &spec.stdin {
        StdinInput::Null => words.push("</dev/null".to_owned()),
        StdinInput::Bytes(bytes) => words.push(format!("<<<[{} bytes]", bytes.len())),
    }
    words.join(" ")
}

/// The values of secret variables, for scrubbing free text (transcripts, stderr tails).
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    values: Vec<String>,
}

impl SecretValues {
    /// Collects the values of every secret-named variable in `vars` that is long enough to scrub
    /// safely. Typically called with `std::env::vars_os()`.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut values: Vec<String> = vars
            .into_iter()
            .filter(|(key, _)| is_secret_name(&key.as_ref().to_string_lossy()))
            .map(|(_, value)| value.as_ref().to_string_lossy().into_owned())
            .filter(|value| value.len() >= MIN_SCRUB_LEN)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        SecretValues { values }
    }

    /// `text` with every known secret value replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), REDACTED));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn secret_names_are_recognised_by_suffix() {
        for name in [
            "ANTHROPIC_API_KEY",
            "GH_TOKEN",
            "github_token",
            "MY_SECRET",
            "TEAMS_DISCORD_WEBHOOK",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["PATH", "TEAMS_ROLE", "KEYBOARD", "TOKENS_USED", "HOME"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn redact_env_hides_only_secret_values() {
        let env = [("GH_TOKEN", "ghs_abcdef"), ("TEAMS_ROLE", "builder")];
        assert_eq!(
            redact_env(&env),
            vec![
                ("GH_TOKEN".to_owned(), REDACTED.to_owned()),
                ("TEAMS_ROLE".to_owned(), "builder".to_owned()),
            ]
        );
    }

    #[test]
    fn display_command_quotes_and_redacts() {
        let spec = CommandSpec {
            program: "codex".into(),
            args: vec![
                "exec".into(),
                "-c".into(),
                "model_reasoning_effort=\"high\"".into(),
                "--api_key=sk-live-123".into(),
                "it's".into(),
            ],
            env: vec![
                (OsString::from("OPENAI_API_KEY"), OsString::from("sk-1")),
                (OsString::from("TEAMS_ROLE"), OsString::from("builder")),
            ],
            cwd: PathBuf::from("/w"),
            stdin: StdinInput::Bytes(b"hello".to_vec()),
        };
        assert_eq!(
            display_command(&spec),
            "OPENAI_API_KEY='[redacted]' TEAMS_ROLE=builder codex exec -c \
             'model_reasoning_effort=\"high\"' '--api_key=[redacted]' 'it'\\''s' <<<[5 bytes]"
        );
    }

    #[test]
    fn secret_values_are_scrubbed_from_text_but_short_ones_are_left() {
        let secrets = SecretValues::from_vars([
            ("GH_TOKEN", "ghp_0123456789"),
            ("SHORT_KEY", "x"),
            ("PATH", "/usr/bin:/bin"),
        ]);
        assert_eq!(
            secrets.scrub("token ghp_0123456789 exitCode /usr/bin:/bin"),
            "token [redacted] exitCode /usr/bin:/bin"
        );
        assert!(matches!(secrets.scrub("nothing here"), Cow::Borrowed(_)));
    }
}
