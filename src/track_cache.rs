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

    fn cached(cache: &TrackCache, changes: &Changes, at: Instant) -> Option<Bytes> {
        cache.get("HS000000015VN", changes, at)
    }

    #[test]
    fn an_answer_lives_until_its_ttl() {
        let (cache, changes) = (
            TrackCache::new(Duration::from_secs(2), 100),
            Changes::default(),
        );
        let t0 = Instant::now();
        assert_eq!(cached(&cache, &changes, t0), None);
        let keys = vec![Key::Dossier(1), Key::Task(3)];
        cache.put(
            "HS000000015VN",
            Bytes::from("{}"),
            keys,
            &changes,
            changes.now(),
            t0,
        );
        assert_eq!(cached(&cache, &changes, t0), Some(Bytes::from("{}")));
        let later = t0 + Duration::from_millis(1999);
        assert!(cached(&cache, &changes, later).is_some());
        assert_eq!(cached(&cache, &changes, t0 + Duration::from_secs(2)), None);
        assert_eq!(cache.get("HS000000029VN", &changes, t0), None);
        assert_eq!(cache.counts(), (2, 3));
    }

    #[test]
    fn a_change_to_any_of_its_rows_drops_an_answer() {
        let (cache, changes) = (
            TrackCache::new(Duration::from_secs(60), 100),
            Changes::default(),
        );
        let t0 = Instant::now();
        let keys = vec![Key::Dossier(1), Key::Task(3)];
        cache.put(
            "HS000000015VN",
            Bytes::from("{}"),
            keys,
            &changes,
            changes.now(),
            t0,
        );
        changes.publish(&[Key::Dossier(2), Key::Task(1)]);
        assert!(cached(&cache, &changes, t0).is_some());
        changes.publish(&[Key::Task(3)]);
        assert_eq!(cached(&cache, &changes, t0), None);
    }

    #[test]
    fn an_answer_read_before_a_change_was_published_is_never_served() {
        let (cache, changes) = (
            TrackCache::new(Duration::from_secs(60), 100),
            Changes::default(),
        );
        let t0 = Instant::now();
        let read_at = changes.now();
        // The write commits and is published while the answer is being built.
        changes.publish(&[Key::Dossier(1)]);
        cache.put(
            "HS000000015VN",
            Bytes::from("{}"),
            vec![Key::Dossier(1)],
            &changes,
            read_at,
            t0,
        );
        assert_eq!(cached(&cache, &changes, t0), None);
    }

    #[test]
    fn the_oldest_answers_go_when_it_is_full() {
        let (cache, changes) = (
            TrackCache::new(Duration::from_secs(60), 4),
            Changes::default(),
        );
        let t0 = Instant::now();
        let put =
            |code: &str| cache.put(code, Bytes::from("{}"), vec![], &changes, changes.now(), t0);
        put("A");
        put("B");
        put("C"); // A and B become the older generation
        put("A"); // fresh again, in the newer one with C
        put("D"); // {C, A} become the older generation: B is forgotten
        let kept: Vec<bool> = ["A", "B", "C", "D"]
            .iter()
            .map(|c| cache.get(c, &changes, t0).is_some())
            .collect();
        assert_eq!(kept, [true, false, true, true]);
    }

    #[test]
    fn nothing_is_kept_with_a_zero_ttl() {
        let (cache, changes) = (TrackCache::new(Duration::ZERO, 100), Changes::default());
        let t0 = Instant::now();
        cache.put(
            "HS000000015VN",
            Bytes::from("{}"),
            vec![],
            &changes,
            changes.now(),
            t0,
        );
        assert_eq!(cached(&cache, &changes, t0), None);
    }

    #[test]
    fn a_blind_node_serves_nothing() {
        let (cache, changes) = (
            TrackCache::new(Duration::from_secs(60), 100),
            Changes::default(),
        );
        let t0 = Instant::now();
        changes.set_blind(true);
        cache.put("A", Bytes::from("{}"), vec![], &changes, changes.now(), t0);
        changes.set_blind(false);
        assert_eq!(cache.get("A", &changes, t0), None, "nothing was kept");
        cache.put("A", Bytes::from("{}"), vec![], &changes, changes.now(), t0);
        changes.set_blind(true);
        assert_eq!(cache.get("A", &changes, t0), None, "nothing is served");
        changes.set_blind(false);
        assert!(cache.get("A", &changes, t0).is_some());
    }
}
