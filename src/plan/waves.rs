//! Epic waves and the critical path of a [`Prd`].

use std::collections::HashMap;
use std::fmt;

use crate::prd::{EpicId, Prd};

use super::dag::{self, Cycle};

/// The epics' dependencies form a cycle, so no order exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CycleError {
    /// The epics of the cycle: each depends on the next, the last on the first.
    pub cycle: Vec<EpicId>,
}

impl fmt::Display for CycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed to order the epics: dependency cycle ")?;
        for id in &self.cycle {
            write!(f, "{id} → ")?;
        }
        match self.cycle.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// The dependency lists as epic indices. Unknown IDs are skipped (a loaded PRD has none:
/// validation rejects them); a duplicated ID resolves to its first epic.
fn dependency_indices(prd: &Prd) -> Vec<Vec<usize>> {
    let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(prd.epics.len());
    for (i, epic) in prd.epics.iter().enumerate() {
        index_of.entry(epic.id.as_str()).or_insert(i);
    }
    prd.epics
        .iter()
        .map(|epic| {
            epic.depends_on
                .iter()
                .filter_map(|dep| index_of.get(dep.as_str()).copied())
                .collect()
        })
        .collect()
}

fn cycle_error(prd: &Prd, cycle: Cycle) -> CycleError {
    CycleError {
        cycle: cycle
            .0
            .into_iter()
            .map(|i| prd.epics[i].id.clone())
            .collect(),
    }
}

/// The epics in waves: wave 1 (index 0) holds the epics without dependencies, and each epic is in
/// the wave right after its latest dependency. Within a wave, epics are in file order.
pub fn waves(prd: &Prd) -> Result<Vec<Vec<EpicId>>, CycleError> {
    let layers = dag::layers(&dependency_indices(prd)).map_err(|c| cycle_error(prd, c))?;
    Ok(layers
        .into_iter()
        .map(|layer| layer.into_iter().map(|i| prd.epics[i].id.clone()).collect())
        .collect())
}

/// The dependency chain with the most stories, first epic first: stories inside an epic run one
/// after another and dependent epics wait for each other, so this chain bounds how fast a run
/// can finish however many slots `--parallel` gives. Ties go to the earlier epic in the file.
pub fn critical_path(prd: &Prd) -> Result<Vec<EpicId>, CycleError> {
    let path = dag::longest_path(&dependency_indices(prd), |i| {
        // At least 1, so a chain of story-less epics still counts its length.
        prd.epics[i].stories.len().max(1) as u64
    })
    .map_err(|c| cycle_error(prd, c))?;
    Ok(path.into_iter().map(|i| prd.epics[i].id.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prd::{Epic, EpicStatus, Story, StoryId};

    fn epic(id: &str, deps: &[&str], stories: usize) -> Epic {
        Epic {
            id: EpicId::new(id),
            title: id.to_owned(),
            description: String::new(),
            status: EpicStatus::Pending,
            planned: false,
            depends_on: deps.iter().map(|d| EpicId::new(*d)).collect(),
            stories: (0..stories)
                .map(|i| Story {
                    id: StoryId::new(format!("{id}-S{i}")),
                    title: "s".to_owned(),
                    description: String::new(),
                    acceptance_criteria: vec!["c".to_owned()],
                    priority: None,
                    passes: false,
                    failure_reason: None,
                    commit_sha: None,
                    attempts: 0,
                    checks: Vec::new(),
                    sim_fail_first: false,
                })
                .collect(),
            checks: Vec::new(),
            backend: None,
            model: None,
            failure_reason: None,
        }
    }

    fn prd(epics: Vec<Epic>) -> Prd {
        Prd {
            project: "p".to_owned(),
            branch_name: None,
            description: None,
            epics,
        }
    }

    fn ids(waves: &[Vec<EpicId>]) -> Vec<Vec<&str>> {
        waves
            .iter()
            .map(|w| w.iter().map(EpicId::as_str).collect())
            .collect()
    }

    #[test]
    fn waves_follow_dependencies_in_file_order() {
        // D is listed first but depends on C, which depends on A.
        let p = prd(vec![
            epic("D", &["C"], 1),
            epic("A", &[], 1),
            epic("C", &["A"], 1),
            epic("B", &[], 1),
            epic("E", &["A", "D"], 1),
        ]);
        let w = waves(&p).expect("acyclic");
        assert_eq!(
            ids(&w),
            vec![vec!["A", "B"], vec!["C"], vec!["D"], vec!["E"]]
        );
    }

    #[test]
    fn a_cycle_is_named() {
        let p = prd(vec![
            epic("A", &[], 1),
            epic("B", &["C"], 1),
            epic("C", &["A", "B"], 1),
        ]);
        let err = waves(&p).expect_err("cycle");
        assert_eq!(err.cycle, [EpicId::new("B"), EpicId::new("C")]);
        assert_eq!(
            err.to_string(),
            "failed to order the epics: dependency cycle B → C → B"
        );
        assert_eq!(critical_path(&p).expect_err("cycle"), err);
    }

    #[test]
    fn critical_path_counts_stories() {
        // A(1) → C(1) is two epics; B(5) alone has more stories.
        let p = prd(vec![
            epic("A", &[], 1),
            epic("B", &[], 5),
            epic("C", &["A"], 1),
        ]);
        let path = critical_path(&p).expect("acyclic");
        assert_eq!(path, [EpicId::new("B")]);
        let p = prd(vec![
            epic("A", &[], 3),
            epic("B", &[], 1),
            epic("C", &["A", "B"], 1),
        ]);
        assert_eq!(
            critical_path(&p).expect("acyclic"),
            [EpicId::new("A"), EpicId::new("C")]
        );
        assert!(critical_path(&prd(Vec::new())).expect("empty").is_empty());
    }
}
