//! Writing a command's output: the two helpers every command shares, so a failed write (other than
//! a closed pipe, which `cli::main` ignores) is reported the same way everywhere.

use serde::Serialize;

use crate::error::{Result, TeamsError};
use crate::ui::Ui;

/// A failed write to the terminal or a pipe.
pub fn write_error(err: std::io::Error) -> TeamsError {
    TeamsError::internal("failed to write output").with_source(err)
}

/// `--json` output: the value, pretty-printed, then a newline.
pub fn write_json(ui: &mut Ui, value: &impl Serialize) -> Result<()> {
    let out = ui.stdout();
    serde_json::to_writer_pretty(&mut *out, value).map_err(|err| {
        // serde_json wraps the writer's io::Error; keep it so a closed pipe is still recognised.
        match err.io_error_kind() {
            Some(kind) => write_error(std::io::Error::from(kind)),
            None => TeamsError::internal("failed to write JSON").with_source(err),
        }
    })?;
    writeln!(out).map_err(write_error)
}
