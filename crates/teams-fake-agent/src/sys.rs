//! The two bits of libc the fake needs, declared by hand so the crate stays dependency-light.
//!
//! The signal numbers below are the same on Linux and macOS, the platforms `teams` supports.

use std::os::raw::c_int;

pub const SIGINT: c_int = 2;
pub const SIGPIPE: c_int = 13;
pub const SIGTERM: c_int = 15;
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

unsafe extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
    fn geteuid() -> u32;
}

/// Ignore `sig` from now on (inherited by processes spawned later).
pub fn ignore(sig: c_int) {
    // SAFETY: installing SIG_IGN touches no memory of ours and is async-signal-safe.
    unsafe {
        signal(sig, SIG_IGN);
    }
}

/// Restore the default action for `sig`.
pub fn default_action(sig: c_int) {
    // SAFETY: as above, with SIG_DFL.
    unsafe {
        signal(sig, SIG_DFL);
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and has no preconditions.
    unsafe { geteuid() == 0 }
}
