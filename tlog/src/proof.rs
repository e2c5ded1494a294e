//! Tree heads and proofs (RFC 9162 §2.1.2–§2.1.4), over a store of complete-subtree hashes.

use crate::error::{ProofError, TlogError};
use crate::hash::{node_hash, Hash, EMPTY_ROOT};

/// Read access to the hashes of complete subtrees: `level` 0 are leaf hashes; `(level, index)`
/// covers leaves `[index·2^level, (index+1)·2^level)`.
pub trait NodeReader {
    /// The hash of the complete subtree `(level, index)`.
    ///
    /// # Errors
    /// When the store fails or does not hold the node.
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError>;
}

impl NodeReader for std::collections::HashMap<(u8, u64), Hash> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
        self.get(&(level, index))
            .copied()
            .ok_or_else(|| TlogError::Store(format!("no node at level {level} index {index}")))
    }
}

/// The largest power of two strictly below `n` (`n > 1`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[a:b]) from stored complete subtrees.
fn mth(store: &impl NodeReader, a: u64, b: u64) -> Result<Hash, TlogError> {
    let n = b - a;
    if n == 0 {
        return Ok(EMPTY_ROOT);
    }
    if n.is_power_of_two() && a % n == 0 {
        let level = n.trailing_zeros() as u8;
        return store.node(level, a >> level);
    }
    let k = split(n);
    Ok(node_hash(&mth(store, a, a + k)?, &mth(store, a + k, b)?))
}

/// The root of the tree of the first `size` leaves.
///
/// # Errors
/// When the store lacks a node.
pub fn root(store: &impl NodeReader, size: u64) -> Result<Hash, TlogError> {
    mth(store, 0, size)
}

/// The nodes that become complete when leaf number `size` (0-based) with hash `leaf` is
/// appended to a tree of `size` leaves: `(level, index, hash)`, leaf first.
///
/// # Errors
/// When the store lacks a left sibling it should hold.
pub fn append_nodes(
    store: &impl NodeReader,
    size: u64,
    leaf: Hash,
) -> Result<Vec<(u8, u64, Hash)>, TlogError> {
    let mut out = vec![(0, size, leaf)];
    let (mut level, mut index, mut h) = (0u8, size, leaf);
    while index & 1 == 1 {
        let left = store.node(level, index - 1)?;
        h = node_hash(&left, &h);
        level += 1;
        index >>= 1;
        out.push((level, index, h));
    }
    Ok(out)
}

/// PATH(m, D[a:b]) of RFC 9162 §2.1.3.1.
fn path(
    store: &impl NodeReader,
    m: u64,
    a: u64,
    b: u64,
    out: &mut Vec<Hash>,
) -> Result<(), TlogError> {
    let n = b - a;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(store, m, a, a + k, out)?;
        out.push(mth(store, a + k, b)?);
    } else {
        path(store, m - k, a + k, b, out)?;
        out.push(mth(store, a, a + k)?);
    }
    Ok(())
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (sibling of the leaf first).
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], or a store failure.
pub fn inclusion_proof(
    store: &impl NodeReader,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TlogError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    let mut out = Vec::new();
    path(store, index, 0, size, &mut out)?;
    Ok(out)
}

/// SUBPROOF(m, D[a:b], whole) of RFC 9162 §2.1.4.1.
fn subproof(
    store: &impl NodeReader,
    m: u64,
    a: u64,
    b: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), TlogError> {
    let n = b - a;
    if m == n {
        if !whole {
            out.push(mth(store, a, b)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(store, m, a, a + k, whole, out)?;
        out.push(mth(store, a + k, b)?);
    } else {
        subproof(store, m - k, a + k, b, false, out)?;
        out.push(mth(store, a, a + k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves.
///
/// # Errors
/// [`ProofError::BadSizes`] unless `0 < old <= new`, or a store failure.
pub fn consistency_proof(
    store: &impl NodeReader,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TlogError> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new }.into());
    }
    let mut out = Vec::new();
    subproof(store, old, 0, new, true, &mut out)?;
    Ok(out)
}

fn inclusion_len(m: u64, n: u64) -> usize {
    if n <= 1 {
        return 0;
    }
    let k = split(n);
    1 + if m < k {
        inclusion_len(m, k)
    } else {
        inclusion_len(m - k, n - k)
    }
}

fn consistency_len(m: u64, n: u64, whole: bool) -> usize {
    if m == n {
        return usize::from(!whole);
    }
    let k = split(n);
    1 + if m <= k {
        consistency_len(m, k, whole)
    } else {
        consistency_len(m - k, n - k, false)
    }
}

/// Check an inclusion proof (RFC 9162 §2.1.3.2).
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], [`ProofError::WrongLength`] or [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let want = inclusion_len(index, size);
    if proof.len() != want {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want,
        });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want,
            });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Check a consistency proof (RFC 9162 §2.1.4.2). `old` must be above 0: a proof from the empty
/// tree proves nothing and is refused.
///
/// # Errors
/// [`ProofError::BadSizes`], [`ProofError::WrongLength`] or [`ProofError::RootMismatch`].
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want: 0,
            });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let want = consistency_len(old, new, true);
    if proof.len() != want {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want,
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want,
            });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && fr == *old_root && sr == *new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
