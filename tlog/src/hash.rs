//! RFC 9162 §2.1.1 hashing: leaves prefixed with 0x00, interior nodes with 0x01.

use aws_lc_rs::digest::{Context, SHA256};

use crate::error::ProofError;

/// A SHA-256 node hash.
pub type Hash = [u8; 32];

/// The hash of the empty tree: SHA-256 of nothing.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut c = Context::new(&SHA256);
    c.update(&[0]);
    c.update(data);
    to_hash(c)
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut c = Context::new(&SHA256);
    c.update(&[1]);
    c.update(left);
    c.update(right);
    to_hash(c)
}

fn to_hash(c: Context) -> Hash {
    let mut h = [0; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

/// A hash from bytes that must be exactly 32 long (no padding of short or empty values).
///
/// # Errors
/// [`ProofError::BadHash`] otherwise.
pub fn hash_from_slice(b: &[u8]) -> Result<Hash, ProofError> {
    b.try_into().map_err(|_| ProofError::BadHash(b.len()))
}
