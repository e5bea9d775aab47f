//! Which of two issue branches that clash gives way: the rules of `agentry conflict-resolve`.
//! Finding the clashes (git) is the workspace's job; this decides who is frozen.

use std::collections::HashSet;

use serde::Serialize;

use crate::IssueId;

/// How two branches clash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClashKind {
    /// Merging one after the other would conflict (`git merge-tree` says so).
    Conflict,
    /// They change the same files, though git could merge them.
    Overlap,
}

impl ClashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClashKind::Conflict => "conflict",
            ClashKind::Overlap => "overlap",
        }
    }
}

/// Two branches that clash, over these files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clash {
    pub a: IssueId,
    pub b: IssueId,
    pub kind: ClashKind,
    pub files: Vec<String>,
}

/// An issue that gives way to an earlier one: frozen until the owner's branch is merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Freeze {
    pub frozen: IssueId,
    pub owner: IssueId,
    pub kind: ClashKind,
    pub files: Vec<String>,
}

/// How two branches clash, from what each changed and the files a merge of both would
/// conflict in; `None` when they do not.
pub fn clash_of(
    a_files: &[String],
    b_files: &[String],
    conflicted: Vec<String>,
) -> Option<(ClashKind, Vec<String>)> {
    if !conflicted.is_empty() {
        return Some((ClashKind::Conflict, conflicted));
    }
    let shared: Vec<String> = a_files
        .iter()
        .filter(|f| b_files.contains(f))
        .cloned()
        .collect();
    (!shared.is_empty()).then_some((ClashKind::Overlap, shared))
}

/// Who freezes. `order` lists the issues earliest first (the caller's notion of "earlier";
/// `conflict-resolve` takes the issue created first). Walking that order, an issue is frozen
/// when it clashes with an earlier issue that is not itself frozen, and that issue (the first
/// such) owns the files: a frozen issue merges later anyway, so it holds nobody back.
pub fn freezes(order: &[IssueId], clashes: &[Clash]) -> Vec<Freeze> {
    let mut frozen: HashSet<&IssueId> = HashSet::new();
    let mut result = Vec::new();
    for (i, later) in order.iter().enumerate() {
        let owner = order[..i]
            .iter()
            .filter(|earlier| !frozen.contains(earlier))
            .find_map(|earlier| clash_between(clashes, earlier, later).map(|c| (earlier, c)));
        if let Some((owner, clash)) = owner {
            frozen.insert(later);
            result.push(Freeze {
                frozen: later.clone(),
                owner: owner.clone(),
                kind: clash.kind,
                files: clash.files.clone(),
            });
        }
    }
    result
}

fn clash_between<'a>(clashes: &'a [Clash], x: &IssueId, y: &IssueId) -> Option<&'a Clash> {
    clashes
        .iter()
        .find(|c| (&c.a == x && &c.b == y) || (&c.a == y && &c.b == x))
}

/// What a person does about a freeze.
pub fn merge_path(freeze: &Freeze, base: &str) -> String {
    format!(
        "merge {} first, then rebase {} onto {base} and reopen it",
        freeze.owner, freeze.frozen
    )
}

/// The reason the frozen issue is blocked with.
pub fn freeze_reason(freeze: &Freeze, base: &str) -> String {
    let what = match freeze.kind {
        ClashKind::Conflict => "conflicts with",
        ClashKind::Overlap => "changes the same files as",
    };
    format!(
        "its branch {what} {}'s in {}; {}",
        freeze.owner,
        freeze.files.join(", "),
        merge_path(freeze, base)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> IssueId {
        s.parse().unwrap()
    }

    fn files(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn clash(a: &str, b: &str, kind: ClashKind) -> Clash {
        Clash {
            a: id(a),
            b: id(b),
            kind,
            files: files(&["f.txt"]),
        }
    }

    #[test]
    fn a_conflict_wins_over_an_overlap_and_disjoint_branches_do_not_clash() {
        let (a, b) = (files(&["f.txt", "g.txt"]), files(&["g.txt", "h.txt"]));
        assert_eq!(
            clash_of(&a, &b, files(&["f.txt"])),
            Some((ClashKind::Conflict, files(&["f.txt"])))
        );
        assert_eq!(
            clash_of(&a, &b, vec![]),
            Some((ClashKind::Overlap, files(&["g.txt"])))
        );
        assert_eq!(clash_of(&a, &files(&["x.txt"]), vec![]), None);
    }

    #[test]
    fn the_later_issue_is_frozen_and_the_earlier_owns_the_files() {
        let order = [id("i-a"), id("i-b"), id("i-c")];
        let result = freezes(&order, &[clash("i-b", "i-a", ClashKind::Conflict)]);
        assert_eq!(
            result,
            [Freeze {
                frozen: id("i-b"),
                owner: id("i-a"),
                kind: ClashKind::Conflict,
                files: files(&["f.txt"]),
            }]
        );
    }

    #[test]
    fn an_issue_frozen_already_holds_nobody_back() {
        let order = [id("i-a"), id("i-b"), id("i-c")];
        let clashes = [
            clash("i-a", "i-b", ClashKind::Overlap),
            clash("i-b", "i-c", ClashKind::Conflict),
        ];
        let frozen: Vec<IssueId> = freezes(&order, &clashes)
            .into_iter()
            .map(|f| f.frozen)
            .collect();
        assert_eq!(frozen, [id("i-b")]);
        let clashes = [
            clash("i-a", "i-c", ClashKind::Overlap),
            clash("i-b", "i-c", ClashKind::Conflict),
        ];
        let result = freezes(&order, &clashes);
        assert_eq!(result.len(), 1);
        assert_eq!(
            (result[0].frozen.as_str(), result[0].owner.as_str()),
            ("i-c", "i-a")
        );
    }

    #[test]
    fn the_reason_names_the_owner_the_files_and_the_merge_path() {
        let freeze = Freeze {
            frozen: id("i-b"),
            owner: id("i-a"),
            kind: ClashKind::Conflict,
            files: files(&["f.txt"]),
        };
        assert_eq!(
            freeze_reason(&freeze, "main"),
            "its branch conflicts with i-a's in f.txt; merge i-a first, then rebase i-b onto main and reopen it"
        );
    }
}
