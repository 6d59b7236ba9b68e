//! A cache of public tracking answers (the JSON body, without personal data), so that
//! citizens looking up their dossiers again and again cost no database work.
//!
//! An answer is dropped as soon as Buuta commits a change to a row it was built from
//! (see [`crate::db::changes`]): on this node at once, on other PostgreSQL nodes as
//! soon as the notification arrives; a node that cannot hear them serves nothing from
//! memory. So a look-up never shows less than what was acknowledged before it (give
//! or take a notification's trip). Answers also have a lifetime
//! (`BUUTA_TRACK_CACHE_MS`), for changes made outside Buuta.
//!
//! Memory is bounded by two generations of at most half the capacity each: when the
//! newer one is full it becomes the older one and the oldest answers are forgotten.

use crate::db::changes::{Changes, Key};
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

struct Entry {
    body: Bytes,
    /// The rows the answer was built from.
    keys: Vec<Key>,
    /// [`Changes::now`] before the rows were read.
    read_at: u64,
    stored: Instant,
}

#[derive(Default)]
struct Generations {
    newer: HashMap<String, Entry>,
    older: HashMap<String, Entry>,
}

/// Public answers by tracking code.
pub struct TrackCache {
    ttl: Duration,
    /// Answers per generation at most.
    half: usize,
    entries: RwLock<Generations>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl TrackCache {
    /// A cache of at most `capacity` answers living at most `ttl` (zero: nothing is
    /// kept).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl: if capacity < 2 { Duration::ZERO } else { ttl },
            half: capacity / 2,
            entries: RwLock::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Look-ups answered from memory and from the database so far, for `/metrics`.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The cached answer for `code`, if it is young and none of its rows changed here.
    pub fn get(&self, code: &str, changes: &Changes, now: Instant) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        if changes.blind() {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let g = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let body = g
            .newer
            .get(code)
            .or_else(|| g.older.get(code))
            .and_then(|e| {
                let fresh = now.saturating_duration_since(e.stored) < self.ttl
                    && !e.keys.iter().any(|&k| changes.changed_since(k, e.read_at));
                fresh.then(|| e.body.clone())
            });
        let counter = if body.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        body
    }

    /// Keeps `body`, built from `keys` read after `read_at`, for `code`.
    pub fn put(
        &self,
        code: &str,
        body: Bytes,
        keys: Vec<Key>,
        changes: &Changes,
        read_at: u64,
        now: Instant,
    ) {
        if self.ttl.is_zero() || changes.blind() {
            return;
        }
        let mut g = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if g.newer.len() >= self.half && !g.newer.contains_key(code) {
            g.older = std::mem::take(&mut g.newer);
        }
        g.older.remove(code);
        g.newer.insert(
            code.to_owned(),
            Entry {
                body,
                keys,
                read_at,
                stored: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "HS000000015VN";

    fn cache(ttl_secs: u64, capacity: usize) -> (TrackCache, Changes) {
        (
            TrackCache::new(Duration::from_secs(ttl_secs), capacity),
            Changes::default(),
        )
    }

    /// Keeps `{}` for `code`, built from `keys` read at `read_at`.
    fn put(c: &(TrackCache, Changes), code: &str, keys: Vec<Key>, read_at: u64, at: Instant) {
        c.0.put(code, Bytes::from("{}"), keys, &c.1, read_at, at);
    }

    fn cached(c: &(TrackCache, Changes), code: &str, at: Instant) -> bool {
        c.0.get(code, &c.1, at).is_some()
    }

    #[test]
    fn an_answer_lives_until_its_ttl() {
        let c = cache(2, 100);
        let t0 = Instant::now();
        assert!(!cached(&c, CODE, t0));
        put(&c, CODE, vec![Key::Dossier(1), Key::Task(3)], c.1.now(), t0);
        assert_eq!(c.0.get(CODE, &c.1, t0), Some(Bytes::from("{}")));
        assert!(cached(&c, CODE, t0 + Duration::from_millis(1999)));
        assert!(!cached(&c, CODE, t0 + Duration::from_secs(2)));
        assert!(!cached(&c, "HS000000029VN", t0));
        assert_eq!(c.0.counts(), (2, 3));
    }

    #[test]
    fn a_change_to_any_of_its_rows_drops_an_answer() {
        let c = cache(60, 100);
        let t0 = Instant::now();
        put(&c, CODE, vec![Key::Dossier(1), Key::Task(3)], c.1.now(), t0);
        c.1.publish(&[Key::Dossier(2), Key::Task(1)]);
        assert!(cached(&c, CODE, t0));
        c.1.publish(&[Key::Task(3)]);
        assert!(!cached(&c, CODE, t0));
    }

    #[test]
    fn an_answer_read_before_a_change_was_published_is_never_served() {
        let c = cache(60, 100);
        let t0 = Instant::now();
        let read_at = c.1.now();
        // The write commits and is published while the answer is being built.
        c.1.publish(&[Key::Dossier(1)]);
        put(&c, CODE, vec![Key::Dossier(1)], read_at, t0);
        assert!(!cached(&c, CODE, t0));
    }

    #[test]
    fn the_oldest_answers_go_when_it_is_full() {
        let c = cache(60, 4);
        let t0 = Instant::now();
        for code in ["A", "B", "C", "A", "D"] {
            // C: A and B become the older generation; A: fresh again, in the newer one
            // with C; D: {C, A} become the older generation and B is forgotten.
            put(&c, code, vec![], c.1.now(), t0);
        }
        let kept = ["A", "B", "C", "D"].map(|code| cached(&c, code, t0));
        assert_eq!(kept, [true, false, true, true]);
    }

    #[test]
    fn nothing_is_kept_with_a_zero_ttl() {
        let c = cache(0, 100);
        let t0 = Instant::now();
        put(&c, CODE, vec![], c.1.now(), t0);
        assert!(!cached(&c, CODE, t0));
    }

    #[test]
    fn a_blind_node_serves_nothing() {
        let c = cache(60, 100);
        let t0 = Instant::now();
        c.1.set_blind(true);
        put(&c, CODE, vec![], c.1.now(), t0);
        c.1.set_blind(false);
        assert!(!cached(&c, CODE, t0), "nothing was kept");
        put(&c, CODE, vec![], c.1.now(), t0);
        c.1.set_blind(true);
        assert!(!cached(&c, CODE, t0), "nothing is served");
        c.1.set_blind(false);
        assert!(cached(&c, CODE, t0));
    }
}
