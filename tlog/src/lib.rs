//! # tlog — Segel's transparency log core
//!
//! Pure code (no I/O, no storage, no clock): RFC 9162 §2.1 Merkle tree hashing, inclusion and
//! consistency proofs (producing and checking) over a one-method node store, and the C2SP
//! `tlog-checkpoint` and `signed-note` formats with Ed25519 log keys, and the C2SP `tlog-tiles`
//! encoding of the tree and its entries ([`tiles`]).
//!
//! ```text
//!  leaf bytes ─leaf_hash─▶ Hash ─append_nodes─▶ new (level, index, hash) for the store
//!  store + size ─root / inclusion_proof / consistency_proof─▶ Hash, Vec<Hash>
//!  anyone: verify_inclusion / verify_consistency (no store needed)
//!  Checkpoint { origin, size, root } ─format─▶ note text ─Signer::sign─▶ signed note
//! ```
//!
//! The store holds the hash of every *complete* subtree: level 0 are leaf hashes, level `l`
//! index `i` covers leaves `[i·2^l, (i+1)·2^l)`. Appending leaf `n` adds exactly the nodes that
//! become complete ([`append_nodes`]), so any root and any proof are computed with O(log n)
//! reads.

#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod entry;
pub mod error;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tiles;

pub use checkpoint::Checkpoint;
pub use entry::{DocumentIdHash, DocumentSource, EntryError, LogEntry};
pub use error::{NoteError, ProofError, TlogError};
pub use hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
pub use note::{NoteSigner, NoteVerifier, SignedNote};
pub use proof::{
    append_nodes, consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion,
    NodeReader,
};
