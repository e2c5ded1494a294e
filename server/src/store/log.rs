//! The public face of the store: [`Log`] opens (and checks) a log, appends to it through the
//! group commit, and serves entries, lookups and proofs.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use tlog::{Hash, LogEntry, NoteSigner, NoteVerifier};

use super::check::check_inner;
use super::commit::{writer_loop, Announcement, Job, Reply};
use super::external::{read_external, External};
use super::index::{HashIndex, Indexes};
use super::keys::{load_ref_key, write_secret, Secret, REF_KEY};
use super::nodes::DbNodes;
use super::records::{d_key, i_key};
use super::sled_backend::SledBackend;
use super::{
    e_key, io, read_size, sign_checkpoint, Backend, Batch, NewEntry, RefKey, StoreError,
    StoredRequest, META_CHECKPOINT, META_SIZE, QUEUE,
};

/// A durable append: the entry's index and the signed checkpoint that includes it.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The entry's index.
    pub index: u64,
    /// The signed checkpoint (C2SP note) of the batch that made it durable.
    pub checkpoint: String,
    /// The tree size of that checkpoint.
    pub size: u64,
    /// The tree size published before that commit (its checkpoint the previous one).
    pub previous_size: u64,
}

/// What the log's handle, its writer threads and its announcements share.
pub(super) struct Shared {
    /// The database.
    pub(super) db: Box<dyn Backend>,
    /// Appends announced by callers still preparing them ([`Log::announce`]).
    pub(super) announced: AtomicUsize,
    /// The published tree size: every entry below it is durable.
    pub(super) size: AtomicU64,
    /// Durable commits (flush rounds) made since the log was opened.
    pub(super) commits: AtomicU64,
    /// The latest durable signed checkpoint.
    pub(super) checkpoint: RwLock<String>,
    /// The lookups, covering the durable entries.
    pub(super) indexes: RwLock<Indexes>,
    /// The key of the reference hashes.
    pub(super) refs: RefKey,
}

/// The signature log.
///
/// On disk ([`Log::open`]) a second process cannot open the same directory (the database's
/// file lock); reopening in the same process waits for the previous handle's threads to let go.
pub struct Log {
    /// What the handle shares with the writer threads (read by the store's other modules,
    /// e.g. `tiles.rs`).
    pub(super) shared: Arc<Shared>,
    tx: Mutex<Option<SyncSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    verifier: NoteVerifier,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Open (or create) the log in `dir` with origin line `origin`, signing checkpoints with
    /// `key`, on the on-disk database in `dir` ([`SledBackend`]). Runs the full startup check
    /// first and refuses to open an inconsistent log.
    ///
    /// # Errors
    /// Any [`StoreError`]; integrity failures say which check failed.
    pub fn open(dir: &Path, origin: &str, key: NoteSigner) -> Result<Self, StoreError> {
        create_dir(dir)?;
        let (refs, new_ref_secret) = load_ref_key(dir)?;
        let db = SledBackend::open(dir)?;
        Self::start(Box::new(db), dir, origin, key, refs, new_ref_secret)
    }

    /// [`Log::open`] on the database `db`; `dir` holds the key files and the external
    /// checkpoint.
    ///
    /// # Errors
    /// As [`Log::open`].
    pub fn open_on(
        db: impl Backend + 'static,
        dir: &Path,
        origin: &str,
        key: NoteSigner,
    ) -> Result<Self, StoreError> {
        create_dir(dir)?;
        let (refs, new_ref_secret) = load_ref_key(dir)?;
        Self::start(Box::new(db), dir, origin, key, refs, new_ref_secret)
    }

    /// Check (or initialise) the database, then start the writer.
    fn start(
        db: Box<dyn Backend>,
        dir: &Path,
        origin: &str,
        key: NoteSigner,
        refs: RefKey,
        new_ref_secret: Option<Secret>,
    ) -> Result<Self, StoreError> {
        let verifier = key.verifier();
        let size = read_size(&*db)?;
        let mut indexes = Indexes::default();
        let checkpoint = if size == 0 && db.get(META_CHECKPOINT)?.is_none() {
            if db.scan(b"", None).next().is_some() {
                return Err(StoreError::Integrity(
                    "records exist but no tree size or checkpoint is stored".into(),
                ));
            }
            if let Some(ext) = read_external(dir, &verifier)? {
                return Err(StoreError::BehindExternal {
                    db: 0,
                    external: ext.size,
                });
            }
            let note = sign_checkpoint(&key, origin, 0, tlog::EMPTY_ROOT)?;
            let mut b = Batch::default();
            b.insert(META_SIZE, 0u64.to_be_bytes());
            b.insert(META_CHECKPOINT, note.as_bytes());
            db.apply(b)?;
            db.flush()?;
            External::open(dir)?.write(&note)?;
            note
        } else {
            let (_, ix) = check_inner(&*db, dir, &verifier, Some(origin), Some(&refs))?;
            indexes = ix;
            let note = db.get(META_CHECKPOINT)?.unwrap_or_default();
            String::from_utf8(note)
                .map_err(|_| StoreError::Integrity("checkpoint is not UTF-8".into()))?
        };
        if let Some(secret) = new_ref_secret {
            if indexes.keyed_references > 0 {
                return Err(StoreError::Integrity(format!(
                    "{} is missing but {} entries carry reference hashes made with it: restore it \
                     from the backup of this log",
                    dir.join(REF_KEY).display(),
                    indexes.keyed_references
                )));
            }
            write_secret(dir, REF_KEY, &secret)?;
        }
        let shared = Arc::new(Shared {
            db,
            announced: AtomicUsize::new(0),
            size: AtomicU64::new(size),
            commits: AtomicU64::new(0),
            checkpoint: RwLock::new(checkpoint),
            indexes: RwLock::new(indexes),
            refs,
        });
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let writer_shared = shared.clone();
        let origin = origin.to_string();
        let log_dir = dir.to_path_buf();
        let writer = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer_loop(&writer_shared, &rx, &key, &origin, &log_dir))
            .map_err(io(dir))?;
        Ok(Self {
            shared,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            verifier,
        })
    }

    /// Append one entry; returns once it is durable and covered by a signed checkpoint.
    ///
    /// # Errors
    /// [`StoreError::Entry`] for an invalid entry; [`StoreError::WriterStopped`] if the log
    /// stopped accepting appends after a failure.
    pub fn append(&self, entry: NewEntry) -> Result<Appended, StoreError> {
        entry.check()?;
        let tx = self.sender()?;
        let (reply, rx) = sync_channel(1);
        tx.send(Job {
            entry,
            reply: Reply::Thread(reply),
        })
        .map_err(|_| StoreError::WriterStopped("the writer thread ended".into()))?;
        rx.recv()
            .map_err(|_| StoreError::WriterStopped("the writer thread ended".into()))?
    }

    /// [`Log::append`] for async callers: no thread waits for durability. The entry is queued
    /// at once (or, when the queue is full, by a blocking-pool thread), and the future
    /// completes when it is durable. Dropping the future does not withdraw the entry.
    ///
    /// # Errors
    /// As [`Log::append`].
    pub async fn append_async(
        &self,
        entry: NewEntry,
        announced: Option<Announcement>,
    ) -> Result<Appended, StoreError> {
        entry.check()?;
        let tx = self.sender()?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::WriterStopped("the writer thread ended".into());
        let job = Job {
            entry,
            reply: Reply::Task(reply),
        };
        // The announcement ends before the entry is queued: a writer that finds the queue empty
        // must not wait for an append that is already in it.
        drop(announced);
        match tx.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                tokio::task::spawn_blocking(move || tx.send(job).map_err(|_| ()))
                    .await
                    .map_err(|_| stopped())?
                    .map_err(|_| stopped())?;
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        rx.await.map_err(|_| stopped())?
    }

    /// Announce an append that is being prepared (e.g. a signature being computed). While
    /// announced appends exist, a batch waits up to [`COMMIT_DELAY`](super::COMMIT_DELAY) for them, so that one
    /// commit makes many appends durable. The announcement ends when it is dropped or passed
    /// to [`Log::append_async`] (as the entry is queued).
    pub fn announce(&self) -> Announcement {
        self.shared.announced.fetch_add(1, Ordering::AcqRel);
        Announcement(self.shared.clone())
    }

    fn sender(&self) -> Result<SyncSender<Job>, StoreError> {
        self.tx
            .lock()
            .map_err(|_| StoreError::WriterStopped("lock poisoned".into()))?
            .clone()
            .ok_or_else(|| StoreError::WriterStopped("the log is closed".into()))
    }

    /// Current tree size.
    pub fn size(&self) -> u64 {
        self.shared.size.load(Ordering::Acquire)
    }

    /// Durable commits made since the log was opened (each one a flush of the database and
    /// the external checkpoint's `fdatasync`): appends divided by this is the group size.
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Acquire)
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> String {
        self.shared
            .checkpoint
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The verifier key of the log.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The entry at `index`, if the log has it.
    ///
    /// # Errors
    /// Database failures or a stored record that does not decode.
    pub fn entry(&self, index: u64) -> Result<Option<LogEntry>, StoreError> {
        if index >= self.size() {
            return Ok(None);
        }
        match self.shared.db.get(&e_key(index))? {
            Some(v) => Ok(Some(LogEntry::decode(&v)?)),
            None => Err(StoreError::Integrity(format!("entry {index} is missing"))),
        }
    }

    fn find(
        &self,
        hash: &Hash,
        of: fn(&LogEntry) -> Option<&Hash>,
        index: fn(&Indexes) -> &HashIndex,
    ) -> Result<Vec<u64>, StoreError> {
        let candidates = self
            .shared
            .indexes
            .read()
            .map(|ix| index(&ix).candidates(hash))
            .unwrap_or_default();
        let mut out = Vec::new();
        for i in candidates {
            if let Some(e) = self.entry(i)? {
                if of(&e) == Some(hash) {
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    /// The idempotency record for `key` (caller ‖ 0 ‖ request id), if its entry is durable.
    ///
    /// # Errors
    /// Database failures or a malformed record.
    pub fn request(&self, key: &[u8]) -> Result<Option<StoredRequest>, StoreError> {
        let malformed = || StoreError::Integrity("a malformed idempotency record".into());
        let r = if let Some(v) = self.shared.db.get(&i_key(key))? {
            StoredRequest::decode(&v).ok_or_else(malformed)?
        } else {
            return Ok(None);
        };
        Ok((r.index < self.size()).then_some(r))
    }

    /// The keyed hash this log records for `reference` given for `agency`.
    pub fn reference_hmac(&self, agency: &str, reference: &str) -> Hash {
        self.shared.refs.hmac(agency, reference)
    }

    /// Indices of the entries of `agency` logged with the document reference `reference`
    /// (as its keyed hash, or in clear in version 1 records).
    ///
    /// # Errors
    /// Database failures.
    pub fn find_by_reference(&self, agency: &str, reference: &str) -> Result<Vec<u64>, StoreError> {
        let h = self.reference_hmac(agency, reference);
        let candidates = self
            .shared
            .indexes
            .read()
            .map(|ix| ix.reference.candidates(&h))
            .unwrap_or_default();
        let mut out = Vec::new();
        for i in candidates {
            if let Some(e) = self.entry(i)? {
                let same =
                    e.document_ref_hmac == Some(h) || e.document_ref.as_deref() == Some(reference);
                if same && e.agency == agency {
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    /// Indices of entries for a signed PDF (by its SHA-256).
    ///
    /// # Errors
    /// Database failures.
    pub fn find_by_document(&self, sha256: &Hash) -> Result<Vec<u64>, StoreError> {
        self.find(sha256, |e| Some(&e.document_sha256), |ix| &ix.document)
    }

    /// Indices of entries for a signature value (by its SHA-256).
    ///
    /// # Errors
    /// Database failures.
    pub fn find_by_signature(&self, sha256: &Hash) -> Result<Vec<u64>, StoreError> {
        self.find(sha256, |e| Some(&e.signature_sha256), |ix| &ix.signature)
    }

    /// Indices of the entries of visible seals whose document id has this SHA-256.
    ///
    /// # Errors
    /// Database failures.
    pub fn find_by_document_id(&self, sha256: &Hash) -> Result<Vec<u64>, StoreError> {
        self.find(
            sha256,
            |e| e.document_id_sha256.hash(),
            |ix| &ix.document_id,
        )
    }

    /// The document id whose SHA-256 is `sha256`, if an entry was logged with it (entries
    /// logged before ids were kept beside them have only the hash).
    ///
    /// # Errors
    /// Database failures, or a stored id that is not the one asked for.
    pub fn document_id(&self, sha256: &Hash) -> Result<Option<String>, StoreError> {
        let Some(v) = self.shared.db.get(&d_key(sha256))? else {
            return Ok(None);
        };
        if pades::sha256(&v) != *sha256 {
            return Err(StoreError::Integrity(format!(
                "the document id stored for {} has another hash",
                hex::encode(sha256)
            )));
        }
        String::from_utf8(v)
            .map(Some)
            .map_err(|_| StoreError::Integrity("a stored document id is not UTF-8".into()))
    }

    /// Inclusion proof of `index` in the tree of `size` entries (any size up to the current).
    ///
    /// # Errors
    /// [`StoreError::Request`] for bad indices or sizes.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        if size > self.size() || index >= size {
            return Err(StoreError::Request(format!(
                "no inclusion proof for index {index} in a tree of {size} (the log has {})",
                self.size()
            )));
        }
        Ok(tlog::inclusion_proof(
            &DbNodes(&*self.shared.db),
            index,
            size,
        )?)
    }

    /// Consistency proof between two sizes.
    ///
    /// # Errors
    /// [`StoreError::Request`] for bad sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        if new > self.size() || old == 0 || old > new {
            return Err(StoreError::Request(format!(
                "no consistency proof from {old} to {new} (the log has {})",
                self.size()
            )));
        }
        Ok(tlog::consistency_proof(
            &DbNodes(&*self.shared.db),
            old,
            new,
        )?)
    }

    /// The root of the tree of `size` entries.
    ///
    /// # Errors
    /// [`StoreError::Request`] for a size above the current one.
    pub fn root(&self, size: u64) -> Result<Hash, StoreError> {
        if size > self.size() {
            return Err(StoreError::Request(format!(
                "the log has only {} entries",
                self.size()
            )));
        }
        Ok(tlog::root(&DbNodes(&*self.shared.db), size)?)
    }

    /// Stop accepting appends, let the writer finish what is queued, and wait for it.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(h) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.close();
    }
}

/// Create the log directory (mode 0700) if it does not exist.
fn create_dir(dir: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))
}
