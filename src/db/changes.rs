//! Which rows this node's committed writes touched, for caches of derived views.
//!
//! Model functions that change what a cached view shows call [`touch`] inside their
//! transaction. [`Db`](super::Db) publishes what a transaction touched once it has
//! committed, before the writer hears back, and drops it if the transaction rolled
//! back. A cache notes [`Changes::now`] before it reads and treats its entry as stale
//! as soon as any of the entry's keys was published after that. Keys share a fixed
//! set of stripes, so memory stays bounded; two keys on one stripe only cost a
//! needless refresh.
//!
//! Writes made by other nodes are not seen here: caches also expire by age.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// A row whose change invalidates cached views built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Dossier(i64),
    Task(i64),
}

thread_local! {
    static TOUCHED: RefCell<Vec<Key>> = const { RefCell::new(Vec::new()) };
}

/// Notes that the running transaction changes `key`.
pub fn touch(key: Key) {
    TOUCHED.with(|t| t.borrow_mut().push(key));
}

/// Takes (and forgets) what this thread touched since the last call.
pub(super) fn take() -> Vec<Key> {
    TOUCHED.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

const STRIPES: usize = 4096;

/// A logical clock of published changes, and per stripe the time of its last change.
pub struct Changes {
    clock: AtomicU64,
    stripes: Box<[AtomicU64]>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            clock: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Changes {
    /// The current time of the clock: take it before reading what will be cached.
    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// Whether `key` may have changed after `since` (a value of [`now`](Self::now)).
    pub fn changed_since(&self, key: Key, since: u64) -> bool {
        self.stripes[stripe(key)].load(Ordering::SeqCst) > since
    }

    /// Records committed changes: every later [`changed_since`](Self::changed_since)
    /// with an earlier time answers yes for these keys.
    pub(crate) fn publish(&self, keys: &[Key]) {
        for &key in keys {
            let at = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
            self.stripes[stripe(key)].fetch_max(at, Ordering::SeqCst);
        }
    }
}

fn stripe(key: Key) -> usize {
    let (kind, id) = match key {
        Key::Dossier(id) => (0u64, id),
        Key::Task(id) => (1u64, id),
    };
    ((id as u64).wrapping_mul(2).wrapping_add(kind) % STRIPES as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_published_after_a_read_makes_it_stale() {
        let changes = Changes::default();
        let before = changes.now();
        assert!(!changes.changed_since(Key::Dossier(7), before));
        changes.publish(&[Key::Dossier(7)]);
        assert!(changes.changed_since(Key::Dossier(7), before));
        assert!(!changes.changed_since(Key::Dossier(8), before));
        assert!(!changes.changed_since(Key::Task(7), before));
        let after = changes.now();
        assert!(!changes.changed_since(Key::Dossier(7), after));
    }

    #[test]
    fn touches_are_per_thread_and_taken_once() {
        touch(Key::Task(1));
        touch(Key::Dossier(2));
        std::thread::spawn(|| assert!(take().is_empty()))
            .join()
            .unwrap();
        assert_eq!(take(), vec![Key::Task(1), Key::Dossier(2)]);
        assert!(take().is_empty());
    }
}
