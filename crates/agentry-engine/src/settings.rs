//! The parts of the config a run uses.

use std::path::PathBuf;
use std::time::Duration;

use agentry_core::config::{Config, SchedulingBackend};
use agentry_core::session::Caps;

use crate::sandbox::SandboxSettings;

#[derive(Clone, Debug)]
pub struct Settings {
    pub caps: Caps,
    pub base_branch: String,
    pub verify_timeout: Duration,
    pub max_sessions: u32,
    pub lease_secs: u64,
    pub max_workers: usize,
    /// Where prompts, agent output and verify logs go; `None` keeps none (benchmarks).
    pub logs_dir: Option<PathBuf>,
    /// How long running sessions may go on after a stop is asked for.
    pub shutdown_grace: Duration,
    /// Spending limits in USD; 0 means none.
    pub per_session_usd: f64,
    pub per_day_usd: f64,
    pub sandbox: SandboxSettings,
}

impl Settings {
    pub fn from_config(config: &Config, logs_dir: Option<PathBuf>) -> Self {
        let max_workers = match config.scheduling.backend {
            SchedulingBackend::Sequential => 1,
            SchedulingBackend::Async => config.scheduling.max_workers as usize,
        };
        Self {
            caps: Caps {
                spec: config.session.spec_review_max_attempts,
                quality: config.session.quality_review_max_attempts,
            },
            base_branch: config.session.base_branch.clone(),
            verify_timeout: Duration::from_secs(config.session.verify_timeout_secs),
            max_sessions: config.session.max_sessions,
            lease_secs: config.scheduling.lease_secs,
            max_workers,
            logs_dir,
            shutdown_grace: Duration::from_secs(config.scheduling.shutdown_grace_secs),
            per_session_usd: config.budgets.per_session_usd,
            per_day_usd: config.budgets.per_day_usd,
            sandbox: SandboxSettings::from_config(config),
        }
    }

    /// How often claims are renewed and the lease checks run: three times per lease.
    pub fn lease_tick(&self) -> Duration {
        Duration::from_millis(self.lease_secs * 1000 / 3)
    }
}
