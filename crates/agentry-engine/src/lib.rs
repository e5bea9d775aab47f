//! agentry's engine: the dispatcher that claims ready issues for a pool of workers, the
//! session driver that carries out what `agentry_core::session` decides (agent turns,
//! commits, verify runs, `[FIX]` issues, snapshots), recovery after a crash, and merge-close.
//!
//! Decisions live in `agentry-core`; this crate only performs them. It may use the core,
//! store, agents, workspace, process and lean crates, never the server or the CLI.
//!
//! [`lean::LeanParser`] adds the model fallbacks to the lean parse.
//!
//! [`planning`] turns goals into issues, and splits issues, through a model planner held to
//! the planner contract.
//!
//! [`AlertPublisher`] sends ops alerts to webhooks and keeps their history in the store.

mod alert_monitor;
pub mod alerts;
pub mod conflict_resolve;
pub mod digest;
mod dispatcher;
mod driver;
pub mod dry_run;
mod fresh_verify;
pub mod handoff;
mod heartbeat;
mod identity;
pub mod lean;
mod merge_watch;
pub mod planning;
pub mod probe;
pub mod prompts;
pub mod question;
mod recovery;
pub mod review_hard;
mod roles;
mod sandbox;
pub mod scope_lock;
mod settings;
pub mod status;
mod store_retry;
mod summary;
pub mod templates;
pub mod timings;
mod turn;
mod verify_files;
pub mod wake;

pub use alert_monitor::monitor as monitor_alerts;
pub use alerts::{AlertPublisher, Retry};
pub use dispatcher::{RunOptions, run};
pub use identity::Identity;
pub use merge_watch::scan as merge_scan;
pub use prompts::Prompts;
pub use recovery::recover;
pub use roles::RoleAgents;
pub use sandbox::{ProjectPaths, SandboxSettings};
pub use settings::Settings;
pub use summary::RunSummary;

use std::sync::Arc;

use agentry_store::Store;
use agentry_workspace::Workspace;

/// Everything a run needs, shared by its sessions.
pub struct Engine {
    pub store: Arc<dyn Store>,
    /// `None` runs sessions without git worktrees (dry runs, benchmarks): agents work in one
    /// shared scratch folder and nothing is committed.
    pub workspace: Option<Arc<Workspace>>,
    pub agents: RoleAgents,
    pub prompts: Prompts,
    pub settings: Settings,
    pub identity: Identity,
    /// Where sessions keep files that are not part of the work (prompt files), one folder
    /// each, removed when the session ends.
    pub scratch: std::path::PathBuf,
}
