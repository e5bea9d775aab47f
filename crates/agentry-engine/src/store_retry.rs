//! Store writes that must not be given up at the first failure, such as a session's end: a
//! store may fail for a while (a full disk, a lock held too long) and then work again, and an
//! issue whose end was never written stays in progress.

use std::time::Duration;

use agentry_store::StoreError;

/// The pauses between tries, growing: about three seconds in all.
const PAUSES_MS: [u64; 5] = [100, 200, 400, 800, 1600];

/// Runs `write`, and again after each pause while the store itself fails; a refusal (a stale
/// claim, a deleted store) is final at once.
pub(crate) async fn retried<T>(
    what: &str,
    mut write: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    for pause in PAUSES_MS {
        match write() {
            Err(StoreError::Backend(err)) => {
                tracing::warn!(
                    operation = "store",
                    "could not write {what}: {err}; trying again in {pause} ms"
                );
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            done => return done,
        }
    }
    write()
}
