//! The ready queue: which issues an agent may start on, and in what order.
//!
//! An issue is ready when it is `open` (a claimed issue is `in_progress`), its `ready_at` is not
//! in the future and every issue it `depends-on` is `closed`. Ready issues are taken by
//! priority (0 first), then the oldest `ready_at`, then id. Stores answer the query in their own
//! language; [`select_ready`] is the rule written out, and the stores are tested against it.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::{Issue, IssueId, Link, LinkKind, Status, Timestamp};

/// The queue order: priority, then the oldest `ready_at`, then id.
pub fn queue_order(a: &Issue, b: &Issue) -> Ordering {
    (a.priority, a.ready_at, &a.id).cmp(&(b.priority, b.ready_at, &b.id))
}

/// The ready issues among `issues`, in queue order, at most `limit` of them.
pub fn select_ready<'a>(
    issues: &'a [Issue],
    links: &[Link],
    now: Timestamp,
    limit: usize,
) -> Vec<&'a Issue> {
    let status: HashMap<&IssueId, Status> = issues.iter().map(|i| (&i.id, i.status)).collect();
    let blocked: HashSet<&IssueId> = links
        .iter()
        .filter(|l| l.kind == LinkKind::DependsOn && status.get(&l.dst) != Some(&Status::Closed))
        .map(|l| &l.src)
        .collect();
    let mut ready: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.status == Status::Open && i.ready_at <= now && !blocked.contains(&i.id))
        .collect();
    ready.sort_by(|a, b| queue_order(a, b));
    ready.truncate(limit);
    ready
}

/// A `depends-on` cycle among `links`, as the ids along it, if there is one.
pub fn find_dependency_cycle(links: &[Link]) -> Option<Vec<IssueId>> {
    let mut edges: HashMap<&IssueId, Vec<&IssueId>> = HashMap::new();
    for link in links.iter().filter(|l| l.kind == LinkKind::DependsOn) {
        edges.entry(&link.src).or_default().push(&link.dst);
    }
    let mut done: HashSet<&IssueId> = HashSet::new();
    let mut starts: Vec<&IssueId> = edges.keys().copied().collect();
    starts.sort();
    starts
        .into_iter()
        .find_map(|start| cycle_from(start, &edges, &mut done))
}

/// Depth-first search from `start` with an explicit stack, so deep graphs cannot overflow.
fn cycle_from<'a>(
    start: &'a IssueId,
    edges: &HashMap<&'a IssueId, Vec<&'a IssueId>>,
    done: &mut HashSet<&'a IssueId>,
) -> Option<Vec<IssueId>> {
    let mut path: Vec<(&IssueId, usize)> = vec![(start, 0)];
    let mut on_path: HashSet<&IssueId> = HashSet::from([start]);
    while let Some((node, next)) = path.last_mut() {
        let node = *node;
        let targets = edges.get(node).map(Vec::as_slice).unwrap_or(&[]);
        let Some(&target) = targets.get(*next) else {
            done.insert(node);
            on_path.remove(node);
            path.pop();
            continue;
        };
        *next += 1;
        if on_path.contains(target) {
            let from = path.iter().position(|(n, _)| *n == target).unwrap_or(0);
            let mut cycle: Vec<IssueId> = path[from..].iter().map(|(n, _)| (*n).clone()).collect();
            cycle.push(target.clone());
            return Some(cycle);
        }
        if !done.contains(target) {
            on_path.insert(target);
            path.push((target, 0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewIssue;

    fn id(n: u64) -> IssueId {
        IssueId::generate(n)
    }

    fn depends(a: u64, b: u64) -> Link {
        Link::new(id(a), LinkKind::DependsOn, id(b))
    }

    #[test]
    fn finds_a_cycle_and_names_its_path() {
        let links = [depends(1, 2), depends(2, 3), depends(3, 1), depends(4, 1)];
        let cycle = find_dependency_cycle(&links).unwrap();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let links = [depends(1, 2), depends(1, 3), depends(2, 4), depends(3, 4)];
        assert_eq!(find_dependency_cycle(&links), None);
        let related = [
            Link::new(id(1), LinkKind::Related, id(2)),
            Link::new(id(2), LinkKind::Related, id(1)),
        ];
        assert_eq!(find_dependency_cycle(&related), None);
    }

    #[test]
    fn dependencies_hold_an_issue_back_until_closed() {
        let now = Timestamp::from_unix_micros(1_000);
        let mut a = NewIssue::new("a").into_issue(id(1), now);
        let mut b = NewIssue::new("b").into_issue(id(2), now);
        let links = [depends(1, 2)];
        a.ready_at = now.plus_secs(-1);
        let both = [a.clone(), b.clone()];
        let ids: Vec<_> = select_ready(&both, &links, now, 10)
            .iter()
            .map(|i| i.id.clone())
            .collect();
        assert_eq!(ids, vec![id(2)]);
        b.status = Status::Closed;
        let both = [a, b];
        let ids: Vec<_> = select_ready(&both, &links, now, 10)
            .iter()
            .map(|i| i.id.clone())
            .collect();
        assert_eq!(ids, vec![id(1)]);
    }
}
