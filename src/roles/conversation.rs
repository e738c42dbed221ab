//! The prompts of the two conversation roles, `init` and `discuss` (spec §2, §5.3), and the note
//! that turns the planner's one-shot prompt into an interactive one for `teams plan`.
//!
//! They are separate from [`PromptTemplates`](super::PromptTemplates) because they belong to no
//! run and have no settings table in `teams.toml`; they use the same template language and the
//! same override rule (`.teams/prompts/<role>.md` wins over the built-in text), and an override is
//! checked against the role's placeholders when it is loaded, before any agent starts.

use std::io;
use std::path::{Path, PathBuf};

use super::template::{Template, TemplateError, Values};

/// The conversation roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationRole {
    Init,
    Discuss,
}

impl ConversationRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationRole::Init => "init",
            ConversationRole::Discuss => "discuss",
        }
    }

    /// The placeholders its template may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            ConversationRole::Init => INIT_PLACEHOLDERS,
            ConversationRole::Discuss => DISCUSS_PLACEHOLDERS,
        }
    }

    /// The built-in template (`prompts/<role>.md` in the source tree).
    pub fn builtin_text(self) -> &'static str {
        match self {
            ConversationRole::Init => include_str!("../../prompts/init.md"),
            ConversationRole::Discuss => include_str!("../../prompts/discuss.md"),
        }
    }
}

/// The placeholders of `prompts/init.md`.
pub const INIT_PLACEHOLDERS: &[&str] = &["prd_file", "interactive", "description", "problems"];

/// The placeholders of `prompts/discuss.md`.
pub const DISCUSS_PLACEHOLDERS: &[&str] = &[
    "project",
    "interactive",
    "message",
    "story_id",
    "story_title",
    "story_description",
    "epic_id",
    "epic_title",
    "criteria",
    "failure_reason",
    "plan_section",
    "attempts",
    "guidance_file",
];

/// A conversation prompt override that cannot be used (a usage error, like a role prompt's).
#[derive(Debug, thiserror::Error)]
pub enum ConversationPromptError {
    #[error("failed to read the {role} prompt {}", path.display())]
    Read {
        role: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("invalid {role} prompt {}:{error}", path.display())]
    Template {
        role: &'static str,
        path: PathBuf,
        error: TemplateError,
    },
}

/// One conversation role's template, loaded and checked.
#[derive(Debug, Clone)]
pub struct ConversationPrompt {
    role: ConversationRole,
    template: Template,
    /// The override file, when one was used.
    pub source: Option<PathBuf>,
}

/// What the `init` agent is told.
#[derive(Debug, Clone, Copy)]
pub struct InitContext<'a> {
    /// The PRD path as the agent should write it (relative to its working directory).
    pub prd_file: &'a str,
    pub interactive: bool,
    /// What the user wants to build (empty: the agent asks).
    pub description: &'a str,
    /// The validation problems of the file it wrote last time, one per line (empty at first).
    pub problems: &'a [String],
}

/// What the `discuss` agent is told about a failed story.
#[derive(Debug, Clone, Copy)]
pub struct DiscussContext<'a> {
    pub project: &'a str,
    pub interactive: bool,
    /// The user's message (`--message`), if any.
    pub message: &'a str,
    pub story_id: &'a str,
    pub story_title: &'a str,
    pub story_description: &'a str,
    pub epic_id: &'a str,
    pub epic_title: &'a str,
    pub criteria: &'a [String],
    pub failure_reason: &'a str,
    pub plan_section: &'a str,
    /// Every attempt rendered as markdown (verdicts, feedback, diffs, transcript tails).
    pub attempts: &'a str,
    /// Where the guidance goes, as the agent should write it.
    pub guidance_file: &'a str,
}

impl ConversationPrompt {
    /// `<repo_root>/.teams/prompts/<role>.md` when it exists, else the built-in template.
    pub fn load(
        repo_root: &Path,
        role: ConversationRole,
    ) -> Result<ConversationPrompt, ConversationPromptError> {
        let path = repo_root
            .join(".teams")
            .join("prompts")
            .join(format!("{}.md", role.as_str()));
        let (text, source) = match std::fs::read_to_string(&path) {
            Ok(text) => (text, Some(path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (role.builtin_text().to_owned(), None),
            Err(source) => {
                return Err(ConversationPromptError::Read {
                    role: role.as_str(),
                    path,
                    source,
                });
            }
        };
        let template = Template::parse(&text, role.placeholders()).map_err(|error| {
            ConversationPromptError::Template {
                role: role.as_str(),
                path: source.clone().unwrap_or_default(),
                error,
            }
        })?;
        Ok(ConversationPrompt {
            role,
            template,
            source,
        })
    }

    /// The `init` prompt.
    pub fn init(&self, ctx: &InitContext<'_>) -> String {
        debug_assert_eq!(self.role, ConversationRole::Init);
        let problems: Vec<String> = ctx.problems.iter().map(|p| format!("- {p}")).collect();
        let values = Values::new()
            .set("prd_file", ctx.prd_file)
            .set("interactive", flag(ctx.interactive))
            .set("description", ctx.description.trim())
            .set("problems", problems.join("\n"));
        self.template.render(&values)
    }

    /// The `discuss` prompt.
    pub fn discuss(&self, ctx: &DiscussContext<'_>) -> String {
        debug_assert_eq!(self.role, ConversationRole::Discuss);
        let criteria: Vec<String> = ctx
            .criteria
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}. {}", i + 1, c.trim()))
            .collect();
        let values = Values::new()
            .set("project", ctx.project)
            .set("interactive", flag(ctx.interactive))
            .set("message", ctx.message.trim())
            .set("story_id", ctx.story_id)
            .set("story_title", ctx.story_title)
            .set("story_description", ctx.story_description.trim())
            .set("epic_id", ctx.epic_id)
            .set("epic_title", ctx.epic_title)
            .set("criteria", criteria.join("\n"))
            .set("failure_reason", ctx.failure_reason.trim())
            .set("plan_section", ctx.plan_section.trim())
            .set("attempts", ctx.attempts.trim_end())
            .set("guidance_file", ctx.guidance_file);
        self.template.render(&values)
    }
}

/// A block flag: non-empty shows `{{#name}}`, empty shows `{{^name}}`.
fn flag(on: bool) -> &'static str {
    if on { "yes" } else { "" }
}

/// The planner's prompt made interactive (`teams plan` without `--auto`): the planner template
/// says nobody will answer and that the final message is the plan, which holds for a one-shot run
/// only. In a session the final message goes to the terminal, so the agent writes the plan file
/// itself, in the same format.
pub fn interactive_planner_prompt(planner_prompt: &str, plan_file: &str) -> String {
    let mut prompt = planner_prompt.trim_end().to_owned();
    prompt.push_str(&format!(
        "\n\n## This is an interactive session\n\n\
         Unlike what is said above, the user is at the terminal with you and will answer questions.\n\
         Read the code, propose the plan section by section, and settle open choices with the user.\n\
         When the user agrees, write the whole plan, in exactly the format described above (one\n\
         `## <STORY-ID>: <title>` section per story), to the file `{plan_file}` (create its\n\
         directory if needed). Change no other file and do not commit. Then tell the user the plan\n\
         is written and ask them to end the session (for example with `/exit` or Ctrl-D).\n"
    ));
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_parse_and_use_every_placeholder() {
        for role in [ConversationRole::Init, ConversationRole::Discuss] {
            let text = role.builtin_text();
            Template::parse(text, role.placeholders()).unwrap();
            for name in role.placeholders() {
                assert!(
                    text.contains(&format!("{{{{{name}}}}}"))
                        || text.contains(&format!("{{{{#{name}}}}}")),
                    "{} prompt never uses {name}",
                    role.as_str()
                );
            }
        }
    }

    #[test]
    fn init_prompt_switches_between_talking_and_deciding_and_lists_problems() {
        let dir = tempfile::tempdir().unwrap();
        let prompt = ConversationPrompt::load(dir.path(), ConversationRole::Init).unwrap();
        let problems = ["prd.json:3:5: duplicate ID `US-001`".to_owned()];
        let talk = prompt.init(&InitContext {
            prd_file: "prd.json",
            interactive: true,
            description: "a todo app",
            problems: &problems,
        });
        assert!(talk.contains("The user is at the terminal"), "{talk}");
        assert!(!talk.contains("Nobody will answer"));
        assert!(talk.contains("a todo app"));
        assert!(talk.contains("- prd.json:3:5: duplicate ID `US-001`"));
        let alone = prompt.init(&InitContext {
            prd_file: "prd.json",
            interactive: false,
            description: "",
            problems: &[],
        });
        assert!(alone.contains("Nobody will answer"));
        assert!(!alone.contains("is not valid yet"));
        assert!(!alone.contains("What the user wants"));
    }

    #[test]
    fn an_override_is_used_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let prompts = dir.path().join(".teams/prompts");
        std::fs::create_dir_all(&prompts).unwrap();
        std::fs::write(
            prompts.join("discuss.md"),
            "Fix {{story_id}} into {{guidance_file}}\n",
        )
        .unwrap();
        let prompt = ConversationPrompt::load(dir.path(), ConversationRole::Discuss).unwrap();
        assert_eq!(prompt.source, Some(prompts.join("discuss.md")));
        let text = prompt.discuss(&DiscussContext {
            project: "p",
            interactive: false,
            message: "",
            story_id: "US-7",
            story_title: "t",
            story_description: "",
            epic_id: "E",
            epic_title: "e",
            criteria: &[],
            failure_reason: "",
            plan_section: "",
            attempts: "",
            guidance_file: ".teams/guidance/guidance-US-7.md",
        });
        assert_eq!(text, "Fix US-7 into .teams/guidance/guidance-US-7.md\n");
        std::fs::write(prompts.join("init.md"), "{{prd_fil}}\n").unwrap();
        let err = ConversationPrompt::load(dir.path(), ConversationRole::Init).unwrap_err();
        assert!(err.to_string().contains("init prompt"), "{err}");
    }

    #[test]
    fn interactive_planner_prompt_names_the_plan_file() {
        let prompt = interactive_planner_prompt("plan it\n", ".teams/plans/plan-E1.md");
        assert!(prompt.starts_with("plan it\n\n## This is an interactive session"));
        assert!(prompt.contains("`.teams/plans/plan-E1.md`"));
    }
}
