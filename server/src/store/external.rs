//! The external checkpoint: two slot files written in turn beside the database, so that a lost
//! tail or a restored older copy of the database is caught at start-up.

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tlog::{Checkpoint, NoteVerifier, SignedNote};

use super::{io, StoreError};

/// Size of one external checkpoint slot.
pub(super) const SLOT: usize = 16 * 1024;

/// The external checkpoint: two slot files written in turn, each with `pwrite` of a whole
/// fixed-size slot and `fdatasync`. A write torn by a crash leaves the other slot (one batch
/// older, still signed) intact; the reader takes the newest slot whose signature verifies.
/// Cheaper than write-temp + fsync + rename + directory fsync, and as safe: the content is
/// signed, so a torn slot cannot pass for a checkpoint.
pub(super) struct External {
    pub(super) files: [fs::File; 2],
    pub(super) paths: [PathBuf; 2],
    pub(super) next: usize,
}

impl External {
    pub(super) fn open(dir: &Path) -> Result<Self, StoreError> {
        let paths = [dir.join("checkpoint.a.note"), dir.join("checkpoint.b.note")];
        let open = |p: &Path| {
            fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(p)
                .map_err(io(p))
        };
        let files = [open(&paths[0])?, open(&paths[1])?];
        // Overwrite the older slot first.
        let sizes: Vec<u64> = paths
            .iter()
            .map(|p| read_slot(p).ok().flatten().map_or(0, |t| note_size(&t)))
            .collect();
        let next = usize::from(sizes[1] < sizes[0]);
        Ok(Self { files, paths, next })
    }

    pub(super) fn write(&mut self, note: &str) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt;
        let path = &self.paths[self.next];
        if note.len() > SLOT {
            return Err(StoreError::Io {
                path: path.clone(),
                message: format!(
                    "checkpoint of {} bytes exceeds the {SLOT}-byte slot",
                    note.len()
                ),
            });
        }
        let mut buf = vec![0u8; SLOT];
        buf[..note.len()].copy_from_slice(note.as_bytes());
        let f = &self.files[self.next];
        f.write_all_at(&buf, 0).map_err(io(path))?;
        f.sync_data().map_err(io(path))?;
        self.next ^= 1;
        Ok(())
    }
}

/// The text in a slot file (up to the zero padding), `None` for an empty slot.
pub(super) fn read_slot(path: &Path) -> Result<Option<String>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    if end == 0 {
        return Ok(None);
    }
    String::from_utf8(bytes[..end].to_vec())
        .map(Some)
        .map_err(|_| StoreError::Integrity(format!("{} is not text", path.display())))
}

/// The tree size a note claims (unverified; for choosing the slot to overwrite).
pub(super) fn note_size(text: &str) -> u64 {
    text.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

/// Read and verify the external checkpoint: the newest slot whose signature verifies.
pub(super) fn read_external(
    dir: &Path,
    verifier: &NoteVerifier,
) -> Result<Option<Checkpoint>, StoreError> {
    let mut best: Option<Checkpoint> = None;
    let mut unreadable = Vec::new();
    for p in [dir.join("checkpoint.a.note"), dir.join("checkpoint.b.note")] {
        match read_slot(&p) {
            Ok(None) => {}
            Ok(Some(text)) => match parse_checkpoint(&text, verifier, &p.display().to_string()) {
                Ok(cp) => {
                    if best.as_ref().is_none_or(|b| cp.size > b.size) {
                        best = Some(cp);
                    }
                }
                Err(e) => unreadable.push(e.to_string()),
            },
            Err(e) => unreadable.push(e.to_string()),
        }
    }
    if best.is_none() && !unreadable.is_empty() {
        return Err(StoreError::Integrity(format!(
            "no external checkpoint verifies: {}",
            unreadable.join("; ")
        )));
    }
    Ok(best)
}

pub(super) fn parse_checkpoint(
    note: &str,
    verifier: &NoteVerifier,
    what: &str,
) -> Result<Checkpoint, StoreError> {
    let n = SignedNote::parse(note).map_err(|e| StoreError::Integrity(format!("{what}: {e}")))?;
    n.verify(std::slice::from_ref(verifier))
        .map_err(|e| StoreError::Integrity(format!("{what}: {e}")))?;
    Checkpoint::parse(&n.text).map_err(|e| StoreError::Integrity(format!("{what}: {e}")))
}
