use std::fs;

use super::*;
use crate::roles::template::TemplateProblem;

fn criteria() -> Vec<String> {
    vec![
        "`POST /login` returns 200 and sets a session cookie".to_owned(),
        "A wrong password returns 401\nwith no cookie".to_owned(),
    ]
}

fn story(criteria: &[String]) -> StoryBrief<'_> {
    StoryBrief {
        id: "US-001",
        title: "Sign in",
        description: "Users sign in with email and password.",
        acceptance_criteria: criteria,
    }
}

fn builder_ctx<'a>(criteria: &'a [String]) -> BuilderContext<'a> {
    BuilderContext {
        project: "Shop",
        unit_id: "EPIC-001",
        unit_title: "Accounts",
        unit_description: "",
        story: story(criteria),
        attempt: 1,
        max_attempts: 2,
        branch: "teams/shop/unit/EPIC-001",
        plan_section: None,
        guidance: None,
        earlier_handoffs: &[],
        feedback: None,
        checks: &[],
    }
}

/// No placeholder left over, no doubled blank lines from omitted blocks.
fn assert_clean(prompt: &str) {
    assert!(!prompt.contains("{{"), "placeholder left in:\n{prompt}");
    assert!(
        !prompt.contains("\n\n\n"),
        "blank lines doubled in:\n{prompt}"
    );
}

#[test]
fn every_builtin_template_parses_and_is_builtin() {
    let templates = PromptTemplates::builtin();
    for role in PromptRole::ALL {
        assert_eq!(templates.source(role), &PromptSource::Builtin);
        assert_eq!(templates.source(role).to_string(), "built-in");
    }
}

#[test]
fn builder_first_attempt() {
    let criteria = criteria();
    let prompt = PromptTemplates::builtin().builder(&builder_ctx(&criteria));
    assert_clean(&prompt);
    for piece in [
        "**US-001: Sign in**",
        "Users sign in with email and password.",
        "1. `POST /login` returns 200 and sets a session cookie\n2. A wrong password returns 401\n   with no cookie",
        "Branch: `teams/shop/unit/EPIC-001`",
        "Attempt 1 of 2.",
        "`git commit`",
        "Never modify `prd.json`, `backlog.json`, `teams.toml` or anything under `.teams/`",
        "`git status --porcelain` must print nothing",
        "No checks are configured.",
        "\ndone: <what changed>; evidence: <tests and commands you ran, with results>; risk: <what may break>; next: <advice for the stories after this one>\n",
    ] {
        assert!(prompt.contains(piece), "missing {piece:?} in:\n{prompt}");
    }
    for absent in [
        "previous attempt was rejected",
        "The plan for this story",
        "Guidance from the user",
        "Notes from the earlier stories",
        "About the unit",
        "must pass in the worktree",
    ] {
        assert!(
            !prompt.contains(absent),
            "unexpected {absent:?} in:\n{prompt}"
        );
    }
}

#[test]
fn builder_retry_with_every_optional_part() {
    let criteria = criteria();
    let handoffs = vec![(
        "US-000".to_owned(),
        "done: added users table; evidence: tests; risk: none; next: use `User::find`".to_owned(),
    )];
    let checks = vec!["cargo test".to_owned(), "npm run `lint`".to_owned()];
    let ctx = BuilderContext {
        unit_description: "Everything about accounts.",
        attempt: 2,
        plan_section: Some("## US-001: Sign in\n\nPut it in `auth.rs`."),
        guidance: Some("Use argon2, not bcrypt."),
        earlier_handoffs: &handoffs,
        feedback: Some("The 401 case sets a cookie anyway."),
        checks: &checks,
        ..builder_ctx(&criteria)
    };
    let prompt = PromptTemplates::builtin().builder(&ctx);
    assert_clean(&prompt);
    for piece in [
        "Attempt 2 of 2.",
        "About the unit: Everything about accounts.",
        "## Why the previous attempt was rejected",
        "The 401 case sets a cookie anyway.",
        "## The plan for this story",
        "Put it in `auth.rs`.",
        "## Guidance from the user\n\nWritten after the user discussed an earlier failure of this story. Follow it.\n\nUse argon2, not bcrypt.\n",
        "- **US-000**: done: added users table; evidence: tests; risk: none; next: use `User::find`",
        "- `cargo test`\n- `` npm run `lint` ``",
        "must pass in the worktree",
    ] {
        assert!(prompt.contains(piece), "missing {piece:?} in:\n{prompt}");
    }
    assert!(!prompt.contains("No checks are configured"));
    // The feedback comes before the rest of the context, where it is hardest to miss.
    assert!(prompt.find("The 401 case").unwrap() < prompt.find("Put it in").unwrap());
}

fn validator_ctx<'a>(criteria: &'a [String], diff: &'a str) -> ValidatorContext<'a> {
    ValidatorContext {
        story: story(criteria),
        commit: "0123abc",
        diff,
    }
}

#[test]
fn validator_gets_story_criteria_commit_and_diff_verbatim() {
    let criteria = criteria();
    let diff = "diff --git a/x b/x\n+let t = \"{{feedback}} {{earlier_handoffs}} {{#diff}}\";\n\n\n+more\n";
    let prompt = PromptTemplates::builtin().validator(&validator_ctx(&criteria, diff));
    for piece in [
        "**US-001: Sign in**",
        "1. `POST /login` returns 200 and sets a session cookie",
        "commit `0123abc`",
        "```diff\ndiff --git a/x b/x\n+let t = \"{{feedback}} {{earlier_handoffs}} {{#diff}}\";\n\n\n+more\n```",
        "```json\n{\n  \"verdict\": \"fail\"",
        "do not create, modify or delete files",
    ] {
        assert!(prompt.contains(piece), "missing {piece:?} in:\n{prompt}");
    }
    assert!(!prompt.contains("The diff is empty"));
}

#[test]
fn validator_cannot_receive_builder_output() {
    // Structural: no validator placeholder carries anything the builder wrote.
    for name in VALIDATOR_PLACEHOLDERS {
        assert!(
            [
                "story_id",
                "story_title",
                "story_description",
                "criteria",
                "commit",
                "diff"
            ]
            .contains(name),
            "{name}"
        );
    }
    // And an override cannot ask for it.
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join(".teams/prompts");
    fs::create_dir_all(&prompts).unwrap();
    fs::write(
        prompts.join("validator.md"),
        "{{diff}}\n{{earlier_handoffs}}\n",
    )
    .unwrap();
    let err = PromptTemplates::load(dir.path(), &PromptPaths::default()).unwrap_err();
    let PromptError::Template { role, error, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*role, PromptRole::Validator);
    assert_eq!((error.line, error.column), (2, 1));
}

#[test]
fn validator_diff_fence_outlasts_fences_inside_the_diff() {
    let criteria = criteria();
    let diff = "+```rust\n+fn main() {}\n+```\n+````\n";
    let prompt = PromptTemplates::builtin().validator(&validator_ctx(&criteria, diff));
    assert!(
        prompt.contains(&format!("`````diff\n{diff}`````\n")),
        "{prompt}"
    );
}

#[test]
fn validator_empty_diff_says_so() {
    let criteria = criteria();
    let prompt = PromptTemplates::builtin().validator(&validator_ctx(&criteria, "  \n"));
    assert_clean(&prompt);
    assert!(prompt.contains("The diff is empty"));
    assert!(!prompt.contains("```diff"));
}

#[test]
fn validator_reask_adds_the_problem() {
    let criteria = criteria();
    let templates = PromptTemplates::builtin();
    let ctx = validator_ctx(&criteria, "+x\n");
    let first = templates.validator(&ctx);
    let reask = templates.validator_reask(&ctx, "the answer has no fenced ```json block");
    assert!(reask.starts_with(&first));
    let added = &reask[first.len()..];
    assert!(added.contains("Problem: the answer has no fenced ```json block\n"));
    assert!(added.contains("with\nnothing after it."));
    // The format is restated, and the example in it is a verdict the parser accepts.
    let example = added.split("```json\n").nth(1).unwrap();
    let verdict = crate::roles::parse_verdict(&format!("```json\n{example}")).unwrap();
    assert!(!verdict.pass);
    assert_clean(&reask);
}

#[test]
fn planner_lists_stories_and_asks_for_one_section_each() {
    let first = criteria();
    let second = vec!["Signing out clears the cookie".to_owned()];
    let ctx = PlannerContext {
        project: "Shop",
        project_description: "An online shop.",
        unit_id: "EPIC-001",
        unit_title: "Accounts",
        unit_description: "",
        stories: vec![
            story(&first),
            StoryBrief {
                id: "US-002",
                title: "Sign out",
                description: "",
                acceptance_criteria: &second,
            },
        ],
    };
    let prompt = PromptTemplates::builtin().planner(&ctx);
    assert_clean(&prompt);
    for piece in [
        "## The project\n\nAn online shop.\n",
        "**EPIC-001: Accounts**\n\n## Its stories",
        "### US-001: Sign in\n\nUsers sign in with email and password.\n\nAcceptance criteria:\n\n1. `POST /login`",
        "### US-002: Sign out\n\nAcceptance criteria:\n\n1. Signing out clears the cookie",
        "## <STORY-ID>: <story title>",
    ] {
        assert!(prompt.contains(piece), "missing {piece:?} in:\n{prompt}");
    }
    let without = PromptTemplates::builtin().planner(&PlannerContext {
        project_description: "",
        ..ctx
    });
    assert!(!without.contains("## The project"));
    assert_clean(&without);
}

#[test]
fn merger_names_branches_files_and_checks() {
    let files = vec!["src/lib.rs".to_owned(), "README.md".to_owned()];
    let checks = vec!["cargo test".to_owned()];
    let ctx = MergerContext {
        unit_id: "EPIC-002",
        unit_title: "Cart",
        unit_branch: "teams/shop/unit/EPIC-002",
        integration_branch: "teams/shop/main",
        conflicted_files: &files,
        checks: &checks,
    };
    let prompt = PromptTemplates::builtin().merger(&ctx);
    assert_clean(&prompt);
    for piece in [
        "`teams/shop/unit/EPIC-002` (EPIC-002: Cart) into\n`teams/shop/main`",
        "- `src/lib.rs`\n- `README.md`",
        "These commands must pass after the merge:\n\n- `cargo test`",
        "git commit --no-edit",
        "`<<<<<<<`",
    ] {
        assert!(prompt.contains(piece), "missing {piece:?} in:\n{prompt}");
    }
    let none = PromptTemplates::builtin().merger(&MergerContext { checks: &[], ..ctx });
    assert!(none.contains("No checks are configured."));
}

#[test]
fn load_prefers_config_then_project_dir_then_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let prompts = root.join(".teams/prompts");
    fs::create_dir_all(&prompts).unwrap();
    fs::create_dir_all(root.join("custom")).unwrap();
    fs::write(prompts.join("builder.md"), "project dir: {{story_id}}\n").unwrap();
    fs::write(
        prompts.join("planner.md"),
        "project dir planner {{unit_id}}\n",
    )
    .unwrap();
    fs::write(root.join("custom/planner.md"), "configured {{unit_id}}\n").unwrap();

    let configured = PromptPaths {
        planner: Some("custom/planner.md".into()),
        ..PromptPaths::default()
    };
    let templates = PromptTemplates::load(root, &configured).unwrap();
    assert_eq!(
        templates.source(PromptRole::Planner),
        &PromptSource::File(root.join("custom/planner.md"))
    );
    assert_eq!(
        templates.source(PromptRole::Builder),
        &PromptSource::File(prompts.join("builder.md"))
    );
    assert_eq!(
        templates.source(PromptRole::Validator),
        &PromptSource::Builtin
    );
    assert_eq!(templates.source(PromptRole::Merger), &PromptSource::Builtin);

    let criteria = criteria();
    assert_eq!(
        templates.builder(&builder_ctx(&criteria)),
        "project dir: US-001\n"
    );
    let planner = templates.planner(&PlannerContext {
        project: "",
        project_description: "",
        unit_id: "EPIC-009",
        unit_title: "",
        unit_description: "",
        stories: Vec::new(),
    });
    assert_eq!(planner, "configured EPIC-009\n");
}

#[test]
fn load_without_overrides_is_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let templates = PromptTemplates::load(dir.path(), &PromptPaths::default()).unwrap();
    for role in PromptRole::ALL {
        assert_eq!(templates.source(role), &PromptSource::Builtin);
    }
}

#[test]
fn missing_configured_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let configured = PromptPaths {
        merger: Some("nope/merger.md".into()),
        ..PromptPaths::default()
    };
    let err = PromptTemplates::load(dir.path(), &configured).unwrap_err();
    let path = dir.path().join("nope/merger.md");
    assert_eq!(
        err.to_string(),
        format!("failed to read the merger prompt {}", path.display())
    );
    assert!(matches!(
        err,
        PromptError::Read {
            role: PromptRole::Merger,
            ..
        }
    ));
}

#[test]
fn unknown_placeholder_in_override_names_file_position_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join(".teams/prompts");
    fs::create_dir_all(&prompts).unwrap();
    let path = prompts.join("builder.md");
    fs::write(&path, "Story:\n  {{story_id}} {{stroy_title}}\n").unwrap();
    let err = PromptTemplates::load(dir.path(), &PromptPaths::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid builder prompt {}:2:16: unknown placeholder `{{{{stroy_title}}}}` (did you \
             mean `{{{{story_title}}}}`?); this prompt can use {}",
            path.display(),
            BUILDER_PLACEHOLDERS.join(", ")
        )
    );
    let PromptError::Template { error, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(matches!(
        &error.problem,
        TemplateProblem::UnknownPlaceholder {
            suggestion: Some("story_title"),
            ..
        }
    ));
    assert!(
        err.hint()
            .contains("remove it to use the built-in builder prompt")
    );
}

#[test]
fn unbalanced_block_in_override_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join(".teams/prompts");
    fs::create_dir_all(&prompts).unwrap();
    fs::write(prompts.join("merger.md"), "{{#checks}}\nRun {{checks}}\n").unwrap();
    let err = PromptTemplates::load(dir.path(), &PromptPaths::default()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with(":1:1: block `{{#checks}}` is never closed"),
        "{err}"
    );
}

#[test]
fn agent_definitions_match_the_prompt_contracts() {
    let agents = [
        (PromptRole::Planner, include_str!("../../agents/planner.md")),
        (PromptRole::Builder, include_str!("../../agents/builder.md")),
        (
            PromptRole::Validator,
            include_str!("../../agents/validator.md"),
        ),
        (PromptRole::Merger, include_str!("../../agents/merger.md")),
    ];
    for (role, text) in agents {
        let front = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(front, _)| front)
            .unwrap_or_else(|| panic!("{role}: no front matter"));
        assert!(
            front.starts_with(&format!("name: teams-{role}\ndescription: ")),
            "{role}"
        );
        // Read-only roles must not get editing tools.
        let read_only = matches!(role, PromptRole::Planner | PromptRole::Validator);
        assert_eq!(
            front.contains("tools: Read, Grep, Glob, Bash"),
            read_only,
            "{role}"
        );
    }
    let (builder, validator) = (agents[1].1, agents[2].1);
    assert!(builder.contains("done: <what changed>; evidence: <tests and commands you ran, with results>; risk: <what may break>; next: <advice for the stories after this one>"));
    let example = validator.split("```json\n").nth(1).unwrap();
    assert!(
        crate::roles::parse_verdict(&format!("```json\n{example}"))
            .unwrap()
            .pass
    );
    assert!(agents[0].1.contains("`## <STORY-ID>: <story title>`"));
}
