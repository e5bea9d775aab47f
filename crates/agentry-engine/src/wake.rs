//! Waking running dispatchers from other processes: each dispatcher listens on a Unix
//! datagram socket in the runtime folder, and a command that adds or changes an issue sends a
//! byte to every one, so the dispatcher looks at the queue at once instead of at its next tick.

use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::{Path, PathBuf};

use tokio::net::UnixDatagram;

const PREFIX: &str = "dispatcher-";
const SUFFIX: &str = ".sock";

/// A dispatcher's socket; removed when dropped.
pub struct WakeListener {
    socket: Option<(UnixDatagram, PathBuf)>,
}

impl WakeListener {
    /// Listens in `dir`; without a socket (a path too long, a read-only folder) the
    /// dispatcher still sees changes at its next tick.
    pub fn bind(dir: &Path) -> Self {
        let path = dir.join(format!("{PREFIX}{}{SUFFIX}", std::process::id()));
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::remove_file(&path);
        match UnixDatagram::bind(&path) {
            Ok(socket) => Self {
                socket: Some((socket, path)),
            },
            Err(err) => {
                tracing::warn!(
                    operation = "wake",
                    "no wake socket at {}: {err}",
                    path.display()
                );
                Self { socket: None }
            }
        }
    }

    /// Waits for a wake-up.
    pub async fn woken(&self) {
        match &self.socket {
            Some((socket, _)) => {
                let mut byte = [0u8; 16];
                let _ = socket.recv(&mut byte).await;
            }
            None => std::future::pending().await,
        }
    }
}

impl Drop for WakeListener {
    fn drop(&mut self) {
        if let Some((_, path)) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Wakes every dispatcher listening in `dir`; sockets of dispatchers that are gone are removed.
/// It never waits: HTTP handlers call it on the runtime's workers, and a dispatcher that is
/// stopped (or busy) must not stall them. A full queue means a wake is already pending.
pub fn wake_dispatchers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let Ok(sender) = StdDatagram::unbound() else {
        return;
    };
    if sender.set_nonblocking(true).is_err() {
        return;
    }
    for path in entries.flatten().map(|e| e.path()) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
            wake(&sender, &path);
        }
    }
}

/// Sends one wake to the socket at `path`; removes it when nobody listens there any more.
fn wake(sender: &StdDatagram, path: &Path) {
    let Err(err) = sender.send_to(b"!", path) else {
        return;
    };
    if matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::NotFound
    ) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_reaches_the_listener_and_a_dead_socket_is_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let listener = WakeListener::bind(dir.path());
        let stale = dir.path().join(format!("{PREFIX}999999{SUFFIX}"));
        std::fs::write(&stale, "").unwrap();
        wake_dispatchers(dir.path());
        listener.woken().await;
        assert!(!stale.exists());
        drop(listener);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_listener_that_reads_nothing_neither_blocks_a_wake_nor_loses_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{PREFIX}1{SUFFIX}"));
        let _stopped = StdDatagram::bind(&path).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let folder = dir.path().to_path_buf();
        std::thread::spawn(move || {
            // Far more wakes than the kernel queues: each one past the queue used to block.
            for _ in 0..1_000 {
                wake_dispatchers(&folder);
            }
            let _ = done.send(());
        });
        let bound = std::time::Duration::from_secs(60);
        assert!(finished.recv_timeout(bound).is_ok(), "the wakes blocked");
        assert!(
            path.exists(),
            "a full queue is a pending wake, not a dead socket"
        );
    }
}
