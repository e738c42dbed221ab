//! The run store: `.teams/state.db`, the durable truth of every run (spec §6).
//!
//! Why SQLite: a run is a long series of small transitions (an attempt started, an agent's pid, a
//! verdict) that must each be on disk before the next step starts, and several readers (`teams
//! status`, `teams logs`) must see them while the run goes on. SQLite in WAL mode gives exactly
//! that: one transaction per transition, `synchronous=FULL` so a committed transition survives a
//! power cut, and readers that never block the writer. `prd.json` is a view rewritten from here.
//!
//! Only the dispatcher writes (one connection, one thread); readers open their own connection.
//! The schema is versioned with `PRAGMA user_version` and migrated forward on open; a file whose
//! `application_id` is not ours, or whose version is newer than this binary knows, is refused
//! with a message that says what to do, and never modified.

mod read;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use read::{AttemptRow, EventRow, RunOverview, RunRow, RunState, StoryRow, UnitRow};
pub use write::{AgentEnd, AttemptDecision, AttemptStart, NewRun, NewStory, NewUnit, StoryUpdate};

use crate::error::TeamsError;

/// `PRAGMA application_id` of a teams store: "tEAm" in ASCII, so `file` and we can tell it apart.
const APPLICATION_ID: i32 = 0x7445_416d;

/// How long a reader or the writer waits for a lock before giving up (the run's writes are tiny).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a teams state store (it is another SQLite database)")]
    Foreign { path: PathBuf },
    #[error(
        "{path} was written by a newer teams (store version {found}, this teams knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path} is damaged: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("failed to use the state store {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl From<StoreError> for TeamsError {
    fn from(err: StoreError) -> Self {
        let hint = match &err {
            StoreError::Foreign { path } | StoreError::Corrupt { path, .. } => format!(
                "teams never deletes it; move it aside (`mv {0} {0}.bad`) and run again: the \
                 branches and prd.json keep every passed story",
                path.display()
            ),
            StoreError::TooNew { .. } => "upgrade teams (`cargo install teams` or your package \
                                          manager), or use the teams that started this run"
                .to_owned(),
            StoreError::Sqlite { .. } => {
                "check the disk and the permissions of .teams/; `teams doctor` checks the store"
                    .to_owned()
            }
        };
        TeamsError::environment(err.to_string()).with_hint(hint)
    }
}

/// A connection to the store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `path` for writing.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Sqlite {
                path: path.to_owned(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        }
        if !path.exists() {
            create_new(path)?;
        }
        let conn = Connection::open(path).map_err(|e| classify(path, e))?;
        let store = Store {
            conn,
            path: path.to_owned(),
        };
        // Identity first: a file that is not ours is never touched, not even its journal mode.
        store.check_identity(true)?;
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing store read-only, for `status` and `logs`: never creates, migrates or
    /// locks anything the run needs. `None` when there is no store yet.
    pub fn open_read_only(path: &Path) -> Result<Option<Store>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(path, e))?;
        let store = Store {
            conn,
            path: path.to_owned(),
        };
        store.check_identity(false)?;
        let version = store.user_version()?;
        if version < schema::VERSION {
            // An older store that the next `teams run` migrates; reading it as is would misread it.
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: format!(
                    "store version {version} is older than {}; any `teams run` or `teams resume` upgrades it",
                    schema::VERSION
                ),
            });
        }
        Ok(Some(store))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.err(e))?;
        // WAL: readers never block the run. FULL: a committed transition survives a power cut.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("could not switch to WAL mode (got `{mode}`)"),
            });
        }
        self.conn
            .execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(|e| self.err(e))
    }

    /// A store is ours when it carries our application id, or is empty (new).
    fn check_identity(&self, claim_empty: bool) -> Result<(), StoreError> {
        let id: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if id == APPLICATION_ID {
            return Ok(());
        }
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.err(e))?;
        if tables > 0 || id != 0 || !claim_empty {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
            });
        }
        self.conn
            .execute_batch(&format!("PRAGMA application_id={APPLICATION_ID}"))
            .map_err(|e| self.err(e))
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.err(e))
    }

    /// Applies every migration above the file's version, each in its own transaction.
    fn migrate(&self) -> Result<(), StoreError> {
        let found = self.user_version()?;
        if found > schema::VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known: schema::VERSION,
            });
        }
        for (index, sql) in schema::MIGRATIONS.iter().enumerate() {
            let version = index as i64 + 1;
            if version <= found {
                continue;
            }
            let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
            tx.execute_batch(sql).map_err(|e| self.err(e))?;
            tx.execute_batch(&format!("PRAGMA user_version={version}"))
                .map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        classify(&self.path, source)
    }
}

/// Builds a new store complete under a temporary name next to `path`, without an fsync per step
/// (a new store's identity, journal mode and schema took a dozen), then flushes it once and
/// links it into place: a crash leaves either no store or a whole one, and the next creation
/// removes a temporary file a crash left.
fn create_new(path: &Path) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Sqlite {
        path: path.to_owned(),
        source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "state.db".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.new-");
    for entry in std::fs::read_dir(dir).map_err(io)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let temp = dir.join(format!("{prefix}{}", std::process::id()));
    {
        let conn = Connection::open(&temp).map_err(|e| classify(&temp, e))?;
        let store = Store {
            conn,
            path: temp.clone(),
        };
        store
            .conn
            .execute_batch("PRAGMA synchronous=OFF")
            .map_err(|e| store.err(e))?;
        store.check_identity(true)?;
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| store.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path: temp.clone(),
                detail: format!("could not switch to WAL mode (got `{mode}`)"),
            });
        }
        store.migrate()?;
        // Closing the only connection moves everything into the file and deletes the WAL.
    }
    std::fs::File::open(&temp)
        .and_then(|file| file.sync_all())
        .map_err(io)?;
    // A hard link, unlike a rename, never replaces a store another teams made meanwhile.
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io(e)),
    }
    std::fs::File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io)
}

/// SQLite's "not a database" and "corrupt" codes become [`StoreError::Corrupt`].
fn classify(path: &Path, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            detail: source.to_string(),
        },
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            source,
        },
    }
}

/// Milliseconds since the Unix epoch, the store's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
