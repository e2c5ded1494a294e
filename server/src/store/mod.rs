//! The signature log's storage: entries, Merkle nodes, idempotency records and checkpoints
//! in an ordered key-value [`Backend`], with group commit and a start-up check.
//!
//! ```text
//!  Log (log.rs): append, lookups, proofs ──▶ commit.rs: group commit ──▶ dyn Backend
//!   │                                                    │                 ├ SledBackend (disk)
//!   └ open: check.rs (start-up check, lookups rebuilt)   └ external.rs     └ MemoryBackend (tests)
//! ```
//!
//! The log reads and writes its database only through the [`Backend`] trait (get, ordered
//! scan, atomic batch, durable flush). On disk that is sled ([`sled_backend`], the only module
//! that uses it); [`memory::MemoryBackend`] serves tests, and one conformance suite
//! (`conformance.rs`) runs the log's tests on both.
//!
//! Keys by prefix:
//!
//! | key | value |
//! |---|---|
//! | `e` ‖ index (u64 BE) | the encoded [`LogEntry`](tlog::LogEntry) (the leaf) |
//! | `n` ‖ level (u8) ‖ index (u64 BE) | hash of a complete subtree, levels ≥ 1 (leaf hashes are the records' hashes) |
//! | `i` ‖ SHA-256(caller ‖ 0x00 ‖ request id) | idempotency record: 2 ‖ fingerprint ‖ index ‖ what rebuilds the answer (≤ [`MAX_REPLAY`] bytes) |
//! | `m:size` | tree size (u64 BE) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP signed note) |
//!
//! **Small values only.** Entries are at most about 1.5 KB (their fields are bounded),
//! idempotency keys are 33 bytes and their values at most [`MAX_REQUEST_VALUE`] bytes, so no
//! value reaches the size where sled stores it unsafely ([`sled_backend::BLOB_THRESHOLD`]).
//!
//! **No personal data in clear.** Anyone can read every entry. A caller's document reference is
//! logged only as HMAC-SHA256 under a key that only this server holds (`ref.key`, created next to
//! `log.key`), bound to the agency: the holder of a reference can look its entries up through
//! the server ([`Log::find_by_reference`]), the public cannot brute-force guessable references
//! (a NIK, a name) from the log.
//!
//! The lookups by document, by signature hash and by reference are kept in memory: they are derived data,
//! rebuilt from the verified records at every startup and extended as entries become durable,
//! so they can never disagree with the log (and cost no random writes in the database).
//!
//! **Group commit.** An applier thread takes the queued appends and writes them with their
//! nodes, the new size and the new signed checkpoint in one atomic batch ([`Backend::apply`]);
//! a syncer thread makes the database durable ([`Backend::flush`]: on sled, sled's flush and
//! then `fdatasync` of its data file), then writes the checkpoint to the external slot files
//! (`checkpoint.{a,b}.note`), and only then answers the callers. An append is acknowledged only
//! when it is durable; the applier prepares the next batch meanwhile.
//!
//! **Fail closed.** [`Log::open`] recomputes every leaf and node from the records, checks the
//! signed checkpoint against the recomputed root, refuses anything stored past the tree size,
//! and compares with the external checkpoint: a database behind it (lost tail, restored copy)
//! or forked from it is refused with a message saying so.

mod backend;
mod check;
mod commit;
#[cfg(test)]
mod conformance;
mod external;
mod index;
mod keys;
mod log;
pub mod memory;
mod nodes;
mod records;
pub mod sled_backend;
pub mod tiles;

pub use backend::{Backend, Batch, Pairs};
pub use check::{check, check_dir, CheckReport};
pub use commit::Announcement;
pub use keys::load_or_create_key;
pub use log::{Appended, Log};
pub use records::{NewEntry, RefKey, RequestRecord, StoredRequest};

use std::path::{Path, PathBuf};

use tlog::{Checkpoint, Hash, NoteSigner, TlogError};

/// Key of the tree size.
const META_SIZE: &[u8] = b"m:size";
/// Key of the latest signed checkpoint.
const META_CHECKPOINT: &[u8] = b"m:checkpoint";
/// Most appends written in one batch.
const MAX_BATCH: usize = 4096;
/// Longest a batch waits for announced appends ([`Log::announce`]) before it is committed.
/// A commit (a flush of the database, two `fdatasync`s, a signed checkpoint) costs far more
/// CPU than an append, so under concurrent load waiting briefly for the appends on their way
/// makes each commit carry many of them; a lone caller never waits (nothing else is announced).
pub const COMMIT_DELAY: std::time::Duration = std::time::Duration::from_millis(2);
/// Queue length before callers wait.
const QUEUE: usize = 8192;
/// Most bytes an idempotency record keeps to rebuild its answer: a time (8 bytes) and a
/// signature value (up to RSA-8192, 1024 bytes).
pub const MAX_REPLAY: usize = 8 + 1024;
/// Most bytes of a stored idempotency record's value.
pub const MAX_REQUEST_VALUE: usize = 1 + 32 + 8 + MAX_REPLAY;

/// Storage errors. Messages say what is wrong and, for startup checks, which check failed.
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The storage backend failed.
    #[error("database: {0}")]
    Db(String),
    /// Another process (normally the running server) holds the log directory open; nothing in
    /// it was read, so nothing is known about its integrity.
    #[error(
        "the log in {} is in use by a running server (or another process holding it open): \
         its files cannot be checked while it runs; stop the server and check again, or check \
         the running log through its API (`segel log checkpoint`, which verifies the signed \
         checkpoint and its consistency with the last one seen)",
        dir.display()
    )]
    InUse {
        /// The log directory.
        dir: PathBuf,
    },
    /// `log.key` is missing from a folder that already holds a log: a new key would sign
    /// checkpoints nobody can link to the published ones, so none is made.
    #[error(
        "{} holds a log ({found}) but no log.key: restore log.key from your backup of this \
         folder; a new key is made only for a new, empty log folder",
        dir.display()
    )]
    LogKeyMissing {
        /// The log directory.
        dir: PathBuf,
        /// What of the log was found there.
        found: String,
    },
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

/// The key of entry `index`.
fn e_key(index: u64) -> [u8; 9] {
    let mut k = [b'e'; 9];
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The key of node `level`/`index` (levels ≥ 1).
fn n_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [b'n'; 10];
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The stored tree size (0 when none is stored).
fn read_size(db: &dyn Backend) -> Result<u64, StoreError> {
    match db.get(META_SIZE)? {
        None => Ok(0),
        Some(v) => Ok(u64::from_be_bytes(v.as_slice().try_into().map_err(
            |_| StoreError::Integrity("the stored tree size is not 8 bytes".into()),
        )?)),
    }
}

/// The checkpoint of the tree of `size` entries with root `root`, signed with `key`.
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
