//! Group commit for SQLite.
//!
//! SQLite has one writer and every durable commit costs an fsync. One thread owns the
//! connection that writes: it takes every write waiting in its queue, runs each in a
//! savepoint of one transaction (a failing write rolls back alone), commits once, and
//! only then answers them all. A write is acknowledged only after the fsync that made
//! it durable; under load one fsync serves many writes.

use super::changes::{self, Changes, Key};
use super::{DbConnection, StoreError};
use diesel::result::Error as DieselError;
use diesel::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

/// Writes committed together at most.
const MAX_BATCH: usize = 256;

/// A write waiting for the writer thread.
pub(super) trait Job: Send {
    /// Runs the write in a savepoint of the open transaction.
    fn run(self: Box<Self>, conn: &mut DbConnection) -> Ran;
    /// Answers without running (the writer cannot open its connection).
    fn abandon(self: Box<Self>, err: StoreError);
}

/// A write that ran: whether it kept its changes, what it touched, and how to answer
/// once the transaction's fate is known.
pub(super) struct Ran {
    kept: bool,
    touched: Vec<Key>,
    answer: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

/// A closure and the way to hand its result back.
pub(super) struct Pending<F, T, E> {
    pub f: F,
    pub done: Box<dyn FnOnce(Result<T, E>) + Send>,
}

impl<F, T, E> Job for Pending<F, T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<StoreError> + From<DieselError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConnection) -> Ran {
        let Pending { f, done } = *self;
        changes::take();
        let result = conn.transaction(f);
        let touched = changes::take();
        Ran {
            kept: result.is_ok(),
            touched,
            answer: Box::new(move |commit| {
                done(match (result, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) => Err(e.into()),
                    (Err(e), _) => Err(e),
                })
            }),
        }
    }

    fn abandon(self: Box<Self>, err: StoreError) {
        (self.done)(Err(err.into()))
    }
}

/// The queue of the writer thread.
pub(super) struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the thread. `lock` is also held by writes that bypass the queue
    /// (synchronous start-up work), so the two never interleave.
    pub(super) fn start<C>(connect: C, lock: Arc<Mutex<()>>, changes: Arc<Changes>) -> Self
    where
        C: Fn() -> Result<DbConnection, String> + Send + 'static,
    {
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(connect, jobs, &lock, &changes))
            .expect("cannot start the SQLite writer thread");
        Self { queue }
    }

    /// Queues a write; its closure answers it.
    pub(super) fn submit(&self, job: Box<dyn Job>) {
        if let Err(mpsc::SendError(job)) = self.queue.send(job) {
            job.abandon(StoreError::Unavailable(
                "the SQLite writer has stopped".into(),
            ));
        }
    }
}

/// The writer thread: runs until every [`Writer`] handle is gone.
fn serve<C>(connect: C, jobs: mpsc::Receiver<Box<dyn Job>>, lock: &Mutex<()>, changes: &Changes)
where
    C: Fn() -> Result<DbConnection, String>,
{
    let mut conn: Option<DbConnection> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut c = match conn.take().map_or_else(&connect, Ok) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the SQLite writer cannot open the database");
                for job in batch {
                    job.abandon(StoreError::Unavailable(e.clone()));
                }
                continue;
            }
        };
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        if commit_batch(&mut c, batch, changes) {
            conn = Some(c);
        }
    }
}

/// Runs and commits one batch, then answers it. Returns whether the connection can be
/// used again (not after a failed commit or a panicking write: closing it rolls back
/// whatever was left open).
fn commit_batch(conn: &mut DbConnection, batch: Vec<Box<dyn Job>>, changes: &Changes) -> bool {
    let mut ran: Vec<Ran> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    let mut panicked = false;
    let outcome = conn.transaction(|c| -> Result<(), DieselError> {
        for job in jobs.by_ref() {
            match catch_unwind(AssertUnwindSafe(|| job.run(c))) {
                Ok(r) => ran.push(r),
                Err(_) => {
                    panicked = true;
                    return Err(DieselError::RollbackTransaction);
                }
            }
        }
        Ok(())
    });
    let failure = match (outcome, panicked) {
        (Ok(()), _) => None,
        (Err(_), true) => Some(StoreError::Other("a write panicked".into())),
        (Err(e), false) => {
            tracing::error!(error = %e, "a SQLite group commit failed");
            Some(StoreError::from(e))
        }
    };
    if failure.is_none() {
        let touched: Vec<Key> = ran
            .iter()
            .filter(|r| r.kept)
            .flat_map(|r| r.touched.iter().copied())
            .collect();
        changes.publish(&touched);
    }
    for r in ran {
        (r.answer)(failure.clone().map_or(Ok(()), Err));
    }
    for job in jobs {
        job.abandon(StoreError::Other(
            "a write in the same batch panicked".into(),
        ));
    }
    failure.is_none()
}

#[cfg(test)]
mod tests {
    use crate::db::changes::{touch, Key};
    use crate::db::models::settings as kv;
    use crate::db::{Db, StoreError};

    fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let db = Db::connect(&url, 4).unwrap();
        db.migrate().unwrap();
        (dir, db)
    }

    /// Writes sent together: the refused ones leave nothing, the others all commit and
    /// are answered, and only kept writes report what they touched.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_write_rolls_back_alone_in_its_batch() {
        let (_dir, db) = sqlite();
        let before = db.changes().now();
        let writes = (0..300i64).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |c| -> Result<i64, StoreError> {
                    kv::get_or_insert(c, &format!("k{i}"), "v")?;
                    touch(Key::Dossier(i));
                    if i % 3 == 0 {
                        return Err(StoreError::Other("refused".into()));
                    }
                    Ok(i)
                })
                .await
            })
        });
        let answers = futures_util::future::join_all(writes).await;
        for (i, a) in answers.into_iter().enumerate() {
            let (i, a) = (i as i64, a.unwrap());
            if i % 3 == 0 {
                assert!(matches!(a, Err(StoreError::Other(ref m)) if m == "refused"));
            } else {
                assert_eq!(a.unwrap(), i);
            }
        }
        let stored = db
            .read(|c| -> Result<Vec<bool>, StoreError> {
                (0..300)
                    .map(|i| Ok(kv::get(c, &format!("k{i}"))?.is_some()))
                    .collect()
            })
            .await
            .unwrap();
        for (i, present) in stored.into_iter().enumerate() {
            assert_eq!(present, i % 3 != 0, "key k{i}");
            let touched = db.changes().changed_since(Key::Dossier(i as i64), before);
            assert_eq!(touched, i % 3 != 0, "change of dossier {i}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_does_not_stop_the_writer() {
        let (_dir, db) = sqlite();
        let panicked = db
            .write(|c| -> Result<(), StoreError> {
                kv::get_or_insert(c, "half", "written")?;
                panic!("a bug in a write");
            })
            .await;
        assert!(panicked.is_err());
        db.write(|c| kv::get_or_insert(c, "after", "ok"))
            .await
            .unwrap();
        let (half, after) = db
            .read(|c| -> Result<_, StoreError> { Ok((kv::get(c, "half")?, kv::get(c, "after")?)) })
            .await
            .unwrap();
        assert_eq!(half, None, "the panicking write left nothing");
        assert_eq!(after.as_deref(), Some("ok"));
    }
}
