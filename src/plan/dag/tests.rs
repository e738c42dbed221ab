use proptest::prelude::*;

use super::*;

fn is_real_cycle(deps: &[Vec<usize>], cycle: &Cycle) -> bool {
    let nodes = &cycle.0;
    !nodes.is_empty()
        && nodes.iter().enumerate().all(|(i, &node)| {
            let next = nodes[(i + 1) % nodes.len()];
            deps[node].contains(&next)
        })
        && {
            let mut sorted = nodes.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.len() == nodes.len()
        }
}

#[test]
fn layers_follow_the_latest_dependency() {
    // 0 <- 1 <- 3, 0 <- 2, 3 also needs 2, 4 alone.
    let deps = vec![vec![], vec![0], vec![0], vec![1, 2], vec![]];
    assert_eq!(
        layers(&deps).unwrap(),
        vec![vec![0, 4], vec![1, 2], vec![3]]
    );
    assert_eq!(layers(&[]).unwrap(), Vec::<Vec<usize>>::new());
    // Duplicate and out-of-range dependencies are harmless.
    assert_eq!(
        layers(&[vec![], vec![0, 0, 9]]).unwrap(),
        vec![vec![0], vec![1]]
    );
}

#[test]
fn reports_a_concrete_cycle() {
    let deps = vec![vec![], vec![2], vec![3], vec![1], vec![3]];
    let cycle = layers(&deps).unwrap_err();
    assert_eq!(cycle, Cycle(vec![1, 2, 3]));
    assert_eq!(cycle.to_string(), "1 → 2 → 3 → 1");
    assert_eq!(layers(&[vec![0]]).unwrap_err(), Cycle(vec![0]));
}

#[test]
fn finds_disjoint_cycles() {
    let deps = vec![vec![1], vec![0], vec![2], vec![4], vec![3], vec![4]];
    assert_eq!(
        cycles(&deps),
        vec![Cycle(vec![0, 1]), Cycle(vec![2]), Cycle(vec![3, 4])]
    );
    assert!(cycles(&[vec![], vec![0]]).is_empty());
}

#[test]
fn longest_path_weighs_nodes() {
    // 0 -> 1 -> 3 and 2 -> 3; node 2 is heavy.
    let deps = vec![vec![], vec![0], vec![], vec![1, 2]];
    assert_eq!(longest_path(&deps, |_| 1).unwrap(), vec![0, 1, 3]);
    assert_eq!(
        longest_path(&deps, |n| if n == 2 { 5 } else { 1 }).unwrap(),
        vec![2, 3]
    );
    assert_eq!(longest_path(&[], |_| 1).unwrap(), Vec::<usize>::new());
    assert!(longest_path(&[vec![1], vec![0]], |_| 1).is_err());
}

/// A random DAG: each node depends only on lower indices, then node labels are shuffled so the
/// file order is not already a topological order.
fn arb_dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..60)
        .prop_flat_map(|n| {
            let deps = (0..n)
                .map(|i| prop::collection::vec(0..i.max(1), 0..4.min(i + 1)))
                .collect::<Vec<_>>();
            (deps, Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
        .prop_map(|(deps, perm)| {
            let mut out = vec![Vec::new(); deps.len()];
            for (i, ds) in deps.into_iter().enumerate() {
                // Node 0 may have drawn "dependency 0" from the `max(1)` range: drop self-edges.
                out[perm[i]] = ds
                    .into_iter()
                    .filter(|&d| d != i)
                    .map(|d| perm[d])
                    .collect();
            }
            out
        })
}

proptest! {
    #[test]
    fn every_node_once_after_its_dependencies(deps in arb_dag()) {
        let layers = layers(&deps).expect("a DAG has no cycle");
        let mut layer_of = vec![None; deps.len()];
        for (l, nodes) in layers.iter().enumerate() {
            prop_assert!(!nodes.is_empty());
            prop_assert!(nodes.windows(2).all(|w| w[0] < w[1]), "file order within a layer");
            for &node in nodes {
                prop_assert!(layer_of[node].is_none(), "node {} twice", node);
                layer_of[node] = Some(l);
            }
        }
        for (node, ds) in deps.iter().enumerate() {
            let l = layer_of[node].expect("every node is placed");
            for &d in ds {
                prop_assert!(layer_of[d].expect("placed") < l);
            }
            // As early as possible: right after the latest dependency.
            let earliest = ds.iter().map(|&d| layer_of[d].unwrap_or(0) + 1).max().unwrap_or(0);
            prop_assert_eq!(l, earliest);
        }
        prop_assert!(cycles(&deps).is_empty());
        let path = longest_path(&deps, |_| 1).expect("no cycle");
        prop_assert_eq!(path.len(), layers.len(), "with unit weights the longest chain spans every layer");
        for pair in path.windows(2) {
            prop_assert!(deps[pair[1]].contains(&pair[0]));
        }
    }

    #[test]
    fn an_injected_cycle_is_found(mut deps in arb_dag(), picks in prop::collection::vec(any::<prop::sample::Index>(), 1..6)) {
        // Close a loop through the picked nodes: p0 -> p1 -> ... -> p0.
        let n = deps.len();
        let mut ring: Vec<usize> = picks.iter().map(|p| p.index(n)).collect();
        ring.sort_unstable();
        ring.dedup();
        for (i, &node) in ring.iter().enumerate() {
            deps[node].push(ring[(i + 1) % ring.len()]);
        }
        let cycle = layers(&deps).expect_err("the graph has a cycle");
        prop_assert!(is_real_cycle(&deps, &cycle), "not a cycle: {:?}", cycle);
        let all = cycles(&deps);
        prop_assert!(!all.is_empty());
        for c in &all {
            prop_assert!(is_real_cycle(&deps, c), "not a cycle: {:?}", c);
        }
        prop_assert!(longest_path(&deps, |_| 1).is_err());
    }
}
