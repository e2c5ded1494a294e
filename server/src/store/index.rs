//! The in-memory lookups by document, by signature, by reference and by document id: derived
//! from the records, rebuilt at start-up and extended as entries become durable.

use std::collections::HashMap;

use tlog::{Hash, LogEntry};

use super::RefKey;

/// Entries by a SHA-256 (document or signature): the first 8 bytes map to the index; the rare
/// further entries with the same prefix (the same PDF signed twice, say) go to a side table.
/// Lookups confirm the full hash against the record.
#[derive(Debug, Default)]
pub(super) struct HashIndex {
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

    pub(super) fn candidates(&self, h: &Hash) -> Vec<u64> {
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
pub(super) struct Indexes {
    pub(super) document: HashIndex,
    pub(super) signature: HashIndex,
    /// By keyed reference hash ([`RefKey::hmac`]; version 1 records' clear references too).
    pub(super) reference: HashIndex,
    /// Version 2 records that carry a keyed reference hash.
    pub(super) keyed_references: u64,
    /// By the SHA-256 of a visible seal's document id (version 3 records).
    pub(super) document_id: HashIndex,
}

impl Indexes {
    pub(super) fn with_capacity(n: usize) -> Self {
        let index = || HashIndex {
            first: HashMap::with_capacity(n),
            more: HashMap::new(),
        };
        Self {
            document: index(),
            signature: index(),
            reference: HashIndex::default(),
            keyed_references: 0,
            document_id: HashIndex::default(),
        }
    }

    pub(super) fn add(&mut self, e: &LogEntry, index: u64, refs: &RefKey) {
        self.document.insert(&e.document_sha256, index);
        self.signature.insert(&e.signature_sha256, index);
        if let Some(h) = &e.document_ref_hmac {
            self.reference.insert(h, index);
            self.keyed_references += 1;
        } else if let Some(r) = &e.document_ref {
            self.reference.insert(&refs.hmac(&e.agency, r), index);
        }
        if let Some(h) = e.document_id_sha256.hash() {
            self.document_id.insert(h, index);
        }
    }
}
