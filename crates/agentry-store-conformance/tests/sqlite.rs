//! The conformance suite against the SQLite backend, on real database files.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentry_store::{SqliteStore, Store};

#[test]
fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let count = AtomicUsize::new(0);
    let make = || -> Box<dyn Store> {
        let n = count.fetch_add(1, Ordering::Relaxed);
        let path = dir.path().join(format!("store-{n}.db"));
        Box::new(SqliteStore::open(&path, Duration::from_secs(5)).unwrap())
    };
    agentry_store_conformance::run_all(&make);
}
