//! agentry's domain model: issues, their statuses and the allowed transitions, links, events,
//! the issue session state machine and its `loop_snapshot.v1` records, the ready-queue and
//! scheduling rules, merge-close rules, reviewer verdicts, ops alert rules, config and the import
//! formats.
//!
//! This crate is the functional core: no IO, no async, no clock. Time and randomness are passed
//! in. It must not depend on any other agentry crate.

pub mod alerts;
pub mod config;
pub mod conflict;
pub mod event;
pub mod flags;
pub mod health;
pub mod id;
pub mod import;
pub mod issue;
pub mod link;
pub mod merge;
pub mod question;
pub mod ready;
pub mod role;
pub mod sandbox;
pub mod schedule;
pub mod scope;
pub mod scope_lock;
pub mod secret;
pub mod session;
pub mod status;
pub mod time;
pub mod verdict;
pub mod verify_scripts;

pub use event::{Event, EventType};
pub use id::IssueId;
pub use issue::{Issue, IssuePatch, NewIssue, Priority};
pub use link::{Link, LinkKind};
pub use role::Role;
pub use status::{Status, TransitionError};
pub use time::Timestamp;
