//! Where a command works: the directory (`-C`), the repository root and the PRD path. Resolved once
//! from the global options so every command agrees on them.

use std::path::{Path, PathBuf};

use crate::error::{Result, TeamsError};

/// The resolved places a command works with.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The directory the command acts in (`-C DIR`, or the current directory).
    pub cwd: PathBuf,
    /// The root of the repository containing `cwd`; `cwd` itself when it is not in a repository.
    pub repo_root: PathBuf,
    /// The PRD: `--prd` (relative to `cwd`), or `prd.json` at the repository root.
    pub prd_path: PathBuf,
    /// `--json` was given.
    pub json: bool,
}

impl CommandContext {
    pub fn resolve(directory: Option<&Path>, prd: Option<&Path>, json: bool) -> Result<Self> {
        let start = std::env::current_dir().map_err(|err| {
            TeamsError::environment("failed to read the current directory").with_source(err)
        })?;
        let cwd = match directory {
            None => start,
            Some(dir) => {
                let dir = start.join(dir);
                if !dir.is_dir() {
                    return Err(TeamsError::usage(format!(
                        "cannot work in `{}`: not a directory",
                        dir.display()
                    ))
                    .with_hint("`-C DIR` takes an existing directory, like `git -C`"));
                }
                dir
            }
        };
        let repo_root = find_repo_root(&cwd).unwrap_or_else(|| cwd.clone());
        let prd_path = match prd {
            Some(path) => cwd.join(path),
            None => repo_root.join("prd.json"),
        };
        Ok(CommandContext {
            cwd,
            repo_root,
            prd_path,
            json,
        })
    }
}

/// Walks up from `dir` to the first directory holding `.git` (a directory, or a file in a linked
/// worktree). Cheap and needs no `git` process, so read-only commands work without git installed.
fn find_repo_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_root_from_a_subdirectory() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
        std::fs::create_dir_all(tmp.path().join("a/b")).unwrap();
        assert_eq!(
            find_repo_root(&tmp.path().join("a/b")).as_deref(),
            Some(tmp.path())
        );
    }

    #[test]
    fn prd_defaults_to_the_repository_root() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
        std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
        let ctx = CommandContext::resolve(Some(&tmp.path().join("sub")), None, false).unwrap();
        assert_eq!(ctx.prd_path, tmp.path().join("prd.json"));
        let ctx = CommandContext::resolve(
            Some(&tmp.path().join("sub")),
            Some(Path::new("x.json")),
            false,
        )
        .unwrap();
        assert_eq!(ctx.prd_path, tmp.path().join("sub/x.json"));
    }

    #[test]
    fn a_missing_directory_is_a_usage_error() {
        let err = CommandContext::resolve(Some(Path::new("/nonexistent/teams-test")), None, false)
            .unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Usage);
    }
}
