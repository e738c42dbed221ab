//! The fake agent for the benches: the release binary next to the bench's own profile
//! directory, built with cargo when it is missing (so `cargo bench --bench X` works on a fresh
//! checkout). Shared by the benches through `#[path]`; `benches/common/` holds no bench target.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn fake_agent() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf();
    let bin = profile.join("teams-fake-agent");
    if !bin.is_file() {
        let target = profile.parent().expect("target dir");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "-p", "teams-fake-agent"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", target)
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the fake agent failed");
        assert!(bin.is_file(), "no fake agent at {}", bin.display());
    }
    bin
}
