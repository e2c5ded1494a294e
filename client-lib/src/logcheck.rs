//! Checking what a Segel server says about its log: signed checkpoints, inclusion proofs and
//! consistency between the checkpoints one client has seen (pure; no I/O).
//!
//! A [`LogView`] holds the log's verifier key and the newest checkpoint this client accepted.
//! Every checkpoint from the server must be signed by that key; one of another size is accepted
//! only with a consistency proof linking it to the newest (so a server that shows different
//! histories to different callers, or rewrites its own, is caught by any client that saw both).

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
    /// The record as logged (what the leaf hash is over).
    pub encoded: Vec<u8>,
    /// The checkpoint the proof is against.
    pub checkpoint: VerifiedCheckpoint,
    /// The inclusion proof's hashes.
    pub proof: Vec<Hash>,
}

/// A log entry as a server gave it, not yet checked against a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncheckedEntry {
    /// Its index.
    pub index: u64,
    /// Its leaf hash, as given (checked against the record).
    pub leaf_hash: Vec<u8>,
    /// The encoded record (the tlog entry format, version byte first).
    pub record: Vec<u8>,
}

/// An inclusion proof as a server gave it: the path from a leaf to the root of a tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index.
    pub leaf_index: u64,
    /// The tree's size.
    pub tree_size: u64,
    /// The path's hashes, as given (each must have 32 bytes).
    pub hashes: Vec<Vec<u8>>,
}

/// A consistency proof as a server gave it: a tree of `old_size` leaves is a prefix of the one
/// of `new_size` (RFC 9162, section 2.1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older tree's size.
    pub old_size: u64,
    /// The newer tree's size.
    pub new_size: u64,
    /// The proof's hashes, as given (each must have 32 bytes).
    pub hashes: Vec<Vec<u8>>,
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
        proof: Option<&ConsistencyProof>,
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

    /// Check that `cp` is a prefix of `anchor` (an earlier newest checkpoint of this view, so
    /// a prefix of the newest): the consistency `proof` from `cp`'s size to `anchor`'s.
    ///
    /// # Errors
    /// [`LogCheckError::Fork`] or [`LogCheckError::Inconsistent`].
    pub fn check_prefix(
        &self,
        cp: &VerifiedCheckpoint,
        anchor: &VerifiedCheckpoint,
        proof: &ConsistencyProof,
    ) -> Result<(), LogCheckError> {
        let (a, b) = (&cp.checkpoint, &anchor.checkpoint);
        if a.size == b.size {
            return if a.root == b.root {
                Ok(())
            } else {
                Err(LogCheckError::Fork { size: a.size })
            };
        }
        let (old, new) = (a.size, b.size);
        let inconsistent = |detail: String| LogCheckError::Inconsistent { old, new, detail };
        if old > new {
            return Err(inconsistent(
                "the checkpoint is newer than the anchor".into(),
            ));
        }
        if old == 0 {
            return if a.root == tlog::EMPTY_ROOT {
                Ok(())
            } else {
                Err(LogCheckError::Fork { size: 0 })
            };
        }
        if proof.old_size != old || proof.new_size != new {
            return Err(inconsistent(format!(
                "the proof is for sizes {} to {}",
                proof.old_size, proof.new_size
            )));
        }
        let path = hashes(&proof.hashes, "consistency").map_err(inconsistent)?;
        tlog::verify_consistency(old, new, &path, &a.root, &b.root)
            .map_err(|e| inconsistent(e.to_string()))
    }

    /// Check an entry and its inclusion proof against a verified checkpoint.
    ///
    /// # Errors
    /// [`LogCheckError::Entry`] saying what does not match.
    pub fn check_entry(
        &self,
        entry: &UncheckedEntry,
        proof: &InclusionProof,
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
            encoded: entry.record.clone(),
            checkpoint: cp.clone(),
            proof: path,
        })
    }
}

/// An honest log for tests: leaves, a key and its signed checkpoints and proofs, computed
/// directly from the leaves (independently of `tlog`'s proof code).
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// An honest log of `n` leaves, its key and its signed checkpoints.
    pub(crate) struct Honest {
        pub(crate) signer: std::sync::Arc<tlog::NoteSigner>,
        pub(crate) leaves: Vec<Hash>,
    }

    impl Honest {
        pub(crate) fn new(n: usize) -> Self {
            let (signer, _) = tlog::NoteSigner::generate("test.example/log").expect("key");
            let leaves = (0..n)
                .map(|i| tlog::leaf_hash(format!("entry {i}").as_bytes()))
                .collect();
            Self {
                signer: std::sync::Arc::new(signer),
                leaves,
            }
        }

        pub(crate) fn root(&self, size: usize) -> Hash {
            root_of(&self.leaves[..size])
        }

        pub(crate) fn note(&self, size: usize) -> String {
            let cp = Checkpoint {
                origin: "test.example/log".into(),
                size: size as u64,
                root: self.root(size),
                extensions: Vec::new(),
            };
            self.signer.sign(&cp.to_text()).expect("sign")
        }

        pub(crate) fn view(&self) -> LogView {
            LogView::new(&self.signer.verifier().to_vkey(), None).expect("view")
        }

        /// RFC 9162 consistency proof (SUBPROOF), computed from the leaves directly.
        pub(crate) fn consistency(&self, old: usize, new: usize) -> ConsistencyProof {
            fn sub(leaves: &[Hash], m: usize, complete: bool) -> Vec<Hash> {
                let n = leaves.len();
                if m == n {
                    return if complete {
                        Vec::new()
                    } else {
                        vec![root_of(leaves)]
                    };
                }
                let k = split(n);
                if m <= k {
                    let mut p = sub(&leaves[..k], m, complete);
                    p.push(root_of(&leaves[k..]));
                    p
                } else {
                    let mut p = sub(&leaves[k..], m - k, false);
                    p.push(root_of(&leaves[..k]));
                    p
                }
            }
            ConsistencyProof {
                old_size: old as u64,
                new_size: new as u64,
                hashes: sub(&self.leaves[..new], old, true)
                    .iter()
                    .map(|h| h.to_vec())
                    .collect(),
            }
        }
    }

    pub(crate) fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub(crate) fn root_of(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => tlog::EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split(n);
                tlog::node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{root_of, Honest};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Honest checkpoints in any order are accepted with honest proofs, and the newest is
        /// the largest seen.
        #[test]
        fn honest_histories_are_accepted(n in 2usize..40, sizes in proptest::collection::vec(1usize..40, 1..6)) {
            let log = Honest::new(n);
            let mut view = log.view();
            let mut largest = 0;
            for s in sizes.into_iter().map(|s| s.min(n)) {
                let cp = view.check_note(&log.note(s)).expect("signed");
                let proof = match view.needs(&cp).expect("no fork") {
                    Need::Nothing => None,
                    Need::Consistency { old, new } => Some(log.consistency(old as usize, new as usize)),
                };
                view.accept(cp, proof.as_ref()).expect("consistent");
                largest = largest.max(s);
                prop_assert_eq!(view.newest().map(|c| c.checkpoint.size), Some(largest as u64));
            }
            // Every smaller honest checkpoint is a prefix of the newest.
            let newest = view.newest().cloned().expect("newest");
            for s in 1..=largest {
                let cp = view.check_note(&log.note(s)).expect("signed");
                let proof = log.consistency(s, largest);
                prop_assert!(view.check_prefix(&cp, &newest, &proof).is_ok(), "size {}", s);
            }
        }

        /// Any change to a consistency proof's hashes is caught.
        #[test]
        fn a_changed_consistency_proof_is_refused(n in 3usize..40, old in 1usize..39, which in 0usize..64, bit in 0u8..8) {
            let old = old.min(n - 1);
            let log = Honest::new(n);
            let mut view = log.view();
            view.accept(view.check_note(&log.note(old)).expect("signed"), None).expect("first");
            let newer = view.check_note(&log.note(n)).expect("signed");
            let mut proof = log.consistency(old, n);
            prop_assume!(!proof.hashes.is_empty());
            let i = which % proof.hashes.len();
            proof.hashes[i][usize::from(bit) % 32] ^= 1 << bit;
            prop_assert!(view.accept(newer, Some(&proof)).is_err());
            prop_assert_eq!(view.newest().map(|c| c.checkpoint.size), Some(old as u64));
        }

        /// Another tree of a size already seen is a fork; another tree of a larger size does
        /// not verify against the honest proof.
        #[test]
        fn another_history_is_refused(n in 2usize..30, size in 1usize..30) {
            let size = size.min(n);
            let honest = Honest::new(n);
            let mut view = honest.view();
            view.accept(view.check_note(&honest.note(size)).expect("signed"), None).expect("first");
            // The same key signing other leaves.
            let forged = Honest {
                signer: honest.signer.clone(),
                leaves: (0..n).map(|i| tlog::leaf_hash(format!("forged {i}").as_bytes())).collect(),
            };
            let other = view.check_note(&forged.note(size)).expect("signed");
            let fork = matches!(view.needs(&other), Err(LogCheckError::Fork { .. }));
            prop_assert!(fork, "not seen as a fork");
            if size < n {
                let bigger = view.check_note(&forged.note(n)).expect("signed");
                prop_assert!(view.accept(bigger, Some(&forged.consistency(size, n))).is_err());
            }
        }

        /// Arbitrary text as a note, arbitrary entries and proofs: refused, never a panic.
        #[test]
        fn garbage_is_refused(note in ".{0,300}", record in proptest::collection::vec(any::<u8>(), 0..200),
                              hashes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
                              index in any::<u64>(), size in any::<u64>()) {
            let log = Honest::new(4);
            let view = log.view();
            prop_assert!(view.check_note(&note).is_err());
            let cp = view.check_note(&log.note(4)).expect("signed");
            let entry = UncheckedEntry { index, leaf_hash: tlog::leaf_hash(&record).to_vec(), record };
            let proof = InclusionProof { leaf_index: index, tree_size: size, hashes };
            prop_assert!(view.check_entry(&entry, &proof, &cp).is_err());
        }
    }

    #[test]
    fn a_real_entry_proves_and_a_changed_one_does_not() {
        let record = tlog::LogEntry {
            index: 2,
            time_ms: 1,
            agency: "dev".into(),
            certificate_sha256: [1; 32],
            caller: "CN=x".into(),
            message_digest: [2; 32],
            signature_sha256: [3; 32],
            document_sha256: [4; 32],
            document_source: tlog::DocumentSource::Server,
            document_ref: None,
            document_ref_hmac: None,
            document_id_sha256: tlog::DocumentIdHash::Absent,
        }
        .encode()
        .expect("encode");
        let mut log = Honest::new(3);
        log.leaves[2] = tlog::leaf_hash(&record);
        let view = log.view();
        let cp = view.check_note(&log.note(3)).expect("signed");
        // Proof for leaf 2 of 3: the root of leaves 0..2.
        let proof = InclusionProof {
            leaf_index: 2,
            tree_size: 3,
            hashes: vec![root_of(&log.leaves[..2]).to_vec()],
        };
        let entry = UncheckedEntry {
            index: 2,
            leaf_hash: log.leaves[2].to_vec(),
            record: record.clone(),
        };
        let proven = view.check_entry(&entry, &proof, &cp).expect("proves");
        assert_eq!(proven.record.agency, "dev");
        let mut changed = entry.clone();
        changed.record[5] ^= 1;
        changed.leaf_hash = tlog::leaf_hash(&changed.record).to_vec();
        assert!(view.check_entry(&changed, &proof, &cp).is_err());
        let wrong_key = LogView::new(&Honest::new(1).signer.verifier().to_vkey(), None).expect("v");
        assert!(wrong_key.check_note(&log.note(3)).is_err());
    }
}
