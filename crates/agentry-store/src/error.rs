use agentry_core::import::ImportError;
use agentry_core::issue::IssueInputError;
use agentry_core::{IssueId, Status, TransitionError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no issue {0}")]
    NotFound(IssueId),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Input(#[from] IssueInputError),
    #[error("an issue cannot link to itself ({0})")]
    SelfLink(IssueId),
    #[error(
        "{src} depends-on {dst} would close a dependency cycle: {dst} already depends on {src}"
    )]
    Cycle { src: IssueId, dst: IssueId },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(
        "the store {path} was written by a newer agentry (schema version {found}; this agentry knows up to {supported}): upgrade agentry"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },
    /// The database file was deleted or replaced while this process had it open.
    #[error(
        "the store {path} was deleted or replaced while agentry ran, so nothing more is written to it: stop agentry, then put a backup back (`agentry restore FILE`) or start an empty store (`agentry init`)"
    )]
    Gone { path: String },
    /// There is no database file where one should be; it is never made silently.
    #[error(
        "no store at {path} (deleted, or never made here): run `agentry init` to start an empty one, or `agentry restore FILE` to put a backup back"
    )]
    Missing { path: String },
    #[error("the claim on {0} was taken back (its lease expired); this session may not write")]
    StaleClaim(IssueId),
    /// An issue that does not wait on a person cannot be given a reviewer.
    #[error("{id} is {status}: only a needs_review or blocked issue takes a reviewer")]
    NotReviewable { id: IssueId, status: Status },
    #[error("no prompt template {0}")]
    NoTemplate(String),
    #[error("prompt template {name} has no version {version}")]
    NoTemplateVersion { name: String, version: u32 },
    #[error("{0}")]
    Invalid(String),
    #[error("store error: {0}")]
    Backend(String),
}

impl StoreError {
    /// True when the caller asked for something the store refuses, as opposed to a failure of
    /// the store itself.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            StoreError::Backend(_) | StoreError::StaleClaim(_) | StoreError::Gone { .. }
        )
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}
