//! Sliding-window limits per (name, client address): wrong passwords per username
//! (past the limit, logins answer 429 before any password check) and public
//! tracking look-ups per address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts recent occurrences per key.
pub struct WindowLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<(String, IpAddr), VecDeque<Instant>>>,
}

impl WindowLimiter {
    /// At most `max_failures` within `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures as usize,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when the key is over its limit at `now`.
    pub fn check(&self, username: &str, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(&(username.to_owned(), ip)) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max_failures {
            let oldest = *times.front().expect("non-empty");
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            Err(wait.as_secs().max(1))
        } else {
            Ok(())
        }
    }

    /// Records one occurrence (a wrong password, a look-up).
    pub fn record(&self, username: &str, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of usernames: drop stale keys.
            let window = self.window;
            map.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        map.entry((username.to_owned(), ip))
            .or_default()
            .push_back(now);
    }

    /// Clears the key's count (a successful login).
    pub fn clear(&self, username: &str, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(username.to_owned(), ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_within_window_then_recovers() {
        let l = WindowLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.check("an", ip, t0).is_ok(), "attempt {i}");
            l.record("an", ip, t0);
        }
        let wait = l.check("an", ip, t0 + Duration::from_secs(10)).unwrap_err();
        assert!((49..=50).contains(&wait), "wait {wait}");
        // Other users and other addresses are unaffected.
        assert!(l.check("binh", ip, t0).is_ok());
        assert!(l.check("an", "10.0.0.1".parse().unwrap(), t0).is_ok());
        // A minute later the window has slid past.
        assert!(l.check("an", ip, t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn success_clears_failures() {
        let l = WindowLimiter::new(1, Duration::from_secs(60));
        let ip: IpAddr = "::1".parse().unwrap();
        let t0 = Instant::now();
        l.record("an", ip, t0);
        assert!(l.check("an", ip, t0).is_err());
        l.clear("an", ip);
        assert!(l.check("an", ip, t0).is_ok());
    }
}
