//! The seam between the log and its storage: an ordered key-value map with atomic batches and
//! a durability barrier.
//!
//! The log needs four things from a database, and [`Backend`] is exactly those four:
//!
//! | method | used for |
//! |---|---|
//! | [`Backend::get`] | reading an entry, a node, the tree size, the checkpoint, an idempotency record |
//! | [`Backend::scan`] | the start-up check: every entry, node and record in key order, and the gaps between them |
//! | [`Backend::apply`] | one commit: its entries, nodes, idempotency records, size and checkpoint together |
//! | [`Backend::flush`] | the durability barrier before a commit is acknowledged |
//!
//! Keys and values are small (see the key layout in [`crate::store`]): no value is larger than
//! an entry (about 1.5 KB) or an idempotency record ([`super::MAX_REQUEST_VALUE`] bytes), so a
//! backend need not handle large values.
//!
//! Implementations: [`super::sled_backend::SledBackend`] on disk and
//! [`super::memory::MemoryBackend`] in memory (tests); the conformance suite in
//! `store/conformance.rs` runs the log's tests against both.

use super::StoreError;

/// The pairs of a [`Backend::scan`], in ascending key order.
pub type Pairs<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + 'a>;

/// The storage under the log: an ordered map from byte strings to byte strings.
///
/// What each method must guarantee is written on it; the log's durability rests on
/// [`Backend::apply`] being atomic (also across a crash), on applied batches surviving a crash
/// in order, and on [`Backend::flush`] being a real durability barrier.
///
/// The log calls [`Backend::apply`] from one thread at a time and [`Backend::flush`] from one
/// thread at a time (possibly another one), while any thread may call [`Backend::get`].
/// [`Backend::scan`] is called only while nothing is written (the start-up check).
pub trait Backend: Send + Sync {
    /// The value stored under `key`, if any. Sees every batch applied before the call.
    ///
    /// # Errors
    /// [`StoreError::Db`] when the storage fails.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The pairs whose keys lie in `from..to` (`to` `None`: no upper bound), in ascending
    /// byte-wise order of the keys, each key once.
    ///
    /// # Errors
    /// Items are [`StoreError::Db`] when the storage fails.
    fn scan<'a>(&'a self, from: &[u8], to: Option<&[u8]>) -> Pairs<'a>;

    /// Apply every write of `batch` atomically: a reader sees all of them or none, and so does
    /// the database found after a crash. Batches become durable in the order they are applied:
    /// after a crash the database holds a prefix of the applied batches (every batch before
    /// the last [`Backend::flush`] at least), never a later batch without an earlier one.
    ///
    /// # Errors
    /// [`StoreError::Db`] when the storage fails; then none of the writes is applied.
    fn apply(&self, batch: Batch) -> Result<(), StoreError>;

    /// Make every batch applied before the call durable: once this returns `Ok`, no crash
    /// (process or power) loses them. The log acknowledges appends only after it.
    ///
    /// # Errors
    /// [`StoreError::Db`] or [`StoreError::Io`] when the storage fails; the log then stops
    /// accepting appends.
    fn flush(&self) -> Result<(), StoreError>;

    /// The pairs whose keys start with `prefix`, in ascending key order.
    fn scan_prefix<'a>(&'a self, prefix: &[u8]) -> Pairs<'a> {
        match prefix_end(prefix) {
            Some(end) => self.scan(prefix, Some(&end)),
            None => self.scan(prefix, None),
        }
    }
}

/// The first key after every key that starts with `prefix` (`None`: there is none).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Writes applied together by [`Backend::apply`], in the order they were added (a later write
/// to the same key wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Store `value` under `key`.
    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.writes.push((key.into(), Some(value.into())));
    }

    /// Remove `key` (nothing happens if it is absent).
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.writes.push((key.into(), None));
    }

    /// The writes in order: a value to store, or `None` to remove the key.
    pub fn into_writes(self) -> impl Iterator<Item = (Vec<u8>, Option<Vec<u8>>)> {
        self.writes.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_at_its_successor() {
        assert_eq!(prefix_end(b"e"), Some(b"f".to_vec()));
        assert_eq!(prefix_end(b"m\xff"), Some(b"n".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }
}
