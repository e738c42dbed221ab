//! `teams doctor` as a user runs it: the real binary in an empty environment whose `PATH` holds
//! only git and, when a test wants it, the fake agent as `claude`.

#[path = "common/fake_agent.rs"]
#[expect(dead_code, reason = "this test uses only `install_as_claude`")]
mod fake_agent;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use teams_fake_agent::Script;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A temp dir with `home/`, `work/` and `bin/` holding a link to the real git.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "work", "bin"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        std::os::unix::fs::symlink(real_git(), dir.path().join("bin/git")).unwrap();
        Env { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn with_claude(self) -> Self {
        fake_agent::install_as_claude(&self.path().join("bin"));
        self
    }

    fn doctor(&self, extra_args: &[&str], extra_env: &[(&str, &Path)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_teams"));
        cmd.env_clear()
            .env("PATH", self.path().join("bin"))
            .env("HOME", self.path().join("home"))
            .current_dir(self.path().join("work"))
            .arg("doctor")
            .args(extra_args);
        for (key, value) in extra_env {
            cmd.env(key, value);
        }
        cmd.output().unwrap()
    }
}

/// The `git` on the test's own `PATH`.
fn real_git() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH is set");
    std::env::split_paths(&path)
        .map(|dir| dir.join("git"))
        .find(|candidate| candidate.is_file())
        .expect("git is installed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn ready_when_claude_is_installed_and_logged_in() {
    let env = Env::new().with_claude();
    let output = env.doctor(&[], &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}\n{output:?}");
    assert!(text.contains("ok       git: git version"), "{text}");
    assert!(text.contains("ok       teams.toml"), "{text}");
    assert!(
        text.contains("ok       claude: 2.1.330 (Claude Code)"),
        "{text}"
    );
    assert!(text.contains("ok       claude login: logged in"), "{text}");
}

#[test]
fn json_lists_every_check() {
    let env = Env::new().with_claude();
    let output = env.doctor(&["--json"], &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ready"], true);
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| check["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["git", "teams.toml", "claude", "claude login", "discord"]
    );
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|check| check["status"] == "ok"),
        "{report:#}"
    );
}

#[test]
fn a_logged_out_claude_is_not_ready_and_names_the_login() {
    let env = Env::new().with_claude();
    let script = env.path().join("script.json");
    Script {
        logged_in: false,
        ..Script::default()
    }
    .write_to(&script)
    .unwrap();
    let output = env.doctor(&[], &[("TEAMS_FAKE_SCRIPT", &script)]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(
        text.contains("missing  claude login: not logged in"),
        "{text}"
    );
    assert!(text.contains("claude auth login"), "{text}");
}

#[test]
fn a_missing_claude_is_not_ready_and_names_the_install_command() {
    let env = Env::new();
    let output = env.doctor(&[], &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(text.contains("missing  claude"), "{text}");
    assert!(
        text.contains("npm install -g @anthropic-ai/claude-code"),
        "{text}"
    );
}

#[test]
fn a_configured_codex_that_is_missing_is_named() {
    let env = Env::new().with_claude();
    std::fs::write(env.path().join("work/teams.toml"), "backend = \"codex\"\n").unwrap();
    let output = env.doctor(&[], &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(text.contains("missing  codex"), "{text}");
    assert!(text.contains("npm install -g @openai/codex"), "{text}");
    assert!(!text.contains("claude"), "claude is not used: {text}");
}

#[test]
fn an_invalid_teams_toml_is_a_configuration_error() {
    let env = Env::new().with_claude();
    std::fs::write(env.path().join("work/teams.toml"), "backend = \n").unwrap();
    let output = env.doctor(&[], &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("invalid  teams.toml"), "{text}");
}

#[test]
fn the_sim_backend_needs_no_agent_cli() {
    let env = Env::new();
    std::fs::write(env.path().join("work/teams.toml"), "backend = \"sim\"\n").unwrap();
    let output = env.doctor(&[], &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("claude"), "{text}");
}

#[test]
fn discord_is_reported_off_ready_or_wrong_without_its_secret() {
    let env = Env::new().with_claude();
    let text = stdout(&env.doctor(&[], &[]));
    assert!(
        text.contains("ok       discord: off: `TEAMS_DISCORD_WEBHOOK` is not set"),
        "{text}"
    );

    let token = format!("CANARY{}", "Q".repeat(60));
    let url = format!("https://discord.com/api/webhooks/123456789012345678/{token}");
    let output = env.doctor(&[], &[("TEAMS_DISCORD_WEBHOOK", Path::new(&url))]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "ok       discord: posts to webhook 123456789012345678 from `TEAMS_DISCORD_WEBHOOK`"
        ),
        "{text}"
    );
    assert!(!text.contains(&token), "{text}");

    // A malformed URL is a warning with the fix; Discord never makes the machine "not ready".
    let bad = format!("https://discord.example/api/webhooks/1/{token}");
    let output = env.doctor(&[], &[("TEAMS_DISCORD_WEBHOOK", Path::new(&bad))]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "warning  discord: `TEAMS_DISCORD_WEBHOOK` does not hold a Discord webhook URL"
        ),
        "{text}"
    );
    assert!(text.contains("fix: copy the URL from Discord"), "{text}");
    assert!(!text.contains(&token), "{text}");
}

#[test]
fn a_discord_channel_without_its_bot_token_is_named() {
    let env = Env::new().with_claude();
    std::fs::write(
        env.path().join("work/teams.toml"),
        "[discord]\nchannel_id = \"42\"\n",
    )
    .unwrap();
    let text = stdout(&env.doctor(&[], &[]));
    assert!(
        text.contains(
            "warning  discord: `discord.channel_id` is \"42\" but `TEAMS_DISCORD_TOKEN` (the bot token) is not set"
        ),
        "{text}"
    );
    assert!(
        text.contains("fix: export TEAMS_DISCORD_TOKEN=<bot token>"),
        "{text}"
    );
}
