//! The zone index, built from the database and rebuilt when the set of zones
//! changes (zones are only ever added, so count and largest id identify the set;
//! this also keeps several nodes in step without messages).

use crate::db::models::zones;
use crate::db::{Db, DbConnection, StoreError};
use crate::domain::zones::{parse_area, ZoneIndex};
use diesel::prelude::*;
use std::sync::{Arc, RwLock};

/// The index and the (count, largest id) of the zones it was built from.
type Versioned = ((i64, i64), Arc<ZoneIndex>);

/// Shared, lazily refreshed zone index.
#[derive(Default)]
pub struct ZoneCache {
    current: RwLock<Option<Versioned>>,
}

fn fingerprint(conn: &mut DbConnection) -> Result<(i64, i64), StoreError> {
    use crate::db::schema::zones::dsl;
    let count: i64 = dsl::zones.count().get_result(conn)?;
    let max: Option<i64> = dsl::zones.select(diesel::dsl::max(dsl::id)).first(conn)?;
    Ok((count, max.unwrap_or(0)))
}

impl ZoneCache {
    /// The index for the zones stored now (read in the caller's connection).
    pub fn get(&self, conn: &mut DbConnection) -> Result<Arc<ZoneIndex>, StoreError> {
        let fp = fingerprint(conn)?;
        if let Some((seen, index)) = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            if *seen == fp {
                return Ok(index.clone());
            }
        }
        let areas = zones::list(conn, None)?
            .into_iter()
            .filter_map(|z| {
                let json: serde_json::Value = serde_json::from_str(&z.area).ok()?;
                parse_area(&json).ok().map(|a| (z.id, a))
            })
            .collect();
        let index = Arc::new(ZoneIndex::new(areas));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some((fp, index.clone()));
        Ok(index)
    }

    /// Same, on the blocking pool.
    pub async fn load(self: &Arc<Self>, db: &Db) -> Result<Arc<ZoneIndex>, StoreError> {
        let me = self.clone();
        db.read(move |c| me.get(c)).await
    }
}
