//! The signature log's storage: the only code that touches sled.
//!
//! One sled tree, keys by prefix:
//!
//! | key | value |
//! |---|---|
//! | `e` ‖ index (u64 BE) | the encoded [`LogEntry`] (the leaf) |
//! | `n` ‖ level (u8) ‖ index (u64 BE) | hash of a complete subtree, levels ≥ 1 (leaf hashes are the records' hashes) |
//! | `i` ‖ SHA-256(caller ‖ 0x00 ‖ request id) | idempotency record: 2 ‖ fingerprint ‖ index ‖ what rebuilds the answer (≤ [`MAX_REPLAY`] bytes) |
//! | `r` ‖ caller ‖ 0x00 ‖ request id | older idempotency record (read only): input SHA-256 ‖ index ‖ update bytes |
//! | `m:size` | tree size (u64 BE) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP signed note) |
//!
//! **Small values only.** sled 0.34 writes a page larger than a quarter of its segment
//! (512 KiB / 4 − 20 = 131 052 bytes) as a separate blob file, and never syncs blob files: an
//! acknowledged entry could be lost at power failure. A leaf page holds at most 17 keys, so every
//! key and value stays small: entries are at most about 1.5 KB (their fields are bounded),
//! idempotency keys are 33 bytes and their values at most [`MAX_REQUEST_VALUE`] bytes.
//!
//! **No personal data in clear.** Anyone can read every entry. A caller's document reference is
//! logged only as HMAC-SHA256 under a key that only this server holds (`ref.key`, created next to
//! `log.key`), bound to the agency: the holder of a reference can look its entries up through
//! the server ([`Log::find_by_reference`]), the public cannot brute-force guessable references
//! (a NIK, a name) from the log.
//!
//! The lookups by document, by signature hash and by reference are kept in memory: they are derived data,
//! rebuilt from the verified records at every startup and extended as entries become durable,
//! so they can never disagree with the log (and cost no random writes in sled).
//!
//! **Group commit.** An applier thread takes the queued appends and writes them with their
//! nodes, the new size and the new signed checkpoint in one atomic sled batch; a syncer thread
//! flushes sled and then calls `fdatasync` on sled's data file (sled 0.34's `flush` uses
//! `sync_file_range`, which is no durability barrier: sled issues #1351, #1452), then writes the
//! checkpoint to the external slot files (`checkpoint.{a,b}.note`), and only then answers the callers. An
//! append is acknowledged only when it is durable; the applier prepares the next batch meanwhile.
//!
//! **Fail closed.** [`Log::open`] recomputes every leaf and node from the records, checks the
//! signed checkpoint against the recomputed root, refuses anything stored past the tree size,
//! and compares with the external checkpoint: a database behind it (lost tail, restored copy)
//! or forked from it is refused with a message saying so.

mod check;
mod commit;
mod external;
mod keys;
mod nodes;
mod records;

pub use check::check;
use check::check_inner;
use commit::*;
use external::*;
use keys::*;
pub use keys::{check_dir, load_or_create_key};
use nodes::*;
use records::*;
pub use records::{NewEntry, RefKey, RequestRecord, StoredRequest};

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use tlog::{Checkpoint, Hash, LogEntry, NodeReader, NoteSigner, NoteVerifier, TlogError};

const META_SIZE: &[u8] = b"m:size";
const META_CHECKPOINT: &[u8] = b"m:checkpoint";
/// Most appends written in one batch.
const MAX_BATCH: usize = 4096;
/// Longest a batch waits for announced appends ([`Log::announce`]) before it is committed.
/// A commit (sled flush, two `fdatasync`s, a signed checkpoint) costs far more CPU than an
/// append, so under concurrent load waiting briefly for the appends on their way makes each
/// commit carry many of them; a lone caller never waits (nothing else is announced).
pub const COMMIT_DELAY: std::time::Duration = std::time::Duration::from_millis(2);
/// Queue length before callers wait.
const QUEUE: usize = 8192;
/// Most bytes an idempotency record keeps to rebuild its answer: a time (8 bytes) and a
/// signature value (up to RSA-8192, 1024 bytes).
pub const MAX_REPLAY: usize = 8 + 1024;
/// Most bytes of a stored idempotency record's value.
pub const MAX_REQUEST_VALUE: usize = 1 + 32 + 8 + MAX_REPLAY;
/// sled 0.34's blob threshold with its default 512 KiB segments: a page (node or update
/// fragment) larger than this goes into an unsynced blob file.
pub const SLED_BLOB_THRESHOLD: usize = 512 * 1024 / 4 - 20;

/// Storage errors. Messages say what is wrong and, for startup checks, which check failed.
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// sled failed.
    #[error("database: {0}")]
    Db(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// The stored log is inconsistent; the server must not start on it.
    #[error("log integrity check failed: {0}")]
    Integrity(String),
    /// The database holds less than the external checkpoint proves was committed.
    #[error(
        "the database is behind the external checkpoint: it holds {db} entries but {external} were \
         committed (lost tail or an older copy restored)"
    )]
    BehindExternal {
        /// Entries in the database.
        db: u64,
        /// Size of the external checkpoint.
        external: u64,
    },
    /// A request that cannot be served (bad index or sizes).
    #[error("{0}")]
    Request(String),
    /// The entry is not valid.
    #[error("invalid log entry: {0}")]
    Entry(#[from] tlog::EntryError),
    /// A value too large to be stored safely (see [`MAX_REQUEST_VALUE`]).
    #[error("{0}")]
    TooLarge(String),
    /// The writer stopped after an earlier failure; the log accepts no more appends.
    #[error("the log writer stopped after a failure: {0}")]
    WriterStopped(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        Self::Db(e.to_string())
    }
}

impl From<TlogError> for StoreError {
    fn from(e: TlogError) -> Self {
        Self::Integrity(e.to_string())
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn e_key(index: u64) -> [u8; 9] {
    let mut k = [b'e'; 9];
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

fn n_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [b'n'; 10];
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Entries by a SHA-256 (document or signature): the first 8 bytes map to the index; the rare
/// further entries with the same prefix (the same PDF signed twice, say) go to a side table.
/// Lookups confirm the full hash against the record.
#[derive(Debug, Default)]
struct HashIndex {
    first: HashMap<u64, u64>,
    more: HashMap<u64, Vec<u64>>,
}

impl HashIndex {
    fn key(h: &Hash) -> u64 {
        let mut k = [0; 8];
        k.copy_from_slice(&h[..8]);
        u64::from_be_bytes(k)
    }

    fn insert(&mut self, h: &Hash, index: u64) {
        let k = Self::key(h);
        if let Some(prev) = self.first.insert(k, index) {
            // Keep the earliest in `first`, the rest in `more`.
            self.first.insert(k, prev);
            self.more.entry(k).or_default().push(index);
        }
    }

    fn candidates(&self, h: &Hash) -> Vec<u64> {
        let k = Self::key(h);
        let mut v: Vec<u64> = self.first.get(&k).copied().into_iter().collect();
        if let Some(m) = self.more.get(&k) {
            v.extend_from_slice(m);
        }
        v
    }
}

/// The lookups.
#[derive(Debug, Default)]
struct Indexes {
    document: HashIndex,
    signature: HashIndex,
    /// By keyed reference hash ([`RefKey::hmac`]; version 1 records' clear references too).
    reference: HashIndex,
    /// Version 2 records that carry a keyed reference hash.
    keyed_references: u64,
}

impl Indexes {
    fn with_capacity(n: usize) -> Self {
        let index = || HashIndex {
            first: HashMap::with_capacity(n),
            more: HashMap::new(),
        };
        Self {
            document: index(),
            signature: index(),
            reference: HashIndex::default(),
            keyed_references: 0,
        }
    }

    fn add(&mut self, e: &LogEntry, index: u64, refs: &RefKey) {
        self.document.insert(&e.document_sha256, index);
        self.signature.insert(&e.signature_sha256, index);
        if let Some(h) = &e.document_ref_hmac {
            self.reference.insert(h, index);
            self.keyed_references += 1;
        } else if let Some(r) = &e.document_ref {
            self.reference.insert(&refs.hmac(&e.agency, r), index);
        }
    }
}

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

struct Job {
    entry: NewEntry,
    reply: Reply,
}

/// An append on its way ([`Log::announce`]); ends when dropped.
#[must_use = "an announcement ends when it is dropped"]
pub struct Announcement(Arc<Shared>);

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
enum Reply {
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

struct Shared {
    db: sled::Db,
    /// Appends announced by callers still preparing them ([`Log::announce`]).
    announced: AtomicUsize,
    size: AtomicU64,
    /// Durable commits (flush + `fdatasync` rounds) made since the log was opened.
    commits: AtomicU64,
    checkpoint: RwLock<String>,
    indexes: RwLock<Indexes>,
    refs: RefKey,
}

/// The signature log.
///
/// A second process cannot open the same directory (sled's file lock); reopening in the same
/// process waits for the previous handle's threads to let go.
pub struct Log {
    shared: Arc<Shared>,
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

/// Result of a full check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Entries checked.
    pub size: u64,
    /// Nodes checked.
    pub nodes: u64,
    /// The recomputed root.
    pub root: Hash,
    /// The external checkpoint's size, if one exists.
    pub external_size: Option<u64>,
}

/// sled settings: we flush explicitly after every batch, so no background flusher.
fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(sled_dir(dir))
        .mode(sled::Mode::HighThroughput)
        .flush_every_ms(None)
        .cache_capacity(256 * 1024 * 1024)
}

/// Open sled, waiting up to ten seconds for the file lock: sled's I/O threads release it a
/// moment after a previous handle in this process is dropped (longer on a loaded machine).
/// Another process holding the log open still fails, with sled's "could not acquire lock".
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match sled_config(dir).open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && tries < 1000 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other.map_err(StoreError::from),
        }
    }
}

/// Paths inside a log directory.
fn sled_dir(dir: &Path) -> PathBuf {
    dir.join("sled")
}

impl Log {
    /// Open (or create) the log in `dir` with origin line `origin`, signing checkpoints with
    /// `key`. Runs the full startup check first and refuses to open an inconsistent log.
    ///
    /// # Errors
    /// Any [`StoreError`]; integrity failures say which check failed.
    pub fn open(dir: &Path, origin: &str, key: NoteSigner) -> Result<Self, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let (refs, new_ref_secret) = load_ref_key(dir)?;
        let db = open_db(dir)?;
        let verifier = key.verifier();
        let data_file = sled_dir(dir).join("db");
        let size = read_size(&db)?;
        let mut indexes = Indexes::default();
        let checkpoint = if size == 0 && db.get(META_CHECKPOINT)?.is_none() {
            if db.iter().next().is_some() {
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
            let mut b = sled::Batch::default();
            b.insert(META_SIZE, &0u64.to_be_bytes());
            b.insert(META_CHECKPOINT, note.as_bytes());
            db.apply_batch(b)?;
            sync(&db, &data_file, &mut None)?;
            External::open(dir)?.write(&note)?;
            note
        } else {
            let (_, ix) = check_inner(&db, dir, &verifier, Some(origin), Some(&refs))?;
            indexes = ix;
            let note = db
                .get(META_CHECKPOINT)?
                .map(|v| v.to_vec())
                .unwrap_or_default();
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
    /// announced appends exist, a batch waits up to [`COMMIT_DELAY`] for them, so that one
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

    /// Durable commits made since the log was opened (each one a sled flush, its
    /// `fdatasync` and the external checkpoint's): appends divided by this is the group size.
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
        match self.shared.db.get(e_key(index))? {
            Some(v) => Ok(Some(LogEntry::decode(&v)?)),
            None => Err(StoreError::Integrity(format!("entry {index} is missing"))),
        }
    }

    fn find(
        &self,
        hash: &Hash,
        of: fn(&LogEntry) -> &Hash,
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
                if of(&e) == hash {
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
        let r = if let Some(v) = self.shared.db.get(i_key(key))? {
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
        self.find(sha256, |e| &e.document_sha256, |ix| &ix.document)
    }

    /// Indices of entries for a signature value (by its SHA-256).
    ///
    /// # Errors
    /// Database failures.
    pub fn find_by_signature(&self, sha256: &Hash) -> Result<Vec<u64>, StoreError> {
        self.find(sha256, |e| &e.signature_sha256, |ix| &ix.signature)
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
            &DbNodes(&self.shared.db),
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
            &DbNodes(&self.shared.db),
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
        Ok(tlog::root(&DbNodes(&self.shared.db), size)?)
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

fn read_size(db: &sled::Db) -> Result<u64, StoreError> {
    match db.get(META_SIZE)? {
        None => Ok(0),
        Some(v) => Ok(u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
            StoreError::Integrity("the stored tree size is not 8 bytes".into())
        })?)),
    }
}

fn sign_checkpoint(
    key: &NoteSigner,
    origin: &str,
    size: u64,
    root: Hash,
) -> Result<String, StoreError> {
    let text = Checkpoint {
        origin: origin.to_string(),
        size,
        root,
        extensions: Vec::new(),
    }
    .to_text();
    key.sign(&text)
        .map_err(|e| StoreError::Integrity(e.to_string()))
}

/// Flush sled, then make it durable with a real `fdatasync` of its data file.
fn sync(db: &sled::Db, data_file: &Path, file: &mut Option<fs::File>) -> Result<(), StoreError> {
    db.flush()?;
    let f = match file {
        Some(f) => f,
        None => file.insert(fs::File::open(data_file).map_err(io(data_file))?),
    };
    f.sync_data().map_err(io(data_file))
}

#[cfg(test)]
mod tests {
    use tlog::SignedNote;

    use super::*;

    const ORIGIN: &str = "segel.test/log";

    fn entry(i: u64) -> NewEntry {
        let doc = tlog::leaf_hash(format!("doc {i}").as_bytes());
        NewEntry {
            record: LogEntry {
                index: 0,
                time_ms: 1_795_942_800_000 + i as i64,
                agency: "dev".into(),
                certificate_sha256: [9; 32],
                caller: "CN=siola-dev".into(),
                message_digest: tlog::leaf_hash(format!("md {i}").as_bytes()),
                signature_sha256: tlog::leaf_hash(format!("sig {i}").as_bytes()),
                document_sha256: doc,
                document_source: tlog::DocumentSource::Server,
                document_ref: None,
                document_ref_hmac: (i % 2 == 0).then(|| pades::sha256(format!("B-{i}").as_bytes())),
            },
            request: None,
        }
    }

    fn open(dir: &Path) -> Result<Log, StoreError> {
        let key = load_or_create_key(dir, ORIGIN)?;
        Log::open(dir, ORIGIN, key)
    }

    fn filled(n: u64) -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let dir = t.path().join("log");
        let log = open(&dir).expect("open");
        for i in 0..n {
            log.append(entry(i)).expect("append");
        }
        (t, dir)
    }

    fn raw(dir: &Path) -> sled::Db {
        open_db(dir).expect("raw open")
    }

    #[test]
    fn appends_are_readable_provable_and_survive_reopening() {
        let (_t, dir) = filled(0);
        let log = open(&dir).expect("open");
        let mut acks = Vec::new();
        for i in 0..37 {
            let a = log.append(entry(i)).expect("append");
            assert_eq!(a.index, i);
            acks.push(a);
        }
        // Concurrent callers: every index handed out once.
        let log = Arc::new(log);
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    (0..25)
                        .map(|i| log.append(entry(1000 + t * 100 + i)).expect("append").index)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (37..237).collect::<Vec<_>>());
        assert_eq!(log.size(), 237);
        // Checkpoint, proofs and lookups, checked as a client would.
        let note = SignedNote::parse(&log.checkpoint()).expect("note");
        note.verify(std::slice::from_ref(log.verifier()))
            .expect("signed by the log key");
        let cp = Checkpoint::parse(&note.text).expect("checkpoint");
        assert_eq!(cp.size, 237);
        for i in [0u64, 1, 36, 100, 236] {
            let e = log.entry(i).expect("read").expect("present");
            let leaf = e.leaf_hash().expect("leaf");
            for size in [i + 1, 237] {
                let p = log.inclusion_proof(i, size).expect("proof");
                tlog::verify_inclusion(&leaf, i, size, &p, &log.root(size).expect("root"))
                    .expect("verifies");
            }
            assert!(log
                .find_by_document(&e.document_sha256)
                .expect("find")
                .contains(&i));
            assert!(log
                .find_by_signature(&e.signature_sha256)
                .expect("find")
                .contains(&i));
        }
        let p = log.consistency_proof(37, 237).expect("proof");
        tlog::verify_consistency(37, 237, &p, &acks[36].checkpoint_root(), &cp.root)
            .expect("consistent");
        assert!(log.entry(237).expect("read").is_none());
        assert!(log.inclusion_proof(5, 238).is_err());
        let first = acks[0].clone();
        drop(log);
        let log = open(&dir).expect("reopens after the full check");
        assert_eq!(log.size(), 237);
        assert_eq!(
            log.entry(0).expect("read").expect("entry").document_sha256,
            entry(0).record.document_sha256
        );
        assert_eq!(first.index, 0);
        let mut invalid = entry(1);
        invalid.record.agency = String::new();
        assert!(log.append(invalid).is_err(), "invalid entries are refused");
    }

    impl Appended {
        fn checkpoint_root(&self) -> Hash {
            let n = SignedNote::parse(&self.checkpoint).expect("note");
            Checkpoint::parse(&n.text).expect("cp").root
        }
    }

    #[test]
    fn a_changed_record_is_detected_at_startup() {
        let (_t, dir) = filled(20);
        {
            let db = raw(&dir);
            let mut v = db.get(e_key(7)).expect("get").expect("entry").to_vec();
            let e = LogEntry::decode(&v).expect("decode");
            // Same length, other document reference: a silent rewrite.
            let changed = LogEntry {
                caller: "CN=someone-else".chars().take(e.caller.len()).collect(),
                ..e
            };
            v = changed.encode().expect("encode");
            db.insert(e_key(7), v).expect("insert");
            db.flush().expect("flush");
        }
        let err = open(&dir).expect_err("must refuse");
        assert!(err.to_string().contains("do not match the tree"), "{err}");
        assert!(check_dir(&dir).is_err());
    }

    #[test]
    fn deleting_the_newest_entries_is_detected() {
        // Deleted records.
        let (_t, dir) = filled(20);
        {
            let db = raw(&dir);
            for i in 17..20 {
                db.remove(e_key(i)).expect("remove");
            }
            db.flush().expect("flush");
        }
        let err = open(&dir).expect_err("must refuse");
        assert!(
            err.to_string()
                .contains("entries are stored but the tree size is 20"),
            "{err}"
        );
        // Cut off cleanly: records, nodes, indexes, size and an older *signed* checkpoint put
        // back — only the external checkpoint can tell.
        let (_t2, dir2) = filled(10);
        let old_note = raw(&dir2)
            .get(META_CHECKPOINT)
            .expect("get")
            .expect("note")
            .to_vec();
        {
            let log = open(&dir2).expect("open");
            for i in 10..15 {
                log.append(entry(i)).expect("append");
            }
        }
        {
            let db = raw(&dir2);
            for i in 10..15u64 {
                db.remove(e_key(i)).expect("rm");
            }
            for level in 1..8u8 {
                let first = 10u64 >> level;
                for idx in first..(16u64 >> level) + 1 {
                    if (idx + 1) << level > 10 {
                        db.remove(n_key(level, idx)).expect("rm");
                    }
                }
            }
            db.insert(META_SIZE, &10u64.to_be_bytes()).expect("size");
            db.insert(META_CHECKPOINT, old_note).expect("note");
            db.flush().expect("flush");
        }
        assert!(
            check(
                &raw(&dir2),
                Path::new("/nonexistent"),
                &load_or_create_key(&dir2, ORIGIN).expect("key").verifier(),
                None
            )
            .is_ok(),
            "the cut database is self-consistent"
        );
        let err = open(&dir2).expect_err("must refuse");
        assert!(
            matches!(
                err,
                StoreError::BehindExternal {
                    db: 10,
                    external: 15
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn restoring_an_older_copy_is_detected() {
        let (t, dir) = filled(12);
        let copy = t.path().join("copy");
        copy_dir(&sled_dir(&dir), &copy);
        {
            let log = open(&dir).expect("open");
            for i in 12..30 {
                log.append(entry(i)).expect("append");
            }
        }
        fs::remove_dir_all(sled_dir(&dir)).expect("rm");
        copy_dir(&copy, &sled_dir(&dir));
        let err = open(&dir).expect_err("must refuse");
        assert!(
            matches!(
                err,
                StoreError::BehindExternal {
                    db: 12,
                    external: 30
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("older copy restored"), "{err}");
    }

    #[test]
    fn anything_past_the_tree_size_or_unknown_is_detected() {
        let (_t, dir) = filled(9);
        {
            let db = raw(&dir);
            db.insert(e_key(9), entry(9).at(9).encode().expect("enc"))
                .expect("insert");
            db.flush().expect("flush");
        }
        let err = open(&dir).expect_err("must refuse");
        assert!(err.to_string().contains("past the tree size"), "{err}");
        let (_t2, dir2) = filled(4);
        {
            let db = raw(&dir2);
            db.insert(b"zz", b"?").expect("insert");
            db.flush().expect("flush");
        }
        let err = open(&dir2).expect_err("must refuse");
        assert!(err.to_string().contains("unknown key"), "{err}");
    }

    #[test]
    fn reopening_waits_for_a_lock_held_by_this_process() {
        let t = tempfile::tempdir().expect("tempdir");
        let dir = t.path().join("log");
        let first = open_db(&dir).expect("first handle");
        // The holder lets go a little later; the second open must wait for it, not fail.
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        open_db(&dir).expect("the second open waits for the lock");
        holder.join().expect("holder");
    }

    #[test]
    fn log_key_with_loose_mode_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().expect("tempdir");
        let dir = t.path().join("log");
        let key = load_or_create_key(&dir, ORIGIN).expect("created");
        let path = dir.join("log.key");
        assert_eq!(
            fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        assert!(!dir.join("log.key.tmp").exists());
        assert!(dir.join("log.vkey").is_file());
        for mode in [0o640, 0o604, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            let err = load_or_create_key(&dir, ORIGIN).expect_err("loose mode");
            assert!(
                err.to_string().contains(&format!(
                    "has mode {mode:o}; it must not be readable by others"
                )),
                "{err}"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let again = load_or_create_key(&dir, ORIGIN).expect("loads");
        assert_eq!(again.verifier().to_vkey(), key.verifier().to_vkey());
        // The reference key likewise.
        drop(Log::open(&dir, ORIGIN, again).expect("open"));
        let refs = dir.join(REF_KEY);
        assert_eq!(
            fs::metadata(&refs).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&refs, fs::Permissions::from_mode(0o640)).expect("chmod");
        let err = open(&dir).expect_err("loose ref.key");
        assert!(err.to_string().contains("ref.key"), "{err}");
        assert!(err.to_string().contains("has mode 640"), "{err}");
    }

    #[test]
    fn a_lost_ref_key_is_refused_and_references_are_found_by_their_keyed_hash() {
        let (_t, dir) = filled(0);
        let log = open(&dir).expect("open");
        let mut e = entry(1);
        e.record.document_ref_hmac = Some(log.reference_hmac("dev", "3171234567890001"));
        let a = log.append(e).expect("append").index;
        log.append(entry(3)).expect("append");
        assert_eq!(
            log.find_by_reference("dev", "3171234567890001")
                .expect("find"),
            vec![a]
        );
        assert!(log
            .find_by_reference("dev-2", "3171234567890001")
            .expect("find")
            .is_empty());
        assert!(log
            .find_by_reference("dev", "317123456789000")
            .expect("find")
            .is_empty());
        drop(log);
        // Rebuilt at startup.
        let log = open(&dir).expect("reopen");
        assert_eq!(
            log.find_by_reference("dev", "3171234567890001")
                .expect("find"),
            vec![a]
        );
        drop(log);
        // Without its key the hashes cannot be looked up: refused, not silently replaced.
        fs::remove_file(dir.join(REF_KEY)).expect("rm");
        let err = open(&dir).expect_err("lost ref.key");
        assert!(err.to_string().contains("restore it"), "{err}");
        assert!(!dir.join(REF_KEY).exists(), "no new key written");
        // A log whose entries carry no keyed reference gets a new key.
        let (_t2, dir2) = filled(0);
        let mut plain = entry(5);
        plain.record.document_ref_hmac = None;
        open(&dir2).expect("open").append(plain).expect("append");
        fs::remove_file(dir2.join(REF_KEY)).expect("rm");
        drop(open(&dir2).expect("open"));
        assert!(dir2.join(REF_KEY).is_file());
    }

    #[test]
    fn idempotency_records_are_small_and_keyed_by_a_hash() {
        let (_t, dir) = filled(2);
        let log = open(&dir).expect("open");
        let key = b"siola-dev\0surat-1".to_vec();
        let with = |replay: Vec<u8>| NewEntry {
            request: Some(RequestRecord {
                key: key.clone(),
                fingerprint: [7; 32],
                replay,
            }),
            ..entry(9)
        };
        let err = log
            .append(with(vec![1; MAX_REPLAY + 1]))
            .expect_err("too large");
        assert!(matches!(err, StoreError::TooLarge(_)), "{err}");
        let index = log.append(with(vec![2; MAX_REPLAY])).expect("append").index;
        assert_eq!(
            log.request(&key).expect("read"),
            Some(StoredRequest {
                fingerprint: [7; 32],
                index,
                replay: vec![2; MAX_REPLAY],
            })
        );
        drop(log);
        let db = raw(&dir);
        let stored: Vec<_> = db.scan_prefix(b"i").map(|kv| kv.expect("kv")).collect();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            stored[0].0.len(),
            33,
            "the key is a hash, not the caller and id"
        );
        assert!(stored[0].1.len() <= MAX_REQUEST_VALUE);
        // A malformed record is refused at startup.
        db.insert(i_key(b"x"), vec![2, 1, 2]).expect("insert");
        db.flush().expect("flush");
        drop(db);
        let err = open(&dir).expect_err("malformed");
        assert!(err.to_string().contains("idempotency record"), "{err}");
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for e in fs::read_dir(from).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            if p.is_dir() {
                copy_dir(&p, &to.join(e.file_name()));
            } else {
                fs::copy(&p, to.join(e.file_name())).expect("copy");
            }
        }
    }
}
