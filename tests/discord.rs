//! Discord summaries against a fake Discord on loopback (spec §11): real `teams run`s with the
//! fake agent posting through a webhook and through a bot, the `events` filter, 429s honoured,
//! 500s and a server that never answers leaving the run's result alone, messages cut to every
//! limit, mentions off, and a canary token that never reaches anything `teams` prints or writes.

mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/fake_discord.rs"]
mod fake_discord;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::TestEnv;
use fake_discord::{FakeDiscord, Recorded, Reply};
use serde_json::{Value, json};
use teams::report::discord::message::{Embed, Field, Message, fit, within_limits};
use teams::report::discord::target::Secret;
use teams::report::discord::{Destination, DiscordSetup, SendError, SendPolicy, Sender};
use teams_fake_agent::{Match, Script, Step, read_invocations};

const WEBHOOK_ID: &str = "123456789012345678";
const CHANNEL_ID: &str = "987654321098765432";

/// A token that must never show up anywhere but in the requests to Discord.
fn canary() -> String {
    format!("CANARY{}", "Q".repeat(60))
}

fn webhook_url() -> String {
    format!("https://discord.com/api/webhooks/{WEBHOOK_ID}/{}", canary())
}

fn story(id: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "description": format!("{title}."),
           "acceptanceCriteria": [format!("{id} works")], "passes": false})
}

/// EPIC-1 (US-1, US-2) and EPIC-2 (US-3, after EPIC-1). EPIC-1's title tries to ping everyone.
fn prd() -> Value {
    json!({
        "project": "Shop",
        "epics": [
            {"id": "EPIC-1", "title": "Accounts @everyone", "dependsOn": [],
             "userStories": [story("US-1", "One"), story("US-2", "Two")]},
            {"id": "EPIC-2", "title": "Checkout", "dependsOn": ["EPIC-1"],
             "userStories": [story("US-3", "Three")]}
        ]
    })
}

fn builds(path: &str) -> Vec<Step> {
    vec![
        Step::Commit {
            path: path.into(),
            content: Some(format!("content of {path}\n")),
            message: None,
        },
        Step::Final("done: it; evidence: tests; risk: low; next: nothing".into()),
    ]
}

fn verdict(pass: bool, feedback: &str) -> Vec<Step> {
    vec![Step::Verdict(json!({
        "verdict": if pass { "pass" } else { "fail" },
        "criteria": [{"criterion": "it works", "met": pass, "evidence": "read the diff"}],
        "feedback": feedback,
    }))]
}

/// Every story passes, except US-2 when `fail_us2` (its validator says why, twice).
fn script(fail_us2: bool) -> Script {
    let mut script = Script::default();
    // The second attempt builds on the first, so it must change something else.
    if fail_us2 {
        script = script.rule(
            Match::role("builder").story("US-2").attempt(2),
            builds("US-2-fix.txt"),
        );
    }
    for id in ["US-1", "US-2", "US-3"] {
        script = script.rule(
            Match::role("builder").story(id),
            builds(&format!("{id}.txt")),
        );
    }
    if fail_us2 {
        script = script.rule(
            Match::role("validator").story("US-2"),
            verdict(false, "the empty case is not handled @everyone"),
        );
    }
    script.rule(Match::role("validator"), verdict(true, ""))
}

/// A repository with the PRD, `teams.toml` and the fake agent as `claude`.
fn project(toml: &str, fail_us2: bool) -> TestEnv {
    let env = TestEnv::new();
    env.git_init();
    env.write(
        "prd.json",
        serde_json::to_string_pretty(&prd()).unwrap() + "\n",
    );
    env.write("teams.toml", toml);
    for args in [
        &["add", "prd.json", "teams.toml"][..],
        &["commit", "-q", "-m", "the PRD"],
    ] {
        assert!(env.command("git").args(args).status().unwrap().success());
    }
    fake_agent::install_as_claude(&env.root().join("bin"));
    script(fail_us2)
        .write_to(&env.root().join("script.json"))
        .unwrap();
    env
}

const TOML: &str = "planner = \"never\"\n";

/// `teams run` with the Discord variables in `vars`, sending to `server`.
fn run(env: &TestEnv, server: &FakeDiscord, vars: &[(&str, &str)]) -> Output {
    let mut cmd = env.teams();
    cmd.arg("run")
        .env("PATH", fake_agent::path_with(&env.root().join("bin")))
        .env("TEAMS_FAKE_SCRIPT", env.root().join("script.json"))
        .env("TEAMS_FAKE_RECORD", env.root().join("record.jsonl"))
        .env("CI", "true")
        .env("__TEAMS_RUN_ID", "run-1")
        .env("__TEAMS_BACKOFF_MS", "10")
        .env("__TEAMS_DISCORD_BACKOFF_MS", "10")
        .env("TEAMS_DISCORD_API_BASE", server.base());
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn contents(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.body["content"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Lines of stderr that are about Discord.
fn discord_warnings(out: &Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.contains("Discord"))
        .map(str::to_owned)
        .collect()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_run_posts_its_milestones_through_a_webhook_with_mentions_off_and_the_token_kept_secret() {
    let env = project(TOML, true);
    let server = FakeDiscord::ok();
    let out = run(&env, &server, &[("TEAMS_DISCORD_WEBHOOK", &webhook_url())]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{stdout}\n{stderr}");
    assert!(discord_warnings(&out).is_empty(), "{stderr}");

    let requests = server.requests();
    assert!(requests.iter().all(|r| r.reply == Reply::Ok));
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path,
            format!("/api/v10/webhooks/{WEBHOOK_ID}/{}", canary())
        );
        assert!(request.query.contains("wait=true"), "{}", request.query);
        assert_eq!(request.headers["content-type"], "application/json");
        assert!(
            request.headers["user-agent"]
                .starts_with("DiscordBot (https://github.com/serenity-rs/serenity")
        );
        assert_eq!(
            request.body["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []}),
            "{}",
            request.body
        );
    }
    let contents = contents(&requests);
    // Run started, US-2 failed, EPIC-1 partial, EPIC-2 blocked, run finished.
    assert_eq!(contents.len(), 5, "{contents:#?}");
    assert!(
        contents[0].starts_with(
            "▶️ **Shop**: run started: 2 units in 2 waves, 3 stories, parallel 1, up to 2 attempts per story\nrun run-1 · main → teams/shop/main"
        ),
        "{}",
        contents[0]
    );
    assert!(
        contents[1].starts_with("❌ **Shop**: US-2 Two failed after 2 attempts (EPIC-1)"),
        "{}",
        contents[1]
    );
    assert!(
        contents[1].contains("the empty case is not handled @everyone"),
        "{}",
        contents[1]
    );
    assert!(
        contents[2]
            .starts_with("❌ **Shop**: EPIC-1 Accounts @everyone partial: 1/2 stories passed"),
        "{}",
        contents[2]
    );
    let sha = |id: &str| {
        let prd: Value = serde_json::from_slice(&env.read("prd.json")).unwrap();
        let stories = prd["epics"][0]["userStories"].as_array().unwrap().clone();
        let story = stories.iter().find(|s| s["id"] == id).unwrap();
        story["commitSha"].as_str().unwrap()[..7].to_owned()
    };
    assert!(
        contents[2].contains(&format!("✓ US-1 `{}`", sha("US-1"))),
        "{}",
        contents[2]
    );
    assert!(
        contents[3].starts_with("⛔ **Shop**: EPIC-2 Checkout blocked"),
        "{}",
        contents[3]
    );
    assert_eq!(
        contents[4],
        "❌ **Shop**: 1/3 stories passed, finished with failures"
    );
    let embed = &requests[4].body["embeds"][0];
    assert_eq!(embed["title"], "run run-1: finished with failures");
    let fields: Vec<(String, String)> = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(fields[0], ("Passed".to_owned(), "1/3".to_owned()));
    assert_eq!(fields[1].0, "Duration");
    assert_eq!(fields[3].0, "Failures");
    assert!(fields[3].1.starts_with("**US-2** Two: "), "{fields:?}");
    assert_eq!(
        fields[4],
        (
            "Next".to_owned(),
            "retry a failed story: `teams reset US-2 && teams run`".to_owned()
        )
    );

    // The canary is in no output and in no file teams wrote, nor on any agent's command line.
    let token = canary();
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    let mut written = files_under(&env.repo().join(".teams"));
    written.push(env.repo().join("prd.json"));
    assert!(
        written.iter().any(|p| p.ends_with("events.jsonl")),
        "{written:?}"
    );
    for path in written {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&token),
            "the token leaked into {}",
            path.display()
        );
    }
    for invocation in read_invocations(&env.root().join("record.jsonl")).unwrap() {
        assert!(invocation.argv.iter().all(|a| !a.contains(&token)));
        // Nor in any agent's environment: agents do not inherit teams' secrets.
        assert!(
            invocation.env.values().all(|v| !v.contains(&token)),
            "an agent inherited the webhook: {:?}",
            invocation.env.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_bot_posts_to_its_channel_and_the_events_list_picks_what_is_sent() {
    let toml = format!("{TOML}[discord]\nchannel_id = \"{CHANNEL_ID}\"\nevents = [\"run\"]\n");
    let env = project(&toml, false);
    let server = FakeDiscord::ok();
    let token = canary();
    let out = run(&env, &server, &[("TEAMS_DISCORD_TOKEN", &token)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(&token) && !text(&out.stderr).contains(&token));

    let requests = server.requests();
    // Only the run's start and end: units and failures are not in `events`.
    assert_eq!(requests.len(), 2, "{:#?}", contents(&requests));
    for request in &requests {
        assert_eq!(
            request.path,
            format!("/api/v10/channels/{CHANNEL_ID}/messages")
        );
        assert_eq!(request.headers["authorization"], format!("Bot {token}"));
        assert_eq!(request.body["allowed_mentions"]["parse"], json!([]));
    }
    let contents = contents(&requests);
    assert!(
        contents[0].starts_with("▶️ **Shop**: run started"),
        "{}",
        contents[0]
    );
    assert_eq!(
        contents[1],
        "🏁 **Shop**: 3/3 stories passed, every unit completed and merged"
    );
    assert_eq!(requests[1].body["embeds"][0]["color"], json!(0x2E_CC_71));
}

#[test]
fn a_rate_limit_is_waited_out_and_the_message_still_arrives() {
    let env = project(TOML, false);
    let server = FakeDiscord::start(vec![Reply::RateLimited(0.05)], Reply::Ok);
    let out = run(&env, &server, &[("TEAMS_DISCORD_WEBHOOK", &webhook_url())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(discord_warnings(&out).is_empty(), "{}", text(&out.stderr));
    let requests = server.requests();
    assert_eq!(requests[0].reply, Reply::RateLimited(0.05));
    // The same message again after the wait, then the rest.
    assert_eq!(requests[0].body, requests[1].body);
    assert_eq!(server.delivered().len(), 4, "{:#?}", contents(&requests));
}

#[test]
fn a_failing_discord_costs_one_warning_line_and_never_the_runs_result() {
    let env = project(TOML, false);
    let server = FakeDiscord::start(Vec::new(), Reply::ServerError);
    let out = run(&env, &server, &[("TEAMS_DISCORD_WEBHOOK", &webhook_url())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("DONE: 3/3 stories passed"));
    let warnings = discord_warnings(&out);
    assert_eq!(
        warnings,
        vec![
            "warning: Discord: 4 of 4 messages not sent (4 failed, last: gave up after 1 try: \
              server error HTTP 500); the run's result is not affected"
                .to_owned()
        ]
    );
    // The first message got the four tries of the policy; once one was given up, the others
    // got one each.
    let requests = server.requests();
    assert_eq!(requests.len(), 4 + 3);
    assert!(requests[..4].iter().all(|r| r.body == requests[0].body));
}

#[test]
fn a_discord_that_never_answers_is_abandoned_after_the_drain_bound() {
    let env = project(TOML, false);
    let server = FakeDiscord::start(Vec::new(), Reply::Hang);
    let out = run(
        &env,
        &server,
        &[
            ("TEAMS_DISCORD_WEBHOOK", &webhook_url()),
            ("__TEAMS_DISCORD_TIMEOUT_MS", "200"),
            ("__TEAMS_DISCORD_DRAIN_MS", "300"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("DONE: 3/3 stories passed"));
    let warnings = discord_warnings(&out);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("warning: Discord: 4 of 4 messages not sent ("),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("timed out") || warnings[0].contains("still queued after waiting"),
        "{}",
        warnings[0]
    );
    assert!(!server.requests().is_empty());
}

#[test]
fn a_malformed_webhook_url_is_a_warning_and_the_run_goes_on() {
    let env = project(TOML, false);
    let server = FakeDiscord::ok();
    let out = run(
        &env,
        &server,
        &[("TEAMS_DISCORD_WEBHOOK", "https://example.com/hook")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let warnings = discord_warnings(&out);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("`TEAMS_DISCORD_WEBHOOK` does not hold a Discord webhook URL"),
        "{}",
        warnings[0]
    );
    assert!(!warnings[0].contains("example.com"));
    assert!(server.requests().is_empty());
}

// The sender on its own, against the same server.

fn sender(server: &FakeDiscord, attempts: u32) -> Sender {
    Sender::new(DiscordSetup {
        destination: Destination::Webhook {
            id: WEBHOOK_ID.parse().unwrap(),
            token: Secret::new(canary()),
        },
        api_base: Some(server.base()),
        policy: SendPolicy {
            timeout: Duration::from_secs(5),
            attempts,
            backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(1),
            drain: Duration::from_secs(5),
        },
    })
    .unwrap()
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn every_limit_is_cut_with_numbered_parts_that_discord_accepts() {
    let server = FakeDiscord::ok();
    let mut sender = sender(&server, 1);
    let message = Message {
        content: "a long agent answer\n".repeat(250),
        embed: Some(Embed {
            title: "T".repeat(300),
            description: "a long description ".repeat(400),
            colour: 0,
            fields: (0..30)
                .map(|i| Field::new(format!("US-{i}"), "why ".repeat(300), false))
                .collect(),
            footer: "teams".into(),
        }),
    };
    let parts = fit(message);
    for part in &parts {
        assert!(within_limits(part));
        let delivered = block_on(sender.send(part)).unwrap();
        assert_eq!(delivered.message_id.as_deref(), Some("1300000000000000001"));
    }
    let bodies: Vec<Value> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), parts.len());
    // Content: 5000 characters in three numbered messages of at most 2000.
    let contents: Vec<&str> = bodies
        .iter()
        .filter_map(|b| b["content"].as_str())
        .collect();
    assert_eq!(contents.len(), 3);
    for (i, content) in contents.iter().enumerate() {
        assert!(content.starts_with(&format!("[{}/3] a long agent answer", i + 1)));
        assert!(content.chars().count() <= 2000);
    }
    // Embeds: one per message, every one numbered and within every limit.
    let embeds: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["embeds"].as_array().is_some_and(|e| !e.is_empty()))
        .map(|b| &b["embeds"][0])
        .collect();
    let n = embeds.len();
    assert!(n > 3, "{n}");
    for (i, embed) in embeds.iter().enumerate() {
        let title = embed["title"].as_str().unwrap();
        assert!(title.ends_with(&format!("… [{}/{n}]", i + 1)), "{title}");
        assert!(title.chars().count() <= 256);
        let fields = embed["fields"].as_array().map_or(0, Vec::len);
        assert!(fields <= 25);
        let total: usize = ["title", "description"]
            .iter()
            .map(|k| embed[k].as_str().map_or(0, |s| s.chars().count()))
            .sum::<usize>()
            + embed["footer"]["text"]
                .as_str()
                .map_or(0, |s| s.chars().count())
            + embed["fields"].as_array().map_or(0, |fs| {
                fs.iter()
                    .map(|f| {
                        let value = f["value"].as_str().unwrap();
                        assert!(value.chars().count() <= 1024);
                        f["name"].as_str().unwrap().chars().count() + value.chars().count()
                    })
                    .sum()
            });
        assert!(total <= 6000, "{total}");
    }
    // Every field arrived, the long ones as `[i/n]` fields.
    let names: Vec<String> = embeds
        .iter()
        .flat_map(|e| e["fields"].as_array().cloned().unwrap_or_default())
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with("US-29 [")).count(),
        2,
        "{names:?}"
    );
}

#[test]
fn retries_stop_at_the_cap_and_a_refusal_is_not_retried() {
    let server = FakeDiscord::start(vec![Reply::BadRequest], Reply::ServerError);
    let mut sender = sender(&server, 3);
    let refused = block_on(sender.send(&Message::text("hello"))).unwrap_err();
    assert_eq!(
        refused,
        SendError::Rejected {
            status: 400,
            message: "Invalid Form Body (code 50035)".into()
        }
    );
    let gave_up = block_on(sender.send(&Message::text("hello"))).unwrap_err();
    assert_eq!(
        gave_up.to_string(),
        "gave up after 3 tries: server error HTTP 500"
    );
    assert_eq!(server.requests().len(), 1 + 3);
}

#[test]
fn a_rate_limit_longer_than_teams_waits_gives_the_message_up_at_once() {
    let server = FakeDiscord::start(vec![Reply::RateLimited(60.0)], Reply::Ok);
    let mut sender = sender(&server, 4);
    let err = block_on(sender.send(&Message::text("hello"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Discord rate-limited teams for 60s, longer than it waits"
    );
    assert_eq!(server.requests().len(), 1);
}

// `teams notify test`.

fn notify(env: &TestEnv, server: &FakeDiscord, vars: &[(&str, &str)]) -> Output {
    let mut cmd = env.teams();
    cmd.args(["notify", "test"])
        .env("TEAMS_DISCORD_API_BASE", server.base())
        .env("__TEAMS_DISCORD_BACKOFF_MS", "10");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

#[test]
fn notify_test_posts_one_message_and_prints_discords_answer() {
    let env = project(TOML, false);
    let server = FakeDiscord::ok();
    let out = notify(&env, &server, &[("TEAMS_DISCORD_WEBHOOK", &webhook_url())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "sent to webhook {WEBHOOK_ID}: Discord answered HTTP 200, message 1300000000000000001\n"
        )
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        contents(&requests)[0].starts_with("🔔 **Shop**: test message from `teams notify test`")
    );
}

#[test]
fn notify_test_fails_clearly_without_settings_or_when_discord_fails() {
    let env = project(TOML, false);
    let server = FakeDiscord::start(Vec::new(), Reply::ServerError);
    let out = notify(&env, &server, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Discord is not set up: off: `TEAMS_DISCORD_WEBHOOK` is not set"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: export TEAMS_DISCORD_WEBHOOK=<webhook URL>"),
        "{stderr}"
    );
    assert!(server.requests().is_empty());

    let out = notify(&env, &server, &[("TEAMS_DISCORD_WEBHOOK", &webhook_url())]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "failed to post the test message to webhook {WEBHOOK_ID}: gave up after 4 tries: server error HTTP 500"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(&canary()), "{stderr}");
    assert_eq!(server.requests().len(), 4);
}
