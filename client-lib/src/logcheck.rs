//! Checking what a Segel server says about its log: signed checkpoints, inclusion proofs and
//! consistency between the checkpoints one client has seen (pure; no I/O).
//!
//! A [`LogView`] holds the log's verifier key and the newest checkpoint this client accepted.
//! Every checkpoint from the server must be signed by that key; one of another size is accepted
//! only with a consistency proof linking it to the newest (so a server that shows different
//! histories to different callers, or rewrites its own, is caught by any client that saw both).

use segel_proto::v1 as pb;
use tlog::{Checkpoint, Hash, LogEntry, NoteVerifier, SignedNote};

/// Why an answer about the log was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogCheckError {
    /// The checkpoint note is malformed or not signed by the log's key.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The server's log key is not the one this client trusts.
    #[error("the server presents log key {got:?}, but this client trusts {want:?}")]
    KeyChanged {
        /// The key the server gave.
        got: String,
        /// The key the client trusts.
        want: String,
    },
    /// Two checkpoints of the same size with different roots: two histories.
    #[error("two different trees of size {size}: the log forked or was rewritten")]
    Fork {
        /// The size.
        size: u64,
    },
    /// A consistency proof was needed and does not verify.
    #[error("consistency from size {old} to {new}: {detail}")]
    Inconsistent {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
        /// What failed.
        detail: String,
    },
    /// An entry, or its inclusion proof, does not match the checkpoint.
    #[error("entry {index}: {detail}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// What is wrong.
        detail: String,
    },
}

/// A checkpoint whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// Size and root.
    pub checkpoint: Checkpoint,
    /// The signed note, verbatim.
    pub note: String,
}

/// A log entry proven to be in a verified checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenEntry {
    /// Its index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// The decoded record.
    pub record: LogEntry,
    /// The checkpoint the proof is against.
    pub checkpoint: VerifiedCheckpoint,
    /// The inclusion proof's hashes.
    pub proof: Vec<Hash>,
}

/// What a [`LogView`] needs before it can accept a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: it can be accepted as is.
    Nothing,
    /// A consistency proof from `old` to `new` (fetch it, then [`LogView::accept`]).
    Consistency {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
}

/// The log as one client has seen it: the key it trusts and the newest checkpoint it accepted.
#[derive(Debug, Clone)]
pub struct LogView {
    verifier: NoteVerifier,
    newest: Option<VerifiedCheckpoint>,
}

fn hashes(v: &[impl AsRef<[u8]>], what: &str) -> Result<Vec<Hash>, String> {
    v.iter()
        .enumerate()
        .map(|(i, h)| {
            h.as_ref()
                .try_into()
                .map_err(|_| format!("{what} hash {i} has {} bytes, not 32", h.as_ref().len()))
        })
        .collect()
}

impl LogView {
    /// A view trusting `verifier_key` (a C2SP verifier key string), having seen `newest` (a
    /// signed note, e.g. kept from an earlier run).
    ///
    /// # Errors
    /// A malformed key, or a `newest` note it did not sign.
    pub fn new(verifier_key: &str, newest: Option<&str>) -> Result<Self, LogCheckError> {
        let verifier = NoteVerifier::parse(verifier_key)
            .map_err(|e| LogCheckError::Checkpoint(format!("the log key: {e}")))?;
        let mut v = Self {
            verifier,
            newest: None,
        };
        if let Some(n) = newest {
            v.newest = Some(v.check_note(n)?);
        }
        Ok(v)
    }

    /// The trusted key, as a C2SP verifier key string.
    pub fn verifier_key(&self) -> String {
        self.verifier.to_vkey()
    }

    /// The newest checkpoint accepted so far.
    pub fn newest(&self) -> Option<&VerifiedCheckpoint> {
        self.newest.as_ref()
    }

    /// Check that the server's key is the trusted one.
    ///
    /// # Errors
    /// [`LogCheckError::KeyChanged`].
    pub fn check_key(&self, server_key: &str) -> Result<(), LogCheckError> {
        if server_key.is_empty() || server_key == self.verifier.to_vkey() {
            Ok(())
        } else {
            Err(LogCheckError::KeyChanged {
                got: server_key.to_string(),
                want: self.verifier.to_vkey(),
            })
        }
    }

    /// Parse a signed checkpoint note and check its signature by the trusted key.
    ///
    /// # Errors
    /// [`LogCheckError::Checkpoint`].
    pub fn check_note(&self, note: &str) -> Result<VerifiedCheckpoint, LogCheckError> {
        let bad = |e: tlog::NoteError| LogCheckError::Checkpoint(e.to_string());
        let signed = SignedNote::parse(note).map_err(bad)?;
        signed
            .verify(std::slice::from_ref(&self.verifier))
            .map_err(bad)?;
        let checkpoint = Checkpoint::parse(&signed.text).map_err(bad)?;
        if checkpoint.origin != self.verifier.name() {
            return Err(LogCheckError::Checkpoint(format!(
                "origin {:?} is not the log key's name {:?}",
                checkpoint.origin,
                self.verifier.name()
            )));
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            note: note.to_string(),
        })
    }

    /// What accepting `cp` needs: nothing, or a consistency proof with the newest.
    ///
    /// # Errors
    /// [`LogCheckError::Fork`] for a different root at the newest size.
    pub fn needs(&self, cp: &VerifiedCheckpoint) -> Result<Need, LogCheckError> {
        let Some(newest) = &self.newest else {
            return Ok(Need::Nothing);
        };
        let (a, b) = (&newest.checkpoint, &cp.checkpoint);
        if a.size == b.size {
            return if a.root == b.root {
                Ok(Need::Nothing)
            } else {
                Err(LogCheckError::Fork { size: a.size })
            };
        }
        let (old, new) = (a.size.min(b.size), a.size.max(b.size));
        if old == 0 {
            // Every tree extends the empty one; its root is fixed.
            let empty = if a.size == 0 { a } else { b };
            return if empty.root == tlog::EMPTY_ROOT {
                Ok(Need::Nothing)
            } else {
                Err(LogCheckError::Fork { size: 0 })
            };
        }
        Ok(Need::Consistency { old, new })
    }

    /// Accept `cp`, with the consistency proof [`LogView::needs`] asked for (`None` if it
    /// asked for nothing). The newest checkpoint advances when `cp` is newer.
    ///
    /// # Errors
    /// [`LogCheckError::Inconsistent`] or [`LogCheckError::Fork`].
    pub fn accept(
        &mut self,
        cp: VerifiedCheckpoint,
        proof: Option<&pb::ConsistencyProof>,
    ) -> Result<(), LogCheckError> {
        match self.needs(&cp)? {
            Need::Nothing => {}
            Need::Consistency { old, new } => {
                let inconsistent =
                    |detail: String| LogCheckError::Inconsistent { old, new, detail };
                let proof = proof.ok_or_else(|| inconsistent("no proof was given".into()))?;
                if proof.old_size != old || proof.new_size != new {
                    return Err(inconsistent(format!(
                        "the proof is for sizes {} to {}",
                        proof.old_size, proof.new_size
                    )));
                }
                let path = hashes(&proof.hashes, "consistency").map_err(inconsistent)?;
                let newest = self.newest.as_ref().map(|n| &n.checkpoint);
                let (older, newer) = match newest {
                    Some(n) if n.size == old => (n, &cp.checkpoint),
                    Some(n) => (&cp.checkpoint, n),
                    None => return Ok(()),
                };
                tlog::verify_consistency(old, new, &path, &older.root, &newer.root)
                    .map_err(|e| inconsistent(e.to_string()))?;
            }
        }
        let newer = self
            .newest
            .as_ref()
            .is_none_or(|n| cp.checkpoint.size > n.checkpoint.size);
        if newer {
            self.newest = Some(cp);
        }
        Ok(())
    }

    /// Check an entry and its inclusion proof against a verified checkpoint.
    ///
    /// # Errors
    /// [`LogCheckError::Entry`] saying what does not match.
    pub fn check_entry(
        &self,
        entry: &pb::LogEntry,
        proof: &pb::InclusionProof,
        cp: &VerifiedCheckpoint,
    ) -> Result<ProvenEntry, LogCheckError> {
        let bad = |detail: String| LogCheckError::Entry {
            index: entry.index,
            detail,
        };
        let leaf = tlog::leaf_hash(&entry.record);
        if entry.leaf_hash.as_slice() != leaf.as_slice() {
            return Err(bad("the leaf hash is not the hash of the record".into()));
        }
        let record =
            LogEntry::decode(&entry.record).map_err(|e| bad(format!("the record: {e}")))?;
        if record.index != entry.index {
            return Err(bad(format!("the record says index {}", record.index)));
        }
        if proof.leaf_index != entry.index || proof.tree_size != cp.checkpoint.size {
            return Err(bad(format!(
                "the proof is for entry {} in a tree of {}, the checkpoint has {}",
                proof.leaf_index, proof.tree_size, cp.checkpoint.size
            )));
        }
        let path = hashes(&proof.hashes, "inclusion").map_err(bad)?;
        tlog::verify_inclusion(
            &leaf,
            entry.index,
            cp.checkpoint.size,
            &path,
            &cp.checkpoint.root,
        )
        .map_err(|e| bad(format!("inclusion proof: {e}")))?;
        Ok(ProvenEntry {
            index: entry.index,
            leaf_hash: leaf,
            record,
            checkpoint: cp.clone(),
            proof: path,
        })
    }
}
