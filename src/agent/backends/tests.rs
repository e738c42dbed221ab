//! The exact command lines each backend builds (print and interactive), and its login check.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;
use crate::agent::backend::{Backend, LoginCheck, LoginStatus, ProbeOutput, PromptMode};
use crate::agent::invocation::{Invocation, Role};
use crate::agent::spec::{CommandSpec, StdinInput};

fn inv() -> Invocation {
    Invocation {
        run_id: Some("r1".into()),
        unit_id: Some("EPIC-001".into()),
        story_id: Some("US-001".into()),
        attempt: Some(1),
        ..Invocation::new(
            Role::Builder,
            "Build US-001",
            "/repo/.teams/prompts/US-001.md",
            "/repo/.teams/worktrees/r1/EPIC-001",
            "/repo",
        )
    }
}

fn with_model(mut inv: Invocation) -> Invocation {
    inv.model = Some("M".into());
    inv.reasoning = Some("high".into());
    inv
}

fn args(spec: &CommandSpec) -> Vec<String> {
    spec.args
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect()
}

fn env_value(spec: &CommandSpec, name: &str) -> Option<String> {
    spec.env
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.to_string_lossy().into_owned())
}

fn assert_agent_basics(spec: &CommandSpec, program: &str) {
    assert_eq!(spec.program, OsString::from(program));
    assert_eq!(
        spec.cwd,
        PathBuf::from("/repo/.teams/worktrees/r1/EPIC-001")
    );
    assert_eq!(env_value(spec, "TEAMS_ROLE").as_deref(), Some("builder"));
    assert_eq!(env_value(spec, "TEAMS_STORY_ID").as_deref(), Some("US-001"));
    assert_eq!(
        env_value(spec, "TEAMS_PROMPT_FILE").as_deref(),
        Some("/repo/.teams/prompts/US-001.md")
    );
}

#[test]
fn claude_print_mode() {
    let spec = Claude::with_root(false).command(&inv());
    assert_agent_basics(&spec, "claude");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions"
        ]
    );
    assert_eq!(spec.stdin, StdinInput::Bytes(b"Build US-001".to_vec()));
    assert_eq!(env_value(&spec, "IS_SANDBOX"), None);
    assert_eq!(Claude::with_root(false).prompt_mode(), PromptMode::Stdin);

    let spec = Claude::with_root(true).command(&with_model(inv()));
    assert_eq!(
        args(&spec)[6..],
        ["--model", "M", "--effort", "high"].map(String::from)
    );
    assert_eq!(env_value(&spec, "IS_SANDBOX").as_deref(), Some("1"));
}

#[test]
fn claude_interactive_mode() {
    let spec = Claude::with_root(true).interactive_command(&with_model(inv()));
    assert_agent_basics(&spec, "claude");
    assert_eq!(
        args(&spec),
        ["--model", "M", "--effort", "high", "Build US-001"]
    );
    assert_eq!(spec.stdin, StdinInput::Null);
    assert_eq!(
        env_value(&spec, "IS_SANDBOX"),
        None,
        "no bypass mode, no need"
    );
}

#[test]
fn codex_print_and_interactive_modes() {
    let spec = Codex::new().command(&with_model(inv()));
    assert_agent_basics(&spec, "codex");
    assert_eq!(
        args(&spec),
        [
            "exec",
            "--json",
            "--color",
            "never",
            "--skip-git-repo-check",
            "--sandbox",
            "danger-full-access",
            "-C",
            "/repo/.teams/worktrees/r1/EPIC-001",
            "-m",
            "M",
            "-c",
            "model_reasoning_effort=\"high\"",
            "-"
        ]
    );
    assert_eq!(spec.stdin, StdinInput::Bytes(b"Build US-001".to_vec()));
    let spec = Codex::new().interactive_command(&inv());
    assert_eq!(
        args(&spec),
        ["-C", "/repo/.teams/worktrees/r1/EPIC-001", "Build US-001"]
    );
}

#[test]
fn copilot_print_and_interactive_modes() {
    let spec = Copilot::new().command(&with_model(inv()));
    assert_agent_basics(&spec, "copilot");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "Build US-001",
            "--allow-all-tools",
            "--no-ask-user",
            "--no-auto-update",
            "--output-format",
            "json",
            "--model",
            "M",
            "--reasoning-effort",
            "high"
        ]
    );
    assert_eq!(spec.stdin, StdinInput::Null);
    assert_eq!(
        args(&Copilot::new().interactive_command(&inv())),
        ["--no-auto-update", "-i", "Build US-001"]
    );
}

#[test]
fn gemini_print_and_interactive_modes() {
    let spec = Gemini::new().command(&with_model(inv()));
    assert_agent_basics(&spec, "gemini");
    assert_eq!(
        args(&spec),
        [
            "-p",
            "Build US-001",
            "--yolo",
            "--skip-trust",
            "--output-format",
            "json",
            "-m",
            "M"
        ]
    );
    assert_eq!(spec.stdin, StdinInput::Null);
    assert_eq!(
        args(&Gemini::new().interactive_command(&inv())),
        ["-i", "Build US-001"]
    );
}

#[test]
fn opencode_print_and_interactive_modes() {
    let spec = Opencode::new().command(&with_model(inv()));
    assert_agent_basics(&spec, "opencode");
    assert_eq!(
        args(&spec),
        [
            "run",
            "--format",
            "json",
            "--auto",
            "-m",
            "M",
            "--variant",
            "high",
            "Build US-001"
        ]
    );
    assert_eq!(
        args(&Opencode::new().interactive_command(&inv())),
        ["--prompt", "Build US-001"]
    );
}

#[test]
fn argument_prompts_that_are_too_long_point_at_the_prompt_file() {
    let mut big = inv();
    big.prompt = "x".repeat(crate::agent::MAX_PROMPT_ARG_BYTES + 1);
    let spec = Gemini::new().command(&big);
    assert!(args(&spec)[1].contains("/repo/.teams/prompts/US-001.md"));
    // Stdin prompts have no such limit.
    let spec = Claude::with_root(false).command(&big);
    assert!(matches!(&spec.stdin, StdinInput::Bytes(b) if b.len() == big.prompt.len()));
}

fn command_backend(template: &[&str], output: Output) -> CommandBackend {
    CommandBackend::new(
        "mycli",
        CommandBackendConfig {
            command: template.iter().map(|s| s.to_string()).collect(),
            output,
            interactive_command: None,
        },
    )
    .unwrap()
}

#[test]
fn command_backend_substitutes_placeholders_and_reads_the_file() {
    let backend = command_backend(
        &[
            "mycli",
            "--yes",
            "--prompt-file={prompt_file}",
            "--cwd",
            "{worktree}",
            "{role}",
            "{model}",
            "{reasoning}",
        ],
        Output::Text,
    );
    let spec = backend.command(&with_model(inv()));
    assert_agent_basics(&spec, "mycli");
    assert_eq!(
        args(&spec),
        [
            "--yes",
            "--prompt-file=/repo/.teams/prompts/US-001.md",
            "--cwd",
            "/repo/.teams/worktrees/r1/EPIC-001",
            "builder",
            "M",
            "high"
        ]
    );
    assert_eq!(backend.prompt_mode(), PromptMode::File);
    assert_eq!(spec.stdin, StdinInput::Null);
    // No model: the placeholder becomes empty.
    assert_eq!(args(&backend.command(&inv()))[5], "");
    assert_eq!(backend.version_command(Path::new("/")), None);
    assert_eq!(backend.name(), "mycli");
}

#[test]
fn command_backend_without_prompt_file_gets_the_prompt_on_stdin() {
    let backend = command_backend(&["llm", "-m", "{model}"], Output::ClaudeStreamJson);
    assert_eq!(backend.prompt_mode(), PromptMode::Stdin);
    let spec = backend.command(&inv());
    assert_eq!(spec.stdin, StdinInput::Bytes(b"Build US-001".to_vec()));
    assert_eq!(backend.interactive_command(&inv()).stdin, StdinInput::Null);
    assert!(
        CommandBackend::new(
            "x",
            CommandBackendConfig {
                command: vec![" ".into()],
                output: Output::Text,
                interactive_command: None,
            }
        )
        .is_none()
    );
}

#[test]
fn command_backend_output_selects_the_parser() {
    let line = r#"{"type":"result","result":"ok","is_error":false}"#;
    let mut json = command_backend(&["x"], Output::ClaudeStreamJson).parser();
    assert_eq!(json.stdout_line(line).len(), 1);
    let mut text = command_backend(&["x"], Output::Text).parser();
    assert_eq!(
        text.stdout_line(line),
        [crate::agent::AgentEvent::Text(line.to_owned())]
    );
}

#[test]
fn version_and_login_probe_commands() {
    let cwd = Path::new("/tmp");
    let version = Codex::new().version_command(cwd).unwrap();
    assert_eq!(
        (args(&version), version.env.is_empty()),
        (vec!["--version".to_owned()], true)
    );
    match Claude::with_root(false).login_check(cwd, None) {
        Some(LoginCheck::Command(spec)) => assert_eq!(args(&spec), ["auth", "status"]),
        other => panic!("{other:?}"),
    }
    match Codex::new().login_check(cwd, None) {
        Some(LoginCheck::Command(spec)) => assert_eq!(args(&spec), ["login", "status"]),
        other => panic!("{other:?}"),
    }
    match Gemini::new().login_check(cwd, Some(Path::new("/home/u"))) {
        Some(LoginCheck::Credentials {
            env_vars,
            files,
            definitive,
        }) => {
            assert!(env_vars.contains(&"GEMINI_API_KEY"));
            assert!(files.contains(&PathBuf::from("/home/u/.gemini/settings.json")));
            assert!(definitive);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Copilot::new().login_check(cwd, None),
        Some(LoginCheck::Credentials {
            definitive: false,
            ..
        })
    ));
    assert_eq!(Opencode::new().login_check(cwd, None), None);
}

#[test]
fn claude_login_status_reads_the_json() {
    let claude = Claude::with_root(false);
    let probe = |exit_code, stdout: &str| ProbeOutput {
        exit_code: Some(exit_code),
        stdout: stdout.to_owned(),
        stderr: String::new(),
    };
    // Real output of `claude auth status` 2.1.330 with a clean HOME.
    let logged_out = r#"{
  "loggedIn": false,
  "authMethod": "none",
  "apiProvider": "firstParty"
}"#;
    assert_eq!(
        claude.login_status(&probe(1, logged_out)),
        LoginStatus::NotLoggedIn {
            evidence: "`claude auth status` says loggedIn: false (authMethod: none)".into()
        }
    );
    assert_eq!(
        claude.login_status(&probe(
            0,
            r#"{"loggedIn": true, "authMethod": "claude.ai"}"#
        )),
        LoginStatus::LoggedIn
    );
    assert_eq!(claude.login_status(&probe(0, "ok")), LoginStatus::LoggedIn);
    assert!(matches!(
        claude.login_status(&probe(0, "{}")),
        LoginStatus::Unknown { .. }
    ));
}

#[test]
fn codex_login_status_uses_the_exit_code() {
    let codex = Codex::new();
    assert_eq!(
        codex.login_status(&ProbeOutput {
            exit_code: Some(1),
            stdout: String::new(),
            stderr: "WARNING: proceeding\nNot logged in\n".into(),
        }),
        LoginStatus::NotLoggedIn {
            evidence: "WARNING: proceeding\nNot logged in".into()
        }
    );
    assert_eq!(
        codex.login_status(&ProbeOutput {
            exit_code: Some(0),
            ..ProbeOutput::default()
        }),
        LoginStatus::LoggedIn
    );
}

#[test]
fn every_builtin_has_hints() {
    for name in crate::agent::BUILTIN_BACKENDS {
        let backend = crate::agent::builtin_backend(name).unwrap();
        assert!(backend.login_hint().len() > 10, "{name}");
        assert!(
            backend
                .install_hint()
                .unwrap()
                .starts_with("npm install -g "),
            "{name}"
        );
    }
}

#[test]
fn command_backend_interactive_form_uses_its_own_template_when_set() {
    let plain = command_backend(&["mycli", "--yes", "{prompt_file}"], Output::Text);
    assert_eq!(
        args(&plain.interactive_command(&inv())),
        ["--yes", "/repo/.teams/prompts/US-001.md"]
    );
    let own = CommandBackend::new(
        "mycli",
        CommandBackendConfig {
            command: vec!["mycli".into(), "--yes".into()],
            output: Output::Text,
            interactive_command: Some(vec!["mycli-tui".into(), "--role".into(), "{role}".into()]),
        },
    )
    .unwrap();
    let spec = own.interactive_command(&inv());
    assert_eq!(spec.program, "mycli-tui");
    assert_eq!(args(&spec), ["--role", "builder"]);
    assert_eq!(args(&own.command(&inv())), ["--yes"]);
}
