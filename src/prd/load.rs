//! Reading `prd.json`: file errors, syntax errors and schema/consistency problems, each with the
//! path and, where it applies, a line and column.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::json::{self, LineIndex, ParseErrorKind, PrintOptions};

use super::document::PrdDocument;
use super::extract::extract;
use super::problem::{Problem, Problems};
use super::validate::validate;

/// The largest `prd.json` `teams` reads. A real PRD is kilobytes; the limit stops a wrong
/// `--prd` (a log, a binary) from being read whole into memory.
pub const MAX_PRD_BYTES: u64 = 16 * 1024 * 1024;

/// Why a `prd.json` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not exist.
    #[error("failed to read {}: no such file", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error("failed to read {}: it is a directory, not a file", path.display())]
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// The file may not be read.
    #[error("failed to read {}: permission denied", path.display())]
    PermissionDenied {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Another I/O error.
    #[error("failed to read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is larger than [`MAX_PRD_BYTES`].
    #[error(
        "failed to read {}: the file is {} bytes, larger than the {} MiB limit for a PRD",
        path.display(), size, MAX_PRD_BYTES / (1024 * 1024)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least), when the refusal happened.
        size: u64,
    },
    /// The file is not UTF-8.
    #[error("failed to read {}:{line}:{column}: the file is not valid UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Line of the first bad byte.
        line: usize,
        /// Column of the first bad byte.
        column: usize,
    },
    /// The file is not JSON.
    #[error("failed to parse {}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is JSON but not a usable PRD: every problem found, sorted by position.
    #[error(
        "failed to validate {}: {} problem{}",
        path.display(), problems.len(), if problems.len() == 1 { "" } else { "s" }
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

impl LoadError {
    /// The schema and consistency problems, for [`LoadError::Invalid`]; empty otherwise.
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::NotFound { path }
            | LoadError::IsDirectory { path }
            | LoadError::PermissionDenied { path, .. }
            | LoadError::Io { path, .. }
            | LoadError::TooLarge { path, .. }
            | LoadError::NotUtf8 { path, .. }
            | LoadError::Syntax { path, .. }
            | LoadError::Invalid { path, .. } => path,
        }
    }
}

fn io_error(path: &Path, source: io::Error) -> LoadError {
    let path = path.to_owned();
    match source.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound { path },
        io::ErrorKind::IsADirectory => LoadError::IsDirectory { path },
        io::ErrorKind::PermissionDenied => LoadError::PermissionDenied { path, source },
        _ => LoadError::Io { path, source },
    }
}

impl PrdDocument {
    /// Reads, parses and checks the PRD at `path`. Succeeds only for a PRD a run can use: valid
    /// JSON, the schema of spec §3.1, unique IDs, known and acyclic dependencies, no empty parts.
    pub fn load(path: impl AsRef<Path>) -> Result<PrdDocument, LoadError> {
        let path = path.as_ref();
        let bytes = read_limited(path)?;
        PrdDocument::parse(bytes, path)
    }

    /// Parses and checks PRD bytes; `path` is used in messages and is where [`PrdDocument::save`]
    /// writes.
    pub fn parse(
        bytes: impl Into<Vec<u8>>,
        path: impl Into<PathBuf>,
    ) -> Result<PrdDocument, LoadError> {
        let bytes = bytes.into();
        let path = path.into();
        let tree = parse_tree(&bytes, &path)?;
        let mut problems = Problems::default();
        let (prd, source) = extract(&tree, &mut problems);
        validate(&prd, &source, &bytes, &mut problems);
        refuse_problems(problems, &bytes, &path)?;
        let style = detect_style(&bytes);
        Ok(PrdDocument::from_parts(
            path, bytes, tree, prd, source, style,
        ))
    }
}

/// Parses a JSON file's bytes into the span-keeping tree; a syntax error or bytes that are not
/// UTF-8 become a [`LoadError`] naming the file, line and column. Shared by `prd.json` and
/// `backlog.json`.
pub(crate) fn parse_tree(bytes: &[u8], path: &Path) -> Result<json::Node, LoadError> {
    json::parse(bytes).map_err(|e| {
        let (path, line, column) = (path.to_path_buf(), e.position.line, e.position.column);
        match e.kind {
            ParseErrorKind::NotUtf8 => LoadError::NotUtf8 { path, line, column },
            ParseErrorKind::Syntax | ParseErrorKind::TooDeep => LoadError::Syntax {
                path,
                line,
                column,
                message: e.message,
            },
        }
    })
}

/// Every problem found, each located by line and column, as one [`LoadError::Invalid`].
pub(crate) fn refuse_problems(
    problems: Problems,
    bytes: &[u8],
    path: &Path,
) -> Result<(), LoadError> {
    if problems.is_empty() {
        return Ok(());
    }
    let index = LineIndex::new(bytes);
    Err(LoadError::Invalid {
        problems: problems.locate(bytes, &index),
        path: path.to_path_buf(),
    })
}

/// Reads a file, refusing files over [`MAX_PRD_BYTES`] before reading them (and, in case the file
/// grows meanwhile, while reading).
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>, LoadError> {
    let metadata = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if metadata.is_dir() {
        return Err(LoadError::IsDirectory {
            path: path.to_owned(),
        });
    }
    if metadata.len() > MAX_PRD_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            size: metadata.len(),
        });
    }
    let file = fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_PRD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > MAX_PRD_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// The layout to reprint an edited file in: the indentation of the first indented line (two
/// spaces when the file has none, e.g. a one-line file) and whether the file ended in a newline.
pub(crate) fn detect_style(bytes: &[u8]) -> PrintOptions {
    let indent = bytes
        .split(|&b| b == b'\n')
        .skip(1)
        .map(|line| {
            let width = line
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            &line[..width]
        })
        .find(|ws| !ws.is_empty())
        .and_then(|ws| std::str::from_utf8(ws).ok())
        .unwrap_or("  ");
    PrintOptions {
        indent: indent.to_owned(),
        trailing_newline: bytes.ends_with(b"\n"),
    }
}
