//! The git layer against real repositories: opening, identity fallback, branches, worktrees.

mod common;

use common::TestEnv;
use teams::git::{Identity, Repo, RepoError, WorktreeError, WorktreeManager};

fn git(env: &TestEnv, dir: &std::path::Path, args: &[&str]) -> String {
    let out = env
        .command("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn opening_reports_not_a_repo_bare_and_unborn() {
    let env = TestEnv::new();
    assert!(matches!(
        Repo::open(&env.repo()),
        Err(RepoError::NotARepository(_))
    ));

    let bare = env.root().join("bare.git");
    git(
        &env,
        env.root(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    assert!(matches!(Repo::open(&bare), Err(RepoError::Bare(_))));

    git(&env, &env.repo(), &["init", "-q", "-b", "main"]);
    let repo = Repo::open(&env.repo()).unwrap();
    assert!(!repo.has_commits().unwrap());
    assert_eq!(repo.current_branch().unwrap(), None);
}

#[test]
fn branches_are_created_but_never_moved() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("main"));
    let head = repo.resolve("HEAD").unwrap().unwrap();
    repo.create_branch("teams/app/main", &head).unwrap();
    assert!(repo.branch_exists("teams/app/main").unwrap());
    // A second create must fail rather than reset the branch.
    assert!(repo.create_branch("teams/app/main", &head).is_err());
    assert!(repo.is_ancestor(&head, &head).unwrap());
    assert_eq!(repo.resolve("does-not-exist").unwrap(), None);
}

#[test]
fn worktrees_hold_commits_and_removing_a_dirty_one_is_refused() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let head = repo.resolve("HEAD").unwrap().unwrap();
    repo.create_branch("teams/app/unit/E1", &head).unwrap();
    let manager = WorktreeManager::new(repo.git().clone());
    let path = env.repo().join(".teams/worktrees/run-1/E1");
    manager.add(&path, "teams/app/unit/E1").unwrap();
    assert!(matches!(
        manager.add(&path, "teams/app/unit/E1"),
        Err(WorktreeError::PathExists(_))
    ));

    std::fs::write(path.join("a.txt"), "a\n").unwrap();
    git(&env, &path, &["add", "a.txt"]);
    git(&env, &path, &["commit", "-q", "-m", "a"]);
    let tip = repo.resolve("teams/app/unit/E1").unwrap().unwrap();
    assert_ne!(tip, head, "the commit landed on the unit branch");
    assert_eq!(
        repo.resolve("main").unwrap().unwrap(),
        head,
        "the user's branch is untouched"
    );

    std::fs::write(path.join("scratch.txt"), "uncommitted\n").unwrap();
    let err = manager.remove(&path, false).unwrap_err();
    assert!(matches!(err, WorktreeError::Dirty { .. }), "{err}");
    assert!(
        path.join("scratch.txt").exists(),
        "uncommitted work survives"
    );

    let list = manager.list().unwrap();
    assert!(
        list.iter()
            .any(|w| w.branch.as_deref() == Some("teams/app/unit/E1"))
    );

    std::fs::remove_file(path.join("scratch.txt")).unwrap();
    manager.remove(&path, false).unwrap();
    assert!(!path.exists());
    assert!(
        repo.branch_exists("teams/app/unit/E1").unwrap(),
        "the branch is kept"
    );
}

#[test]
fn detached_checkouts_for_validators() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let head = repo.resolve("HEAD").unwrap().unwrap();
    let manager = WorktreeManager::new(repo.git().clone());
    let path = env.root().join("validate");
    manager.add_detached(&path, &head).unwrap();
    assert_eq!(git(&env, &path, &["rev-parse", "HEAD"]), head.as_str());
    assert!(
        manager
            .list()
            .unwrap()
            .iter()
            .any(|w| w.branch.is_none() && w.head.as_ref() == Some(&head))
    );
    manager.remove(&path, true).unwrap();
}

#[test]
fn a_repository_without_identity_commits_as_teams() {
    let env = TestEnv::new();
    env.git_init();
    let hermetic = || {
        let mut runner = teams::git::GitRunner::new(env.repo())
            .with_env("GIT_CONFIG_GLOBAL", Some("/dev/null"))
            .with_env("GIT_CONFIG_NOSYSTEM", Some("1"));
        for var in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        ] {
            runner = runner.with_env(var, None);
        }
        runner
    };
    let repo = Repo::open_with(hermetic()).unwrap();
    assert_eq!(repo.identity(), &Identity::Fallback);
    repo.git()
        .run(["commit", "-q", "--allow-empty", "-m", "by teams"])
        .unwrap();
    assert_eq!(
        repo.git().run(["log", "-1", "--format=%an <%ae>"]).unwrap(),
        "teams <teams@localhost>"
    );

    git(&env, &env.repo(), &["config", "user.name", "Repo User"]);
    git(
        &env,
        &env.repo(),
        &["config", "user.email", "repo@example.com"],
    );
    let repo = Repo::open_with(hermetic()).unwrap();
    assert_eq!(repo.identity(), &Identity::Configured);
    repo.git()
        .run([
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "by the user identity",
        ])
        .unwrap();
    assert_eq!(
        repo.git().run(["log", "-1", "--format=%an"]).unwrap(),
        "Repo User"
    );
}

/// The text a validator reads is the stat, a blank line and the patch, exactly as two separate
/// `git diff` calls gave it, for the shapes of change a builder makes (including an empty commit).
#[test]
fn the_review_diff_is_the_stat_a_blank_line_and_the_patch() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let mut commits = vec![repo.resolve("HEAD").unwrap().unwrap()];
    let mut commit = |message: &str| {
        git(&env, &env.repo(), &["add", "-A"]);
        git(
            &env,
            &env.repo(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        commits.push(repo.resolve("HEAD").unwrap().unwrap());
    };
    env.write("src/lib.rs", "pub fn a() {}\n");
    env.write("README.md", "test repo\nmore\n");
    env.write("dir with space/é.txt", "x\n");
    env.write("data.bin", [0u8, 1, 2, 255, 0, 7]);
    commit("edits, a new file, a binary file, an odd path");
    git(&env, &env.repo(), &["mv", "src/lib.rs", "src/main.rs"]);
    commit("a rename");
    commit("an empty commit");
    let two_calls = |from: &teams::git::Sha, to: &teams::git::Sha| {
        let stat = git_raw(
            &env,
            &["diff", "--stat", "--no-color", from.as_str(), to.as_str()],
        );
        let patch = git_raw(
            &env,
            &[
                "diff",
                "--no-color",
                "--no-ext-diff",
                from.as_str(),
                to.as_str(),
            ],
        );
        format!("{stat}\n\n{patch}")
    };
    for (from, to) in [(0, 1), (1, 2), (2, 3), (0, 3), (1, 3)] {
        let (from, to) = (&commits[from], &commits[to]);
        assert_eq!(
            repo.diff_for_review(from, to).unwrap(),
            two_calls(from, to),
            "{from}..{to}"
        );
    }
    assert_eq!(
        repo.diff_for_review(&commits[2], &commits[3]).unwrap(),
        "\n\n"
    );
}

/// `git` output with only the final newline removed (as `GitRunner::run` returns it).
fn git_raw(env: &TestEnv, args: &[&str]) -> String {
    let out = env.command("git").args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    let mut text = String::from_utf8(out.stdout).unwrap();
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// One call answers what `head()` and `resolve("refs/heads/<branch>")` answer, also when the
/// worktree is detached elsewhere or the branch does not exist.
#[test]
fn head_and_branch_tip_match_the_separate_questions() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let base = repo.resolve("HEAD").unwrap().unwrap();
    repo.create_branch("teams/app/unit/E1", &base).unwrap();
    let manager = WorktreeManager::new(repo.git().clone());
    let path = env.root().join("wt");
    manager.add(&path, "teams/app/unit/E1").unwrap();
    let checkout = teams::git::Checkout::new(repo.git(), &path);
    let separate = |branch: &str| {
        (
            checkout.head().unwrap(),
            repo.resolve(&format!("refs/heads/{branch}")).unwrap(),
        )
    };
    let both = checkout.head_and_branch_tip("teams/app/unit/E1").unwrap();
    assert_eq!(both, (Some(base.clone()), Some(base.clone())));
    assert_eq!(both, separate("teams/app/unit/E1"));

    // A commit on the branch, then the worktree detached back at the base; a file named like a
    // revision does not confuse it.
    std::fs::write(path.join("HEAD"), "not a ref\n").unwrap();
    git(&env, &path, &["add", "HEAD"]);
    git(&env, &path, &["commit", "-q", "-m", "a file named HEAD"]);
    let tip = repo.resolve("teams/app/unit/E1").unwrap().unwrap();
    git(&env, &path, &["checkout", "-q", "--detach", base.as_str()]);
    let both = checkout.head_and_branch_tip("teams/app/unit/E1").unwrap();
    assert_eq!(both, (Some(base.clone()), Some(tip)));
    assert_eq!(both, separate("teams/app/unit/E1"));

    let missing = checkout.head_and_branch_tip("teams/app/unit/none").unwrap();
    assert_eq!(missing, (Some(base), None));
    assert_eq!(missing, separate("teams/app/unit/none"));
}

/// A builder may commit text in another encoding or a file name that is not UTF-8; the review
/// diff and the changed-file list must still come back (lossily) instead of stopping the run.
#[test]
fn non_utf8_content_and_names_do_not_break_the_review() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let before = repo.resolve("HEAD").unwrap().unwrap();
    env.write("latin1.txt", b"caf\xe9\n");
    let odd = std::ffi::OsStr::from_bytes(b"na\xefve.txt");
    std::fs::write(env.repo().join(odd), "x\n").unwrap();
    git(&env, &env.repo(), &["add", "-A"]);
    git(&env, &env.repo(), &["commit", "-q", "-m", "latin-1"]);
    let after = repo.resolve("HEAD").unwrap().unwrap();
    let diff = repo.diff_for_review(&before, &after).unwrap();
    assert!(diff.contains("latin1.txt"), "{diff}");
    let files = repo.changed_files(&before, &after).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.contains(&"latin1.txt".to_owned()));
}

/// Branch tips, `HEAD` and the checked-out branch are read from the ref files where the files
/// backend allows; whatever way they are stored (loose, packed, symbolic, detached, missing), the
/// answers are git's own.
#[test]
fn refs_read_from_files_agree_with_git() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let base = repo.resolve("HEAD").unwrap().unwrap();
    let branch = "teams/app/unit/E1";
    repo.create_branch(branch, &base).unwrap();
    let path = env.root().join("wt");
    WorktreeManager::new(repo.git().clone())
        .add(&path, branch)
        .unwrap();
    let checkout = teams::git::Checkout::new(repo.git(), &path);
    let rev_parse = |dir: &std::path::Path, rev: &str| git(&env, dir, &["rev-parse", rev]);

    // Loose.
    std::fs::write(path.join("a.txt"), "a\n").unwrap();
    git(&env, &path, &["add", "a.txt"]);
    git(&env, &path, &["commit", "-q", "-m", "a"]);
    let tip = teams::git::Sha::new(rev_parse(&path, "HEAD"));
    assert_ne!(tip, base);
    assert_eq!(checkout.head().unwrap(), Some(tip.clone()));
    assert_eq!(checkout.branch().unwrap().as_deref(), Some(branch));
    assert_eq!(
        repo.resolve(&format!("refs/heads/{branch}")).unwrap(),
        Some(tip.clone())
    );

    // Packed: the loose files are gone, `packed-refs` holds them.
    git(&env, &env.repo(), &["pack-refs", "--all"]);
    assert!(
        !env.repo()
            .join(".git/refs/heads/teams/app/unit/E1")
            .exists()
    );
    assert_eq!(checkout.head().unwrap(), Some(tip.clone()));
    assert_eq!(
        checkout.head_and_branch_tip(branch).unwrap(),
        (Some(tip.clone()), Some(tip.clone()))
    );
    assert_eq!(
        repo.resolve(&format!("refs/heads/{branch}")).unwrap(),
        Some(tip.clone())
    );
    assert!(repo.branch_exists(branch).unwrap());
    assert!(!repo.branch_exists("teams/app/unit/none").unwrap());
    assert_eq!(
        repo.resolve("refs/heads/teams/app/unit/none").unwrap(),
        None
    );

    // A symbolic branch pointing at another, and a loose ref shadowing a packed one.
    git(
        &env,
        &env.repo(),
        &[
            "symbolic-ref",
            "refs/heads/alias",
            &format!("refs/heads/{branch}"),
        ],
    );
    assert_eq!(repo.resolve("refs/heads/alias").unwrap(), Some(tip.clone()));
    git(
        &env,
        &env.repo(),
        &["update-ref", &format!("refs/heads/{branch}"), base.as_str()],
    );
    assert_eq!(
        repo.resolve(&format!("refs/heads/{branch}")).unwrap(),
        Some(base.clone())
    );
    assert_eq!(
        repo.resolve("refs/heads/alias").unwrap(),
        Some(base.clone())
    );

    // Detached.
    git(&env, &path, &["checkout", "-q", "--detach", tip.as_str()]);
    assert_eq!(checkout.branch().unwrap(), None);
    assert_eq!(checkout.head().unwrap(), Some(tip.clone()));
    assert_eq!(
        checkout.head_and_branch_tip(branch).unwrap(),
        (Some(tip.clone()), Some(base.clone()))
    );

    // The main checkout, whose `.git` is a directory.
    let main = teams::git::Checkout::new(repo.git(), env.repo());
    assert_eq!(main.branch().unwrap().as_deref(), Some("main"));
    assert_eq!(main.head().unwrap(), Some(base));
}

/// A repository on the reftable backend has no ref files to read: git answers every question.
#[test]
fn a_reftable_repository_is_answered_by_git() {
    let env = TestEnv::new();
    git(
        &env,
        &env.repo(),
        &["init", "-q", "-b", "main", "--ref-format=reftable"],
    );
    git(
        &env,
        &env.repo(),
        &["commit", "-q", "--allow-empty", "-m", "init"],
    );
    let repo = Repo::open(&env.repo()).unwrap();
    let head = teams::git::Sha::new(git(&env, &env.repo(), &["rev-parse", "HEAD"]));
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), Some(head.clone()));
    assert!(repo.branch_exists("main").unwrap());
    repo.create_branch("teams/app/unit/E1", &head).unwrap();
    let path = env.root().join("wt");
    WorktreeManager::new(repo.git().clone())
        .add(&path, "teams/app/unit/E1")
        .unwrap();
    let checkout = teams::git::Checkout::new(repo.git(), &path);
    assert_eq!(
        checkout.branch().unwrap().as_deref(),
        Some("teams/app/unit/E1")
    );
    assert_eq!(
        checkout.head_and_branch_tip("teams/app/unit/E1").unwrap(),
        (Some(head.clone()), Some(head))
    );
}
