//! Child processes the way agentry runs them: in their own process group, with only the
//! environment they are given, output read line by line from both streams at once and kept up
//! to a cap, a timeout and an idle timeout, and stopped with SIGTERM, a grace period, then
//! SIGKILL for the whole group. Agents and verify commands both run through here, confined:
//! a limit on the size of the files they write, and a [`Sandbox`] where there is one.
//!
//! This crate knows nothing of issues or agents; it must not depend on other agentry crates.

mod capture;
mod group;
mod launch;
mod run;
pub mod sandbox;
mod scan;

pub use capture::{Captured, HeadTail};
pub use group::{is_alive, stop_group};
pub use launch::{Confinement, Started, start};
pub use run::{Ending, Finished, Spec, Watch, run};
pub use sandbox::Sandbox;
pub use scan::{TaggedGroup, groups_tagged};

/// The variables an agent or verify command gets from agentry's own environment unless its
/// config names others.
pub const DEFAULT_PASS_ENV: [&str; 6] = ["PATH", "HOME", "USER", "LANG", "TERM", "TMPDIR"];

/// `names` taken from this process's environment, for a [`Spec`]'s `env`.
pub fn pass_env(names: &[impl AsRef<str>]) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|name| {
            std::env::var(name.as_ref())
                .ok()
                .map(|value| (name.as_ref().to_string(), value))
        })
        .collect()
}
