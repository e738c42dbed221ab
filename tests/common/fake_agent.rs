//! Finding the `teams-fake-agent` binary and putting it on `PATH` as `claude`.
//!
//! Include it with `#[path = "common/fake_agent.rs"] mod fake_agent;` (no shared `mod.rs`, so test
//! files pick only the helpers they need).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The fake agent built next to this test binary: `target/<profile>/deps/<test>-<hash>` →
/// `target/<profile>/teams-fake-agent`.
pub fn fake_agent_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let bin = profile_dir.join("teams-fake-agent");
    assert!(
        bin.is_file(),
        "the fake agent is missing at {}: run `cargo build -p teams-fake-agent` first \
         (a plain `cargo test` at the workspace root builds it; `cargo test --test NAME` does not)",
        bin.display()
    );
    bin
}

/// Symlinks the fake agent as `dir/claude` and returns `dir`, ready to go first on `PATH`.
pub fn install_as_claude(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create the bin dir");
    let link = dir.join("claude");
    if !link.exists() {
        std::os::unix::fs::symlink(fake_agent_bin(), &link).expect("symlink the fake as claude");
    }
    dir.to_path_buf()
}

/// `PATH` with `dir` in front.
pub fn path_with(dir: &Path) -> OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(old) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(paths).expect("PATH entries contain no separator")
}
