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
        // The same process lists the changed paths exactly as `changed_files` does.
        let mut files = repo.changed_files(from, to).unwrap();
        files.sort();
        assert_eq!(repo.review(from, to).unwrap().files, files, "{from}..{to}");
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
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(repo.review(&before, &after).unwrap().files, sorted);
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
    assert!(repo.branch_exists("alias").unwrap());
    // A directory of branches is not a branch.
    assert!(!repo.branch_exists("teams/app").unwrap());
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

/// Every file under `dir` (relative, sorted), `.git` left out.
fn files_on_disk(dir: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel == ".git" {
                continue;
            }
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The validator checkout reused from story to story: whatever one validator did (edits, staged
/// and untracked files, ignored build output, a nested repository, commits, a branch) is gone
/// when it is put on the next commit, which it shows exactly; the builder's leftovers in the unit
/// worktree never appear; a checkout that was broken or deleted is replaced by a fresh one.
#[test]
fn a_reused_validator_checkout_shows_exactly_the_next_commit() {
    let env = TestEnv::new();
    env.git_init();
    env.write(".gitignore", "target/\n");
    env.write("src/lib.rs", "pub fn one() {}\n");
    env.write(".teams/.gitignore", "*\n");
    git(&env, &env.repo(), &["add", "-A"]);
    git(&env, &env.repo(), &["commit", "-q", "-m", "base"]);
    let repo = Repo::open(&env.repo()).unwrap();
    let manager = WorktreeManager::new(repo.git().clone());
    let branch = "teams/app/unit/E1";
    repo.create_branch(branch, &repo.resolve("HEAD").unwrap().unwrap())
        .unwrap();
    let unit = env.repo().join(".teams/worktrees/run/E1");
    manager.add(&unit, branch).unwrap();
    let commit_in_unit = |rel: &str, content: &str| {
        std::fs::create_dir_all(unit.join(rel).parent().unwrap()).unwrap();
        std::fs::write(unit.join(rel), content).unwrap();
        git(&env, &unit, &["add", "-A"]);
        git(&env, &unit, &["commit", "-q", "-m", rel]);
        teams::git::Sha::new(git(&env, &unit, &["rev-parse", "HEAD"]))
    };
    let first = commit_in_unit("src/one.rs", "one\n");
    // Builder leftovers in the unit worktree: untracked and ignored.
    std::fs::write(unit.join("builder-notes.txt"), "notes\n").unwrap();
    std::fs::create_dir_all(unit.join("target")).unwrap();
    std::fs::write(unit.join("target/out"), "build\n").unwrap();

    let checkout = env.repo().join(".teams/worktrees/run/E1@validator");
    manager.reuse_detached(&checkout, &first).unwrap();
    let tracked = |sha: &teams::git::Sha| -> Vec<String> {
        let mut files: Vec<String> = git(
            &env,
            &env.repo(),
            &["ls-tree", "-r", "--name-only", sha.as_str()],
        )
        .lines()
        .map(str::to_owned)
        .collect();
        files.sort();
        files
    };
    let assert_exactly = |sha: &teams::git::Sha| {
        assert_eq!(git(&env, &checkout, &["rev-parse", "HEAD"]), sha.as_str());
        let out = env
            .command("git")
            .current_dir(&checkout)
            .args(["symbolic-ref", "-q", "HEAD"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "detached");
        assert_eq!(files_on_disk(&checkout), tracked(sha));
        assert_eq!(
            git(
                &env,
                &checkout,
                &[
                    "status",
                    "--porcelain",
                    "--ignored",
                    "--untracked-files=all"
                ]
            ),
            ""
        );
    };
    assert_exactly(&first);
    // A mark in git's record of the worktree tells reuse from a fresh checkout.
    let admin =
        std::path::PathBuf::from(git(&env, &checkout, &["rev-parse", "--absolute-git-dir"]));
    std::fs::write(admin.join("test-mark"), "").unwrap();

    // The first validator makes a mess of its checkout.
    std::fs::write(checkout.join("src/lib.rs"), "pub fn broken() {}\n").unwrap();
    std::fs::write(checkout.join("staged.txt"), "staged\n").unwrap();
    git(&env, &checkout, &["add", "staged.txt"]);
    std::fs::write(checkout.join("untracked.txt"), "x\n").unwrap();
    std::fs::create_dir_all(checkout.join("target/debug")).unwrap();
    std::fs::write(checkout.join("target/debug/app"), "bin\n").unwrap();
    std::fs::create_dir_all(checkout.join("nested")).unwrap();
    git(&env, &checkout.join("nested"), &["init", "-q"]);
    std::fs::write(checkout.join("src/one.rs"), "validator commit\n").unwrap();
    git(&env, &checkout, &["commit", "-qam", "validator commit"]);
    git(
        &env,
        &checkout,
        &["checkout", "-q", "-b", "validator-branch"],
    );
    // The untracked file also exists in the next commit: the commit's version must win.
    let second = commit_in_unit("untracked.txt", "from the builder\n");
    manager.reuse_detached(&checkout, &second).unwrap();
    assert!(admin.join("test-mark").exists(), "reused, not made anew");
    assert_exactly(&second);
    assert_eq!(
        std::fs::read_to_string(checkout.join("src/lib.rs")).unwrap(),
        "pub fn one() {}\n"
    );
    assert_eq!(
        std::fs::read_to_string(checkout.join("untracked.txt")).unwrap(),
        "from the builder\n"
    );
    assert_eq!(
        std::fs::read_to_string(checkout.join("src/one.rs")).unwrap(),
        "one\n"
    );

    // A validator that broke its checkout's link to the repository gets a fresh one.
    std::fs::remove_file(checkout.join(".git")).unwrap();
    std::fs::write(checkout.join("left.txt"), "x\n").unwrap();
    let third = commit_in_unit("src/three.rs", "three\n");
    manager.reuse_detached(&checkout, &third).unwrap();
    assert!(!admin.join("test-mark").exists(), "made anew");
    assert_exactly(&third);
    // One that deleted it altogether, too.
    std::fs::remove_dir_all(&checkout).unwrap();
    manager.reuse_detached(&checkout, &first).unwrap();
    assert_exactly(&first);

    // The user's checkout and the unit worktree were never touched.
    assert_eq!(git(&env, &env.repo(), &["status", "--porcelain"]), "");
    assert!(unit.join("builder-notes.txt").exists() && unit.join("target/out").exists());
    assert_eq!(git(&env, &unit, &["rev-parse", "HEAD"]), third.as_str());

    // A pristine checkout moves with one process: `first` and `third` differ by two files.
    manager.reuse_pristine_detached(&checkout, &third).unwrap();
    assert_exactly(&third);
    manager.reuse_pristine_detached(&checkout, &first).unwrap();
    assert_exactly(&first);
    // The premise broken (HEAD put on a branch behind teams' back): that branch must not move.
    git(&env, &checkout, &["checkout", "-q", "-b", "validator-own"]);
    manager.reuse_pristine_detached(&checkout, &third).unwrap();
    assert_exactly(&third);
    assert_eq!(
        git(&env, &env.repo(), &["rev-parse", "validator-own"]),
        first.as_str()
    );

    manager.remove(&checkout, true).unwrap();
    assert!(!checkout.exists());
    assert!(
        !manager
            .list()
            .unwrap()
            .iter()
            .any(|w| w.path.ends_with("E1@validator"))
    );
}

/// Ancestry read from loose commits agrees with `git merge-base --is-ancestor` on every pair of a
/// history with branches and a merge: loose, after `git gc` packed them, and with a replace ref
/// that changes what git considers a commit's parents.
#[test]
fn ancestry_agrees_with_git_loose_packed_and_replaced() {
    let env = TestEnv::new();
    env.git_init();
    let repo = Repo::open(&env.repo()).unwrap();
    let mut commits = vec![repo.resolve("HEAD").unwrap().unwrap()];
    let commit = |commits: &mut Vec<teams::git::Sha>, file: &str| {
        env.write(file, file);
        git(&env, &env.repo(), &["add", "-A"]);
        git(&env, &env.repo(), &["commit", "-q", "-m", file]);
        commits.push(repo.resolve("HEAD").unwrap().unwrap());
    };
    commit(&mut commits, "a");
    commit(&mut commits, "b");
    git(
        &env,
        &env.repo(),
        &["checkout", "-q", "-b", "side", "HEAD~1"],
    );
    commit(&mut commits, "c");
    git(&env, &env.repo(), &["checkout", "-q", "main"]);
    git(
        &env,
        &env.repo(),
        &["merge", "-q", "--no-ff", "-m", "merge", "side"],
    );
    commits.push(repo.resolve("HEAD").unwrap().unwrap());
    git(&env, &env.repo(), &["checkout", "-q", "--orphan", "other"]);
    commit(&mut commits, "d");
    let check_all = |label: &str| {
        for a in &commits {
            for b in &commits {
                let by_git = env
                    .command("git")
                    .args(["merge-base", "--is-ancestor", a.as_str(), b.as_str()])
                    .status()
                    .unwrap()
                    .success();
                assert_eq!(
                    repo.is_ancestor(a, b).unwrap(),
                    by_git,
                    "{label}: {a} -> {b}"
                );
            }
        }
    };
    check_all("loose");
    // A replace ref makes the merge look like a root commit to git.
    let merge = commits[4].clone();
    git(&env, &env.repo(), &["replace", "--graft", merge.as_str()]);
    check_all("replaced");
    git(&env, &env.repo(), &["replace", "-d", merge.as_str()]);
    git(&env, &env.repo(), &["gc", "-q"]);
    check_all("packed");
}

/// `merge_trees` is git's own merge without a working tree: a clean merge gives the tree `git
/// merge` would check out, a conflict names every conflicted path (odd names included), and
/// `commit_tree` makes the merge commit with the parents in order.
#[test]
fn merging_in_memory_gives_git_merges_tree_and_names_conflicts() {
    use teams::git::{Sha, TreeMerge};
    let env = TestEnv::new();
    env.git_init();
    let dir = env.repo();
    let commit = |branch: &str, files: &[(&str, &str)]| {
        git(&env, &dir, &["switch", "-q", branch]);
        for (name, content) in files {
            std::fs::write(dir.join(name), content).unwrap();
            git(&env, &dir, &["add", "--", name]);
        }
        git(&env, &dir, &["commit", "-q", "-m", &format!("on {branch}")]);
        Sha::new(git(&env, &dir, &["rev-parse", "HEAD"]))
    };
    let base = commit("main", &[("a b.txt", "base\n"), ("c.txt", "base\n")]);
    git(&env, &dir, &["branch", "ours", base.as_str()]);
    git(&env, &dir, &["branch", "theirs", base.as_str()]);
    git(&env, &dir, &["branch", "other", base.as_str()]);
    let ours = commit("ours", &[("a b.txt", "ours\n"), ("c.txt", "ours\n")]);
    let theirs = commit("theirs", &[("a b.txt", "theirs\n"), ("c.txt", "theirs\n")]);
    let other = commit("other", &[("new.txt", "new\n")]);
    git(&env, &dir, &["switch", "-q", "main"]);
    let repo = Repo::open(&dir).unwrap();

    assert_eq!(
        repo.merge_trees(&ours, &theirs).unwrap(),
        TreeMerge::Conflicts(vec!["a b.txt".to_owned(), "c.txt".to_owned()])
    );

    let TreeMerge::Clean(tree) = repo.merge_trees(&ours, &other).unwrap() else {
        panic!("a clean merge");
    };
    let merge = repo
        .commit_tree(&tree, &[&ours, &other], "teams: merge other")
        .unwrap();
    assert_eq!(
        git(&env, &dir, &["log", "-1", "--format=%P %s", merge.as_str()]),
        format!("{ours} {other} teams: merge other")
    );
    // The same tree `git merge --no-ff` checks out.
    git(&env, &dir, &["switch", "-q", "ours"]);
    git(
        &env,
        &dir,
        &["merge", "-q", "--no-ff", "--no-edit", "other"],
    );
    assert_eq!(
        git(&env, &dir, &["rev-parse", "HEAD^{tree}"]),
        tree.as_str()
    );
}
