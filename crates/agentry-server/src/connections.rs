//! The connections the server holds, and which one to close when a new one needs room: the
//! one idle longest. A connection is busy from a request's head to the end of its answer (an
//! event stream, as long as it is open) and only idle ones are closed, so connections that
//! send nothing, however many, cannot crowd out the requests of others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use tokio_util::sync::CancellationToken;

/// Every open connection, at most `max` of them.
pub struct Connections {
    max: usize,
    open: Mutex<Open>,
    /// Told when a connection has ended (and its socket is closed).
    ended: Notify,
}

#[derive(Default)]
struct Open {
    /// Counts activity: a connection idle since a smaller tick has been idle longer.
    clock: u64,
    next_id: u64,
    entries: HashMap<u64, Entry>,
}

struct Entry {
    /// Requests begun and not answered to their end.
    busy: usize,
    idle_since: u64,
    close: CancellationToken,
}

impl Connections {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::default(),
            ended: Notify::new(),
        })
    }

    /// Registers a new connection. When that makes one too many, the one idle longest is
    /// closed: the new one itself when every other is busy.
    pub fn admit(self: &Arc<Self>) -> Connection {
        let close = CancellationToken::new();
        let mut open = self.lock();
        let id = open.next_id;
        open.next_id += 1;
        let idle_since = open.tick();
        let entry = Entry {
            busy: 0,
            idle_since,
            close: close.clone(),
        };
        open.entries.insert(id, entry);
        if open.entries.len() > self.max {
            open.close_idlest();
        }
        Connection {
            id,
            close,
            connections: self.clone(),
        }
    }

    /// Closes the connection idle longest, if one is idle; whether one was.
    pub fn close_idlest(&self) -> bool {
        self.lock().close_idlest()
    }

    /// Resolves when a connection ends after this was called (and the future first polled or
    /// enabled).
    pub fn ended(&self) -> Notified<'_> {
        self.ended.notified()
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        // The map stays consistent whatever panicked while holding it.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Open {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn close_idlest(&mut self) -> bool {
        let idlest = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.busy == 0)
            .min_by_key(|(_, entry)| entry.idle_since)
            .map(|(id, _)| *id);
        match idlest.and_then(|id| self.entries.remove(&id)) {
            Some(entry) => {
                entry.close.cancel();
                true
            }
            None => false,
        }
    }
}

/// One open connection; dropping it (once its socket is closed) forgets it.
pub struct Connection {
    id: u64,
    close: CancellationToken,
    connections: Arc<Connections>,
}

impl Connection {
    /// Resolves once the connection was chosen to make room: its socket should be closed.
    pub async fn closing(&self) {
        self.close.cancelled().await
    }

    /// Marks a request as begun: the connection is busy until the guard is dropped.
    pub fn request(&self) -> Busy {
        if let Some(entry) = self.connections.lock().entries.get_mut(&self.id) {
            entry.busy += 1;
        }
        Busy {
            id: self.id,
            connections: self.connections.clone(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.connections.lock().entries.remove(&self.id);
        self.connections.ended.notify_waiters();
    }
}

/// A request of a connection, from its head to the end of its answer.
pub struct Busy {
    id: u64,
    connections: Arc<Connections>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        let now = open.tick();
        if let Some(entry) = open.entries.get_mut(&self.id) {
            entry.busy -= 1;
            entry.idle_since = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn closed(connection: &Connection) -> bool {
        connection.closing().now_or_never().is_some()
    }

    #[test]
    fn a_new_connection_past_the_limit_closes_the_one_idle_longest() {
        let connections = Connections::new(2);
        let (a, b) = (connections.admit(), connections.admit());
        let answered = a.request();
        drop(answered);
        let c = connections.admit();
        assert!(closed(&b), "b has been idle since before a's request ended");
        assert!(!closed(&a) && !closed(&c));
    }

    #[test]
    fn a_busy_connection_is_never_closed() {
        let connections = Connections::new(1);
        let streaming = connections.admit();
        let _stream = streaming.request();
        let refused = connections.admit();
        assert!(closed(&refused), "the new one is the only idle one");
        assert!(!closed(&streaming));
        assert!(!connections.close_idlest());
    }

    #[test]
    fn a_connection_that_ends_makes_room() {
        let connections = Connections::new(1);
        drop(connections.admit());
        let next = connections.admit();
        assert!(!closed(&next));
        assert!(connections.close_idlest());
        assert!(closed(&next));
    }
}
