//! The start-up and offline check: every record re-hashed, every node recomputed, the
//! checkpoint and the external slots compared, the indexes rebuilt.

use std::fs;
use std::path::Path;

use tlog::{Hash, LogEntry, NoteVerifier};

use super::external::{parse_checkpoint, read_external};
use super::index::Indexes;
use super::nodes::Levels;
use super::records::MAX_DOCUMENT_ID;
use super::sled_backend::SledBackend;
use super::{
    io, n_key, read_size, Backend, RefKey, StoreError, StoredRequest, META_CHECKPOINT, META_SIZE,
};

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

/// Open the on-disk database of `dir` read-only in spirit (nothing is written) and run the
/// full check with the verifier key in `dir/log.vkey`.
///
/// # Errors
/// As [`check`], plus a missing or malformed verifier key, or no database in `dir`.
pub fn check_dir(dir: &Path) -> Result<CheckReport, StoreError> {
    let vpath = dir.join("log.vkey");
    let vkey = fs::read_to_string(&vpath).map_err(io(&vpath))?;
    let verifier = NoteVerifier::parse(vkey.trim()).map_err(|e| StoreError::Io {
        path: vpath.clone(),
        message: e.to_string(),
    })?;
    // The external checkpoint files need no database: checked first, so that forged ones are
    // reported as such even while a server holds the database ("in use").
    super::external::read_external(dir, &verifier)?;
    let db = SledBackend::open_existing(dir)?;
    check(&db, dir, &verifier, None)
}

/// The full check: every record decodes and sits at its index, every stored node equals the
/// one recomputed from the records, (with `indexes`) the indexes list exactly the records,
/// nothing lies past the tree size, the stored checkpoint is signed by the log key and names the recomputed
/// root, and the external checkpoint is not ahead of (or forked from) the database.
///
/// # Errors
/// [`StoreError::Integrity`] or [`StoreError::BehindExternal`] naming the first problem.
pub fn check(
    db: &dyn Backend,
    dir: &Path,
    verifier: &NoteVerifier,
    origin: Option<&str>,
) -> Result<CheckReport, StoreError> {
    check_inner(db, dir, verifier, origin, None).map(|(r, _)| r)
}

/// The check, optionally building the in-memory lookups on the way (at startup).
pub(super) fn check_inner(
    db: &dyn Backend,
    dir: &Path,
    verifier: &NoteVerifier,
    origin: Option<&str>,
    build_indexes: Option<&RefKey>,
) -> Result<(CheckReport, Indexes), StoreError> {
    let size = read_size(db)?;
    let note = db
        .get(META_CHECKPOINT)?
        .ok_or_else(|| StoreError::Integrity("no checkpoint is stored".into()))?;
    let note = std::str::from_utf8(&note)
        .map_err(|_| StoreError::Integrity("the stored checkpoint is not UTF-8".into()))?;
    let cp = parse_checkpoint(note, verifier, "stored checkpoint")?;
    if cp.size != size {
        return Err(StoreError::Integrity(format!(
            "the stored checkpoint is for {} entries but the tree size is {size}",
            cp.size
        )));
    }
    if let Some(o) = origin {
        if cp.origin != o {
            return Err(StoreError::Integrity(format!(
                "the log's origin is {:?}, not {o:?}",
                cp.origin
            )));
        }
    }
    // Records → leaves; index keys expected.
    let cap = usize::try_from(size).unwrap_or(usize::MAX).min(1 << 28);
    let mut leaves: Vec<Hash> = Vec::with_capacity(cap);
    let mut indexes = Indexes::with_capacity(if build_indexes.is_some() { cap } else { 0 });
    for kv in db.scan_prefix(b"e") {
        let (k, v) = kv?;
        let expected = leaves.len() as u64;
        let idx = u64::from_be_bytes(
            k[1..]
                .try_into()
                .map_err(|_| StoreError::Integrity("bad entry key".into()))?,
        );
        if idx >= size {
            return Err(StoreError::Integrity(format!(
                "entry {idx} lies past the tree size {size}"
            )));
        }
        if idx != expected {
            return Err(StoreError::Integrity(format!(
                "entry {expected} is missing"
            )));
        }
        let e = LogEntry::decode(&v)
            .map_err(|err| StoreError::Integrity(format!("entry {idx}: {err}")))?;
        if e.index != idx {
            return Err(StoreError::Integrity(format!(
                "entry {idx} says it is entry {}",
                e.index
            )));
        }
        leaves.push(tlog::leaf_hash(&v));
        if let Some(refs) = build_indexes {
            indexes.add(&e, idx, refs);
        }
    }
    if (leaves.len() as u64) != size {
        return Err(StoreError::Integrity(format!(
            "{} entries are stored but the tree size is {size}",
            leaves.len()
        )));
    }
    // Levels, compared with the stored nodes level by level.
    let mut levels = vec![leaves];
    let mut nodes = 0u64;
    let mut level = 0u8;
    let mut stored = db.scan_prefix(b"n").peekable();
    loop {
        let cur = &levels[usize::from(level)];
        // Level 0 (leaf hashes) is not stored: it is recomputed from the records above.
        for (i, h) in cur.iter().enumerate().filter(|_| level > 0) {
            let (k, v) = stored
                .next()
                .transpose()?
                .ok_or_else(|| StoreError::Integrity(format!("node {level}/{i} is missing")))?;
            if k != n_key(level, i as u64) {
                return Err(StoreError::Integrity(format!(
                    "node {level}/{i} is missing or out of place (found key {})",
                    hex::encode(&k)
                )));
            }
            if v != h {
                return Err(StoreError::Integrity(if level == 1 {
                    format!(
                        "entries {} and {} do not match the tree (record changed?)",
                        2 * i,
                        2 * i + 1
                    )
                } else {
                    format!("node {level}/{i} does not match its children")
                }));
            }
            nodes += 1;
        }
        if cur.len() < 2 {
            break;
        }
        let next: Vec<Hash> = cur
            .chunks_exact(2)
            .map(|p| tlog::node_hash(&p[0], &p[1]))
            .collect();
        levels.push(next);
        level += 1;
    }
    if let Some(extra) = stored.next().transpose()? {
        return Err(StoreError::Integrity(format!(
            "a node lies past the tree size (key {})",
            hex::encode(&extra.0)
        )));
    }
    let levels = Levels(levels);
    let root = tlog::root(&levels, size)?;
    if root != cp.root {
        return Err(StoreError::Integrity(
            "the recomputed root differs from the signed checkpoint".into(),
        ));
    }
    // Nothing else in the database: probe the gaps between the known prefixes.
    let gaps: [(&[u8], &[u8]); 5] = [
        (b"", b"d"),
        (b"f", b"i"),
        (b"j", b"m\0"),
        (b"m\0", b"n"),
        (b"o", b"\xff\xff"),
    ];
    for kv in db.scan_prefix(b"i") {
        let (k, v) = kv?;
        match StoredRequest::decode(&v) {
            Some(r) if r.index < size && k.len() == 33 => {}
            _ => {
                return Err(StoreError::Integrity(format!(
                    "idempotency record {} is malformed or points past the tree size",
                    hex::encode(&k)
                )))
            }
        }
    }
    // Document ids kept beside entries: each under the SHA-256 of itself.
    for kv in db.scan_prefix(b"d") {
        let (k, v) = kv?;
        let sound = k.len() == 33
            && !v.is_empty()
            && v.len() <= MAX_DOCUMENT_ID
            && k[1..] == pades::sha256(&v);
        if !sound {
            return Err(StoreError::Integrity(format!(
                "document id record {} is not stored under its own SHA-256",
                hex::encode(&k)
            )));
        }
    }
    for (from, to) in gaps {
        for kv in db.scan(from, Some(to)) {
            let (k, _) = kv?;
            if k != META_SIZE && k != META_CHECKPOINT {
                return Err(StoreError::Integrity(format!(
                    "unknown key {} in the database",
                    hex::encode(&k)
                )));
            }
        }
    }
    if let Some(kv) = db.scan(b"\xff\xff", None).next() {
        let (k, _) = kv?;
        return Err(StoreError::Integrity(format!(
            "unknown key {} in the database",
            hex::encode(&k)
        )));
    }
    // The external checkpoint.
    let external = read_external(dir, verifier)?;
    if let Some(ext) = &external {
        if ext.size > size {
            return Err(StoreError::BehindExternal {
                db: size,
                external: ext.size,
            });
        }
        let at = tlog::root(&levels, ext.size)?;
        if at != ext.root {
            return Err(StoreError::Integrity(format!(
                "the database forks from the external checkpoint at size {}",
                ext.size
            )));
        }
    }
    Ok((
        CheckReport {
            size,
            nodes,
            root,
            external_size: external.map(|e| e.size),
        },
        indexes,
    ))
}
