//! The two ends of the loop are conversations (spec §2): before a run the user and an agent shape
//! the PRD (`teams init`) and plan epics (`teams plan`); after a run they look at what failed and
//! leave guidance for the next attempt (`teams discuss`).
//!
//! This module holds the library side of those commands, with no terminal I/O: scaffolding
//! (`scaffold.rs`), the conversation agent and its files (`agent.rs`), and the context of a failed
//! story (`context.rs`). The questions, the hand-over of the terminal and the messages are the
//! commands' own, in `cli/init.rs`, `cli/plan.rs` and `cli/discuss.rs`.

mod agent;
mod context;
mod scaffold;

pub use agent::{
    TalkAgent, TalkFiles, describe_failure, interrupted, run_until_done_or_ctrl_c, talk_files,
};
pub use context::{
    AttemptRecord, FailedStory, MAX_DIFF_BYTES, StoryContext, TRANSCRIPT_TAIL_LINES,
    failed_stories, gather_story_context, render_attempts,
};
pub use scaffold::{AGENT_DEFINITIONS, Scaffolded, install_agents, scaffold};
