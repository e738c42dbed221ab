//! The fake agent: filled in by the agents work.
fn main() {}
