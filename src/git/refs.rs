//! Reading refs straight from the repository's files instead of starting `git rev-parse`.
//!
//! Why: the loop asks "what is HEAD", "which branch is checked out" and "where is this branch" a
//! handful of times per story attempt, and on this machine kind every git process costs 2.3–2.7 ms
//! before it does any work (see `docs/PERFORMANCE.md`). The files ref backend is a stable, simple
//! on-disk format (a loose ref is one file holding an object id or `ref: <target>`; the rest are
//! lines of `packed-refs`), so these answers come from two or three small file reads.
//!
//! Only the files backend is read, and only what it can answer for certain; everything else is
//! left to git (the callers fall back to the git process when this returns `None`): a repository
//! with the reftable backend, `GIT_DIR`/`GIT_COMMON_DIR` overrides, a `.git` file or ref content
//! in an unexpected shape, a ref that is not found (git's own name resolution tries more places
//! than an exact name), and any I/O error other than "not there". Refs under `refs/heads/` and
//! `HEAD` are taken to point at commits, which is all git's porcelain ever points them at.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::repo::Sha;

/// What a ref file or `packed-refs` entry says about one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefValue {
    /// The ref points at this object.
    Direct(Sha),
    /// A symbolic ref (`ref: refs/heads/main`) pointing at this full ref name.
    Symbolic(String),
}

/// The ref store of one repository, read directly.
#[derive(Debug, Clone)]
pub(crate) struct RefFiles {
    common_dir: PathBuf,
}

impl RefFiles {
    /// The ref store under `common_dir` (the shared `.git` directory), or `None` when it is not
    /// the plain files backend this module reads, or git is pointed elsewhere by the environment.
    pub(crate) fn open(common_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        if env("GIT_DIR").is_some() || env("GIT_COMMON_DIR").is_some() {
            return None;
        }
        if common_dir.join("reftable").exists() || !common_dir.join("refs").is_dir() {
            return None;
        }
        let config = std::fs::read_to_string(common_dir.join("config")).ok()?;
        if config.to_ascii_lowercase().contains("refstorage") {
            return None;
        }
        Some(RefFiles {
            common_dir: common_dir.to_path_buf(),
        })
    }

    /// The ref store of the repository the working tree at `worktree` belongs to, and that
    /// working tree's own git directory (where its `HEAD` is): `.git` itself, or where a linked
    /// worktree's `.git` file points. `None` when either cannot be told for certain.
    pub(crate) fn for_worktree(
        worktree: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Option<(RefFiles, PathBuf)> {
        let dot_git = worktree.join(".git");
        let meta = std::fs::symlink_metadata(&dot_git).ok()?;
        if meta.is_dir() {
            // The main working tree; a `commondir` file here would mean an unusual layout.
            if dot_git.join("commondir").exists() {
                return None;
            }
            return Some((RefFiles::open(&dot_git, env)?, dot_git));
        }
        if !meta.is_file() {
            return None;
        }
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let target = text
            .strip_prefix("gitdir: ")?
            .trim_end_matches(['\n', '\r']);
        if target.is_empty() || target.contains('\n') {
            return None;
        }
        let git_dir = worktree.join(target);
        let common = std::fs::read_to_string(git_dir.join("commondir")).ok()?;
        let common = git_dir.join(common.trim_end_matches(['\n', '\r']));
        Some((RefFiles::open(&common, env)?, git_dir))
    }

    /// What `HEAD` of the worktree whose git directory is `git_dir` holds.
    pub(crate) fn head(&self, git_dir: &Path) -> Option<RefValue> {
        parse_ref_file(&read_small(&git_dir.join("HEAD"))?.ok()?)
    }

    /// What `HEAD` of every working tree of the repository holds: the main one's (in the shared
    /// directory) and each linked one's (`worktrees/<name>/HEAD`). `None` when any of them cannot
    /// be read for certain, which includes a linked worktree git is still creating (its `HEAD` not
    /// yet written, or still the all-zero placeholder git writes first).
    pub(crate) fn worktree_heads(&self) -> Option<Vec<RefValue>> {
        let mut heads = vec![self.head(&self.common_dir)?];
        match std::fs::read_dir(self.common_dir.join("worktrees")) {
            Ok(entries) => {
                for entry in entries {
                    heads.push(self.head(&entry.ok()?.path())?);
                }
            }
            Err(err) if err.kind() == ErrorKind::NotFound => {}
            Err(_) => return None,
        }
        let placeholder = |head: &RefValue| matches!(head, RefValue::Direct(sha) if sha.as_str().bytes().all(|b| b == b'0'));
        (!heads.iter().any(placeholder)).then_some(heads)
    }

    /// The object a full ref name (`refs/heads/…`) points at, following symbolic refs; `None`
    /// when it cannot be told for certain, which includes a ref that does not exist.
    pub(crate) fn resolve(&self, name: &str) -> Option<Sha> {
        let mut name = name.to_owned();
        // git follows at most five levels of symbolic refs.
        for _ in 0..5 {
            if !is_plain_shared_ref(&name) {
                return None;
            }
            match self.read(&name)? {
                RefValue::Direct(sha) => return Some(sha),
                RefValue::Symbolic(target) => name = target,
            }
        }
        None
    }

    /// Whether the full ref `name` exists, exactly as `git show-ref --verify` tells (no name
    /// guessing), following symbolic refs; `None` when the files cannot settle it.
    pub(crate) fn exists(&self, name: &str) -> Option<bool> {
        if !is_plain_shared_ref(name) {
            return None;
        }
        match self.read(name) {
            Some(RefValue::Direct(_)) => Some(true),
            Some(RefValue::Symbolic(_)) => self.resolve(name).map(|_| true),
            None => self.certainly_missing(name).then_some(false),
        }
    }

    /// Whether `name` is in neither a loose file nor `packed-refs` (as opposed to unreadable).
    fn certainly_missing(&self, name: &str) -> bool {
        if !matches!(read_small(&self.common_dir.join(name)), Some(Err(Missing))) {
            return false;
        }
        match read_small(&self.common_dir.join("packed-refs")) {
            Some(Err(Missing)) => true,
            Some(Ok(packed)) => !packed
                .lines()
                .any(|line| line.split_once(' ').is_some_and(|(_, r)| r == name)),
            None => false,
        }
    }

    /// One shared ref: its loose file, else its `packed-refs` line (git writes `packed-refs`
    /// before deleting loose files, so reading in this order never misses a ref being packed).
    fn read(&self, name: &str) -> Option<RefValue> {
        if let Ok(text) = read_small(&self.common_dir.join(name))? {
            return parse_ref_file(&text);
        }
        let packed = match read_small(&self.common_dir.join("packed-refs"))? {
            Ok(text) => text,
            Err(Missing) => return None,
        };
        packed.lines().find_map(|line| {
            let (oid, ref_name) = line.split_once(' ')?;
            (ref_name == name && is_object_id(oid)).then(|| RefValue::Direct(Sha::new(oid)))
        })
    }
}

/// A file that is not there (or is a directory, as `refs/heads/teams` is when branches live under
/// it): the ref is not loose.
struct Missing;

/// Reads a ref file. `Some(Err(Missing))` when there is no such file, `None` on any other error.
fn read_small(path: &Path) -> Option<Result<String, Missing>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).ok().map(Ok),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory
            ) =>
        {
            Some(Err(Missing))
        }
        Err(_) => None,
    }
}

/// The content of a loose ref or `HEAD`: an object id or `ref: <name>`, one line.
fn parse_ref_file(text: &str) -> Option<RefValue> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    if line.contains('\n') {
        return None;
    }
    if let Some(target) = line.strip_prefix("ref: ") {
        return target
            .starts_with("refs/")
            .then(|| RefValue::Symbolic(target.to_owned()));
    }
    is_object_id(line).then(|| RefValue::Direct(Sha::new(line)))
}

/// A ref stored in the shared directory under a name that is safe to join to a path: branches,
/// tags and `refs/teams/…`, not per-worktree refs or anything with `..` in it.
fn is_plain_shared_ref(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("refs/") else {
        return false;
    };
    !rest.is_empty()
        && !rest.starts_with("worktree/")
        && !rest.starts_with("bisect/")
        && !rest.starts_with("rewritten/")
        && rest.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && !part.ends_with(".lock")
                && !part.contains("..")
                && !part
                    .bytes()
                    .any(|b| b.is_ascii_control() || b" ~^:?*[\\@{".contains(&b))
        })
}

/// A full SHA-1 or SHA-256 object id in lowercase hex.
pub(crate) fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_files_are_an_id_or_a_symbolic_ref() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse_ref_file(&format!("{id}\n")),
            Some(RefValue::Direct(Sha::new(id)))
        );
        assert_eq!(
            parse_ref_file("ref: refs/heads/main\n"),
            Some(RefValue::Symbolic("refs/heads/main".into()))
        );
        assert_eq!(parse_ref_file("ref: HEAD\n"), None);
        assert_eq!(parse_ref_file("0123\n"), None);
        assert_eq!(parse_ref_file(&format!("{id}\n{id}\n")), None);
        assert_eq!(parse_ref_file(&id.to_uppercase()), None);
    }

    #[test]
    fn only_plain_shared_names_are_read_from_files() {
        assert!(is_plain_shared_ref("refs/heads/teams/app/unit/E-1"));
        assert!(!is_plain_shared_ref("refs/heads/../../config"));
        assert!(!is_plain_shared_ref("refs/heads/a..b"));
        assert!(!is_plain_shared_ref("refs/heads/x^{commit}"));
        assert!(!is_plain_shared_ref("refs/worktree/x"));
        assert!(!is_plain_shared_ref("HEAD"));
        assert!(!is_plain_shared_ref("main"));
        assert!(!is_plain_shared_ref("refs/heads/x.lock"));
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn the_files_backend_is_read_and_reftable_is_left_to_git() {
        let tmp = tempfile::tempdir().unwrap();
        let files = tmp.path().join("files");
        let reftable = tmp.path().join("reftable");
        for (dir, format) in [(&files, "files"), (&reftable, "reftable")] {
            std::fs::create_dir(dir).unwrap();
            git(
                dir,
                &[
                    "init",
                    "-q",
                    "-b",
                    "main",
                    &format!("--ref-format={format}"),
                ],
            );
            git(dir, &["commit", "-q", "--allow-empty", "-m", "init"]);
        }
        let head = git(&files, &["rev-parse", "HEAD"]);
        let (main_refs, git_dir) = RefFiles::for_worktree(&files, |_| None).expect("files backend");
        let refs = main_refs.clone();
        assert_eq!(
            refs.head(&git_dir),
            Some(RefValue::Symbolic("refs/heads/main".into()))
        );
        assert_eq!(refs.resolve("refs/heads/main"), Some(Sha::new(&head)));
        assert_eq!(refs.resolve("refs/heads/none"), None);

        git(&files, &["branch", "unit"]);
        git(&files, &["worktree", "add", "-q", "../wt", "unit"]);
        let (refs, git_dir) =
            RefFiles::for_worktree(&tmp.path().join("wt"), |_| None).expect("linked worktree");
        assert!(git_dir.ends_with("worktrees/wt"), "{}", git_dir.display());
        assert_eq!(
            refs.head(&git_dir),
            Some(RefValue::Symbolic("refs/heads/unit".into()))
        );

        let heads = main_refs.worktree_heads().expect("both HEADs readable");
        assert_eq!(
            heads,
            vec![
                RefValue::Symbolic("refs/heads/main".into()),
                RefValue::Symbolic("refs/heads/unit".into())
            ]
        );
        // A linked worktree git is still creating: its HEAD is first the all-zero placeholder,
        // and before that not there at all. Neither may read as "not checked out".
        let head_file = git_dir.join("HEAD");
        std::fs::write(&head_file, format!("{}\n", "0".repeat(40))).unwrap();
        assert_eq!(main_refs.worktree_heads(), None);
        std::fs::remove_file(&head_file).unwrap();
        assert_eq!(main_refs.worktree_heads(), None);
        std::fs::write(&head_file, "ref: refs/heads/unit\n").unwrap();
        git(&files, &["worktree", "remove", "--force", "../wt"]);
        assert_eq!(
            main_refs.worktree_heads(),
            Some(vec![RefValue::Symbolic("refs/heads/main".into())])
        );

        assert!(RefFiles::for_worktree(&reftable, |_| None).is_none());
        // git pointed elsewhere by the environment: git answers.
        let env = |key: &str| (key == "GIT_DIR").then(|| "/elsewhere".to_owned());
        assert!(RefFiles::for_worktree(&files, env).is_none());
    }
}
