//! "Is commit A an ancestor of commit B?" answered by reading commit objects directly, when that
//! is certain, instead of starting `git merge-base --is-ancestor`.
//!
//! Why: the loop asks it once per story attempt (the builder did not rewrite history) and about
//! seven times per unit around its merge (every recorded commit is on the branch before and on the
//! integration branch after), and each git process costs 2.3–2.7 ms on this machine kind before it
//! does any work (`docs/PERFORMANCE.md`). The commits in question are almost always the ones the
//! run just made, which git stores as loose objects: one zlib stream each, whose header lists the
//! parents. So the walk goes from B through loose commits only, breadth first, at most
//! [`MAX_WALK`] of them: reaching A is a certain yes; running out of parents with every commit read
//! is a certain no; anything else (a packed commit, the limit) is left to git.
//!
//! Not read here at all, so git answers: repositories where history is not just the parent lines
//! (replace refs, grafts, a shallow clone), and object directories moved by the environment.

use std::collections::{HashSet, VecDeque};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::refs::is_object_id;
use super::repo::Sha;

/// The most commits one question reads before leaving it to git: past the commits of a run, a
/// walk is deep in older history, where git's commit graph answers faster.
const MAX_WALK: usize = 64;

/// The loose objects of one repository.
#[derive(Debug, Clone)]
pub(crate) struct LooseCommits {
    common_dir: PathBuf,
}

impl LooseCommits {
    /// The object store under `common_dir`, or `None` when the environment points git elsewhere.
    pub(crate) fn open(common_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let moved = [
            "GIT_DIR",
            "GIT_COMMON_DIR",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_REPLACE_REF_BASE",
            "GIT_GRAFT_FILE",
            "GIT_SHALLOW_FILE",
        ];
        if moved.iter().any(|key| env(key).is_some()) {
            return None;
        }
        common_dir.join("objects").is_dir().then(|| LooseCommits {
            common_dir: common_dir.to_path_buf(),
        })
    }

    /// `Some(answer)` when it is certain, `None` when git must answer.
    pub(crate) fn is_ancestor(&self, ancestor: &Sha, descendant: &Sha) -> Option<bool> {
        if !self.plain_history() {
            return None;
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut queue = VecDeque::from([descendant.as_str().to_owned()]);
        let mut unread = false;
        while let Some(commit) = queue.pop_front() {
            if commit == ancestor.as_str() {
                return Some(true);
            }
            if !seen.insert(commit.clone()) {
                continue;
            }
            if seen.len() > MAX_WALK {
                return None;
            }
            match self.parents(&commit) {
                Some(parents) => queue.extend(parents),
                None => unread = true,
            }
        }
        // Every commit reachable from `descendant` was read, and none is `ancestor`.
        (!unread).then_some(false)
    }

    /// Whether git takes history from the parent lines alone: no replace refs, no grafts, not a
    /// shallow clone. Checked on every question, since an agent may change any of them.
    fn plain_history(&self) -> bool {
        let dir = &self.common_dir;
        if dir.join("shallow").exists() || dir.join("info/grafts").exists() {
            return false;
        }
        match std::fs::read_dir(dir.join("refs/replace")) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return false;
                }
            }
            Err(err) if err.kind() == ErrorKind::NotFound => {}
            Err(_) => return false,
        }
        match std::fs::read_to_string(dir.join("packed-refs")) {
            Ok(packed) => !packed.contains(" refs/replace/"),
            Err(err) => err.kind() == ErrorKind::NotFound,
        }
    }

    /// The parents of a loose commit; `None` when it is not a loose commit that reads cleanly.
    fn parents(&self, commit: &str) -> Option<Vec<String>> {
        if !is_object_id(commit) {
            return None;
        }
        let path = self
            .common_dir
            .join("objects")
            .join(&commit[..2])
            .join(&commit[2..]);
        let file = std::fs::File::open(path).ok()?;
        let mut inflated = flate2::read::ZlibDecoder::new(file);
        let mut header = Vec::new();
        let mut chunk = [0u8; 1024];
        // The parents follow the tree line at the start; read until the first other line.
        loop {
            let n = inflated.read(&mut chunk).ok()?;
            header.extend_from_slice(&chunk[..n]);
            if let Some(parents) = parse_parents(&header) {
                return Some(parents);
            }
            if n == 0 || header.len() > 1 << 20 {
                return None;
            }
        }
    }
}

/// The parent ids from the start of a loose commit object (`commit <size>\0tree …\nparent …\n`),
/// once the header is complete enough to tell; `None` while more bytes are needed (or it is not
/// a commit, which more bytes will not change: the caller stops at the end of the stream).
fn parse_parents(object: &[u8]) -> Option<Vec<String>> {
    let body_start = object.iter().position(|b| *b == 0)? + 1;
    let kind = std::str::from_utf8(&object[..body_start - 1]).ok()?;
    if !kind.starts_with("commit ") {
        return None;
    }
    let body = &object[body_start..];
    let mut lines = body.split(|b| *b == b'\n');
    let mut parents = Vec::new();
    let mut consumed = 0;
    let tree = lines.next()?;
    consumed += tree.len() + 1;
    if consumed > body.len() || !tree.starts_with(b"tree ") {
        return None;
    }
    for line in lines {
        consumed += line.len() + 1;
        if consumed > body.len() {
            // This line may be cut short: wait for more.
            return None;
        }
        match line.strip_prefix(b"parent ") {
            Some(id) => {
                let id = std::str::from_utf8(id).ok()?;
                if !is_object_id(id) {
                    return None;
                }
                parents.push(id.to_owned());
            }
            None => return Some(parents),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_from_complete_header_lines_only() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let full = format!("commit 200\0tree {a}\nparent {a}\nparent {b}\nauthor x\n");
        assert_eq!(
            parse_parents(full.as_bytes()),
            Some(vec![a.clone(), b.clone()])
        );
        let root = format!("commit 100\0tree {a}\nauthor x\n");
        assert_eq!(parse_parents(root.as_bytes()), Some(vec![]));
        // Cut inside the second parent line: not yet known.
        let cut = &full.as_bytes()[..full.find("parent 2").unwrap() + 20];
        assert_eq!(parse_parents(cut), None);
        assert_eq!(parse_parents(format!("tree 10\0{a}").as_bytes()), None);
    }

    #[test]
    fn loose_commits_are_answered_and_packed_ones_left_to_git() {
        let tmp = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
                .args(args)
                .current_dir(tmp.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}");
            Sha::new(String::from_utf8(out.stdout).unwrap().trim())
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["commit", "-q", "--allow-empty", "-m", "one"]);
        let one = git(&["rev-parse", "HEAD"]);
        git(&["commit", "-q", "--allow-empty", "-m", "two"]);
        let two = git(&["rev-parse", "HEAD"]);
        let loose = LooseCommits::open(&tmp.path().join(".git"), |_| None).unwrap();
        assert_eq!(loose.is_ancestor(&one, &two), Some(true));
        assert_eq!(loose.is_ancestor(&two, &one), Some(false));
        assert_eq!(loose.is_ancestor(&two, &two), Some(true));
        git(&["gc", "-q"]);
        assert_eq!(loose.is_ancestor(&one, &two), None, "packed: git answers");
        let env = |key: &str| (key == "GIT_OBJECT_DIRECTORY").then(|| "/x".to_owned());
        assert!(LooseCommits::open(&tmp.path().join(".git"), env).is_none());
    }
}
