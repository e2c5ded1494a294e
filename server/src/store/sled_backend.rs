//! The on-disk [`Backend`]: sled 0.34, one tree in `<log dir>/sled`. The only code of the
//! server that touches sled.
//!
//! **Durability.** sled 0.34's `flush` uses `sync_file_range`, which is no durability barrier
//! (sled issues #1351, #1452), so [`Backend::flush`] flushes sled and then calls `fdatasync`
//! on sled's data file (`sled/db`; sled 0.34 keeps that one file and never replaces it).
//! sled applies a batch atomically and recovers a prefix of its log after a crash, as
//! [`Backend::apply`] requires. There is no background flusher: the log flushes after every
//! commit.
//!
//! **Small values only.** sled 0.34 writes a page larger than a quarter of its segment
//! (512 KiB / 4 − 20 = [`BLOB_THRESHOLD`] bytes) as a separate blob file, and never syncs
//! blob files: an acknowledged entry could be lost at power failure. A leaf page holds at most
//! 17 keys, so every key and value stays small: entries are at most about 1.5 KB (their fields
//! are bounded), idempotency keys are 33 bytes and their values at most
//! [`super::MAX_REQUEST_VALUE`] bytes.

use std::fs;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::backend::{Backend, Batch, Pairs};
use super::{io, StoreError};

/// sled 0.34's blob threshold with its default 512 KiB segments: a page (node or update
/// fragment) larger than this goes into an unsynced blob file.
pub const BLOB_THRESHOLD: usize = 512 * 1024 / 4 - 20;

/// The sled database of a log directory.
///
/// A second process cannot open the same directory (sled's file lock); opening it again in
/// the same process waits for the previous handle's threads to let go.
pub struct SledBackend {
    db: sled::Db,
    /// sled's data file, made durable by `fdatasync` after sled's own flush.
    data_file: PathBuf,
    /// The data file, opened at the first flush and kept open.
    file: Mutex<Option<fs::File>>,
}

impl std::fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledBackend")
            .field("data_file", &self.data_file)
            .finish_non_exhaustive()
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        Self::Db(e.to_string())
    }
}

/// The folder of the sled database inside a log directory.
fn sled_dir(dir: &Path) -> PathBuf {
    dir.join("sled")
}

/// sled settings: the log flushes explicitly after every commit, so no background flusher.
fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(sled_dir(dir))
        .mode(sled::Mode::HighThroughput)
        .flush_every_ms(None)
        .cache_capacity(256 * 1024 * 1024)
}

impl SledBackend {
    /// Open (or create) the database of the log directory `dir`, waiting up to ten seconds for
    /// the file lock: sled's I/O threads release it a moment after a previous handle in this
    /// process is dropped (longer on a loaded machine). Another process holding the log open
    /// still fails, with [`StoreError::InUse`].
    ///
    /// # Errors
    /// [`StoreError::InUse`] when the lock stays taken, [`StoreError::Db`] when sled cannot
    /// open the database.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let mut tries = 0;
        let db = loop {
            match sled_config(dir).open() {
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if tries == 1000 {
                        return Err(StoreError::InUse {
                            dir: dir.to_path_buf(),
                        });
                    }
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other?,
            }
        };
        Ok(Self {
            db,
            data_file: sled_dir(dir).join("db"),
            file: Mutex::new(None),
        })
    }

    /// Open the database of `dir` only if one exists (creating nothing).
    ///
    /// # Errors
    /// [`StoreError::Io`] when `dir` holds no database; otherwise as [`SledBackend::open`].
    pub fn open_existing(dir: &Path) -> Result<Self, StoreError> {
        if !sled_dir(dir).join("db").is_file() {
            return Err(StoreError::Io {
                path: sled_dir(dir),
                message: "no log database here".into(),
            });
        }
        Self::open(dir)
    }
}

impl Backend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan<'a>(&'a self, from: &[u8], to: Option<&[u8]>) -> Pairs<'a> {
        if to.is_some_and(|t| t < from) {
            return Box::new(std::iter::empty());
        }
        let end = to.map_or(Bound::Unbounded, |t| Bound::Excluded(t.to_vec()));
        Box::new(
            self.db
                .range((Bound::Included(from.to_vec()), end))
                .map(|kv| {
                    kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .map_err(StoreError::from)
                }),
        )
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        for (key, value) in batch.into_writes() {
            match value {
                Some(v) => b.insert(key, v),
                None => b.remove(key),
            }
        }
        Ok(self.db.apply_batch(b)?)
    }

    /// sled's flush, then a real `fdatasync` of its data file.
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        let mut file = self
            .file
            .lock()
            .map_err(|_| StoreError::Db("the data file's lock is poisoned".into()))?;
        let f = match &mut *file {
            Some(f) => f,
            None => file.insert(fs::File::open(&self.data_file).map_err(io(&self.data_file))?),
        };
        f.sync_data().map_err(io(&self.data_file))
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::{entry, ORIGIN};
    use super::super::{load_or_create_key, Log};
    use super::*;

    #[test]
    fn reopening_waits_for_a_lock_held_by_this_process() {
        let t = tempfile::tempdir().expect("tempdir");
        let dir = t.path().join("log");
        let first = SledBackend::open(&dir).expect("first handle");
        // The holder lets go a little later; the second open must wait for it, not fail.
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        SledBackend::open(&dir).expect("the second open waits for the lock");
        holder.join().expect("holder");
    }

    #[test]
    fn restoring_an_older_copy_of_the_files_is_detected() {
        let t = tempfile::tempdir().expect("tempdir");
        let dir = t.path().join("log");
        let open = || {
            let key = load_or_create_key(&dir, ORIGIN).expect("key");
            Log::open(&dir, ORIGIN, key)
        };
        {
            let log = open().expect("open");
            for i in 0..12 {
                log.append(entry(i)).expect("append");
            }
        }
        let copy = t.path().join("copy");
        copy_dir(&sled_dir(&dir), &copy);
        {
            let log = open().expect("open");
            for i in 12..30 {
                log.append(entry(i)).expect("append");
            }
        }
        fs::remove_dir_all(sled_dir(&dir)).expect("rm");
        copy_dir(&copy, &sled_dir(&dir));
        let err = open().expect_err("must refuse");
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
    fn checking_a_folder_without_a_database_creates_nothing() {
        let t = tempfile::tempdir().expect("tempdir");
        let err = SledBackend::open_existing(t.path()).expect_err("no database");
        assert!(err.to_string().contains("no log database here"), "{err}");
        assert!(!sled_dir(t.path()).exists());
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
