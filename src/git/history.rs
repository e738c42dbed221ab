//! Questions about history and refs that the loop asks to check an agent's claims: how many
//! commits a branch gained, which files they touched, the diff a validator sees, and moving refs
//! under `refs/teams/` to keep failed work.

use super::repo::{Repo, Sha};
use super::runner::GitError;

/// A change between two commits, as [`Repo::review`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Every path added, changed or deleted (both names of a rename), sorted, without repeats;
    /// names that are not UTF-8 are kept with replacement characters.
    pub files: Vec<String>,
    /// The stat, a blank line and the patch (non-UTF-8 text kept with replacement characters).
    pub text: String,
}

impl Repo {
    /// Commits reachable from `to` but not from `from` (oldest first).
    pub fn commits_between(&self, from: &Sha, to: &Sha) -> Result<Vec<Sha>, GitError> {
        let range = format!("{}..{}", from.as_str(), to.as_str());
        let out = self.git().run(["rev-list", "--reverse", &range])?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(Sha::new)
            .collect())
    }

    /// Paths changed between two commits (renames reported as delete + add, so both names show).
    pub fn changed_files(&self, from: &Sha, to: &Sha) -> Result<Vec<String>, GitError> {
        // Lossy: a file name in another encoding must not stop the run; protected names are ASCII.
        let out = self.git().run_lossy([
            "diff",
            "--name-only",
            "--no-renames",
            "-z",
            from.as_str(),
            to.as_str(),
        ])?;
        Ok(out
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// `git diff --stat` followed by the full patch from `from` to `to`, as a validator reads it:
    /// the stat, a blank line, the patch.
    pub fn diff_for_review(&self, from: &Sha, to: &Sha) -> Result<String, GitError> {
        Ok(self.review(from, to)?.text)
    }

    /// What the loop needs to know about a story's change, from one git process: the paths it
    /// touches (as [`changed_files`](Self::changed_files) lists them) and the text a validator
    /// reads (as [`diff_for_review`](Self::diff_for_review) gives it).
    ///
    /// `git diff --raw -z --stat --patch` prints the raw records (NUL-separated, names verbatim),
    /// then the stat, then a NUL where the blank line before the patch would be, then the patch;
    /// for an empty diff it prints nothing, where the text has always been the empty stat and
    /// patch around the blank line. The raw records follow rename detection as the patch does, so
    /// a rename lists both names (the source of a copy is unchanged and is left out).
    pub fn review(&self, from: &Sha, to: &Sha) -> Result<Review, GitError> {
        let args = [
            "diff",
            "--raw",
            "-z",
            "--stat",
            "--patch",
            "--no-color",
            "--no-ext-diff",
            from.as_str(),
            to.as_str(),
        ];
        let output = self.git().output(args)?;
        if !output.status.success() {
            return Err(GitError::Failed {
                args: args.join(" "),
                dir: self.git().dir().to_path_buf(),
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        parse_review(&output.stdout).ok_or_else(|| GitError::Failed {
            args: args.join(" "),
            dir: self.git().dir().to_path_buf(),
            code: output.status.code(),
            stderr: "its output did not have the expected shape".to_owned(),
        })
    }

    /// Sets `name` (a full ref such as `refs/teams/failed/US-1/1`) to `commit`.
    pub fn set_ref(&self, name: &str, commit: &Sha) -> Result<(), GitError> {
        self.git().run(["update-ref", name, commit.as_str()])?;
        Ok(())
    }

    /// Moves branch `name` to `new` only if it still points at `old` (a compare-and-swap, so a
    /// concurrent change is never overwritten).
    pub fn move_branch(&self, name: &str, new: &Sha, old: &Sha) -> Result<(), GitError> {
        let full = format!("refs/heads/{name}");
        self.git()
            .run(["update-ref", &full, new.as_str(), old.as_str()])?;
        Ok(())
    }

    /// The subject line of a commit.
    pub fn subject(&self, commit: &Sha) -> Result<String, GitError> {
        self.git()
            .run(["log", "-1", "--format=%s", commit.as_str()])
    }
}

/// Splits `git diff --raw -z --stat --patch` output; `None` when it is not in that shape.
fn parse_review(out: &[u8]) -> Option<Review> {
    if out.is_empty() {
        return Some(Review {
            files: Vec::new(),
            text: "\n\n".to_owned(),
        });
    }
    let mut rest = out;
    let mut files = Vec::new();
    // Raw records: `:<modes> <ids> <status>\0<path>\0`, with a second path for renames/copies.
    while rest.first() == Some(&b':') {
        let mut fields = rest.splitn(2, |b| *b == 0);
        let meta = fields.next()?;
        rest = fields.next()?;
        let status = *meta.rsplit(|b| *b == b' ').next()?.first()?;
        let names = if matches!(status, b'R' | b'C') { 2 } else { 1 };
        for i in 0..names {
            let end = rest.iter().position(|b| *b == 0)?;
            // The source of a copy is not changed by it.
            if !(status == b'C' && i == 0) {
                files.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            }
            rest = &rest[end + 1..];
        }
    }
    files.sort();
    files.dedup();
    // The stat never holds a NUL (its names are quoted), so the first one is the separator.
    let mut text = match rest.iter().position(|b| *b == 0) {
        Some(at) => {
            let mut joined = rest[..at].to_vec();
            joined.push(b'\n');
            joined.extend_from_slice(&rest[at + 1..]);
            String::from_utf8_lossy(&joined).into_owned()
        }
        None => String::from_utf8_lossy(rest).into_owned(),
    };
    if text.ends_with('\n') {
        text.pop();
    }
    Some(Review { files, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_output_splits_into_names_and_text() {
        let out = b":100644 100644 aaa bbb M\0a b.txt\0:100644 100644 ccc ccc R100\0old\0new\0\
:100644 100644 ddd ddd C075\0src\0copy\0 a b.txt | 1 +\n 1 file changed\n\0diff --git x\n+y\n";
        let review = parse_review(out).unwrap();
        assert_eq!(review.files, ["a b.txt", "copy", "new", "old"]);
        assert_eq!(
            review.text,
            " a b.txt | 1 +\n 1 file changed\n\ndiff --git x\n+y"
        );
        assert_eq!(parse_review(b"").unwrap().text, "\n\n");
        assert!(parse_review(b":100644 100644 aaa bbb M\0cut").is_none());
    }
}
