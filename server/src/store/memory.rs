//! A [`Backend`] in memory, for tests: a `BTreeMap` behind a lock.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use super::backend::{Backend, Batch, Pairs};
use super::StoreError;

/// An in-memory [`Backend`]. Clones share the map, so a log opened again on a clone (a
/// "reopen") finds what the previous one wrote. Nothing outlives the last clone: a flush has
/// nothing to make durable.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    map: Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>,
}

impl MemoryBackend {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Db("the in-memory map's lock is poisoned".into())
}

impl Backend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map.read().map_err(poisoned)?.get(key).cloned())
    }

    /// A snapshot of the range taken under the lock.
    fn scan<'a>(&'a self, from: &[u8], to: Option<&[u8]>) -> Pairs<'a> {
        if to.is_some_and(|t| t < from) {
            return Box::new(std::iter::empty());
        }
        let end = to.map_or(Bound::Unbounded, |t| Bound::Excluded(t.to_vec()));
        let pairs: Result<Vec<_>, StoreError> = self.map.read().map_err(poisoned).map(|m| {
            m.range((Bound::Included(from.to_vec()), end))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        match pairs {
            Ok(p) => Box::new(p.into_iter().map(Ok)),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut map = self.map.write().map_err(poisoned)?;
        for (key, value) in batch.into_writes() {
            match value {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
