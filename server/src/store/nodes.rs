//! Readers of Merkle tree nodes for the tlog core: from the database, from a commit's overlay
//! over it, and from levels held in memory.

use std::collections::HashMap;

use tlog::{Hash, NodeReader, TlogError};

use super::{e_key, n_key, Backend};

/// The nodes stored in the database; leaves are the hashes of the stored entries.
pub(super) struct DbNodes<'a>(pub(super) &'a dyn Backend);

impl NodeReader for DbNodes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
        if level == 0 {
            // Leaf hashes are not stored twice: they are the hashes of the records.
            return match self.0.get(&e_key(index)) {
                Ok(Some(v)) => Ok(tlog::leaf_hash(&v)),
                Ok(None) => Err(TlogError::Store(format!("entry {index} is missing"))),
                Err(e) => Err(TlogError::Store(e.to_string())),
            };
        }
        match self.0.get(&n_key(level, index)) {
            Ok(Some(v)) => v
                .as_slice()
                .try_into()
                .map_err(|_| TlogError::Store(format!("node {level}/{index} is not 32 bytes"))),
            Ok(None) => Err(TlogError::Store(format!("node {level}/{index} is missing"))),
            Err(e) => Err(TlogError::Store(e.to_string())),
        }
    }
}

/// Nodes of the batch being written, over the database.
pub(super) struct Overlay<'a> {
    pub(super) db: DbNodes<'a>,
    pub(super) fresh: HashMap<(u8, u64), Hash>,
}

impl NodeReader for Overlay<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
        match self.fresh.get(&(level, index)) {
            Some(h) => Ok(*h),
            None => self.db.node(level, index),
        }
    }
}

/// Every level of a recomputed tree, for the full check.
pub(super) struct Levels(pub(super) Vec<Vec<Hash>>);

impl NodeReader for Levels {
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
        self.0
            .get(usize::from(level))
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or_else(|| TlogError::Store(format!("node {level}/{index} not computed")))
    }
}
