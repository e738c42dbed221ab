//! OpenAI Codex CLI (`codex`).
//!
//! Print mode: `codex exec --json --color never --skip-git-repo-check --sandbox danger-full-access
//! -C <worktree> [-m M] [-c model_reasoning_effort="R"] -`, prompt on stdin then EOF (with stdin an
//! open pipe and no EOF, `codex exec` blocks forever).
//!
//! Why `danger-full-access`: builders must commit, and a linked worktree's git directory
//! (`<repo>/.git/worktrees/<name>`, plus the shared object store and refs) lies outside the
//! worktree. `workspace-write` only lets Codex write under the workspace and `/tmp`, and even
//! mounts `.git` read-only inside writable roots, so `git commit` fails there. `--add-dir
//! <repo>/.git` would open exactly that path, but the agent could then rewrite any ref of the
//! user's repository anyway, and the Linux sandbox needs user namespaces/Landlock that containers
//! often lack. `exec` never asks for approval, so `--sandbox danger-full-access` is enough; the
//! wider `--dangerously-bypass-approvals-and-sandbox` is not needed. `teams` verifies every
//! commit against git afterwards (spec §4.3). Flags checked against `codex exec --help` 0.169.0.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::agent::backend::{
    Backend, LoginCheck, PromptMode, agent_spec, plain_spec, prompt_arg, push_opt,
};
use crate::agent::classify::{Evidence, detect_setup_failure};
use crate::agent::event::FailureClass;
use crate::agent::invocation::Invocation;
use crate::agent::outcome::ProcessOutcome;
use crate::agent::parser::OutputParser;
use crate::agent::parsers::CodexJsonParser;
use crate::agent::spec::{CommandSpec, StdinInput};

/// How Codex says it is not logged in or its credentials were refused (lowercase).
pub(crate) const AUTH_PATTERNS: &[&str] = &[
    "not logged in",
    "401 unauthorized",
    "status 401",
    "could not be refreshed",
    "please sign in again",
];

/// The `codex` backend.
#[derive(Debug, Clone, Default)]
pub struct Codex;

impl Codex {
    pub fn new() -> Self {
        Codex
    }

    fn model_args(inv: &Invocation, args: &mut Vec<OsString>) {
        push_opt(args, "-m", inv.model.as_deref());
        if let Some(level) = inv.reasoning.as_deref().filter(|l| !l.is_empty()) {
            // `-c` values are TOML; quote the level so any text stays one string.
            args.push("-c".into());
            args.push(format!("model_reasoning_effort={}", toml_string(level)).into());
        }
    }
}

/// The `model_provider` a Codex `config.toml` selects, when it is not the built-in `openai` one.
fn custom_provider(config: &str) -> Option<String> {
    let table: toml::Table = config.parse().ok()?;
    let provider = table.get("model_provider")?.as_str()?;
    (provider != "openai").then(|| provider.to_owned())
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Backend for Codex {
    fn name(&self) -> &str {
        "codex"
    }

    fn program(&self) -> &str {
        "codex"
    }

    fn prompt_mode(&self) -> PromptMode {
        PromptMode::Stdin
    }

    fn command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = [
            "exec",
            "--json",
            "--color",
            "never",
            "--skip-git-repo-check",
            "--sandbox",
            "danger-full-access",
            "-C",
        ]
        .map(OsString::from)
        .to_vec();
        args.push(inv.worktree.clone().into_os_string());
        Codex::model_args(inv, &mut args);
        args.push("-".into());
        let stdin = StdinInput::Bytes(inv.prompt.clone().into_bytes());
        agent_spec(self.program(), args, inv, stdin)
    }

    fn interactive_command(&self, inv: &Invocation) -> CommandSpec {
        let mut args: Vec<OsString> = vec!["-C".into(), inv.worktree.clone().into_os_string()];
        Codex::model_args(inv, &mut args);
        args.push(prompt_arg(inv));
        agent_spec(self.program(), args, inv, StdinInput::Null)
    }

    fn parser(&self) -> Box<dyn OutputParser> {
        Box::new(CodexJsonParser::new())
    }

    /// `codex login status` exits 0 when logged in and 1 with `Not logged in` otherwise.
    fn login_check(&self, cwd: &Path, _home: Option<&Path>) -> Option<LoginCheck> {
        Some(LoginCheck::Command(plain_spec(
            self.program(),
            ["login", "status"],
            cwd,
        )))
    }

    /// A `model_provider` other than `openai` in `$CODEX_HOME/config.toml` (default
    /// `~/.codex/config.toml`) points Codex at another endpoint (a proxy, a local model, Azure),
    /// which authenticates with the provider's own key variable: `codex login` does not apply.
    fn login_not_needed(
        &self,
        env: &[(OsString, OsString)],
        home: Option<&Path>,
    ) -> Option<String> {
        let codex_home = env
            .iter()
            .find(|(key, value)| key == "CODEX_HOME" && !value.is_empty())
            .map(|(_, value)| PathBuf::from(value))
            .or_else(|| home.map(|home| home.join(".codex")))?;
        let path = codex_home.join("config.toml");
        let provider = custom_provider(&std::fs::read_to_string(&path).ok()?)?;
        Some(format!(
            "uses the model provider `{provider}` of {}; `codex login` does not apply",
            path.display()
        ))
    }

    fn login_hint(&self) -> String {
        "run `codex login`, or `printenv OPENAI_API_KEY | codex login --with-api-key`".to_owned()
    }

    fn install_hint(&self) -> Option<String> {
        Some("npm install -g @openai/codex".to_owned())
    }

    /// Codex retries a refused key five times (`Reconnecting... 1/5 (unexpected status 401
    /// Unauthorized…)`; measured with 0.169.0).
    fn give_up(&self) -> Option<crate::supervisor::GiveUp> {
        Some(crate::supervisor::GiveUp {
            patterns: AUTH_PATTERNS,
            after: 3,
        })
    }

    fn classify(&self, outcome: &ProcessOutcome) -> Option<FailureClass> {
        detect_setup_failure(
            outcome,
            Evidence {
                auth: AUTH_PATTERNS,
                stdout_is_text: false,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_model_provider_needs_no_codex_login() {
        let home = tempfile::tempdir().unwrap();
        let codex_home = home.path().join("elsewhere");
        std::fs::create_dir_all(&codex_home).unwrap();
        let env = vec![("CODEX_HOME".into(), codex_home.clone().into_os_string())];
        // No config file: the login check applies.
        assert_eq!(Codex.login_not_needed(&env, Some(home.path())), None);
        std::fs::write(
            codex_home.join("config.toml"),
            "model_provider = \"openai\"\n",
        )
        .unwrap();
        assert_eq!(Codex.login_not_needed(&env, Some(home.path())), None);
        std::fs::write(
            codex_home.join("config.toml"),
            "model_provider = \"mock\"\n[model_providers.mock]\nname = \"mock\"\n",
        )
        .unwrap();
        let reason = Codex.login_not_needed(&env, Some(home.path())).unwrap();
        assert!(reason.contains("`mock`"), "{reason}");
        // Without CODEX_HOME, `~/.codex/config.toml` is read.
        assert_eq!(Codex.login_not_needed(&[], Some(home.path())), None);
        std::fs::create_dir_all(home.path().join(".codex")).unwrap();
        std::fs::write(
            home.path().join(".codex/config.toml"),
            "model_provider = \"oss\"\n",
        )
        .unwrap();
        assert!(Codex.login_not_needed(&[], Some(home.path())).is_some());
    }

    #[test]
    fn toml_strings_are_quoted_and_escaped() {
        assert_eq!(toml_string("high"), r#""high""#);
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
