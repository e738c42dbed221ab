//! Which unit starts next (spec §4.2): the dispatcher's scheduling policy as a pure function.
//!
//! A unit is ready when every dependency completed and merged; a unit whose dependency ended any
//! other way is blocked, and blocking cascades. While slots are free, ready units start: first
//! the ones the longest chain of other units waits on (counted in units, since agent durations
//! are not known in advance), ties in file order. There is no barrier between waves: every call
//! looks at the units as they are now, so a slot freed by one unit goes at once to whatever is
//! ready, however unrelated.
//!
//! Why the chain first: on random DAGs of 50 units it brings the makespan from 4.5–5.1% over the
//! lower bound (file order alone) to about 2% (`benches/schedule.rs`, docs/PERFORMANCE.md), because
//! the unit that blocks the most work no longer waits behind independent ones that happen to come
//! first in the file. For independent units, and whenever chains are equal, it is file order.
//!
//! It lives here, apart from the dispatcher, so the scheduling benchmark (`benches/schedule.rs`)
//! drives the very policy a run uses in simulated time instead of a copy of it.

/// Where a unit is, as scheduling sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Not started yet.
    Waiting,
    /// Its agents are at work.
    Running,
    /// Finished its stories; waiting for its merge or being merged (not merged yet, so not done).
    Merging,
    /// Completed and merged: its dependents may start.
    Completed,
    /// Ended without completing (partial, failed, blocked, merge-failed): its dependents are
    /// blocked.
    NotCompleted,
    /// Stopped by an interruption: neither done nor blocking.
    Stopped,
}

/// One dependency of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// Another unit of this run, by index.
    Unit(usize),
    /// A unit outside this run (`--epic`): only its recorded status counts.
    Outside { completed: bool },
}

/// What the dispatcher should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start this unit.
    Start(usize),
    /// Block `unit`: its dependency at position `dependency` in its list did not complete.
    Block { unit: usize, dependency: usize },
}

/// Whether a unit may start, given its dependencies and where every unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    Waiting,
    /// Blocked by the dependency at this position of its list.
    Blocked(usize),
}

/// The readiness of a unit with these dependencies.
pub fn readiness(deps: &[Dependency], progress: &[Progress]) -> Readiness {
    let mut waiting = false;
    for (position, dep) in deps.iter().enumerate() {
        match *dep {
            Dependency::Outside { completed: true } => {}
            Dependency::Outside { completed: false } => return Readiness::Blocked(position),
            Dependency::Unit(i) => match progress.get(i) {
                Some(Progress::Completed) => {}
                Some(Progress::NotCompleted) => return Readiness::Blocked(position),
                _ => waiting = true,
            },
        }
    }
    if waiting {
        Readiness::Waiting
    } else {
        Readiness::Ready
    }
}

/// The actions for the units as they are now: blocks (cascading), then up to `free_slots`
/// starts, longest chain of waiting units first, ties in file order. Units are identified by
/// their index in `deps` and `progress`.
pub fn next_actions(
    deps: &[Vec<Dependency>],
    progress: &[Progress],
    free_slots: usize,
) -> Vec<Action> {
    let mut progress = progress.to_vec();
    let mut actions = Vec::new();
    loop {
        let mut changed = false;
        for unit in 0..deps.len() {
            if progress[unit] != Progress::Waiting {
                continue;
            }
            if let Readiness::Blocked(dependency) = readiness(&deps[unit], &progress) {
                progress[unit] = Progress::NotCompleted;
                actions.push(Action::Block { unit, dependency });
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if free_slots == 0 {
        return actions;
    }
    // Starting a unit makes no other unit ready, so one pass decides every start.
    let mut ready: Vec<usize> = (0..deps.len())
        .filter(|&u| progress[u] == Progress::Waiting)
        .filter(|&u| readiness(&deps[u], &progress) == Readiness::Ready)
        .collect();
    if ready.len() > free_slots {
        let chain = chains(deps);
        ready.sort_by_key(|&u| (std::cmp::Reverse(chain[u]), u));
        ready.truncate(free_slots);
    }
    actions.extend(ready.into_iter().map(Action::Start));
    actions
}

/// Per unit, the longest chain of units that wait on it, itself included (1 for a unit nothing
/// depends on). Bounded by the number of units, so a cycle (which validation refuses before a
/// run) cannot make it loop.
pub fn chains(deps: &[Vec<Dependency>]) -> Vec<usize> {
    let n = deps.len();
    let mut chain = vec![1usize; n];
    for _ in 0..n {
        let mut changed = false;
        for unit in 0..n {
            for dep in &deps[unit] {
                if let Dependency::Unit(d) = *dep
                    && d < n
                    && chain[d] < chain[unit] + 1
                    && chain[unit] < n
                {
                    chain[d] = chain[unit] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use Progress::*;

    fn units(deps: &[&[usize]]) -> Vec<Vec<Dependency>> {
        deps.iter()
            .map(|d| d.iter().map(|&i| Dependency::Unit(i)).collect())
            .collect()
    }

    #[test]
    fn ready_units_start_in_file_order_up_to_the_free_slots() {
        let deps = units(&[&[], &[], &[], &[]]);
        let actions = next_actions(&deps, &[Waiting; 4], 3);
        assert_eq!(
            actions,
            vec![Action::Start(0), Action::Start(1), Action::Start(2)]
        );
    }

    #[test]
    fn a_freed_slot_goes_to_any_ready_unit_without_waiting_for_a_wave() {
        // 0 and 1 are independent, 2 needs 0; 3 is independent. With 0 done and 1 still running,
        // 2 and 3 start at once although the "first wave" (0, 1, 3) has not finished.
        let deps = units(&[&[], &[], &[0], &[]]);
        let actions = next_actions(&deps, &[Completed, Running, Waiting, Waiting], 2);
        assert_eq!(actions, vec![Action::Start(2), Action::Start(3)]);
    }

    #[test]
    fn the_unit_more_work_waits_on_starts_first_then_file_order() {
        // 0 and 1 are ready; 2 and 3 need 1 (3 also needs 2), so 1 heads a chain of three.
        let deps = units(&[&[], &[], &[1], &[1, 2], &[]]);
        assert_eq!(chains(&deps), vec![1, 3, 2, 1, 1]);
        let actions = next_actions(&deps, &[Waiting; 5], 1);
        assert_eq!(actions, vec![Action::Start(1)]);
        let actions = next_actions(&deps, &[Waiting; 5], 2);
        assert_eq!(actions, vec![Action::Start(1), Action::Start(0)]);
        // With room for every ready unit, all start.
        let actions = next_actions(&deps, &[Waiting; 5], 5);
        assert_eq!(
            actions,
            vec![Action::Start(0), Action::Start(1), Action::Start(4)]
        );
    }

    #[test]
    fn a_merging_dependency_is_not_done_yet() {
        let deps = units(&[&[], &[0]]);
        assert!(next_actions(&deps, &[Merging, Waiting], 1).is_empty());
        assert!(next_actions(&deps, &[Stopped, Waiting], 1).is_empty());
    }

    #[test]
    fn blocking_cascades_even_against_file_order_and_without_free_slots() {
        // 0 needs 1, 1 needs 2, and 2 failed.
        let deps = units(&[&[1], &[2], &[]]);
        let actions = next_actions(&deps, &[Waiting, Waiting, NotCompleted], 0);
        assert_eq!(
            actions,
            vec![
                Action::Block {
                    unit: 1,
                    dependency: 0
                },
                Action::Block {
                    unit: 0,
                    dependency: 0
                },
            ]
        );
    }

    #[test]
    fn outside_dependencies_count_by_their_recorded_status() {
        let deps = vec![
            vec![Dependency::Outside { completed: true }],
            vec![
                Dependency::Unit(0),
                Dependency::Outside { completed: false },
            ],
        ];
        let actions = next_actions(&deps, &[Waiting, Waiting], 1);
        assert_eq!(
            actions,
            vec![
                Action::Block {
                    unit: 1,
                    dependency: 1
                },
                Action::Start(0)
            ]
        );
    }
}
