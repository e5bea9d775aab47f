//! Links between issues.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::IssueId;

/// How `src` relates to `dst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// `src` can only be worked on once `dst` is closed.
    DependsOn,
    /// `src` and `dst` concern the same thing; no effect on the queue.
    Related,
    /// `dst` is the parent of `src` (an epic, or an issue split into parts).
    Parent,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown link kind {0:?} (expected one of: depends-on, related, parent)")]
pub struct LinkKindError(pub String);

impl LinkKind {
    pub const ALL: [LinkKind; 3] = [LinkKind::DependsOn, LinkKind::Related, LinkKind::Parent];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::DependsOn => "depends-on",
            LinkKind::Related => "related",
            LinkKind::Parent => "parent",
        }
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for LinkKind {
    type Err = LinkKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LinkKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| LinkKindError(s.to_string()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link {
    pub src: IssueId,
    pub kind: LinkKind,
    pub dst: IssueId,
}

impl Link {
    pub fn new(src: IssueId, kind: LinkKind, dst: IssueId) -> Self {
        Self { src, kind, dst }
    }
}
