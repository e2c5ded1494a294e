//! The one mapping from errors to gRPC statuses. Messages say what is wrong with the request;
//! internal failures are logged and answered without internals.
//!
//! Every refusal also carries a machine-readable [`Reason`]: a `google.rpc.ErrorInfo` (domain
//! [`segel_proto::ERROR_DOMAIN`], the reason, metadata such as `field`, `limit`, `agency` or
//! `max_bytes`) in the status details (`grpc-status-details-bin`), so that a caller can act on
//! a refusal, or show its own message, without reading English. [`refusal`] builds every such
//! status; `docs/api.md` lists every reason with its code and meaning (a test here keeps the
//! two lists equal).

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::command::CommandError;
use crate::store::StoreError;

/// Why a request was refused, as callers read it (`ErrorInfo.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// A string of the request is longer than its limit (`field`, `limit`).
    FieldTooLong,
    /// A digest or hash field does not have the size of a SHA-256 (`field`).
    InvalidDigest,
    /// A signing request without `request_id`.
    RequestIdRequired,
    /// Another malformed request (a lookup without a key, a stream out of order).
    InvalidRequest,
    /// The document is not a PDF at all.
    NotAPdf,
    /// The document is encrypted.
    EncryptedPdf,
    /// Another document (or signing option) the engine refuses: broken syntax or structure, a
    /// field that cannot be signed, a resource limit.
    InvalidPdf,
    /// The document is certified with no changes allowed (DocMDP /P 1).
    DocumentLocked,
    /// A visible seal's options cannot be used: a malformed option (`field`), a template line
    /// without its value, a character the stamp's font lacks, an unusable image, a footer on
    /// a signed document.
    InvalidStamp,
    /// The placement tag does not occur in the document's text (`tag`); nothing was signed.
    TagNotFound,
    /// The stamp's rectangle would leave the page (`page`).
    StampOffPage,
    /// The stamp's text does not fit its box even at the smallest size.
    StampDoesNotFit,
    /// The agency has no stamp settings (no `verify_url`): visible seals are refused
    /// (`agency`).
    StampNotConfigured,
    /// A document id is not 16 to 64 characters of `[A-Za-z0-9_-]` (`field`).
    InvalidDocumentId,
    /// A SignDigest's document id is already in the log, for another request (`field`).
    DocumentIdInUse,
    /// A retried request was signed before, but its answer cannot be rebuilt byte for byte:
    /// the agency's certificate or seal settings changed since (`index`).
    RetryNotRebuildable,
    /// The call needs a client certificate with exactly one usable common name.
    ClientCertificateRequired,
    /// No agency of this name (`agency`).
    UnknownAgency,
    /// The caller may not seal for this agency (`agency`).
    AgencyNotAllowed,
    /// The agency's certificate has expired (`agency`).
    CertificateExpired,
    /// The agency's certificate is not valid yet (`agency`).
    CertificateNotYetValid,
    /// The document is larger than the server accepts (`max_bytes`).
    DocumentTooLarge,
    /// The answer would exceed what stock gRPC clients receive (`max_bytes`): ask for
    /// `update_only` or use `SignPdfStream`.
    AnswerTooLarge,
    /// The request id was used before for another request.
    RequestIdReused,
    /// No log entry at this index (`index`).
    EntryNotFound,
    /// A proof or root asked for beyond the log's current size.
    BeyondLogSize,
    /// Too many verifications at once: retry later.
    Busy,
    /// An HTTP upload arrived too slowly (below the minimum average pace).
    UploadTooSlow,
    /// The work stopped because the caller no longer waits for it.
    Cancelled,
    /// The server is shutting down: retry with another instance or later.
    ShuttingDown,
    /// The server failed; its log says why.
    Internal,
}

impl Reason {
    /// Every reason, in the order `docs/api.md` lists them.
    pub const ALL: [Reason; 31] = [
        Self::FieldTooLong,
        Self::InvalidDigest,
        Self::RequestIdRequired,
        Self::InvalidRequest,
        Self::NotAPdf,
        Self::EncryptedPdf,
        Self::InvalidPdf,
        Self::DocumentLocked,
        Self::InvalidStamp,
        Self::TagNotFound,
        Self::StampOffPage,
        Self::StampDoesNotFit,
        Self::StampNotConfigured,
        Self::InvalidDocumentId,
        Self::DocumentIdInUse,
        Self::RetryNotRebuildable,
        Self::ClientCertificateRequired,
        Self::UnknownAgency,
        Self::AgencyNotAllowed,
        Self::CertificateExpired,
        Self::CertificateNotYetValid,
        Self::DocumentTooLarge,
        Self::AnswerTooLarge,
        Self::RequestIdReused,
        Self::EntryNotFound,
        Self::BeyondLogSize,
        Self::Busy,
        Self::UploadTooSlow,
        Self::Cancelled,
        Self::ShuttingDown,
        Self::Internal,
    ];

    /// The reason as the wire carries it (UPPER_SNAKE).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FieldTooLong => "FIELD_TOO_LONG",
            Self::InvalidDigest => "INVALID_DIGEST",
            Self::RequestIdRequired => "REQUEST_ID_REQUIRED",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::NotAPdf => "NOT_A_PDF",
            Self::EncryptedPdf => "ENCRYPTED_PDF",
            Self::InvalidPdf => "INVALID_PDF",
            Self::DocumentLocked => "DOCUMENT_LOCKED",
            Self::InvalidStamp => "INVALID_STAMP",
            Self::TagNotFound => "TAG_NOT_FOUND",
            Self::StampOffPage => "STAMP_OFF_PAGE",
            Self::StampDoesNotFit => "STAMP_DOES_NOT_FIT",
            Self::StampNotConfigured => "STAMP_NOT_CONFIGURED",
            Self::InvalidDocumentId => "INVALID_DOCUMENT_ID",
            Self::DocumentIdInUse => "DOCUMENT_ID_IN_USE",
            Self::RetryNotRebuildable => "RETRY_NOT_REBUILDABLE",
            Self::ClientCertificateRequired => "CLIENT_CERTIFICATE_REQUIRED",
            Self::UnknownAgency => "UNKNOWN_AGENCY",
            Self::AgencyNotAllowed => "AGENCY_NOT_ALLOWED",
            Self::CertificateExpired => "CERTIFICATE_EXPIRED",
            Self::CertificateNotYetValid => "CERTIFICATE_NOT_YET_VALID",
            Self::DocumentTooLarge => "DOCUMENT_TOO_LARGE",
            Self::AnswerTooLarge => "ANSWER_TOO_LARGE",
            Self::RequestIdReused => "REQUEST_ID_REUSED",
            Self::EntryNotFound => "ENTRY_NOT_FOUND",
            Self::BeyondLogSize => "BEYOND_LOG_SIZE",
            Self::Busy => "BUSY",
            Self::UploadTooSlow => "UPLOAD_TOO_SLOW",
            Self::Cancelled => "CANCELLED",
            Self::ShuttingDown => "SHUTTING_DOWN",
            Self::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: `code` and `message`, with `reason` and `metadata` in a `google.rpc.ErrorInfo`
/// of domain [`segel_proto::ERROR_DOMAIN`] in the status details.
pub fn refusal(
    code: Code,
    reason: Reason,
    message: impl Into<String>,
    metadata: &[(&str, String)],
) -> Status {
    let metadata: std::collections::HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason.as_str(), segel_proto::ERROR_DOMAIN, metadata),
    )
}

/// A malformed request: INVALID_ARGUMENT naming the field and what is wrong with it.
impl From<CommandError> for Status {
    fn from(e: CommandError) -> Self {
        let message = e.to_string();
        let (reason, metadata) = match e {
            CommandError::TooLong { field, len, limit } => (
                Reason::FieldTooLong,
                vec![
                    ("field", field.to_string()),
                    ("length", len.to_string()),
                    ("limit", limit.to_string()),
                ],
            ),
            CommandError::MessageDigest => (
                Reason::InvalidDigest,
                vec![("field", "message_digest".to_string())],
            ),
            CommandError::NotSha256 { field } => {
                (Reason::InvalidDigest, vec![("field", field.to_string())])
            }
            CommandError::RequestIdRequired => (
                Reason::RequestIdRequired,
                vec![("field", "request_id".to_string())],
            ),
            CommandError::Options { field, .. } => {
                (Reason::InvalidStamp, vec![("field", field.to_string())])
            }
            CommandError::DocumentId { field } => (
                Reason::InvalidDocumentId,
                vec![("field", field.to_string())],
            ),
            _ => (Reason::InvalidRequest, Vec::new()),
        };
        refusal(Code::InvalidArgument, reason, message, &metadata)
    }
}

/// A document or option the engine refused: INVALID_ARGUMENT with the engine's reason; a
/// failing key operation is INTERNAL; work the caller stopped waiting for is CANCELLED.
pub fn engine_status(e: &pades::Error) -> Status {
    let reason = match e {
        pades::Error::Signer(_) => {
            tracing::error!(error = %e, "private-key operation failed");
            return refusal(
                Code::Internal,
                Reason::Internal,
                "the signing key failed; see the server log",
                &[],
            );
        }
        pades::Error::Cancelled => {
            return refusal(Code::Cancelled, Reason::Cancelled, e.to_string(), &[])
        }
        pades::Error::NotPdf(_) => Reason::NotAPdf,
        pades::Error::Encrypted => Reason::EncryptedPdf,
        pades::Error::CertifiedNoChanges => Reason::DocumentLocked,
        pades::Error::Stamp(s) => return stamp_status(s),
        _ => Reason::InvalidPdf,
    };
    refusal(Code::InvalidArgument, reason, e.to_string(), &[])
}

/// A visible seal that could not be composed, drawn or placed; nothing was signed or logged.
/// INVALID_ARGUMENT with the reason and what it concerns (`tag`, `page`, `character`), except
/// a footer asked for on a signed document: FAILED_PRECONDITION (the request would do on an
/// unsigned copy).
pub fn stamp_status(e: &pades::stamp::StampError) -> Status {
    use pades::stamp::StampError;
    let message = format!("visible seal: {e}");
    let (code, reason, metadata) = match e {
        StampError::TagNotFound(tag) => (
            Code::InvalidArgument,
            Reason::TagNotFound,
            vec![("tag", tag.clone())],
        ),
        StampError::OffPage { page, .. } => (
            Code::InvalidArgument,
            Reason::StampOffPage,
            vec![("page", page.to_string())],
        ),
        StampError::TextDoesNotFit { line, .. } => (
            Code::InvalidArgument,
            Reason::StampDoesNotFit,
            vec![("line", line.clone())],
        ),
        StampError::MissingGlyph { ch, .. } => (
            Code::InvalidArgument,
            Reason::InvalidStamp,
            vec![("character", ch.to_string())],
        ),
        StampError::DocumentId(_) => (
            Code::InvalidArgument,
            Reason::InvalidDocumentId,
            vec![("field", "document_id".to_string())],
        ),
        StampError::FooterOnSignedDocument(n) => (
            Code::FailedPrecondition,
            Reason::InvalidStamp,
            vec![("signatures", n.to_string())],
        ),
        _ => (Code::InvalidArgument, Reason::InvalidStamp, Vec::new()),
    };
    refusal(code, reason, message, &metadata)
}

/// ALREADY_EXISTS: a SignDigest names a document id that the log holds already (for another
/// request): a document id links one seal.
pub fn document_id_in_use() -> Status {
    refusal(
        Code::AlreadyExists,
        Reason::DocumentIdInUse,
        "document_id is already the link of a logged seal; draw the seal with a new document id \
         (128 random bits)",
        &[("field", "document_id".to_string())],
    )
}

/// FAILED_PRECONDITION: a retry of the request logged as entry `index` whose signed document
/// cannot be rebuilt (the agency's certificate or seal settings changed since it was signed).
pub fn retry_not_rebuildable(index: u64) -> Status {
    refusal(
        Code::FailedPrecondition,
        Reason::RetryNotRebuildable,
        format!(
            "this request was signed and logged as entry {index}, but the agency's certificate \
             or seal settings changed since, so its answer cannot be rebuilt byte for byte; use \
             the document from the first answer, or sign again with a new request_id"
        ),
        &[("index", index.to_string())],
    )
}

/// FAILED_PRECONDITION: a visible seal asked of `agency`, which has no stamp settings.
pub fn stamp_not_configured(agency: &str) -> Status {
    refusal(
        Code::FailedPrecondition,
        Reason::StampNotConfigured,
        format!(
            "agency {agency:?} has no stamp settings (no verify_url), so it cannot make visible \
             seals; sign invisibly or ask the operator to configure [agency.stamp]"
        ),
        &[("agency", agency.to_string())],
    )
}

/// Log failures: a stopped writer is UNAVAILABLE, bad proof requests INVALID_ARGUMENT or
/// OUT_OF_RANGE, the rest INTERNAL.
pub fn store_status(e: StoreError) -> Status {
    match e {
        StoreError::WriterStopped(_) => {
            // The cause (a file, a disk error) is for the operator's log, not the caller.
            tracing::error!(error = %e, "the log's writer has stopped");
            refusal(
                Code::Unavailable,
                Reason::Internal,
                "the log cannot record signatures; the server needs its operator",
                &[],
            )
        }
        StoreError::Request(m) => refusal(Code::OutOfRange, Reason::BeyondLogSize, m, &[]),
        StoreError::Entry(x) => refusal(
            Code::InvalidArgument,
            Reason::InvalidRequest,
            x.to_string(),
            &[],
        ),
        StoreError::TooLarge(m) => refusal(Code::InvalidArgument, Reason::InvalidRequest, m, &[]),
        other => {
            tracing::error!(error = %other, "log failure");
            refusal(
                Code::Internal,
                Reason::Internal,
                "the signature log failed; see the server log",
                &[],
            )
        }
    }
}

/// INTERNAL, logged.
pub fn internal(e: &dyn std::fmt::Display) -> Status {
    tracing::error!(error = %e, "internal error");
    refusal(
        Code::Internal,
        Reason::Internal,
        "internal error; see the server log",
        &[],
    )
}

/// A VerifyPdf call the limits stopped: busy is RESOURCE_EXHAUSTED, shutting down UNAVAILABLE.
pub fn verify_refused(e: &crate::limits::VerifyRefused) -> Status {
    use crate::limits::VerifyRefused;
    match e {
        VerifyRefused::Busy { .. } => {
            refusal(Code::ResourceExhausted, Reason::Busy, e.to_string(), &[])
        }
        VerifyRefused::ShuttingDown => {
            refusal(Code::Unavailable, Reason::ShuttingDown, e.to_string(), &[])
        }
        VerifyRefused::Failed(_) => internal(e),
    }
}

/// A verification that gave no verdict, as a gRPC status.
pub fn verify_error(e: &crate::verification::VerifyError) -> Status {
    use crate::verification::VerifyError;
    match e {
        VerifyError::TooLarge { bytes, limit } => {
            document_too_large(Some(*bytes), usize::try_from(*limit).unwrap_or(usize::MAX))
        }
        VerifyError::Refused(r) => verify_refused(r),
        VerifyError::Engine(e) => engine_status(e),
        VerifyError::Store(e) => internal(e),
    }
}

/// A refusal on the HTTP listener: the status code, the reason (as gRPC's `ErrorInfo`
/// carries it) and a message for the caller. Built only here, so that HTTP and gRPC refuse
/// alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRefusal {
    /// The HTTP status code.
    pub status: u16,
    /// Why.
    pub reason: Reason,
    /// What is wrong, for people and programs.
    pub message: String,
}

impl HttpRefusal {
    /// A refusal for `reason`, with its status from [`http_status`].
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            status: http_status(reason),
            reason,
            message: message.into(),
        }
    }
}

/// The HTTP status code of each reason: malformed requests 400, documents the engine cannot
/// read 422, not found 404, too large 413, busy 429, shutting down 503, server faults 500.
pub fn http_status(reason: Reason) -> u16 {
    match reason {
        Reason::FieldTooLong
        | Reason::InvalidDigest
        | Reason::RequestIdRequired
        | Reason::InvalidRequest
        | Reason::NotAPdf
        | Reason::InvalidDocumentId
        | Reason::InvalidStamp
        | Reason::TagNotFound
        | Reason::StampOffPage
        | Reason::StampDoesNotFit => 400,
        Reason::EncryptedPdf | Reason::InvalidPdf | Reason::DocumentLocked => 422,
        Reason::ClientCertificateRequired => 401,
        Reason::AgencyNotAllowed => 403,
        Reason::UnknownAgency | Reason::EntryNotFound => 404,
        Reason::DocumentIdInUse | Reason::RequestIdReused => 409,
        Reason::StampNotConfigured
        | Reason::RetryNotRebuildable
        | Reason::CertificateExpired
        | Reason::CertificateNotYetValid
        | Reason::BeyondLogSize => 412,
        Reason::DocumentTooLarge | Reason::AnswerTooLarge => 413,
        Reason::Busy => 429,
        Reason::UploadTooSlow => 408,
        Reason::Cancelled | Reason::ShuttingDown => 503,
        Reason::Internal => 500,
    }
}

/// A verification that gave no verdict, as an HTTP refusal. Server faults are logged here and
/// not described to the caller.
pub fn http_verify_error(e: &crate::verification::VerifyError) -> HttpRefusal {
    use crate::limits::VerifyRefused;
    use crate::verification::VerifyError;
    let reason = match e {
        VerifyError::TooLarge { .. } => Reason::DocumentTooLarge,
        VerifyError::Refused(VerifyRefused::Busy { .. }) => Reason::Busy,
        VerifyError::Refused(VerifyRefused::ShuttingDown) => Reason::ShuttingDown,
        VerifyError::Engine(pades::Error::Cancelled) => Reason::Cancelled,
        VerifyError::Engine(pades::Error::NotPdf(_)) => Reason::NotAPdf,
        VerifyError::Engine(pades::Error::Encrypted) => Reason::EncryptedPdf,
        VerifyError::Engine(_) => Reason::InvalidPdf,
        VerifyError::Refused(_) | VerifyError::Store(_) => {
            tracing::error!(error = %e, "verification failed");
            return HttpRefusal::new(Reason::Internal, "internal error; see the server log");
        }
    };
    HttpRefusal::new(reason, e.to_string())
}

/// A caller without a usable identity: no certificate is UNAUTHENTICATED (`what` needs one),
/// an ambiguous or unusable name PERMISSION_DENIED.
pub fn identity(e: &crate::identity::IdentityError, what: &str) -> Status {
    use crate::identity::IdentityError;
    match e {
        IdentityError::NoCertificate => refusal(
            Code::Unauthenticated,
            Reason::ClientCertificateRequired,
            format!("{what} requires a client certificate"),
            &[],
        ),
        other => {
            tracing::warn!(error = %other, "caller refused: no single identity");
            refusal(
                Code::PermissionDenied,
                Reason::ClientCertificateRequired,
                other.to_string(),
                &[],
            )
        }
    }
}

/// NOT_FOUND: no log entry at `index`.
pub fn entry_not_found(index: u64) -> Status {
    refusal(
        Code::NotFound,
        Reason::EntryNotFound,
        format!("no log entry {index}"),
        &[("index", index.to_string())],
    )
}

/// NOT_FOUND: no agency `agency`.
pub fn unknown_agency(agency: &str) -> Status {
    refusal(
        Code::NotFound,
        Reason::UnknownAgency,
        format!("unknown agency {agency:?}"),
        &[("agency", agency.to_string())],
    )
}

/// PERMISSION_DENIED: the caller may not seal for `agency` (`None`: for any agency), and why.
pub fn agency_not_allowed(agency: Option<&str>, why: String) -> Status {
    let metadata: Vec<(&str, String)> = agency
        .map(|a| ("agency", a.to_string()))
        .into_iter()
        .collect();
    refusal(
        Code::PermissionDenied,
        Reason::AgencyNotAllowed,
        why,
        &metadata,
    )
}

/// RESOURCE_EXHAUSTED: a document of `bytes` bytes (unknown while it streams in) is over the
/// configured `limit`.
pub fn document_too_large(bytes: Option<u64>, limit: usize) -> Status {
    let message = match bytes {
        Some(b) => format!("the document has {b} bytes; the limit is {limit}"),
        None => format!("the document exceeds the limit of {limit} bytes"),
    };
    refusal(
        Code::ResourceExhausted,
        Reason::DocumentTooLarge,
        message,
        &[("max_bytes", limit.to_string())],
    )
}

/// RESOURCE_EXHAUSTED: the whole signed document of a unary SignPdf, for a document of `bytes`
/// bytes, could exceed [`crate::command::MAX_UNARY_ANSWER`], more than stock gRPC clients
/// receive; refused before signing.
pub fn answer_too_large(bytes: usize) -> Status {
    let max = crate::command::MAX_UNARY_ANSWER;
    refusal(
        Code::ResourceExhausted,
        Reason::AnswerTooLarge,
        format!(
            "the signed document of a {bytes}-byte PDF could exceed {max} bytes, more than gRPC \
             clients receive by default; set update_only (the answer then holds only the \
             appended update) or use SignPdfStream"
        ),
        &[("max_bytes", max.to_string())],
    )
}

/// ALREADY_EXISTS: a request id used before for another request.
pub fn request_id_reused(why: String) -> Status {
    refusal(Code::AlreadyExists, Reason::RequestIdReused, why, &[])
}

/// UNAVAILABLE: the server is shutting down.
pub fn shutting_down() -> Status {
    refusal(
        Code::Unavailable,
        Reason::ShuttingDown,
        "shutting down",
        &[],
    )
}

/// FAILED_PRECONDITION: `agency`'s e-seal certificate is not valid at the signing time, so
/// nothing was signed or logged. Reason `CERTIFICATE_EXPIRED` for [`NotValid::Expired`] (after
/// its notAfter), `CERTIFICATE_NOT_YET_VALID` for [`NotValid::NotYetValid`] (before its
/// notBefore); the message names the agency and the time in RFC 3339.
///
/// [`NotValid::Expired`]: crate::expiry::NotValid::Expired
/// [`NotValid::NotYetValid`]: crate::expiry::NotValid::NotYetValid
pub fn certificate_not_valid(agency: &str, e: &crate::expiry::NotValid) -> Status {
    use crate::expiry::NotValid;
    let (reason, at) = match e {
        NotValid::Expired { not_after } => (Reason::CertificateExpired, ("not_after", *not_after)),
        NotValid::NotYetValid { not_before } => {
            (Reason::CertificateNotYetValid, ("not_before", *not_before))
        }
    };
    refusal(
        Code::FailedPrecondition,
        reason,
        format!("agency {agency:?} cannot seal: its e-seal certificate {e}; nothing was signed"),
        &[
            ("agency", agency.to_string()),
            (at.0, crate::expiry::rfc3339(at.1)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reasons in the table of `docs/api.md`'s section "Error reasons" (its rows, each
    /// opening with a reason in backquotes).
    fn documented() -> Vec<String> {
        let api = include_str!("../../docs/api.md");
        let section = api
            .split("\n## ")
            .find(|s| s.starts_with("Error reasons"))
            .expect("docs/api.md has a section \"Error reasons\"");
        section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`'))
            .map(|(name, _)| name.to_string())
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect()
    }

    #[test]
    fn every_reason_is_documented_and_every_documented_reason_exists() {
        let ours: Vec<String> = Reason::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            documented(),
            ours,
            "docs/api.md lists the reasons in this order"
        );
    }

    #[test]
    fn refusals_carry_their_reason_in_the_segel_domain() {
        let s = Status::from(CommandError::TooLong {
            field: "agency_id",
            len: 65,
            limit: 64,
        });
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "agency_id has 65 bytes; the limit is 64");
        let info = s.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "FIELD_TOO_LONG");
        assert_eq!(info.domain, "segel");
        assert_eq!(
            info.metadata.get("field").map(String::as_str),
            Some("agency_id")
        );
        assert_eq!(info.metadata.get("limit").map(String::as_str), Some("64"));
        let reason = |s: Status| s.get_details_error_info().map(|i| i.reason);
        assert_eq!(
            reason(engine_status(&pades::Error::Encrypted)).as_deref(),
            Some("ENCRYPTED_PDF")
        );
        assert_eq!(
            reason(engine_status(&pades::Error::CertifiedNoChanges)).as_deref(),
            Some("DOCUMENT_LOCKED")
        );
        assert_eq!(
            reason(engine_status(&pades::Error::Unsupported("x".into()))).as_deref(),
            Some("INVALID_PDF")
        );
        assert_eq!(
            reason(store_status(StoreError::Request("beyond".into()))).as_deref(),
            Some("BEYOND_LOG_SIZE")
        );
        assert_eq!(reason(shutting_down()).as_deref(), Some("SHUTTING_DOWN"));
    }

    /// Each stamp refusal has its reason, its code and what it concerns in the metadata.
    #[test]
    fn stamp_refusals_name_the_tag_the_page_or_the_option() {
        use pades::stamp::StampError;
        let info = |s: &Status| s.get_details_error_info().expect("ErrorInfo");
        let s = engine_status(&pades::Error::Stamp(StampError::TagNotFound(
            "#ttd#".into(),
        )));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().contains("#ttd#"), "{}", s.message());
        assert_eq!(info(&s).reason, "TAG_NOT_FOUND");
        assert_eq!(info(&s).metadata["tag"], "#ttd#");
        let s = engine_status(&pades::Error::Stamp(StampError::OffPage {
            page: 2,
            x: 500.0,
            y: 10.0,
            width: 200.0,
            height: 110.0,
            page_width: 595.0,
            page_height: 842.0,
        }));
        assert_eq!(
            (info(&s).reason.as_str(), info(&s).metadata["page"].as_str()),
            ("STAMP_OFF_PAGE", "2")
        );
        let s = stamp_status(&StampError::TextDoesNotFit {
            width: 60.0,
            height: 20.0,
            min_size: 5.0,
            line: "Sekretaris Jenderal".into(),
        });
        assert_eq!(info(&s).reason, "STAMP_DOES_NOT_FIT");
        let s = stamp_status(&StampError::FooterOnSignedDocument(1));
        assert_eq!(
            (s.code(), info(&s).reason.as_str()),
            (Code::FailedPrecondition, "INVALID_STAMP")
        );
        let s = stamp_status(&StampError::Template("line 2 needs {nip}".into()));
        assert_eq!(
            (s.code(), info(&s).reason.as_str()),
            (Code::InvalidArgument, "INVALID_STAMP")
        );
        let s = stamp_not_configured("dev-2");
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(info(&s).reason, "STAMP_NOT_CONFIGURED");
        assert!(s.message().contains("\"dev-2\""), "{}", s.message());
        let s = Status::from(CommandError::Options {
            field: "options.visible.rect.width",
            message: "NaN".into(),
        });
        assert_eq!(
            (s.code(), info(&s).reason.as_str()),
            (Code::InvalidArgument, "INVALID_STAMP")
        );
        assert_eq!(info(&s).metadata["field"], "options.visible.rect.width");
        let s = Status::from(CommandError::DocumentId {
            field: "document_id",
        });
        assert_eq!(info(&s).reason, "INVALID_DOCUMENT_ID");
    }
}
