//! Attacks on the store and the queue: a second process, a deleted database, a full disk, pathological globs.
