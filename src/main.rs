//! The `teams` binary: everything lives in the library; this only maps the result to an exit code.

// mimalloc: loading a large PRD is dominated by many small allocations (measured with perf, see
// docs/PERFORMANCE.md); glibc's malloc spent about a third of `teams validate` in malloc and
// first-touch page faults.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    teams::cli::main()
}
