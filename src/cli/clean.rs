//! `teams clean`: removes the worktrees of finished runs (every run with `--all`), deletes unit
//! branches whose work is merged into their integration branch, and prunes git's worktree list
//! (spec §2). A worktree with uncommitted work is never removed without `--force`; an
//! interrupted run keeps its worktrees unless `--all` (resume recreates them from the branches),
//! and its branches always.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{write_error, write_json};
use crate::error::{Result, TeamsError};
use crate::git::{GitRunner, Repo, WorktreeManager};
use crate::run::Layout;
use crate::run::lock::RunLock;
use crate::store::Store;
use crate::ui::Ui;

/// Remove worktrees and merged branches of finished runs
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Also the worktrees of an interrupted run (`teams resume` recreates them)
    #[arg(long)]
    pub all: bool,

    /// Also remove worktrees that hold uncommitted work (it is lost)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct CleanReport {
    removed_worktrees: Vec<PathBuf>,
    kept_worktrees: Vec<KeptWorktree>,
    deleted_branches: Vec<String>,
}

#[derive(Debug, Serialize)]
struct KeptWorktree {
    path: PathBuf,
    reason: String,
}

pub fn cmd_clean(ui: &mut Ui, global: &GlobalArgs, args: CleanArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    let repo = Repo::open_with(GitRunner::new(&ctx.cwd)).map_err(|err| {
        TeamsError::environment(format!(
            "{} is not inside a git repository",
            ctx.cwd.display()
        ))
        .with_source(err)
    })?;
    let layout = Layout::new(repo.root());
    // Cleaning under a running teams would pull worktrees from under its agents.
    let acquired = RunLock::acquire(&layout.lock())?;
    let _lock = acquired.lock;
    let store = Store::open_read_only(&layout.state_db())?;
    let runs = match &store {
        Some(store) => store.runs()?,
        None => Vec::new(),
    };
    let unfinished: BTreeSet<&str> = runs
        .iter()
        .filter(|r| r.status == "running" || r.status == "interrupted")
        .map(|r| r.id.as_str())
        .collect();
    let mut report = CleanReport::default();
    let manager = WorktreeManager::new(repo.git().clone());
    let git_error = |err: crate::git::GitError| TeamsError::environment(err.to_string());
    let worktrees = manager.list().map_err(git_error)?;
    let ours = layout.dir().join("worktrees");
    for worktree in worktrees.iter().filter(|w| w.path.starts_with(&ours)) {
        let run = worktree
            .path
            .strip_prefix(&ours)
            .ok()
            .and_then(|rel| rel.components().next())
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        if unfinished.contains(run) && !args.all {
            report.kept_worktrees.push(KeptWorktree {
                path: worktree.path.clone(),
                reason: format!("run {run} is not finished (`teams resume` continues it; --all removes it anyway)"),
            });
            continue;
        }
        let dirty = manager.dirty_files(&worktree.path).unwrap_or_default();
        if !dirty.is_empty() && !args.force {
            report.kept_worktrees.push(KeptWorktree {
                path: worktree.path.clone(),
                reason: format!(
                    "uncommitted work ({}); --force removes it",
                    dirty.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                ),
            });
            continue;
        }
        match manager.remove(&worktree.path, args.force) {
            Ok(()) => report.removed_worktrees.push(worktree.path.clone()),
            Err(err) => report.kept_worktrees.push(KeptWorktree {
                path: worktree.path.clone(),
                reason: err.to_string(),
            }),
        }
    }
    manager.prune().map_err(git_error)?;
    // Empty run directories go too.
    if let Ok(dirs) = std::fs::read_dir(&ours) {
        for dir in dirs.flatten() {
            let _ = std::fs::remove_dir(dir.path());
        }
    }

    // Unit branches: deleted when their integration branch holds all of their work, except those
    // an unfinished run still uses.
    let in_use: BTreeSet<String> = unfinished_branches(store.as_ref(), &unfinished)?;
    let integrations: BTreeSet<&str> = runs.iter().map(|r| r.integration_branch.as_str()).collect();
    // After the removals above: a branch still checked out somewhere is not deleted.
    let checked_out: BTreeSet<String> = manager
        .list()
        .map_err(git_error)?
        .into_iter()
        .filter_map(|w| w.branch)
        .collect();
    for integration in integrations {
        let Some(prefix) = integration.strip_suffix("/main") else {
            continue;
        };
        let Ok(Some(tip)) = repo.resolve(&format!("refs/heads/{integration}")) else {
            continue;
        };
        for (branch, sha) in repo
            .branches_under(&format!("{prefix}/unit"))
            .map_err(git_error)?
        {
            if in_use.contains(&branch) || checked_out.contains(&branch) {
                continue;
            }
            if repo.is_ancestor(&sha, &tip).map_err(git_error)?
                && repo.delete_branch(&branch).is_ok()
            {
                report.deleted_branches.push(branch);
            }
        }
    }

    if ctx.json {
        write_json(ui, &report)?;
    } else {
        let mut text = format!(
            "removed {}, deleted {}\n",
            crate::helpers::plural(report.removed_worktrees.len(), "worktree", "worktrees"),
            crate::helpers::plural(
                report.deleted_branches.len(),
                "merged branch",
                "merged branches"
            ),
        );
        for kept in &report.kept_worktrees {
            text.push_str(&format!("kept {}: {}\n", kept.path.display(), kept.reason));
        }
        ui.status(&text).map_err(write_error)?;
    }
    Ok(crate::exit_code::SUCCESS)
}

/// Unit branches recorded by unfinished runs.
fn unfinished_branches(
    store: Option<&Store>,
    unfinished: &BTreeSet<&str>,
) -> Result<BTreeSet<String>> {
    let mut branches = BTreeSet::new();
    let Some(store) = store else {
        return Ok(branches);
    };
    for run in unfinished {
        if let Some(state) = store.run_state(run)? {
            branches.extend(state.units.into_iter().filter_map(|u| u.branch));
        }
    }
    Ok(branches)
}
