//! The health check of a running orchestrator: every `alerts.check_interval_secs` it takes
//! the status snapshot and the planner health report and publishes the alerts they raise.

use std::sync::Arc;
use std::time::Duration;

use agentry_core::Timestamp;
use agentry_core::config::Config;
use agentry_core::health::raised_alerts;
use agentry_store::Store;
use tokio_util::sync::CancellationToken;

use crate::alerts::{AlertClientError, AlertPublisher, Retry};

/// Checks and publishes until `stop` fires; does nothing when alerts are not enabled.
pub async fn monitor(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    stop: CancellationToken,
) -> Result<(), AlertClientError> {
    if !config.alerts.enabled {
        return Ok(());
    }
    let publisher = AlertPublisher::new(config.alerts.clone(), store.clone(), Retry::default())?;
    let mut tick = tokio::time::interval(Duration::from_secs(config.alerts.check_interval_secs));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return Ok(()),
        }
        let (store, config) = (store.clone(), config.clone());
        let now = Timestamp::now();
        let raised = tokio::task::spawn_blocking(move || {
            let snapshot = crate::status::snapshot(store.as_ref(), &config, now)?;
            let planner = crate::status::planner_report(store.as_ref(), now)?;
            Ok::<_, agentry_store::StoreError>([raised_alerts(&snapshot), planner.alerts].concat())
        })
        .await;
        match raised {
            Ok(Ok(raised)) => {
                publisher.publish(raised, now).await;
            }
            Ok(Err(err)) => {
                tracing::warn!(operation = "alerts", "could not read the status: {err}")
            }
            Err(err) => tracing::warn!(operation = "alerts", "the status check failed: {err}"),
        }
    }
}
