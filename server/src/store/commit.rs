//! Group commit: the writer assigns indices and applies one atomic batch per commit, the
//! syncer makes it durable and only then answers the callers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use tlog::NoteSigner;

use super::external::External;
use super::log::{Appended, Shared};
use super::nodes::{DbNodes, Overlay};
use super::records::{d_key, i_key};
use super::{
    e_key, n_key, sign_checkpoint, Batch, NewEntry, StoreError, StoredRequest, COMMIT_DELAY,
    MAX_BATCH, META_CHECKPOINT, META_SIZE,
};

/// One queued append and where its outcome goes.
pub(super) struct Job {
    pub(super) entry: NewEntry,
    pub(super) reply: Reply,
}

/// An append on its way ([`Log::announce`](super::Log::announce)); ends when dropped.
#[must_use = "an announcement ends when it is dropped"]
pub struct Announcement(pub(super) Arc<Shared>);

impl Drop for Announcement {
    fn drop(&mut self) {
        self.0.announced.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Announcement")
    }
}

/// Where an append's outcome goes: a waiting thread or a waiting task.
pub(super) enum Reply {
    Thread(SyncSender<Result<Appended, StoreError>>),
    Task(tokio::sync::oneshot::Sender<Result<Appended, StoreError>>),
}

impl Reply {
    fn send(self, outcome: Result<Appended, StoreError>) {
        // A caller that stopped waiting has nothing to be told; the entry stays logged.
        match self {
            Self::Thread(tx) => {
                let _ = tx.send(outcome);
            }
            Self::Task(tx) => {
                let _ = tx.send(outcome);
            }
        }
    }
}

/// A batch applied to the database, waiting to be made durable and acknowledged.
pub(super) struct Applied {
    pub(super) jobs: Vec<Job>,
    pub(super) first_index: u64,
    pub(super) size: u64,
    pub(super) note: String,
}

/// Group commit in two stages, so that the next batch is built and applied while the previous
/// one is made durable:
///
/// ```text
///  callers ─Job─▶ applier: index, nodes, checkpoint signed, one atomic batch applied
///                    │ Applied
///                    ▼
///                 syncer: Backend::flush (sled: flush + fdatasync), then external
///                         checkpoint, then answers
/// ```
/// Nothing is acknowledged, and the published size does not move, before both the database
/// and the external checkpoint are durable. After any failure both stages refuse everything
/// (fail closed) until a restart has re-checked the log.
pub(super) fn writer_loop(
    shared: &Arc<Shared>,
    rx: &Receiver<Job>,
    key: &NoteSigner,
    origin: &str,
    dir: &Path,
) {
    let failed: Arc<Mutex<Option<StoreError>>> = Arc::new(Mutex::new(None));
    let (to_sync, synced) = sync_channel::<Applied>(2);
    let syncer = {
        let (shared, failed, dir) = (shared.clone(), failed.clone(), dir.to_path_buf());
        std::thread::Builder::new()
            .name("log-syncer".into())
            .spawn(move || syncer_loop(&shared, &synced, &dir, &failed))
    };
    let Ok(syncer) = syncer else {
        return;
    };
    let mut applied_size = shared.size.load(Ordering::Acquire);
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        // Take what is queued; while appends are announced, wait for them (bounded).
        let deadline = std::time::Instant::now() + COMMIT_DELAY;
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    let now = std::time::Instant::now();
                    if shared.announced.load(Ordering::Acquire) == 0 || now >= deadline {
                        break;
                    }
                    match rx.recv_timeout(deadline - now) {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
            }
        }
        let stopped = failed.lock().ok().and_then(|f| f.clone());
        if let Some(e) = stopped {
            refuse(jobs, &e);
            continue;
        }
        match apply(shared, &jobs, applied_size, key, origin) {
            Ok((size, note)) => {
                let first_index = applied_size;
                applied_size = size;
                if let Err(back) = to_sync.send(Applied {
                    jobs,
                    first_index,
                    size,
                    note,
                }) {
                    refuse(
                        back.0.jobs,
                        &StoreError::WriterStopped("the syncer ended".into()),
                    );
                }
            }
            Err(e) => {
                refuse(jobs, &e);
                if let Ok(mut f) = failed.lock() {
                    f.get_or_insert(e);
                }
            }
        }
    }
    drop(to_sync);
    let _ = syncer.join();
}

pub(super) fn refuse(jobs: Vec<Job>, e: &StoreError) {
    for j in jobs {
        j.reply.send(Err(StoreError::WriterStopped(e.to_string())));
    }
}

pub(super) fn syncer_loop(
    shared: &Shared,
    rx: &Receiver<Applied>,
    dir: &Path,
    failed: &Mutex<Option<StoreError>>,
) {
    let mut external = External::open(dir);
    while let Ok(first) = rx.recv() {
        // Everything applied so far is made durable by one flush.
        let mut batches = vec![first];
        while let Ok(more) = rx.try_recv() {
            batches.push(more);
        }
        let stopped = failed.lock().ok().and_then(|f| f.clone());
        let result = match (&stopped, &mut external) {
            (Some(e), _) => Err(e.clone()),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(ext)) => {
                let last = batches.last().map(|b| b.note.clone()).unwrap_or_default();
                shared.db.flush().and_then(|()| ext.write(&last))
            }
        };
        match result {
            Ok(()) => {
                let n: usize = batches.iter().map(|b| b.jobs.len()).sum();
                metrics::histogram!("segel_commit_batch_size").record(n as f64);
                shared.commits.fetch_add(1, Ordering::AcqRel);
                // Only this thread moves the size: it is still the previous commit's.
                let previous_size = shared.size.load(Ordering::Acquire);
                if let Ok(mut ix) = shared.indexes.write() {
                    for b in &batches {
                        for (i, j) in b.jobs.iter().enumerate() {
                            ix.add(&j.entry.record, b.first_index + i as u64, &shared.refs);
                        }
                    }
                }
                if let Some(b) = batches.last() {
                    // The checkpoint first: whoever sees the new size also finds a checkpoint
                    // at least that large.
                    if let Ok(mut c) = shared.checkpoint.write() {
                        c.clone_from(&b.note);
                    }
                    shared.size.store(b.size, Ordering::Release);
                    metrics::gauge!("segel_log_size").set(b.size as f64);
                }
                // Every append of this commit is answered with its newest checkpoint (durable
                // now, like the older ones): callers see one checkpoint per commit, not one
                // per applied batch, so they fetch fewer consistency proofs.
                let (note, size) = batches
                    .last()
                    .map(|b| (b.note.clone(), b.size))
                    .unwrap_or_default();
                for b in batches {
                    for (i, j) in b.jobs.into_iter().enumerate() {
                        j.reply.send(Ok(Appended {
                            index: b.first_index + i as u64,
                            checkpoint: note.clone(),
                            size,
                            previous_size,
                        }));
                    }
                }
            }
            Err(e) => {
                if let Ok(mut f) = failed.lock() {
                    f.get_or_insert(e.clone());
                }
                for b in batches {
                    refuse(b.jobs, &e);
                }
            }
        }
    }
}

/// Build and apply one batch on top of `size0` applied entries; returns the new size and its
/// signed checkpoint.
pub(super) fn apply(
    shared: &Shared,
    jobs: &[Job],
    size0: u64,
    key: &NoteSigner,
    origin: &str,
) -> Result<(u64, String), StoreError> {
    let mut overlay = Overlay {
        db: DbNodes(&*shared.db),
        fresh: HashMap::new(),
    };
    let mut batch = Batch::default();
    for (i, job) in jobs.iter().enumerate() {
        let index = size0 + i as u64;
        let bytes = job.entry.at(index).encode()?;
        let leaf = tlog::leaf_hash(&bytes);
        for (level, idx, h) in tlog::append_nodes(&overlay, index, leaf)? {
            if level > 0 {
                batch.insert(n_key(level, idx), h);
            }
            overlay.fresh.insert((level, idx), h);
        }
        batch.insert(e_key(index), bytes);
        if let Some(id) = &job.entry.document_id {
            batch.insert(d_key(&pades::sha256(id.as_bytes())), id.as_bytes());
        }
        if let Some(r) = &job.entry.request {
            batch.insert(
                i_key(&r.key),
                StoredRequest::encode(&r.fingerprint, index, &r.replay),
            );
        }
    }
    let size = size0 + jobs.len() as u64;
    let root = tlog::root(&overlay, size)?;
    let note = sign_checkpoint(key, origin, size, root)?;
    batch.insert(META_SIZE, size.to_be_bytes());
    batch.insert(META_CHECKPOINT, note.as_bytes());
    shared.db.apply(batch)?;
    Ok((size, note))
}
