//! `teams demo`'s throwaway project (spec §2, §5.4): a fresh git repository holding a small PRD
//! (one story with `"sim": {"failFirst": true}`, so the pushback rule shows) and a `teams.toml`
//! that puts every role on the `sim` backend. The run itself is the real loop.

use std::path::{Path, PathBuf};

use crate::git::{GitError, GitRunner, Repo, RepoError};

/// The demo's PRD.
pub const DEMO_PRD: &str = include_str!("../demo/prd.json");

const DEMO_TOML: &str = "\
# The teams demo: every role runs on the built-in `sim` backend, a deterministic simulation that
# needs no agent CLI and no credentials. Change `backend` to `claude` (or another CLI) to try a
# real agent on this PRD.
backend = \"sim\"
";

const DEMO_README: &str = "\
# Greeter (teams demo)

This repository was made by `teams demo`. Its `prd.json` describes a tiny greeter; the `sim`
backend (a simulation, not a real agent) builds each story as `sim/<STORY>.txt` on the branch
`teams/greeter/main`.
";

/// Why the demo repository could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("failed to create the demo directory under {dir}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Creates the demo repository in a new directory under `parent` and returns its path. The first
/// commit uses the configured git identity, or `teams <teams@localhost>` when there is none.
pub fn create_demo_repo(parent: &Path) -> Result<PathBuf, DemoError> {
    // `--dir` names where the demo goes; a directory that does not exist yet is made.
    std::fs::create_dir_all(parent).map_err(|source| DemoError::CreateDir {
        dir: parent.to_path_buf(),
        source,
    })?;
    let dir = tempfile::Builder::new()
        .prefix("teams-demo-")
        .tempdir_in(parent)
        .map_err(|source| DemoError::CreateDir {
            dir: parent.to_path_buf(),
            source,
        })?
        .keep();
    let git = GitRunner::new(&dir);
    git.run(["init", "--quiet"])?;
    // `git init -b` needs git 2.28; naming the unborn branch works on every supported version.
    git.run(["symbolic-ref", "HEAD", "refs/heads/main"])?;
    for (name, text) in [
        ("prd.json", DEMO_PRD),
        ("teams.toml", DEMO_TOML),
        ("README.md", DEMO_README),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| DemoError::Write { path, source })?;
    }
    let repo = Repo::open(&dir)?;
    repo.git()
        .run(["add", "prd.json", "teams.toml", "README.md"])?;
    repo.git().run([
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "Greeter: the PRD (teams demo)",
    ])?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_prd_is_valid_and_shows_the_pushback_rule() {
        let doc = crate::prd::PrdDocument::parse(DEMO_PRD.as_bytes().to_vec(), "demo/prd.json")
            .expect("the demo PRD is valid");
        let fail_first: Vec<&str> = doc
            .prd()
            .epics
            .iter()
            .flat_map(|e| &e.stories)
            .filter(|s| s.sim_fail_first)
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(fail_first, ["US-002"]);
    }
}
