//! Dependency graphs over node indices: topological layers, cycles and the longest chain.
//!
//! Kept generic (a node is an index, its dependencies a list of indices) so epics, sprint todos
//! and tests share one implementation. Everything here is O(V + E): a PRD of thousands of epics
//! is scheduled in microseconds, and the functions are pure, which makes them property-testable.
//!
//! Dependency indices out of range are ignored; callers map unknown names away first (and
//! `prd::validate` reports them).

use std::fmt;

/// A dependency cycle: each node depends on the next one, and the last depends on the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<usize>);

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in &self.0 {
            write!(f, "{node} → ")?;
        }
        match self.0.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// Dependencies as a list per node, with out-of-range indices dropped.
fn edges(deps: &[Vec<usize>]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let n = deps.len();
    deps.iter()
        .enumerate()
        .flat_map(move |(node, ds)| ds.iter().filter(move |&&d| d < n).map(move |&d| (node, d)))
}

/// Kahn's algorithm. Returns each node's layer (0-based; `None` for nodes on or behind a cycle)
/// and the nodes in a topological order.
fn kahn(deps: &[Vec<usize>]) -> (Vec<Option<usize>>, Vec<usize>) {
    let n = deps.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut remaining = vec![0usize; n];
    for (node, dep) in edges(deps) {
        dependents[dep].push(node);
        remaining[node] += 1;
    }
    let mut layer: Vec<Option<usize>> = vec![None; n];
    let mut order: Vec<usize> = (0..n).filter(|&i| remaining[i] == 0).collect();
    for &root in &order {
        layer[root] = Some(0);
    }
    let mut next = 0;
    while let Some(&node) = order.get(next) {
        next += 1;
        let here = layer[node].unwrap_or(0);
        for &dependent in &dependents[node] {
            let candidate = here + 1;
            if layer[dependent].is_none_or(|l| l < candidate) {
                layer[dependent] = Some(candidate);
            }
            remaining[dependent] -= 1;
            if remaining[dependent] == 0 {
                order.push(dependent);
            }
        }
    }
    // A node that never reached zero remaining dependencies got a provisional layer from some of
    // its dependencies; clear it so callers see it is unschedulable.
    for (node, left) in remaining.iter().enumerate() {
        if *left > 0 {
            layer[node] = None;
        }
    }
    (layer, order)
}

/// Groups nodes into layers: layer 0 holds nodes without dependencies, and every node sits in the
/// layer right after its latest dependency. Within a layer nodes keep index order, so ties go to
/// file order. Fails with one concrete cycle when the graph has any.
pub fn layers(deps: &[Vec<usize>]) -> Result<Vec<Vec<usize>>, Cycle> {
    let (layer, order) = kahn(deps);
    if order.len() < deps.len() {
        return Err(first_cycle(deps, &layer));
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (node, l) in layer.iter().enumerate() {
        let l = l.unwrap_or(0);
        if out.len() <= l {
            out.resize_with(l + 1, Vec::new);
        }
        out[l].push(node);
    }
    Ok(out)
}

/// Every cycle that can be told apart by one walk each: disjoint cycles are all reported, and
/// overlapping ones at least once. Empty when the graph is acyclic. Self-dependencies are cycles
/// of one node.
pub fn cycles(deps: &[Vec<usize>]) -> Vec<Cycle> {
    let (layer, order) = kahn(deps);
    if order.len() == deps.len() {
        return Vec::new();
    }
    find_cycles(deps, &layer, usize::MAX)
}

fn first_cycle(deps: &[Vec<usize>], layer: &[Option<usize>]) -> Cycle {
    // `find_cycles` always finds one when Kahn left nodes over; the fallback is never used.
    find_cycles(deps, layer, 1)
        .into_iter()
        .next()
        .unwrap_or(Cycle(Vec::new()))
}

/// Finds up to `limit` cycles among the nodes Kahn could not schedule (`layer[i].is_none()`).
///
/// Every such node has at least one unscheduled dependency (otherwise Kahn would have scheduled
/// it), so following unscheduled dependencies from any of them must revisit a node: the part of
/// the walk from that node on is a cycle. Each node is walked at most once overall.
fn find_cycles(deps: &[Vec<usize>], layer: &[Option<usize>], limit: usize) -> Vec<Cycle> {
    let n = deps.len();
    // 0 = not visited, otherwise the number of the walk that visited it.
    let mut walk_of = vec![0usize; n];
    let mut found = Vec::new();
    let mut walk = 0;
    for start in 0..n {
        if layer[start].is_some() || walk_of[start] != 0 || found.len() >= limit {
            continue;
        }
        walk += 1;
        let mut path = Vec::new();
        let mut node = start;
        loop {
            if walk_of[node] == walk {
                let at = path.iter().position(|&p| p == node).unwrap_or(0);
                found.push(Cycle(path.split_off(at)));
                break;
            }
            if walk_of[node] != 0 {
                // Joined an earlier walk: that cycle is already reported.
                break;
            }
            walk_of[node] = walk;
            path.push(node);
            let next = deps[node]
                .iter()
                .copied()
                .find(|&d| d < n && layer[d].is_none());
            match next {
                Some(next) => node = next,
                // Unreachable by the invariant above; stop rather than loop.
                None => break,
            }
        }
    }
    found
}

/// The heaviest dependency chain, from a node without dependencies to the node that finishes it,
/// where a chain's weight is the sum of `weight(node)` over its nodes. Ties go to the lower index.
/// Empty for an empty graph.
pub fn longest_path(
    deps: &[Vec<usize>],
    weight: impl Fn(usize) -> u64,
) -> Result<Vec<usize>, Cycle> {
    let (layer, order) = kahn(deps);
    if order.len() < deps.len() {
        return Err(first_cycle(deps, &layer));
    }
    let n = deps.len();
    let mut best = vec![0u64; n];
    let mut via: Vec<Option<usize>> = vec![None; n];
    for &node in &order {
        let mut heaviest: Option<usize> = None;
        for &d in deps[node].iter().filter(|&&d| d < n) {
            let better = match heaviest {
                None => true,
                Some(h) => best[d] > best[h] || (best[d] == best[h] && d < h),
            };
            if better {
                heaviest = Some(d);
            }
        }
        best[node] = weight(node) + heaviest.map_or(0, |h| best[h]);
        via[node] = heaviest;
    }
    let Some(mut end) = (0..n).max_by(|&a, &b| best[a].cmp(&best[b]).then(b.cmp(&a))) else {
        return Ok(Vec::new());
    };
    let mut path = vec![end];
    while let Some(prev) = via[end] {
        path.push(prev);
        end = prev;
    }
    path.reverse();
    Ok(path)
}

#[cfg(test)]
mod tests;
