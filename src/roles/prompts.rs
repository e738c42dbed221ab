//! The role prompts (spec §5.3): which template each role uses, which placeholders it may use, and
//! how each context value is rendered into text.
//!
//! Templates are chosen and checked once, in [`PromptTemplates::load`], so a bad override fails
//! before any agent runs; rendering afterwards cannot fail. The validator's placeholders are the
//! story, its criteria, the commit and the diff and nothing else: whatever a project writes into its
//! own validator prompt, it cannot pass the builder's reasoning or handoff to the validator
//! (spec §4.3 step 3).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::template::{Template, TemplateError, Values};

pub use crate::config::Role as PromptRole;

/// The placeholders of `prompts/planner.md`.
pub const PLANNER_PLACEHOLDERS: &[&str] = &[
    "project",
    "project_description",
    "unit_id",
    "unit_title",
    "unit_description",
    "stories",
];

/// The placeholders of `prompts/builder.md`.
pub const BUILDER_PLACEHOLDERS: &[&str] = &[
    "project",
    "unit_id",
    "unit_title",
    "unit_description",
    "story_id",
    "story_title",
    "story_description",
    "criteria",
    "attempt",
    "max_attempts",
    "branch",
    "plan_section",
    "guidance",
    "earlier_handoffs",
    "feedback",
    "checks",
];

/// The placeholders of `prompts/validator.md`. Deliberately nothing from the builder.
pub const VALIDATOR_PLACEHOLDERS: &[&str] = &[
    "story_id",
    "story_title",
    "story_description",
    "criteria",
    "commit",
    "diff",
];

/// The placeholders of `prompts/merger.md`.
pub const MERGER_PLACEHOLDERS: &[&str] = &[
    "unit_id",
    "unit_title",
    "unit_branch",
    "integration_branch",
    "conflicted_files",
    "checks",
];

/// The placeholders `role`'s template may use.
pub fn placeholders(role: PromptRole) -> &'static [&'static str] {
    match role {
        PromptRole::Planner => PLANNER_PLACEHOLDERS,
        PromptRole::Builder => BUILDER_PLACEHOLDERS,
        PromptRole::Validator => VALIDATOR_PLACEHOLDERS,
        PromptRole::Merger => MERGER_PLACEHOLDERS,
    }
}

/// The built-in template text for `role` (`prompts/<role>.md` in the source tree).
pub fn builtin_text(role: PromptRole) -> &'static str {
    match role {
        PromptRole::Planner => include_str!("../../prompts/planner.md"),
        PromptRole::Builder => include_str!("../../prompts/builder.md"),
        PromptRole::Validator => include_str!("../../prompts/validator.md"),
        PromptRole::Merger => include_str!("../../prompts/merger.md"),
    }
}

/// One story as the prompts show it.
#[derive(Debug, Clone, Copy)]
pub struct StoryBrief<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub acceptance_criteria: &'a [String],
}

impl<'a> StoryBrief<'a> {
    /// The brief of a PRD story.
    pub fn of(story: &'a crate::prd::Story) -> Self {
        StoryBrief {
            id: story.id.as_str(),
            title: &story.title,
            description: &story.description,
            acceptance_criteria: &story.acceptance_criteria,
        }
    }
}

/// What the planner of one unit is told.
#[derive(Debug, Clone)]
pub struct PlannerContext<'a> {
    pub project: &'a str,
    pub project_description: &'a str,
    pub unit_id: &'a str,
    pub unit_title: &'a str,
    pub unit_description: &'a str,
    /// In build order.
    pub stories: Vec<StoryBrief<'a>>,
}

/// What the builder of one attempt is told (spec §4.3 step 1).
#[derive(Debug, Clone)]
pub struct BuilderContext<'a> {
    pub project: &'a str,
    pub unit_id: &'a str,
    pub unit_title: &'a str,
    pub unit_description: &'a str,
    pub story: StoryBrief<'a>,
    /// 1-based.
    pub attempt: u32,
    pub max_attempts: u32,
    pub branch: &'a str,
    pub plan_section: Option<&'a str>,
    pub guidance: Option<&'a str>,
    /// `(story id, handoff line)` of the stories before this one in the unit.
    pub earlier_handoffs: &'a [(String, String)],
    /// The previous attempt's validator feedback or failed-check output (attempt 2 and later).
    pub feedback: Option<&'a str>,
    pub checks: &'a [String],
}

/// What the validator of one attempt is told (spec §4.3 step 3), and nothing more.
#[derive(Debug, Clone)]
pub struct ValidatorContext<'a> {
    pub story: StoryBrief<'a>,
    /// The commit under review (the checkout the validator runs in).
    pub commit: &'a str,
    /// `git diff <attempt-start>..<commit>`.
    pub diff: &'a str,
}

/// What the merger of one conflicted unit is told.
#[derive(Debug, Clone)]
pub struct MergerContext<'a> {
    pub unit_id: &'a str,
    pub unit_title: &'a str,
    pub unit_branch: &'a str,
    pub integration_branch: &'a str,
    pub conflicted_files: &'a [String],
    pub checks: &'a [String],
}

/// Prompt files named in `teams.toml` (`[prompts] <role> = "path"`), relative to the repository
/// root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptPaths {
    pub planner: Option<PathBuf>,
    pub builder: Option<PathBuf>,
    pub validator: Option<PathBuf>,
    pub merger: Option<PathBuf>,
}

impl PromptPaths {
    /// The `[prompts]` entries of a resolved config.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let path = |role| config.role(role).prompt.as_ref().map(|p| p.value.clone());
        PromptPaths {
            planner: path(PromptRole::Planner),
            builder: path(PromptRole::Builder),
            validator: path(PromptRole::Validator),
            merger: path(PromptRole::Merger),
        }
    }

    /// The configured path for `role`.
    pub fn get(&self, role: PromptRole) -> Option<&Path> {
        match role {
            PromptRole::Planner => self.planner.as_deref(),
            PromptRole::Builder => self.builder.as_deref(),
            PromptRole::Validator => self.validator.as_deref(),
            PromptRole::Merger => self.merger.as_deref(),
        }
    }
}

/// Where a role's template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptSource {
    /// Embedded in the binary.
    Builtin,
    /// A project file (from `teams.toml` or `.teams/prompts/<role>.md`).
    File(PathBuf),
}

impl fmt::Display for PromptSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromptSource::Builtin => f.write_str("built-in"),
            PromptSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A prompt override that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("failed to read the {role} prompt {}", path.display())]
    Read {
        role: PromptRole,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Unknown placeholder or unbalanced block; `error` holds the line, column and details.
    #[error("invalid {role} prompt {}:{error}", path.display())]
    Template {
        role: PromptRole,
        path: PathBuf,
        error: TemplateError,
    },
}

impl PromptError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        let (role, path) = match self {
            PromptError::Read { role, path, .. } | PromptError::Template { role, path, .. } => {
                (role, path)
            }
        };
        format!(
            "fix {} or remove it to use the built-in {role} prompt (placeholders: docs/prompts.md)",
            path.display()
        )
    }
}

/// One role's parsed template and where it came from.
#[derive(Debug, Clone)]
struct Loaded {
    template: Template,
    source: PromptSource,
}

impl Loaded {
    fn builtin(role: PromptRole) -> Loaded {
        // The tests parse every built-in template, so this cannot fail in a released binary.
        let template = Template::parse(builtin_text(role), placeholders(role))
            .unwrap_or_else(|err| panic!("built-in {role} prompt is invalid: {err}"));
        Loaded {
            template,
            source: PromptSource::Builtin,
        }
    }
}

/// The four role templates of a run.
#[derive(Debug, Clone)]
pub struct PromptTemplates {
    planner: Loaded,
    builder: Loaded,
    validator: Loaded,
    merger: Loaded,
}

impl PromptTemplates {
    /// The templates embedded in the binary.
    pub fn builtin() -> PromptTemplates {
        PromptTemplates {
            planner: Loaded::builtin(PromptRole::Planner),
            builder: Loaded::builtin(PromptRole::Builder),
            validator: Loaded::builtin(PromptRole::Validator),
            merger: Loaded::builtin(PromptRole::Merger),
        }
    }

    /// For each role: `configured` (a path relative to `repo_root`, from `teams.toml`) wins, else
    /// `<repo_root>/.teams/prompts/<role>.md` if it exists, else the embedded one. Every file is
    /// read and checked here.
    pub fn load(
        repo_root: &Path,
        configured: &PromptPaths,
    ) -> Result<PromptTemplates, PromptError> {
        let load = |role: PromptRole| -> Result<Loaded, PromptError> {
            let read_error = |path: &Path, source| PromptError::Read {
                role,
                path: path.to_owned(),
                source,
            };
            let (path, text) = if let Some(configured) = configured.get(role) {
                let path = repo_root.join(configured);
                let text = std::fs::read_to_string(&path).map_err(|e| read_error(&path, e))?;
                (path, text)
            } else {
                let path = repo_root
                    .join(".teams")
                    .join("prompts")
                    .join(format!("{role}.md"));
                match std::fs::read_to_string(&path) {
                    Ok(text) => (path, text),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Ok(Loaded::builtin(role));
                    }
                    Err(e) => return Err(read_error(&path, e)),
                }
            };
            let template = Template::parse(&text, placeholders(role)).map_err(|error| {
                PromptError::Template {
                    role,
                    path: path.clone(),
                    error,
                }
            })?;
            Ok(Loaded {
                template,
                source: PromptSource::File(path),
            })
        };
        Ok(PromptTemplates {
            planner: load(PromptRole::Planner)?,
            builder: load(PromptRole::Builder)?,
            validator: load(PromptRole::Validator)?,
            merger: load(PromptRole::Merger)?,
        })
    }

    fn loaded(&self, role: PromptRole) -> &Loaded {
        match role {
            PromptRole::Planner => &self.planner,
            PromptRole::Builder => &self.builder,
            PromptRole::Validator => &self.validator,
            PromptRole::Merger => &self.merger,
        }
    }

    /// Where `role`'s template came from, for messages and `teams config show`.
    pub fn source(&self, role: PromptRole) -> &PromptSource {
        &self.loaded(role).source
    }

    /// The planner prompt for one unit.
    pub fn planner(&self, ctx: &PlannerContext) -> String {
        let values = Values::new()
            .set("project", ctx.project)
            .set("project_description", ctx.project_description)
            .set("unit_id", ctx.unit_id)
            .set("unit_title", ctx.unit_title)
            .set("unit_description", ctx.unit_description)
            .set("stories", render_stories(&ctx.stories));
        self.planner.template.render(&values)
    }

    /// The builder prompt for one attempt.
    pub fn builder(&self, ctx: &BuilderContext) -> String {
        let story = &ctx.story;
        let values = Values::new()
            .set("project", ctx.project)
            .set("unit_id", ctx.unit_id)
            .set("unit_title", ctx.unit_title)
            .set("unit_description", ctx.unit_description)
            .set("story_id", story.id)
            .set("story_title", story.title)
            .set("story_description", story.description)
            .set("criteria", numbered(story.acceptance_criteria))
            .set("attempt", ctx.attempt.to_string())
            .set("max_attempts", ctx.max_attempts.to_string())
            .set("branch", ctx.branch)
            .set("plan_section", ctx.plan_section.unwrap_or_default())
            .set("guidance", ctx.guidance.unwrap_or_default())
            .set("earlier_handoffs", render_handoffs(ctx.earlier_handoffs))
            .set("feedback", ctx.feedback.unwrap_or_default())
            .set("checks", commands(ctx.checks));
        self.builder.template.render(&values)
    }

    /// The validator prompt for one attempt.
    pub fn validator(&self, ctx: &ValidatorContext) -> String {
        let story = &ctx.story;
        let values = Values::new()
            .set("story_id", story.id)
            .set("story_title", story.title)
            .set("story_description", story.description)
            .set("criteria", numbered(story.acceptance_criteria))
            .set("commit", ctx.commit)
            .set("diff", fenced("diff", ctx.diff));
        self.validator.template.render(&values)
    }

    /// The one re-ask after a missing or malformed verdict: the validator prompt plus what was
    /// wrong with the answer (`problem`, e.g. a [`VerdictError`](super::VerdictError) message).
    pub fn validator_reask(&self, ctx: &ValidatorContext, problem: &str) -> String {
        let mut prompt = self.validator(ctx);
        if !prompt.ends_with('\n') {
            prompt.push('\n');
        }
        // Restate the format rather than point at the template's own section: an override may
        // word or structure that section differently.
        prompt.push_str(&format!(
            "\n## Your previous answer had no usable verdict\n\n\
             Problem: {}\n\n\
             Judge the criteria again and end your final message with one fenced `json` block, with\n\
             nothing after it. `verdict` is \"pass\" or \"fail\"; list every criterion with `met` true or\n\
             false; `feedback` says what the builder must fix (empty on a pass):\n\n\
             ```json\n\
             {{\"verdict\": \"fail\", \"criteria\": [{{\"criterion\": \"…\", \"met\": false, \"evidence\": \"…\"}}], \"feedback\": \"…\"}}\n\
             ```\n",
            problem.trim()
        ));
        prompt
    }

    /// The merger prompt for one conflicted merge.
    pub fn merger(&self, ctx: &MergerContext) -> String {
        let values = Values::new()
            .set("unit_id", ctx.unit_id)
            .set("unit_title", ctx.unit_title)
            .set("unit_branch", ctx.unit_branch)
            .set("integration_branch", ctx.integration_branch)
            .set("conflicted_files", bullets(ctx.conflicted_files))
            .set("checks", commands(ctx.checks));
        self.merger.template.render(&values)
    }
}

/// `1. first` / `2. second`, continuation lines indented under their item.
fn numbered(items: &[String]) -> String {
    let width = items.len().to_string().len();
    let lines: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let marker = format!("{}.", i + 1);
            indent_continuation(
                &format!("{marker:<w$} {}", item.trim(), w = width + 1),
                width + 2,
            )
        })
        .collect();
    lines.join("\n")
}

/// `- `code`` per item; empty when there are none.
fn commands(items: &[String]) -> String {
    let lines: Vec<String> = items
        .iter()
        .map(|c| format!("- {}", code_span(c)))
        .collect();
    lines.join("\n")
}

/// `- `path`` per file.
fn bullets(items: &[String]) -> String {
    commands(items)
}

/// `text` as an inline code span, with a fence longer than any backtick run inside it.
fn code_span(text: &str) -> String {
    let ticks = "`".repeat(longest_backtick_run(text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// `text` in a fenced code block whose fence no line of `text` can close; empty for empty text.
fn fenced(info: &str, text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{info}\n{text}{newline}{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Every line after the first indented by `width` spaces, so it stays inside its list item.
fn indent_continuation(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        out.push('\n');
        if !line.trim().is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// The planner's list of stories: a heading, description and numbered criteria for each.
fn render_stories(stories: &[StoryBrief]) -> String {
    let sections: Vec<String> = stories
        .iter()
        .map(|story| {
            let mut section = format!("### {}: {}\n", story.id, story.title);
            if !story.description.trim().is_empty() {
                section.push('\n');
                section.push_str(story.description.trim());
                section.push('\n');
            }
            section.push_str("\nAcceptance criteria:\n\n");
            section.push_str(&numbered(story.acceptance_criteria));
            section
        })
        .collect();
    sections.join("\n\n")
}

/// `- **US-001**: done: …` per earlier story.
fn render_handoffs(handoffs: &[(String, String)]) -> String {
    let lines: Vec<String> = handoffs
        .iter()
        .map(|(story, text)| indent_continuation(&format!("- **{story}**: {}", text.trim()), 2))
        .collect();
    lines.join("\n")
}

#[cfg(test)]
#[path = "prompts_tests.rs"]
mod tests;
