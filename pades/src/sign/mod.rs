//! Staged PAdES signing (ETSI EN 319 142-1 baseline B-B) by incremental update.
//!
//! ```text
//!  input bytes ──prepare()──▶ Prepared ──digest()──▶ [u8; 32]
//!                              │                        │ SignerIdentity::signed_attributes
//!                              │                        ▼
//!                              │                  Signer::sign (file key, HSM, remote)
//!                              │                        │ SignerIdentity::content_info
//!                              └────────embed(cms)◀─────┘
//!                                         │
//!                                         ▼
//!                                     SignedPdf = input ++ tail
//! ```
//! [`sign`] runs all stages with a [`Signer`](crate::Signer); a caller that signs elsewhere runs
//! them one by one.

mod dictionary;
mod embed;
mod field;
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "lock_dict waits for the field placement to call it"
    )
)]
mod lock;
mod prepare;
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "tag_widget waits for the field placement to call it"
    )
)]
mod structure;

use std::cell::OnceCell;
use std::ops::{Deref, Range};

pub use embed::sign;
pub use prepare::prepare;

use crate::time::UnixTime;

/// What to sign and how to describe the signature.
#[derive(Debug, Clone)]
pub struct SignatureRequest {
    /// Name of the signature field; an existing empty signature field of that name is signed,
    /// otherwise a new one is made. `None`: a new field `Signature1`, `Signature2`, ….
    pub field: Option<String>,
    /// Page (1-based) that carries the new field's widget.
    pub page: u32,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
    /// Claimed signing time, written as `/M`.
    pub time: UnixTime,
    /// Make this a certification signature with DocMDP permissions `/P` 1 (no changes), 2 (form
    /// filling and signing) or 3 (also annotations). It must be the document's first signature.
    pub certify: Option<u8>,
    /// Lock the document's signed signature fields, this one included, against later changes
    /// (a FieldMDP transform and the field's `/Lock`).
    pub lock_fields: bool,
    /// A visible seal to draw and place (`None`: an invisible signature).
    pub appearance: Option<crate::stamp::Appearance>,
}

impl SignatureRequest {
    /// A request with defaults (new field on page 1) at `time`.
    pub fn new(time: UnixTime) -> Self {
        Self {
            field: None,
            page: 1,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            time,
            certify: None,
            lock_fields: false,
            appearance: None,
        }
    }
}

/// The input of [`prepare`] and [`sign`], kept in the [`Prepared`] and [`SignedPdf`] documents:
/// anything that dereferences to bytes, borrowed (`&[u8]`, `&Vec<u8>`), owned (`Vec<u8>`,
/// `Box<[u8]>`) or shared (`Arc<Vec<u8>>`, `Arc<[u8]>`).
pub trait Input {
    /// The PDF bytes.
    fn bytes(&self) -> &[u8];
}

impl<T> Input for T
where
    T: Deref,
    T::Target: AsRef<[u8]>,
{
    fn bytes(&self) -> &[u8] {
        (**self).as_ref()
    }
}

/// A document with its signature placeholder in place and its byte range fixed.
///
/// It holds its [`Input`] as given, borrowed, owned or shared, so that a caller can keep it, move it to
/// another thread or across an `await`, and embed the signature later without preparing again.
pub struct Prepared<I: Input> {
    input: I,
    /// Computed once, on the first call of [`Prepared::digest`].
    digest: OnceCell<[u8; 32]>,
    /// SHA-256 state after the input bytes, shared by the byte-range digest and the hash of the
    /// whole signed file, so that the input is hashed once.
    input_state: OnceCell<aws_lc_rs::digest::Context>,
    tail: Vec<u8>,
    /// Absolute position of the hex digits inside `/Contents <...>`.
    contents: Range<usize>,
    byte_range: [usize; 4],
    field: String,
}

impl<I: Input> std::fmt::Debug for Prepared<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("input_len", &self.input.bytes().len())
            .field("tail_len", &self.tail.len())
            .field("byte_range", &self.byte_range)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

impl<I: Input> Prepared<I> {
    /// The `/ByteRange` `[0 a b c]`.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// Bytes reserved for the CMS structure.
    pub fn capacity(&self) -> usize {
        self.contents.len() / 2
    }

    /// Name of the field being signed.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The input the update follows.
    pub fn input(&self) -> &[u8] {
        self.input.bytes()
    }
}

/// A signed document: the unchanged input followed by the update.
pub struct SignedPdf<I: Input> {
    input: I,
    tail: Vec<u8>,
    field: String,
    byte_range: [usize; 4],
    message_digest: [u8; 32],
    signature: Vec<u8>,
    document_sha256: [u8; 32],
    input_sha256: [u8; 32],
}

impl<I: Input> std::fmt::Debug for SignedPdf<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedPdf")
            .field("input_len", &self.input.bytes().len())
            .field("tail_len", &self.tail.len())
            .field("field", &self.field)
            .field("byte_range", &self.byte_range)
            .finish_non_exhaustive()
    }
}

impl<I: Input> SignedPdf<I> {
    /// The update alone, owned (the signed file is the input followed by it), for a caller that
    /// keeps the input elsewhere and writes the file later.
    pub fn into_tail(self) -> Vec<u8> {
        self.tail
    }

    /// The two parts to write one after the other: the original bytes and the update.
    pub fn parts(&self) -> [&[u8]; 2] {
        [self.input.bytes(), &self.tail]
    }

    /// The appended update alone.
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// Total length.
    pub fn len(&self) -> usize {
        self.input.bytes().len() + self.tail.len()
    }

    /// Always false: a signed PDF has bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The whole file in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        v.extend_from_slice(self.input.bytes());
        v.extend_from_slice(&self.tail);
        v
    }

    /// Name of the signed field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The `/ByteRange` written.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// SHA-256 of the whole signed file (input and update).
    pub fn document_sha256(&self) -> [u8; 32] {
        self.document_sha256
    }

    /// SHA-256 of the input alone (from the same pass over it as the signature's digest).
    pub fn input_sha256(&self) -> [u8; 32] {
        self.input_sha256
    }

    /// SHA-256 of the signed byte ranges (the CMS messageDigest).
    pub fn message_digest(&self) -> [u8; 32] {
        self.message_digest
    }

    /// The signature value (empty when the CMS was embedded from outside with
    /// [`Prepared::embed`]).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}
