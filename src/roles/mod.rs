//! What each agent role is told and what `teams` reads back from it (spec §5.2, §5.3).
//!
//! Everything here is pure text in, text out: the run loop gathers the facts (story, diff,
//! feedback, handoffs), this module turns them into prompts and turns the agents' final
//! messages into a [`Verdict`] or a [`Handoff`]. Keeping it free of processes and git means
//! the contract with the agents can be read, overridden and tested in one place.
//!
//! - `template.rs`: the `{{name}}` / `{{#name}}…{{/name}}` template language.
//! - `prompts.rs`: choosing each role's template (config path, `.teams/prompts/`, built-in) and
//!   rendering it; the built-in texts are `prompts/<role>.md` at the repository root.
//! - `verdict.rs`: the validator's JSON verdict.
//! - `handoff.rs`: the builder's `done: …; evidence: …; risk: …; next: …` line.
//! - `conversation.rs`: the `init` and `discuss` prompts and the interactive planner note.
//! - `planner.rs`: when to plan (spec §4.4) and cutting one story's section out of a plan.
//!
//! The prompt contract for users is in `docs/prompts.md`.

mod conversation;
mod handoff;
mod planner;
mod prompts;
mod template;
mod verdict;

pub use conversation::{
    ConversationPrompt, ConversationPromptError, ConversationRole, DiscussContext, InitContext,
    interactive_planner_prompt,
};
pub use handoff::{Handoff, parse_handoff};
pub use planner::{needs_planner, plan_section};
pub use prompts::{
    BUILDER_PLACEHOLDERS, BuilderContext, MERGER_PLACEHOLDERS, MergerContext, PLANNER_PLACEHOLDERS,
    PlannerContext, PromptError, PromptPaths, PromptRole, PromptSource, PromptTemplates,
    StoryBrief, VALIDATOR_PLACEHOLDERS, ValidatorContext, builtin_text, placeholders,
};
pub use template::{TemplateError, TemplateProblem};
pub use verdict::{CriterionResult, Verdict, VerdictError, parse_verdict};
