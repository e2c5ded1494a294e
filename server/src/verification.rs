//! A verification as the server gives it, whatever the channel (gRPC `VerifyPdf`, the web page,
//! the JSON APIs): the engine's verdict per signature, and for each signature the log entry
//! that records it with an inclusion proof checked against the checkpoint read with it.
//!
//! The work is done by [`crate::service::Segel::verify_document`] (bounded by the verification
//! limits) and [`crate::service::Segel::document_entries`] (what the log holds for a visible
//! seal's document id); the edges turn these types into their wire shapes.

use pades::stamp::DocumentId;
use pades::verify::SignatureReport;
use pades::Indication;
use tlog::LogEntry;

use crate::reply::{Checkpoint, InclusionProof};

/// Which edge asked for a verification (the label of `segel_verifications_total{via}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// gRPC `VerifyPdf`.
    Grpc,
    /// The web page (`POST /`).
    Page,
    /// The JSON APIs (`/api/v1/verify`, `/api/v2/verify/pdf`).
    Api,
}

impl Via {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::Page => "page",
            Self::Api => "api",
        }
    }
}

/// The overall outcome of one verification, as metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every signature passed.
    TotalPassed,
    /// A signature failed.
    TotalFailed,
    /// Not enough to decide.
    Indeterminate,
    /// A readable PDF without any signature.
    NoSignature,
    /// Not a PDF, encrypted, or broken: no verdict.
    Unreadable,
    /// Refused before the engine ran (busy, too large, shutting down).
    Refused,
    /// The server failed (the log could not be read).
    Failed,
}

impl Outcome {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotalPassed => "total-passed",
            Self::TotalFailed => "total-failed",
            Self::Indeterminate => "indeterminate",
            Self::NoSignature => "no-signature",
            Self::Unreadable => "unreadable",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// A document's verification.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The overall indication ([`pades::Report::overall`]): INDETERMINATE when there is no
    /// signature at all (see [`Verification::signatures`]).
    pub overall: Indication,
    /// One per signature, in field order.
    pub signatures: Vec<CheckedSignature>,
    /// The log's checkpoint read before the lookups; every proof is at its size.
    pub checkpoint: Checkpoint,
    /// The tree size the checkpoint names.
    pub size: u64,
}

impl Verification {
    /// The outcome metrics count.
    pub fn outcome(&self) -> Outcome {
        if self.signatures.is_empty() {
            return Outcome::NoSignature;
        }
        match self.overall {
            Indication::TotalPassed => Outcome::TotalPassed,
            Indication::TotalFailed => Outcome::TotalFailed,
            Indication::Indeterminate => Outcome::Indeterminate,
        }
    }
}

/// One signature's verdict and what the log holds for it.
#[derive(Debug, Clone)]
pub struct CheckedSignature {
    /// The engine's report.
    pub report: SignatureReport,
    /// The log entry recording this very signature (same signature value and signed bytes),
    /// if the log has one at the checkpoint's size.
    pub log: Option<LogMatch>,
}

/// A log entry with its inclusion proof at the checkpoint's size.
#[derive(Debug, Clone)]
pub struct LogMatch {
    /// The entry's index.
    pub index: u64,
    /// The entry.
    pub entry: LogEntry,
    /// The entry as the log hashes it (the tlog entry format).
    pub record: Vec<u8>,
    /// The visible seal's document id, when the entry records one and the log kept it (its
    /// SHA-256 is the record's `document_id_sha256`).
    pub document_id: Option<String>,
    /// The inclusion proof at the checkpoint's size.
    pub proof: InclusionProof,
    /// Whether the proof was checked and leads from the entry's leaf hash to the root of the
    /// signed checkpoint.
    pub proof_verified: bool,
}

/// What the log holds for one document id ([`crate::service::Segel::document_entries`]).
#[derive(Debug, Clone)]
pub struct DocumentEntries {
    /// The document id asked for.
    pub id: DocumentId,
    /// Its entries (usually one), each with a proof at the checkpoint's size.
    pub entries: Vec<LogMatch>,
    /// The checkpoint the proofs are at.
    pub checkpoint: Checkpoint,
    /// The tree size the checkpoint names.
    pub size: u64,
}

/// Why a verification gave no verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The document is over the size limit.
    #[error("the document has {bytes} bytes; the limit is {limit}")]
    TooLarge {
        /// Its size (when known).
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// Refused by the verification limits (busy, shutting down).
    #[error(transparent)]
    Refused(#[from] crate::limits::VerifyRefused),
    /// The engine could not read the document (not a PDF, encrypted, broken, over budget).
    #[error(transparent)]
    Engine(#[from] pades::Error),
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl VerifyError {
    /// The outcome metrics count.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::TooLarge { .. } | Self::Refused(_) => Outcome::Refused,
            Self::Engine(_) => Outcome::Unreadable,
            Self::Store(_) => Outcome::Failed,
        }
    }
}
