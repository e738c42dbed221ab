//! What one agent run is for: the role, the prompt and the identifiers of the work, plus the
//! `TEAMS_*` environment every agent process gets (spec §5.1).
//!
//! Backends turn an [`Invocation`] into a [`CommandSpec`](super::CommandSpec); keeping the
//! invocation plain data means every backend sees exactly the same facts and tests can build one
//! in a line.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The role an agent plays (spec §5.1 `TEAMS_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Planner,
    Builder,
    Validator,
    Merger,
    Init,
    Discuss,
}

impl Role {
    /// Every role, in the order the spec lists them.
    pub const ALL: [Role; 6] = [
        Role::Planner,
        Role::Builder,
        Role::Validator,
        Role::Merger,
        Role::Init,
        Role::Discuss,
    ];

    /// The lowercase name used in `TEAMS_ROLE`, log file names and `teams.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Planner => "planner",
            Role::Builder => "builder",
            Role::Validator => "validator",
            Role::Merger => "merger",
            Role::Init => "init",
            Role::Discuss => "discuss",
        }
    }

    /// The role named `name` (the inverse of [`Role::as_str`]).
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a backend needs to build one agent command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub role: Role,
    /// The full prompt text. It is also written to `prompt_file` by the caller before spawning.
    pub prompt: String,
    /// Where the caller wrote the prompt (`TEAMS_PROMPT_FILE`).
    pub prompt_file: PathBuf,
    /// The checkout the agent works in; becomes the process's working directory.
    pub worktree: PathBuf,
    /// The user's repository (`TEAMS_REPO_ROOT`).
    pub repo_root: PathBuf,
    pub run_id: Option<String>,
    pub unit_id: Option<String>,
    pub story_id: Option<String>,
    pub attempt: Option<u32>,
    /// The model name as the CLI understands it (`sonnet`, `gpt-5-codex`, `provider/model`, …).
    pub model: Option<String>,
    /// The reasoning level (`low`, `medium`, `high`, …), passed through to CLIs that take one.
    pub reasoning: Option<String>,
    /// Extra variables for the agent process, set after the `TEAMS_*` ones (a user's settings,
    /// or a test's `PATH` pointing at a fake CLI). Everything else is inherited from `teams`.
    pub env: Vec<(OsString, OsString)>,
}

impl Invocation {
    /// An invocation with no identifiers, model or reasoning set; fill in the rest with struct
    /// update syntax.
    pub fn new(
        role: Role,
        prompt: impl Into<String>,
        prompt_file: impl Into<PathBuf>,
        worktree: impl Into<PathBuf>,
        repo_root: impl Into<PathBuf>,
    ) -> Self {
        Invocation {
            role,
            prompt: prompt.into(),
            prompt_file: prompt_file.into(),
            worktree: worktree.into(),
            repo_root: repo_root.into(),
            run_id: None,
            unit_id: None,
            story_id: None,
            attempt: None,
            model: None,
            reasoning: None,
            env: Vec::new(),
        }
    }
}

/// The `TEAMS_*` variables of spec §5.1, in a fixed order. Identifiers that do not apply are
/// present but empty, so an agent script can rely on every variable being set.
pub fn teams_env(inv: &Invocation) -> Vec<(OsString, OsString)> {
    let opt = |value: &Option<String>| OsString::from(value.as_deref().unwrap_or(""));
    vec![
        ("TEAMS_ROLE".into(), inv.role.as_str().into()),
        ("TEAMS_RUN_ID".into(), opt(&inv.run_id)),
        ("TEAMS_UNIT_ID".into(), opt(&inv.unit_id)),
        ("TEAMS_STORY_ID".into(), opt(&inv.story_id)),
        (
            "TEAMS_ATTEMPT".into(),
            inv.attempt
                .map(|n| n.to_string())
                .unwrap_or_default()
                .into(),
        ),
        (
            "TEAMS_WORKTREE".into(),
            inv.worktree.clone().into_os_string(),
        ),
        (
            "TEAMS_PROMPT_FILE".into(),
            inv.prompt_file.clone().into_os_string(),
        ),
        (
            "TEAMS_REPO_ROOT".into(),
            inv.repo_root.clone().into_os_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.as_str()), Some(role));
        }
        assert_eq!(Role::from_name("Builder"), None);
        assert_eq!(Role::Validator.to_string(), "validator");
    }

    #[test]
    fn teams_env_has_every_variable_and_empty_values_where_not_applicable() {
        let mut inv = Invocation::new(
            Role::Builder,
            "do it",
            "/r/.teams/p.md",
            "/r/.teams/worktrees/run/E1",
            "/r",
        );
        inv.run_id = Some("run-1".into());
        inv.attempt = Some(2);
        let env: Vec<(String, String)> = teams_env(&inv)
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
        let expected = [
            ("TEAMS_ROLE", "builder"),
            ("TEAMS_RUN_ID", "run-1"),
            ("TEAMS_UNIT_ID", ""),
            ("TEAMS_STORY_ID", ""),
            ("TEAMS_ATTEMPT", "2"),
            ("TEAMS_WORKTREE", "/r/.teams/worktrees/run/E1"),
            ("TEAMS_PROMPT_FILE", "/r/.teams/p.md"),
            ("TEAMS_REPO_ROOT", "/r"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(env, expected);
    }
}
