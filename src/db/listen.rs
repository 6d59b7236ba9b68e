//! Changes made by other nodes, on PostgreSQL.
//!
//! A write that touched cached rows sends their keys with `pg_notify` inside its
//! transaction, so they go out only if it commits. Every node keeps one connection
//! listening on the channel and publishes what it hears into its [`Changes`]. While
//! that connection is down the node is blind (caches serve nothing); once it is back,
//! everything read before is treated as changed, since notifications may have been
//! missed in between.

use super::changes::{self, Changes, Key};
use super::DbConnection;
use diesel::pg::PgConnection;
use diesel::result::Error as DieselError;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The notification channel.
const CHANNEL: &str = "buuta_changes";
/// How often the listening connection is polled for notifications.
const POLL: Duration = Duration::from_millis(10);
/// Wait before connecting again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// Sends `keys` to every node, if the running transaction commits (PostgreSQL only).
pub(super) fn notify(conn: &mut DbConnection, keys: &[Key]) -> Result<(), DieselError> {
    if let DbConnection::Postgresql(pg) = conn {
        for payload in changes::encode(keys) {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
                .execute(pg)?;
        }
    }
    Ok(())
}

/// Starts the listening thread; it ends once the [`Changes`] are dropped (the last
/// handle of the database is gone).
pub(super) fn spawn(url: String, changes: &Arc<Changes>) {
    changes.set_blind(true);
    let changes = Arc::downgrade(changes);
    std::thread::Builder::new()
        .name("pg-listener".into())
        .spawn(move || run(&url, &changes))
        .expect("cannot start the PostgreSQL listener thread");
}

fn run(url: &str, changes: &Weak<Changes>) {
    let mut warned = false;
    while changes.strong_count() > 0 {
        let connected = PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                diesel::sql_query(format!("LISTEN {CHANNEL}"))
                    .execute(&mut c)
                    .map_err(|e| e.to_string())?;
                Ok(c)
            });
        match connected {
            Ok(mut conn) => {
                if let Some(c) = changes.upgrade() {
                    c.publish_all();
                    c.set_blind(false);
                }
                warned = false;
                let e = listen(&mut conn, changes);
                if let Some(c) = changes.upgrade() {
                    c.set_blind(true);
                    tracing::warn!(error = %e, "lost the PostgreSQL change listener; caches are off until it is back");
                }
            }
            Err(e) if !warned => {
                warned = true;
                tracing::warn!(error = %e, "cannot listen for other nodes' changes; caches are off");
            }
            Err(_) => {}
        }
        std::thread::sleep(RETRY);
    }
}

/// Publishes what arrives until the connection fails or the changes are dropped.
fn listen(conn: &mut PgConnection, changes: &Weak<Changes>) -> String {
    loop {
        let Some(target) = changes.upgrade() else {
            return "shut down".into();
        };
        for n in conn.notifications_iter() {
            match n {
                Ok(n) => target.publish(&changes::decode(&n.payload)),
                Err(e) => return e.to_string(),
            }
        }
        drop(target);
        std::thread::sleep(POLL);
    }
}
