//! Errors: proofs, notes, and the store behind them.

/// A proof did not verify, or could not be made.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The index is not below the tree size.
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency between sizes that cannot be compared (0, or old > new).
    #[error("no consistency proof between sizes {old} and {new}")]
    BadSizes {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("the proof has {got} hashes, {want} expected")]
    WrongLength {
        /// Hashes given.
        got: usize,
        /// Hashes needed.
        want: usize,
    },
    /// The recomputed root differs from the expected one.
    #[error("the proof leads to another root")]
    RootMismatch,
    /// A hash is not 32 bytes.
    #[error("a hash has {0} bytes, not 32")]
    BadHash(usize),
}

/// A signed note or checkpoint is malformed or does not verify.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The text breaks the format; says where and what.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// A verifier key string is malformed.
    #[error("malformed verifier key: {0}")]
    BadKey(&'static str),
    /// A signature by a known key does not verify.
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    /// No signature by any known key.
    #[error("no signature by a known key")]
    NoKnownSignature,
    /// The checkpoint body is malformed.
    #[error("malformed checkpoint: {0}")]
    Checkpoint(&'static str),
}

/// Everything the log core can report, including the store's own failure.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TlogError {
    /// A proof problem.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A note problem.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The node store failed or lacks a node it should have.
    #[error("node store: {0}")]
    Store(String),
}
