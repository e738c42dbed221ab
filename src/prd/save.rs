//! Writing `prd.json` back atomically (spec §3): a crash or Ctrl-C at any moment leaves either the
//! old file or the new one, never a truncated mix, because the PRD is the record of what passed.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::document::PrdDocument;

/// Why saving `prd.json` failed. The original file is untouched in every case.
#[derive(Debug, thiserror::Error)]
#[error("failed to save {}: could not {action}", path.display())]
pub struct SaveError {
    /// The file being saved.
    pub path: PathBuf,
    /// The step that failed, e.g. "create a temporary file in /repo".
    pub action: String,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

impl PrdDocument {
    /// The bytes to write for the document as it is now, taken as saved: for a writer that puts
    /// them on disk elsewhere with [`write_atomically`] (the run's `prd_writer`).
    pub fn take_for_save(&mut self) -> (PathBuf, Vec<u8>) {
        let bytes = self.to_bytes();
        self.original = bytes.clone();
        self.modified = false;
        (self.path.clone(), bytes)
    }

    /// Writes the document to its path: a temporary file in the same directory is written,
    /// flushed to disk and renamed over the original, then the directory is flushed so the rename
    /// itself survives a power cut. The file keeps its permissions; a symlinked `prd.json` stays a
    /// symlink (its target is replaced). Unchanged documents are written back byte for byte.
    pub fn save(&mut self) -> Result<(), SaveError> {
        let bytes = self.to_bytes();
        write_atomically(&self.path, &bytes)?;
        self.original = bytes;
        self.modified = false;
        Ok(())
    }
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SaveError> {
    let fail = |action: String| {
        let path = path.to_owned();
        move |source| SaveError {
            path,
            action,
            source,
        }
    };
    // Replace the symlink's target, not the link.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let permissions = fs::metadata(&target).ok().map(|m| m.permissions());
    inject_fault("create").map_err(fail(format!(
        "create a temporary file in {}",
        dir.display()
    )))?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            target
                .file_name()
                .map_or("prd.json".into(), |n| n.to_string_lossy())
        ))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(fail(format!(
            "create a temporary file in {}",
            dir.display()
        )))?;
    inject_fault("write")
        .and_then(|()| temp.write_all(bytes))
        .map_err(fail(format!("write {}", temp.path().display())))?;
    let permissions = permissions.unwrap_or_else(default_permissions);
    temp.as_file()
        .set_permissions(permissions)
        .map_err(fail("set the permissions of the temporary file".to_owned()))?;
    inject_fault("sync")
        .and_then(|()| temp.as_file().sync_all())
        .map_err(fail(format!("flush {} to disk", temp.path().display())))?;
    inject_fault("rename")
        .and_then(|()| temp.persist(&target).map(drop).map_err(|e| e.error))
        .map_err(fail(format!(
            "rename the temporary file over {}",
            target.display()
        )))?;
    sync_dir(&dir).map_err(fail(format!("flush directory {} to disk", dir.display())))
}

/// Permissions for a PRD that did not exist yet: what a new file usually gets (the temporary file
/// would otherwise keep its private 0600).
fn default_permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o644)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    match fs::File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot sync a directory; the rename has happened either way.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
thread_local! {
    /// The save step that should fail, for tests that prove a failed save leaves the original
    /// untouched at every step (a real permission error cannot be provoked when tests run as root).
    pub(crate) static FAIL_STEP: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

fn inject_fault(step: &'static str) -> io::Result<()> {
    #[cfg(test)]
    if FAIL_STEP.with(|f| f.get()) == Some(step) {
        return Err(io::Error::other("injected failure"));
    }
    let _ = step;
    Ok(())
}
