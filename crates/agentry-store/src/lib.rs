//! agentry's issue store: the [`Store`] trait that the engine, the CLI and the server use, and
//! its SQLite backend (one file in the repository, WAL, versioned migrations).
//!
//! Every write that changes an issue appends its event in the same transaction. The rules about
//! what may change live in `agentry-core`; a backend only keeps them. This crate must not
//! depend on the engine, the agents or the CLI.

pub mod alert;
mod error;
pub mod operator;
pub mod planner;
pub mod session;
mod sqlite;
mod store;
pub mod template;

pub use error::StoreError;
pub use sqlite::SqliteStore;
pub use store::{IssueDetail, IssueFilter, Store, Tallies};
