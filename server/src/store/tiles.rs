//! The log as C2SP `tlog-tiles` (hash tiles and entry bundles, see [`tlog::tiles`]), read from
//! the store at the published tree size.
//!
//! A tile is served when the published tree has it or had it: a full tile once the tree
//! covers it, a partial tile of width `W` once the tree has at least `W` hashes (or entries) at
//! its position. A partial tile of an earlier tree has the same bytes in every tree that has
//! it, so it is computed at its own smallest tree size ([`TilePath::min_tree_size`]) from the
//! stored nodes, which never change. Nothing at or beyond the published size is ever read.
//!
//! Entry bundles hold the records exactly as stored: the bytes whose RFC 6962 leaf hash is the
//! tree's leaf (`DbNodes` hashes the same bytes), so a client hashing a bundle's entries gets
//! the level-0 tile. A record is at most [`MAX_RECORD_BYTES`] bytes (its fields are bounded and
//! every stored record is decoded, bounds checked, at start-up), far below the 65,535 bytes a
//! bundle can hold; a longer one is refused as [`TileReadError::EntryTooLong`], never cut.

use tlog::tiles::{encode_bundle, hash_tile, BundleError, TileError, TileKind, TilePath};

use super::nodes::DbNodes;
use super::{e_key, Log, StoreError};

/// The longest encoded record: a version 1 record with a 64-byte agency, a 1,024-byte caller
/// and a 256-byte reference in clear (later versions are shorter). See `tlog/src/entry.rs`.
pub const MAX_RECORD_BYTES: usize = 1 + 8 + 8 + (1 + 64) + 32 + (2 + 1024) + 3 * 32 + (2 + 256);

/// Why a tile or bundle is not served.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TileReadError {
    /// The published tree does not have this tile: it lies beyond the tree's size, or it is a
    /// partial tile wider than the tree is at its position (or at a level no 64-bit tree has).
    #[error("the log of {size} entries has no {tile}")]
    NotFound {
        /// The tile asked for.
        tile: TilePath,
        /// The published tree size.
        size: u64,
    },
    /// A stored record too long for an entry bundle (a u16 length). The server never writes
    /// one ([`MAX_RECORD_BYTES`]); finding one means the database is not what it wrote.
    #[error("entry {index} has {len} bytes: more than an entry bundle can hold (65535)")]
    EntryTooLong {
        /// The entry's index in the log.
        index: u64,
        /// Its length.
        len: usize,
    },
    /// The store failed, or lacks a record or node the published size says it holds.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Log {
    /// The bytes of `tile` (a hash tile or an entry bundle) as the published tree serves it.
    ///
    /// # Errors
    /// [`TileReadError::NotFound`] for a tile the published tree does not have;
    /// [`TileReadError::EntryTooLong`] or [`TileReadError::Store`] when the store does not
    /// hold what it should.
    pub fn tile(&self, tile: &TilePath) -> Result<Vec<u8>, TileReadError> {
        let size = self.size();
        // The smallest tree with this tile; it must be no larger than the published one.
        let at = tile
            .min_tree_size()
            .filter(|&min| min <= size)
            .ok_or(TileReadError::NotFound { tile: *tile, size })?;
        match tile.kind() {
            TileKind::Hash { .. } => self.hash_tile_at(tile, at),
            TileKind::Entries => self.entry_bundle(tile),
        }
    }

    /// The hash tile `tile` of the tree of `at` entries (`at` ≤ the published size).
    fn hash_tile_at(&self, tile: &TilePath, at: u64) -> Result<Vec<u8>, TileReadError> {
        hash_tile(&DbNodes(&*self.shared.db), at, tile).map_err(|e| match e {
            TileError::NotInTree { tile, size } => TileReadError::NotFound { tile, size },
            TileError::Store(e) => TileReadError::Store(e.into()),
            other => TileReadError::Store(StoreError::Integrity(other.to_string())),
        })
    }

    /// The entry bundle `tile`: its records as stored, each after its u16 big-endian length.
    /// The caller has checked that the published tree holds all of them.
    fn entry_bundle(&self, tile: &TilePath) -> Result<Vec<u8>, TileReadError> {
        let first = tile
            .index()
            .checked_mul(256)
            .ok_or(TileReadError::NotFound {
                tile: *tile,
                size: self.size(),
            })?;
        let mut records = Vec::with_capacity(usize::from(tile.width()));
        for index in first..first + u64::from(tile.width()) {
            let record = self
                .shared
                .db
                .get(&e_key(index))?
                .ok_or_else(|| StoreError::Integrity(format!("entry {index} is missing")))?;
            if record.len() > tlog::tiles::MAX_ENTRY_LEN {
                return Err(TileReadError::EntryTooLong {
                    index,
                    len: record.len(),
                });
            }
            records.push(record);
        }
        encode_bundle(&records).map_err(|e| match e {
            BundleError::EntryTooLong { index, len } => TileReadError::EntryTooLong {
                index: first + index as u64,
                len,
            },
            other => TileReadError::Store(StoreError::Integrity(other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tlog::tiles::{decode_bundle, TilePath};
    use tlog::{DocumentIdHash, DocumentSource, LogEntry};

    use super::*;
    use crate::store::memory::MemoryBackend;
    use crate::store::{load_or_create_key, NewEntry};

    const ORIGIN: &str = "segel.test/tiles";

    fn record(i: u64) -> LogEntry {
        LogEntry {
            index: 0,
            time_ms: 1_700_000_000_000 + i as i64,
            agency: "dev".into(),
            certificate_sha256: [1; 32],
            caller: format!("CN=caller {i}"),
            message_digest: tlog::leaf_hash(&i.to_be_bytes()),
            signature_sha256: [2; 32],
            document_sha256: [3; 32],
            document_source: DocumentSource::Server,
            document_ref: None,
            document_ref_hmac: None,
            document_id_sha256: DocumentIdHash::Absent,
        }
    }

    fn log_of(dir: &std::path::Path, n: u64) -> Arc<Log> {
        let key = load_or_create_key(dir, ORIGIN).expect("key");
        let log = Arc::new(Log::open_on(MemoryBackend::default(), dir, ORIGIN, key).expect("open"));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in (t..n).step_by(8) {
                        log.append(NewEntry {
                            record: record(i),
                            request: None,
                            document_id: None,
                        })
                        .expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("append thread");
        }
        assert_eq!(log.size(), n);
        log
    }

    fn path(s: &str) -> TilePath {
        TilePath::parse(s).expect("tile path")
    }

    #[test]
    fn the_longest_record_fits_a_bundle() {
        let mut e = record(0);
        e.agency = "a".repeat(64);
        e.caller = "c".repeat(1024);
        e.document_source = DocumentSource::Unrecorded;
        e.document_id_sha256 = DocumentIdHash::Unrecorded;
        e.document_ref = Some("r".repeat(256));
        assert_eq!(e.encode().expect("encode").len(), MAX_RECORD_BYTES);
        e.caller.push('c');
        assert!(
            e.encode().is_err(),
            "the caller bound is what bounds records"
        );
        const { assert!(MAX_RECORD_BYTES <= tlog::tiles::MAX_ENTRY_LEN) };
    }

    #[test]
    fn tiles_are_served_at_the_published_size_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_of(dir.path(), 300);
        // Full and partial tiles the tree has, and every narrower partial tile.
        assert_eq!(log.tile(&path("tile/0/000")).expect("full").len(), 256 * 32);
        assert_eq!(
            log.tile(&path("tile/0/001.p/44")).expect("partial").len(),
            44 * 32
        );
        assert_eq!(
            log.tile(&path("tile/0/001.p/3")).expect("older").len(),
            3 * 32
        );
        assert_eq!(
            log.tile(&path("tile/1/000.p/1")).expect("level 1").len(),
            32
        );
        // The level-1 hash is the root of the first 256 entries; a leaf is the record's hash.
        assert_eq!(
            log.tile(&path("tile/1/000.p/1")).expect("level 1"),
            log.root(256).expect("root").to_vec()
        );
        let leaves = log.tile(&path("tile/0/001.p/44")).expect("partial");
        let bundle = log.tile(&path("tile/entries/001.p/44")).expect("bundle");
        let entries = decode_bundle(&bundle, 44).expect("decode");
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(&leaves[i * 32..i * 32 + 32], tlog::leaf_hash(e).as_slice());
            let decoded = LogEntry::decode(e).expect("a record");
            assert_eq!(decoded.index, 256 + i as u64);
            assert_eq!(
                decoded,
                log.entry(256 + i as u64).expect("entry").expect("some")
            );
        }
        // Beyond the tree: wider partial tiles, full tiles it lacks, higher levels.
        for p in [
            "tile/0/001",
            "tile/0/001.p/45",
            "tile/0/002.p/1",
            "tile/entries/001",
            "tile/entries/001.p/45",
            "tile/1/000",
            "tile/1/000.p/2",
            "tile/2/000.p/1",
            "tile/7/000.p/1",
            "tile/63/x018/x446/x744/x073/x709/x551/615",
            "tile/0/x018/x446/x744/x073/x709/x551/615",
            "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255",
        ] {
            match log.tile(&path(p)) {
                Err(TileReadError::NotFound { size: 300, .. }) => {}
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_empty_log_has_no_tiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_of(dir.path(), 0);
        for p in ["tile/0/000.p/1", "tile/entries/000.p/1", "tile/0/000"] {
            assert!(matches!(
                log.tile(&path(p)),
                Err(TileReadError::NotFound { size: 0, .. })
            ));
        }
    }

    #[test]
    fn an_oversized_record_is_refused_not_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_of(dir.path(), 2);
        // A database changed behind the server's back: record 1 replaced by 70,000 bytes.
        let mut b = crate::store::Batch::default();
        b.insert(e_key(1), vec![0u8; 70_000]);
        log.shared.db.apply(b).expect("apply");
        match log.tile(&path("tile/entries/000.p/2")) {
            Err(TileReadError::EntryTooLong {
                index: 1,
                len: 70_000,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(log.tile(&path("tile/entries/000.p/1")).is_ok());
    }
}
