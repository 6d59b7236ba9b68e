//! Row structs and their queries, one file per table. Every function takes a
//! connection and returns [`StoreError`](super::StoreError); no HTTP here.

pub mod admin_units;
pub mod agencies;
pub mod cash;
pub mod citizens;
pub mod complaints;
pub mod couriers;
pub mod dossiers;
pub mod events;
pub mod holidays;
pub mod idempotency;
pub mod leases;
pub mod outbox;
pub mod positions;
pub mod post_offices;
pub mod procedures;
pub mod refresh_tokens;
pub mod reports;
pub mod settings;
pub mod task_otps;
pub mod tasks;
pub mod users;
pub mod webhooks;
pub mod zones;

use serde::Serialize;

/// One page of a cursor-paged list (`{items, next_cursor}` in the contract).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says "more".
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id_of: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_cursor = if more {
            rows.last().map(|r| id_of(r).to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// `LIKE` patterns, one per folded search word, with `%`, `_` and `\` escaped.
pub fn like_patterns(folded_query: &str) -> Vec<String> {
    folded_query
        .split_whitespace()
        .map(|w| {
            let escaped = w
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_knows_when_there_is_more() {
        let p = Page::from_rows(vec![1, 2, 3], 2, |x| *x);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next_cursor.as_deref(), Some("2"));
        let p = Page::from_rows(vec![1, 2], 2, |x| *x);
        assert_eq!(p.next_cursor, None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_patterns("cao lanh"), vec!["%cao%", "%lanh%"]);
        assert_eq!(like_patterns("50%_x"), vec!["%50\\%\\_x%"]);
        assert!(like_patterns("  ").is_empty());
    }
}
