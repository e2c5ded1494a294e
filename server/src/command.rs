//! Requests as checked domain commands: every protobuf request the services take becomes one of
//! the types here through `TryFrom` (or `From`, when nothing can be wrong), and nothing past
//! the handlers sees a protobuf type. Every check of a request's shape is written here, once:
//! the length of each string ([`limits`]), the size of each hash, the order of a stream's
//! messages. A failed check is a [`CommandError`], answered as INVALID_ARGUMENT
//! ([`crate::status`]).
//!
//! What depends on the server's state (the agency exists, the caller may seal for it, the
//! document is within the configured size) is checked by the signing core, not here.
//!
//! ```text
//! pb::SignPdfRequest ──TryFrom──▶ SignPdf ─┐
//! pb::SignDigestRequest ─TryFrom─▶ SignDigest ─┼─▶ signing core ─▶ crate::reply ─▶ pb::…Response
//! pb::GetEntryRequest ──TryFrom──▶ EntryQuery ─┘   (or the log)
//! ```

use segel_proto::v1 as pb;

mod seal;
use seal::check_visible;

/// Limits on the strings of requests, in bytes of UTF-8.
pub mod limits {
    /// `agency_id` (the log entry's limit).
    pub const AGENCY_ID: usize = 64;
    /// `request_id`.
    pub const REQUEST_ID: usize = 128;
    /// `document_ref` (logged only as its keyed hash).
    pub const DOCUMENT_REF: usize = 256;
    /// `options.reason` (`/Reason`).
    pub const REASON: usize = 256;
    /// `options.location` (`/Location`).
    pub const LOCATION: usize = 256;
    /// `options.contact_info` (`/ContactInfo`).
    pub const CONTACT_INFO: usize = 256;
    /// `options.field_name` (the signature field's name; the engine also wants it printable and
    /// without dots).
    pub const FIELD_NAME: usize = 64;
    /// The caller's identity (the client certificate's CN), logged as `CN=…`.
    pub const CALLER: usize = 256;
    /// `options.visible.tag` (the text the stamp covers).
    pub const TAG: usize = 64;
    /// `options.visible.image` (a PNG or JPEG specimen).
    pub const IMAGE: usize = crate::config::MAX_STAMP_IMAGE;
    /// Entries of `options.visible.fields`.
    pub const FIELDS: usize = pades::stamp::template::MAX_FIELDS;
    /// A value of `options.visible.fields`.
    pub const FIELD_VALUE: usize = pades::stamp::template::MAX_VALUE_LEN;
    /// The largest stamp side or position in points (200 inches, the largest page PDF
    /// allows).
    pub const STAMP_POINTS: f64 = 14_400.0;
}

/// Why a request is malformed (whatever the server's state): each message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// A string is longer than its limit.
    #[error("{field} has {len} bytes; the limit is {limit}")]
    TooLong {
        /// The field, as the API names it.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// Its limit in bytes.
        limit: usize,
    },
    /// `message_digest` of a SignDigest request is not 32 bytes.
    #[error("message_digest must be the 32-byte SHA-256 of the byte ranges")]
    MessageDigest,
    /// A SHA-256 field is not 32 bytes.
    #[error("{field} must be 32 bytes")]
    NotSha256 {
        /// The field, as the API names it.
        field: &'static str,
    },
    /// A lookup by document reference without one.
    #[error("document_ref is empty")]
    EmptyReference,
    /// A sign option (the visible seal, certification) is malformed: `field` names it, as the
    /// API does (`options.visible.rect`, `options.certify`, …).
    #[error("{field}: {message}")]
    Options {
        /// The option, as the API names it.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A document id that is not 16 to 64 characters of `[A-Za-z0-9_-]`.
    #[error("{field} must be 16 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")]
    DocumentId {
        /// The field, as the API names it.
        field: &'static str,
    },
    /// A GetEntry request without a key.
    #[error(
        "give an index, a document_sha256, a signature_sha256, a document_ref or a document_id"
    )]
    NoEntryKey,
    /// A SignPdfStream request that does not open with its metadata (without the document).
    #[error("the stream must start with the request metadata (without pdf)")]
    StreamStart,
    /// A SignPdfStream message after the metadata that is not a chunk.
    #[error("only chunks may follow the metadata")]
    StreamPart,
    /// A signing request without a request id.
    #[error(
        "request_id is required: give each document its own id and send the same id again when \
         retrying it (after a timeout, a retry with a new id or none would sign and log the \
         document a second time)"
    )]
    RequestIdRequired,
}

/// The most a unary SignPdf may answer: 4 MiB, what stock gRPC clients receive by default
/// (grpc-go, grpc-java, grpcio, grpc-php). An answer that could be larger is refused before
/// signing (see [`SignPdf::answer_fits_unary`]).
pub const MAX_UNARY_ANSWER: usize = 4 << 20;

/// What a signed document's answer may add to its input, at most: the update (signature
/// dictionary and `/Contents` room, the changed page and form objects, the cross-reference
/// section; tens of KiB) and the answer's log entry, checkpoint and proofs (a few KiB).
pub const ANSWER_ALLOWANCE: usize = 72 << 10;

/// The answer's log entry, signed checkpoint and proofs, at most (a record of ~0.5 KiB, a note
/// of ~0.3 KiB, two proofs of at most 64 hashes each): added to the document and its update
/// when the signed answer is measured before it is logged.
pub const REPLY_OVERHEAD: usize = 8 << 10;

/// Whether the unary answer of a signed document (`pdf_len` bytes followed by an update of
/// `update_len`) fits [`MAX_UNARY_ANSWER`]: checked after signing and before logging, for the
/// documents whose update is larger than [`ANSWER_ALLOWANCE`] foresaw (a page or form with
/// large dictionaries is rewritten whole).
pub fn signed_answer_fits_unary(pdf_len: usize, update_len: usize) -> bool {
    pdf_len
        .saturating_add(update_len)
        .saturating_add(REPLY_OVERHEAD)
        <= MAX_UNARY_ANSWER
}

/// `value` unless it is longer than `limit` bytes.
fn bounded(field: &'static str, value: String, limit: usize) -> Result<String, CommandError> {
    if value.len() > limit {
        return Err(CommandError::TooLong {
            field,
            len: value.len(),
            limit,
        });
    }
    Ok(value)
}

/// The request id of a signing request: required, at most [`limits::REQUEST_ID`] bytes.
fn request_id(value: String) -> Result<String, CommandError> {
    if value.is_empty() {
        return Err(CommandError::RequestIdRequired);
    }
    bounded("request_id", value, limits::REQUEST_ID)
}

/// A 32-byte hash field.
fn hash_field(field: &'static str, b: &[u8]) -> Result<[u8; 32], CommandError> {
    b.try_into().map_err(|_| CommandError::NotSha256 { field })
}

/// The identity of a caller that signs: its client certificate's CN (see
/// [`crate::identity`]), at most [`limits::CALLER`] bytes since the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(String);

impl Caller {
    /// The CN, checked against its limit.
    ///
    /// # Errors
    /// [`CommandError::TooLong`] naming the client certificate's CN.
    pub fn new(cn: String) -> Result<Self, CommandError> {
        bounded("the client certificate's CN", cn, limits::CALLER).map(Self)
    }

    /// The CN.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `SignPdf` request (unary, or a stream's metadata with the chunks put in `pdf`), checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignPdf {
    /// The agency to seal for (at most [`limits::AGENCY_ID`] bytes).
    pub agency: String,
    /// The caller's idempotency key (not empty, at most [`limits::REQUEST_ID`] bytes).
    pub request_id: String,
    /// The caller's reference of the document, empty for none (at most
    /// [`limits::DOCUMENT_REF`] bytes; logged only as its keyed hash).
    pub document_ref: String,
    /// How to sign, every text within its limit.
    pub options: pades::SignOptions,
    /// The document.
    pub pdf: bytes::Bytes,
    /// Answer with the appended update alone, not the whole signed document.
    pub update_only: bool,
    /// The size a stream announces for its document (0: not announced).
    pub size_hint: u64,
}

impl SignPdf {
    /// Whether the answer fits what stock gRPC clients receive ([`MAX_UNARY_ANSWER`]) when
    /// it comes in one message: always with `update_only`, otherwise when the document plus
    /// [`ANSWER_ALLOWANCE`] does.
    pub fn answer_fits_unary(&self) -> bool {
        self.update_only
            || signed_answer_fits_unary(self.pdf.len(), ANSWER_ALLOWANCE - REPLY_OVERHEAD)
    }
}

impl TryFrom<pb::SignPdfRequest> for SignPdf {
    type Error = CommandError;

    fn try_from(r: pb::SignPdfRequest) -> Result<Self, CommandError> {
        let agency = bounded("agency_id", r.agency_id, limits::AGENCY_ID)?;
        let request_id = request_id(r.request_id)?;
        let document_ref = bounded("document_ref", r.document_ref, limits::DOCUMENT_REF)?;
        let o = r.options.unwrap_or_default();
        bounded("options.reason", o.reason.clone(), limits::REASON)?;
        bounded("options.location", o.location.clone(), limits::LOCATION)?;
        bounded(
            "options.contact_info",
            o.contact_info.clone(),
            limits::CONTACT_INFO,
        )?;
        bounded(
            "options.field_name",
            o.field_name.clone(),
            limits::FIELD_NAME,
        )?;
        if o.certify > 3 {
            return Err(CommandError::Options {
                field: "options.certify",
                message: format!(
                    "0 (no certification) or a DocMDP permission 1, 2 or 3, not {}",
                    o.certify
                ),
            });
        }
        if let Some(v) = &o.visible {
            check_visible(v)?;
        }
        let options = pades::SignOptions::try_from(&o).map_err(|e| CommandError::Options {
            field: "options.visible",
            message: e.to_string(),
        })?;
        Ok(Self {
            agency,
            request_id,
            document_ref,
            options,
            pdf: r.pdf,
            update_only: r.update_only,
            size_hint: r.size_hint,
        })
    }
}

/// The metadata that opens a SignPdfStream request (`first` is its first message), still to
/// be checked as a [`SignPdf`] once the caller is.
///
/// # Errors
/// [`CommandError::StreamStart`] when the stream is empty or opens with anything but metadata
/// without a document.
pub fn stream_metadata(
    first: Option<pb::SignPdfStreamRequest>,
) -> Result<pb::SignPdfRequest, CommandError> {
    use pb::sign_pdf_stream_request::Part;
    match first.and_then(|m| m.part) {
        Some(Part::Metadata(m)) if m.pdf.is_empty() => Ok(m),
        _ => Err(CommandError::StreamStart),
    }
}

/// A chunk of the document of a SignPdfStream request (any message after the metadata).
///
/// # Errors
/// [`CommandError::StreamPart`] for anything but a chunk.
pub fn stream_chunk(message: pb::SignPdfStreamRequest) -> Result<bytes::Bytes, CommandError> {
    use pb::sign_pdf_stream_request::Part;
    match message.part {
        Some(Part::Chunk(c)) => Ok(c),
        _ => Err(CommandError::StreamPart),
    }
}

/// A `SignDigest` request, checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignDigest {
    /// The agency to seal for (at most [`limits::AGENCY_ID`] bytes).
    pub agency: String,
    /// The caller's idempotency key (not empty, at most [`limits::REQUEST_ID`] bytes).
    pub request_id: String,
    /// The caller's reference of the document, empty for none (at most
    /// [`limits::DOCUMENT_REF`] bytes).
    pub document_ref: String,
    /// The SHA-256 of the caller's byte ranges (the CMS `messageDigest`).
    pub message_digest: [u8; 32],
    /// The SHA-256 of the caller's signed document, zeros when not given.
    pub document_sha256: [u8; 32],
    /// RSASSA-PSS instead of PKCS#1 v1.5.
    pub pss: bool,
    /// The signing time (Unix seconds) the caller put in its document, 0 for none; kept to
    /// tell a retry that does not match.
    pub signing_time: i64,
    /// The document id the caller's visible seal links to (none: an invisible signature);
    /// logged as its SHA-256.
    pub document_id: Option<pades::stamp::DocumentId>,
}

/// A document id field: none when empty, else of the required form.
fn document_id(
    field: &'static str,
    id: &str,
) -> Result<Option<pades::stamp::DocumentId>, CommandError> {
    if id.is_empty() {
        return Ok(None);
    }
    pades::stamp::DocumentId::parse(id)
        .map(Some)
        .map_err(|_| CommandError::DocumentId { field })
}

impl TryFrom<pb::SignDigestRequest> for SignDigest {
    type Error = CommandError;

    fn try_from(r: pb::SignDigestRequest) -> Result<Self, CommandError> {
        let agency = bounded("agency_id", r.agency_id, limits::AGENCY_ID)?;
        let request_id = request_id(r.request_id)?;
        let document_ref = bounded("document_ref", r.document_ref, limits::DOCUMENT_REF)?;
        let message_digest = r
            .message_digest
            .as_slice()
            .try_into()
            .map_err(|_| CommandError::MessageDigest)?;
        let document_sha256 = if r.document_sha256.is_empty() {
            [0; 32]
        } else {
            hash_field("document_sha256", &r.document_sha256)?
        };
        Ok(Self {
            agency,
            request_id,
            document_ref,
            message_digest,
            document_sha256,
            pss: r.pss,
            signing_time: r.signing_time,
            document_id: document_id("document_id", &r.document_id)?,
        })
    }
}

/// A `VerifyPdf` request: the document (its size is checked against the configuration).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifyPdf {
    /// The document.
    pub pdf: bytes::Bytes,
}

impl From<pb::VerifyPdfRequest> for VerifyPdf {
    fn from(r: pb::VerifyPdfRequest) -> Self {
        Self { pdf: r.pdf }
    }
}

/// A `GetEntry` request: which entries to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryQuery {
    /// The entry at this index.
    Index(u64),
    /// The entries of a signed document's SHA-256.
    DocumentSha256([u8; 32]),
    /// The entries of a signature value's SHA-256.
    SignatureSha256([u8; 32]),
    /// The entries logged with this caller's reference (not empty, at most
    /// [`limits::DOCUMENT_REF`] bytes); only a caller that may seal may ask.
    DocumentRef(String),
    /// The entries of the visible seals that link to this document id (open to anyone: the
    /// id, from the seal's QR code, is the secret).
    DocumentId(pades::stamp::DocumentId),
}

impl TryFrom<pb::GetEntryRequest> for EntryQuery {
    type Error = CommandError;

    fn try_from(r: pb::GetEntryRequest) -> Result<Self, CommandError> {
        use pb::get_entry_request::Key;
        match r.key {
            Some(Key::Index(i)) => Ok(Self::Index(i)),
            Some(Key::DocumentSha256(h)) => {
                Ok(Self::DocumentSha256(hash_field("document_sha256", &h)?))
            }
            Some(Key::SignatureSha256(h)) => {
                Ok(Self::SignatureSha256(hash_field("signature_sha256", &h)?))
            }
            Some(Key::DocumentRef(reference)) => {
                let reference = bounded("document_ref", reference, limits::DOCUMENT_REF)?;
                if reference.is_empty() {
                    return Err(CommandError::EmptyReference);
                }
                Ok(Self::DocumentRef(reference))
            }
            Some(Key::DocumentId(id)) => match document_id("document_id", &id)? {
                Some(id) => Ok(Self::DocumentId(id)),
                None => Err(CommandError::DocumentId {
                    field: "document_id",
                }),
            },
            None => Err(CommandError::NoEntryKey),
        }
    }
}

/// A `GetInclusionProof` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusionQuery {
    /// The entry.
    pub index: u64,
    /// The tree size to prove it in; `None` (0 on the wire): the current size.
    pub tree_size: Option<u64>,
}

impl From<pb::GetInclusionProofRequest> for InclusionQuery {
    fn from(r: pb::GetInclusionProofRequest) -> Self {
        Self {
            index: r.index,
            tree_size: (r.tree_size != 0).then_some(r.tree_size),
        }
    }
}

/// A `GetConsistencyProof` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub old_size: u64,
    /// The newer tree size; `None` (0 on the wire): the current size.
    pub new_size: Option<u64>,
}

impl From<pb::GetConsistencyProofRequest> for ConsistencyQuery {
    fn from(r: pb::GetConsistencyProofRequest) -> Self {
        Self {
            old_size: r.old_size,
            new_size: (r.new_size != 0).then_some(r.new_size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_long(field: &'static str, len: usize, limit: usize) -> CommandError {
        CommandError::TooLong { field, len, limit }
    }

    #[test]
    fn sign_pdf_requests_are_bounded_field_by_field() {
        let long = |n: usize| "x".repeat(n);
        let ok = pb::SignPdfRequest {
            agency_id: long(64),
            request_id: long(128),
            document_ref: long(256),
            options: Some(pb::SignOptions {
                reason: long(256),
                location: long(256),
                contact_info: long(256),
                field_name: long(64),
                page: 0,
                pss: true,
                ..Default::default()
            }),
            update_only: true,
            ..Default::default()
        };
        let c = SignPdf::try_from(ok.clone()).expect("at the limits");
        assert_eq!(c.options.page, 1);
        assert!(c.options.pss && c.update_only);
        type Grow = fn(&mut pb::SignPdfRequest);
        let cases: [(Grow, CommandError); 7] = [
            (|r| r.agency_id.push('x'), too_long("agency_id", 65, 64)),
            (|r| r.request_id.push('x'), too_long("request_id", 129, 128)),
            (
                |r| r.document_ref.push('x'),
                too_long("document_ref", 257, 256),
            ),
            (
                |r| r.options.as_mut().expect("o").reason.push('x'),
                too_long("options.reason", 257, 256),
            ),
            (
                |r| r.options.as_mut().expect("o").location.push('x'),
                too_long("options.location", 257, 256),
            ),
            (
                |r| r.options.as_mut().expect("o").contact_info.push('x'),
                too_long("options.contact_info", 257, 256),
            ),
            (
                |r| r.options.as_mut().expect("o").field_name.push('x'),
                too_long("options.field_name", 65, 64),
            ),
        ];
        for (grow, want) in cases {
            let mut r = ok.clone();
            grow(&mut r);
            assert_eq!(SignPdf::try_from(r).expect_err("over"), want);
        }
        assert_eq!(
            too_long("request_id", 129, 128).to_string(),
            "request_id has 129 bytes; the limit is 128"
        );
        assert_eq!(
            Caller::new("c".repeat(257))
                .expect_err("long CN")
                .to_string(),
            "the client certificate's CN has 257 bytes; the limit is 256"
        );
    }

    #[test]
    fn sign_digest_requests_need_32_byte_hashes() {
        let ok = pb::SignDigestRequest {
            agency_id: "dev".into(),
            request_id: "r-1".into(),
            message_digest: vec![7; 32],
            ..Default::default()
        };
        let c = SignDigest::try_from(ok.clone()).expect("valid");
        assert_eq!((c.message_digest, c.document_sha256), ([7; 32], [0; 32]));
        let short = pb::SignDigestRequest {
            message_digest: vec![7; 31],
            ..ok.clone()
        };
        assert_eq!(
            SignDigest::try_from(short).expect_err("short"),
            CommandError::MessageDigest
        );
        let bad_doc = pb::SignDigestRequest {
            document_sha256: vec![1; 33],
            ..ok
        };
        assert_eq!(
            SignDigest::try_from(bad_doc)
                .expect_err("33 bytes")
                .to_string(),
            "document_sha256 must be 32 bytes"
        );
    }

    #[test]
    fn signing_requests_need_a_request_id() {
        let pdf = pb::SignPdfRequest {
            agency_id: "dev".into(),
            ..Default::default()
        };
        assert_eq!(
            SignPdf::try_from(pdf).expect_err("no id"),
            CommandError::RequestIdRequired
        );
        let digest = pb::SignDigestRequest {
            agency_id: "dev".into(),
            message_digest: vec![7; 32],
            ..Default::default()
        };
        assert_eq!(
            SignDigest::try_from(digest).expect_err("no id"),
            CommandError::RequestIdRequired
        );
        assert!(CommandError::RequestIdRequired
            .to_string()
            .contains("a second time"));
    }

    #[test]
    fn a_unary_answer_must_fit_4_mib_unless_only_the_update_comes_back() {
        let with = |len: usize, update_only: bool| SignPdf {
            agency: "dev".into(),
            request_id: "r".into(),
            document_ref: String::new(),
            options: pades::SignOptions::default(),
            pdf: vec![0; len].into(),
            update_only,
            size_hint: 0,
        };
        let most = MAX_UNARY_ANSWER - ANSWER_ALLOWANCE;
        assert!(with(most, false).answer_fits_unary());
        assert!(!with(most + 1, false).answer_fits_unary());
        assert!(with(most + 1, true).answer_fits_unary());
    }

    #[test]
    fn entry_queries_check_their_key() {
        use pb::get_entry_request::Key;
        let q = |key| EntryQuery::try_from(pb::GetEntryRequest { key });
        assert_eq!(q(Some(Key::Index(3))), Ok(EntryQuery::Index(3)));
        assert_eq!(q(None), Err(CommandError::NoEntryKey));
        assert_eq!(
            q(Some(Key::DocumentRef(String::new()))),
            Err(CommandError::EmptyReference)
        );
        assert_eq!(
            q(Some(Key::SignatureSha256(vec![0; 31]))),
            Err(CommandError::NotSha256 {
                field: "signature_sha256"
            })
        );
        assert_eq!(
            q(Some(Key::DocumentRef("d".repeat(257)))),
            Err(too_long("document_ref", 257, 256))
        );
    }

    #[test]
    fn streams_open_with_metadata_then_chunks() {
        use pb::sign_pdf_stream_request::Part;
        let part = |p| pb::SignPdfStreamRequest { part: Some(p) };
        assert!(stream_metadata(Some(part(Part::Metadata(Default::default())))).is_ok());
        assert_eq!(stream_metadata(None), Err(CommandError::StreamStart));
        let with_pdf = pb::SignPdfRequest {
            pdf: bytes::Bytes::from_static(b"%PDF"),
            ..Default::default()
        };
        assert_eq!(
            stream_metadata(Some(part(Part::Metadata(with_pdf)))),
            Err(CommandError::StreamStart)
        );
        assert_eq!(
            stream_chunk(part(Part::Chunk(bytes::Bytes::from_static(b"ab")))),
            Ok(bytes::Bytes::from_static(b"ab"))
        );
        assert_eq!(
            stream_chunk(part(Part::Metadata(Default::default()))),
            Err(CommandError::StreamPart)
        );
    }
}
