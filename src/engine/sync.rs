//! Locks over the engine's in-memory caches and statuses. A lock poisoned by
//! a thread that panicked while holding it is logged and taken over: what
//! they guard is replaced whole in each critical section, so the last value
//! is still consistent, and refusing every later call would stop the app.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

fn poisoned(what: &str) {
    tracing::error!(
        lock = what,
        "a thread panicked while holding this lock; carrying on with its last value"
    );
}

/// Locks `mutex` (named `what` in the log if it was poisoned).
pub(crate) fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> MutexGuard<'a, T> {
    mutex.lock().unwrap_or_else(|e| {
        poisoned(what);
        mutex.clear_poison();
        e.into_inner()
    })
}

/// Reads `lock`.
pub(crate) fn read<'a, T>(lock: &'a RwLock<T>, what: &str) -> RwLockReadGuard<'a, T> {
    lock.read().unwrap_or_else(|e| {
        poisoned(what);
        lock.clear_poison();
        e.into_inner()
    })
}

/// Writes `lock`.
pub(crate) fn write<'a, T>(lock: &'a RwLock<T>, what: &str) -> RwLockWriteGuard<'a, T> {
    lock.write().unwrap_or_else(|e| {
        poisoned(what);
        lock.clear_poison();
        e.into_inner()
    })
}
