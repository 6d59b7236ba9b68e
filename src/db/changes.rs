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
//! On PostgreSQL, writes made by other nodes reach this node through `LISTEN/NOTIFY`
//! (see [`super::listen`]); while that channel is down this node is *blind* and caches
//! must not serve. Caches also expire by age, in case of a write made outside Buuta.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A row whose change invalidates cached views built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// What this thread touched since the last [`take`], without forgetting it; each key
/// once.
pub(super) fn peek() -> Vec<Key> {
    let mut keys = TOUCHED.with(|t| t.borrow().clone());
    keys.sort_unstable();
    keys.dedup();
    keys
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
    /// Everything read before this time is stale (a gap in what this node heard).
    floor: AtomicU64,
    blind: AtomicBool,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            clock: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            floor: AtomicU64::new(0),
            blind: AtomicBool::new(false),
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
            || self.floor.load(Ordering::SeqCst) > since
    }

    /// Whether changes may be happening that this node does not hear of (its
    /// PostgreSQL listener is down): then nothing may be served from a cache.
    pub fn blind(&self) -> bool {
        self.blind.load(Ordering::SeqCst)
    }

    pub(crate) fn set_blind(&self, blind: bool) {
        self.blind.store(blind, Ordering::SeqCst);
    }

    /// Treats every key as changed now (after a gap in what this node heard).
    pub(crate) fn publish_all(&self) {
        let at = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.floor.fetch_max(at, Ordering::SeqCst);
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

/// Largest `NOTIFY` payload sent (PostgreSQL refuses 8,000 bytes and more).
const MAX_PAYLOAD: usize = 7_000;

/// `keys` as `NOTIFY` payloads: `d12,t34,…`, each under [`MAX_PAYLOAD`] bytes.
pub(crate) fn encode(keys: &[Key]) -> Vec<String> {
    let mut payloads: Vec<String> = Vec::new();
    for key in keys {
        let item = match key {
            Key::Dossier(id) => format!("d{id}"),
            Key::Task(id) => format!("t{id}"),
        };
        match payloads.last_mut() {
            Some(p) if p.len() + 1 + item.len() <= MAX_PAYLOAD => {
                p.push(',');
                p.push_str(&item);
            }
            _ => payloads.push(item),
        }
    }
    payloads
}

/// The keys of a payload made by [`encode`]; anything else is skipped.
pub(crate) fn decode(payload: &str) -> Vec<Key> {
    payload
        .split(',')
        .filter_map(|item| {
            let (kind, id) = item.split_at_checked(1)?;
            let id = id.parse().ok()?;
            match kind {
                "d" => Some(Key::Dossier(id)),
                "t" => Some(Key::Task(id)),
                _ => None,
            }
        })
        .collect()
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
    fn a_gap_makes_everything_stale() {
        let changes = Changes::default();
        let before = changes.now();
        changes.publish_all();
        assert!(changes.changed_since(Key::Task(99), before));
        assert!(!changes.changed_since(Key::Task(99), changes.now()));
    }

    #[test]
    fn keys_travel_in_payloads_under_the_limit() {
        let keys: Vec<Key> = (0..3000)
            .map(|i| {
                if i % 2 == 0 {
                    Key::Dossier(i)
                } else {
                    Key::Task(i * 1_000_003)
                }
            })
            .collect();
        let payloads = encode(&keys);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<Key> = payloads.iter().flat_map(|p| decode(p)).collect();
        assert_eq!(back, keys);
        assert_eq!(
            decode("d1,x2,t,tq,t3,"),
            vec![Key::Dossier(1), Key::Task(3)]
        );
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
