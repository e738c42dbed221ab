//! `teams backlog add/list/show/edit/drop`: the sprint backlog (spec §2, §8), kept in
//! `backlog.json` at the repository root. Writes are atomic, checked with the same validation as
//! `teams validate`, and refused while a run works (the run writes the file then).

use clap::{Args, Subcommand};
use serde::Serialize;

use super::GlobalArgs;
use super::backlog_input::{edit_error, load_backlog, lock_for_write, save_backlog};
use super::output::{write_error, write_json};
use crate::backlog::{Item, ItemFields, ItemKind, ItemStatus};
use crate::error::{Result, TeamsError};
use crate::ui::Ui;

/// Keep the sprint backlog: bugs, chores and follow-ups beside the PRD
#[derive(Debug, Args)]
pub struct BacklogArgs {
    #[command(subcommand)]
    pub command: BacklogCommand,
}

#[derive(Debug, Subcommand)]
pub enum BacklogCommand {
    /// Add a pending item and print its new ID
    Add(ItemArgs),
    /// List items (all but dropped ones by default)
    List(ListArgs),
    /// Show one item
    Show(IdArgs),
    /// Change an item's fields (criteria and dependencies are replaced as a whole)
    Edit(EditArgs),
    /// Mark an item dropped (it stays in backlog.json, for history)
    Drop(IdArgs),
}

/// An item kind on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    Bug,
    Feature,
    Enhancement,
    Chore,
}

impl From<KindArg> for ItemKind {
    fn from(k: KindArg) -> ItemKind {
        match k {
            KindArg::Bug => ItemKind::Bug,
            KindArg::Feature => ItemKind::Feature,
            KindArg::Enhancement => ItemKind::Enhancement,
            KindArg::Chore => ItemKind::Chore,
        }
    }
}

/// An item status on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusArg {
    Pending,
    Selected,
    Done,
    Blocked,
    CarriedOver,
    Dropped,
}

impl From<StatusArg> for ItemStatus {
    fn from(s: StatusArg) -> ItemStatus {
        match s {
            StatusArg::Pending => ItemStatus::Pending,
            StatusArg::Selected => ItemStatus::Selected,
            StatusArg::Done => ItemStatus::Done,
            StatusArg::Blocked => ItemStatus::Blocked,
            StatusArg::CarriedOver => ItemStatus::CarriedOver,
            StatusArg::Dropped => ItemStatus::Dropped,
        }
    }
}

#[derive(Debug, Args)]
pub struct ItemArgs {
    /// What to do, in a few words
    #[arg(long, value_name = "T")]
    pub title: String,
    /// An acceptance criterion the validator checks (repeatable; at least one)
    #[arg(long = "acceptance", value_name = "A", required = true)]
    pub acceptance: Vec<String>,
    #[command(flatten)]
    pub more: MoreFields,
}

/// The optional fields `add` and `edit` share.
#[derive(Debug, Args)]
pub struct MoreFields {
    /// bug, feature, enhancement (default) or chore
    #[arg(long, value_enum, value_name = "K")]
    pub kind: Option<KindArg>,
    /// Run order within a sprint: 1 runs first; 0 (default) is unranked
    #[arg(long, value_name = "N")]
    pub rank: Option<u32>,
    /// An item or PRD epic that must be done first (repeatable)
    #[arg(long = "depends-on", value_name = "ID")]
    pub depends_on: Vec<String>,
    /// More detail for the builder and validator
    #[arg(long, value_name = "S")]
    pub summary: Option<String>,
    /// Where the item came from (free text or refs)
    #[arg(long, value_name = "O")]
    pub origin: Option<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The item to change (e.g. B-003)
    #[arg(value_name = "ID")]
    pub id: String,
    /// A new title
    #[arg(long, value_name = "T")]
    pub title: Option<String>,
    /// Replace the acceptance criteria (repeatable)
    #[arg(long = "acceptance", value_name = "A")]
    pub acceptance: Vec<String>,
    #[command(flatten)]
    pub more: MoreFields,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only items with this status (repeatable)
    #[arg(long, value_enum, value_name = "S")]
    pub status: Vec<StatusArg>,
    /// Only items of this kind (repeatable)
    #[arg(long, value_enum, value_name = "K")]
    pub kind: Vec<KindArg>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The item (e.g. B-003)
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Serialize)]
struct Changed<'a> {
    id: &'a str,
    status: ItemStatus,
}

pub fn cmd_backlog(ui: &mut Ui, global: &GlobalArgs, args: BacklogArgs) -> Result<i32> {
    let ctx = super::context(global)?;
    match args.command {
        BacklogCommand::List(list) => {
            let (doc, _) = load_backlog(&ctx)?;
            let statuses: Vec<ItemStatus> = list.status.into_iter().map(Into::into).collect();
            let kinds: Vec<ItemKind> = list.kind.into_iter().map(Into::into).collect();
            let items: Vec<&Item> = doc
                .backlog()
                .items
                .iter()
                .filter(|i| {
                    if statuses.is_empty() {
                        i.status != ItemStatus::Dropped
                    } else {
                        statuses.contains(&i.status)
                    }
                })
                .filter(|i| kinds.is_empty() || kinds.contains(&i.kind))
                .collect();
            if ctx.json {
                return write_json(ui, &items).map(|()| 0);
            }
            ui.status(&format_list(&items)).map_err(write_error)?;
            Ok(0)
        }
        BacklogCommand::Show(show) => {
            let (doc, _) = load_backlog(&ctx)?;
            let item = doc
                .backlog()
                .item(&show.id)
                .ok_or_else(|| unknown(&show.id))?;
            if ctx.json {
                return write_json(ui, item).map(|()| 0);
            }
            ui.status(&format_item(item)).map_err(write_error)?;
            Ok(0)
        }
        BacklogCommand::Add(add) => {
            let _lock = lock_for_write(&ctx, "change the backlog")?;
            let (mut doc, prd) = load_backlog(&ctx)?;
            let fields = fields(Some(add.title), add.acceptance, add.more);
            let id = doc.add_item(fields, prd.as_ref()).map_err(edit_error)?;
            save_backlog(&mut doc)?;
            if ctx.json {
                return write_json(
                    ui,
                    &Changed {
                        id: &id,
                        status: ItemStatus::Pending,
                    },
                )
                .map(|()| 0);
            }
            // The ID alone on stdout, for scripts: `id=$(teams backlog add …)`.
            std::io::Write::write_all(ui.stdout(), format!("{id}\n").as_bytes())
                .map_err(write_error)?;
            Ok(0)
        }
        BacklogCommand::Edit(edit) => {
            let _lock = lock_for_write(&ctx, "change the backlog")?;
            let (mut doc, prd) = load_backlog(&ctx)?;
            if doc.backlog().item(&edit.id).is_none() {
                return Err(unknown(&edit.id));
            }
            let fields = fields(edit.title, edit.acceptance, edit.more);
            doc.edit_item_fields(&edit.id, fields, prd.as_ref())
                .map_err(edit_error)?;
            save_backlog(&mut doc)?;
            let item = doc
                .backlog()
                .item(&edit.id)
                .ok_or_else(|| unknown(&edit.id))?;
            if ctx.json {
                return write_json(ui, item).map(|()| 0);
            }
            ui.status(&format_item(item)).map_err(write_error)?;
            Ok(0)
        }
        BacklogCommand::Drop(drop) => {
            let _lock = lock_for_write(&ctx, "change the backlog")?;
            let (mut doc, _) = load_backlog(&ctx)?;
            doc.drop_item(&drop.id).map_err(edit_error)?;
            save_backlog(&mut doc)?;
            if ctx.json {
                return write_json(
                    ui,
                    &Changed {
                        id: &drop.id,
                        status: ItemStatus::Dropped,
                    },
                )
                .map(|()| 0);
            }
            ui.status(&format!("dropped {}\n", drop.id))
                .map_err(write_error)?;
            Ok(0)
        }
    }
}

fn fields(title: Option<String>, acceptance: Vec<String>, more: MoreFields) -> ItemFields {
    ItemFields {
        title,
        summary: more.summary,
        kind: more.kind.map(Into::into),
        acceptance,
        rank: more.rank,
        depends_on: more.depends_on,
        origin: more.origin,
    }
}

fn unknown(id: &str) -> TeamsError {
    TeamsError::usage(format!("the backlog has no item `{id}`"))
        .with_hint("`teams backlog list` shows the items")
}

/// One line per item: ID, status, kind, rank, title.
fn format_list(items: &[&Item]) -> String {
    if items.is_empty() {
        return "no items (add one with `teams backlog add --title T --acceptance A`)\n".to_owned();
    }
    let width = crate::helpers::column_width(items.iter().map(|i| i.id.as_str()));
    let mut out = String::new();
    for i in items {
        let rank = if i.rank > 0 {
            format!("rank {}", i.rank)
        } else {
            "unranked".to_owned()
        };
        out.push_str(&format!(
            "{:width$}  {:12}  {:11}  {:8}  {}\n",
            i.id,
            i.status.as_str(),
            i.kind.as_str(),
            rank,
            i.title
        ));
    }
    out
}

fn format_item(i: &Item) -> String {
    let mut out = format!(
        "{}: {}\n  status: {}\n  kind: {}\n  rank: {}\n",
        i.id, i.title, i.status, i.kind, i.rank
    );
    if !i.summary.is_empty() {
        out.push_str(&format!("  summary: {}\n", i.summary));
    }
    out.push_str("  acceptance criteria:\n");
    for c in &i.acceptance_criteria {
        out.push_str(&format!("    - {c}\n"));
    }
    if !i.depends_on.is_empty() {
        out.push_str(&format!("  depends on: {}\n", i.depends_on.join(", ")));
    }
    let optional = [
        ("origin", &i.origin),
        ("carry-over of", &i.carry_over_of),
        ("sprint", &i.sprint_id),
        ("commit", &i.commit_sha),
        ("failure", &i.failure_reason),
    ];
    for (label, value) in optional {
        if let Some(value) = value {
            out.push_str(&format!("  {label}: {value}\n"));
        }
    }
    if i.attempts > 0 {
        out.push_str(&format!("  attempts: {}\n", i.attempts));
    }
    out
}
