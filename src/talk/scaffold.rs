//! What `teams init` creates before any conversation: a commented `teams.toml` (every key, commented
//! out, so the file documents itself and changes nothing until edited), `.teams/` with its
//! `.gitignore`, and on request the Claude Code sub-agent definitions of `agents/`.
//!
//! Nothing that exists is overwritten: a second `teams init` in a configured repository only fills
//! in what is missing.

use std::io;
use std::path::{Path, PathBuf};

use crate::config::{CONFIG_FILE_NAME, starter_toml};
use crate::run::Layout;

/// The first lines of the `teams.toml` that `teams init` writes.
const CONFIG_HEADER: &str = "\
# teams.toml: settings of `teams` for this repository (commit it).
# Every setting below is commented out and shows its default; uncomment a line to change it.
# `teams config show` prints the resolved values and where each came from;
# `teams config role set --role builder --model sonnet` edits this file and keeps its comments.

";

/// The sub-agent definitions shipped in `agents/`, installed as `.claude/agents/teams-<role>.md`.
pub const AGENT_DEFINITIONS: [(&str, &str); 4] = [
    ("teams-planner.md", include_str!("../../agents/planner.md")),
    ("teams-builder.md", include_str!("../../agents/builder.md")),
    (
        "teams-validator.md",
        include_str!("../../agents/validator.md"),
    ),
    ("teams-merger.md", include_str!("../../agents/merger.md")),
];

/// What [`scaffold`] created (`false`: it was there already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaffolded {
    pub config: bool,
    pub teams_dir: bool,
}

/// Creates `teams.toml` and `.teams/` (with `.gitignore`) in `repo_root` when they are missing.
pub fn scaffold(repo_root: &Path) -> io::Result<Scaffolded> {
    let layout = Layout::new(repo_root);
    let teams_dir = !layout.dir().exists();
    layout.ensure()?;
    let config = write_new(
        &repo_root.join(CONFIG_FILE_NAME),
        &format!("{CONFIG_HEADER}{}", starter_toml()),
    )?;
    Ok(Scaffolded { config, teams_dir })
}

/// Writes the agent definitions into `<repo_root>/.claude/agents/`, keeping any that exist.
/// Returns the files written.
pub fn install_agents(repo_root: &Path) -> io::Result<Vec<PathBuf>> {
    let dir = repo_root.join(".claude").join("agents");
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (name, text) in AGENT_DEFINITIONS {
        let path = dir.join(name);
        if write_new(&path, text)? {
            written.push(path);
        }
    }
    Ok(written)
}

/// Creates `path` with `text` unless it exists; `Ok(false)` when it did.
fn write_new(path: &Path, text: &str) -> io::Result<bool> {
    use std::io::Write;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            Ok(true)
        }
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffold_creates_a_valid_commented_config_once() {
        let dir = tempfile::tempdir().unwrap();
        let made = scaffold(dir.path()).unwrap();
        assert_eq!(
            made,
            Scaffolded {
                config: true,
                teams_dir: true
            }
        );
        let text = std::fs::read_to_string(dir.path().join("teams.toml")).unwrap();
        assert!(text.starts_with("# teams.toml: settings"));
        assert!(text.contains("# max_attempts = 2"));
        let no_env: [(&str, &str); 0] = [];
        crate::config::Config::load(dir.path(), no_env, &Default::default()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".teams/.gitignore")).unwrap(),
            "*\n"
        );
        std::fs::write(dir.path().join("teams.toml"), "parallel = 2\n").unwrap();
        let again = scaffold(dir.path()).unwrap();
        assert_eq!(
            again,
            Scaffolded {
                config: false,
                teams_dir: false
            }
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("teams.toml")).unwrap(),
            "parallel = 2\n"
        );
    }

    #[test]
    fn agents_are_installed_without_replacing_edited_ones() {
        let dir = tempfile::tempdir().unwrap();
        let agents = dir.path().join(".claude/agents");
        std::fs::create_dir_all(&agents).unwrap();
        std::fs::write(agents.join("teams-builder.md"), "mine\n").unwrap();
        let written = install_agents(dir.path()).unwrap();
        assert_eq!(written.len(), 3);
        assert_eq!(
            std::fs::read_to_string(agents.join("teams-builder.md")).unwrap(),
            "mine\n"
        );
        assert!(
            std::fs::read_to_string(agents.join("teams-validator.md"))
                .unwrap()
                .contains("name: teams-validator")
        );
    }
}
