//! The one mapping from errors to gRPC status codes. Messages say what is wrong with the
//! request; internal failures are logged and answered without internals.

use tonic::Status;

use crate::command::CommandError;
use crate::store::StoreError;

/// A malformed request: INVALID_ARGUMENT naming the field and what is wrong with it.
impl From<CommandError> for Status {
    fn from(e: CommandError) -> Self {
        Status::invalid_argument(e.to_string())
    }
}

/// A document or option the engine refused: INVALID_ARGUMENT with the engine's reason; a
/// failing key operation is INTERNAL; work the caller stopped waiting for is CANCELLED.
pub fn engine_status(e: &pades::Error) -> Status {
    match e {
        pades::Error::Signer(_) => {
            tracing::error!(error = %e, "private-key operation failed");
            Status::internal("the signing key failed; see the server log")
        }
        pades::Error::Cancelled => Status::cancelled(e.to_string()),
        other => Status::invalid_argument(other.to_string()),
    }
}

/// Log failures: a stopped writer is UNAVAILABLE, bad proof requests INVALID_ARGUMENT or
/// OUT_OF_RANGE, the rest INTERNAL.
pub fn store_status(e: StoreError) -> Status {
    match e {
        StoreError::WriterStopped(_) => Status::unavailable(e.to_string()),
        StoreError::Request(m) => Status::out_of_range(m),
        StoreError::Entry(x) => Status::invalid_argument(x.to_string()),
        StoreError::TooLarge(m) => Status::invalid_argument(m),
        other => {
            tracing::error!(error = %other, "log failure");
            Status::internal("the signature log failed; see the server log")
        }
    }
}

/// INTERNAL, logged.
pub fn internal(e: &dyn std::fmt::Display) -> Status {
    tracing::error!(error = %e, "internal error");
    Status::internal("internal error; see the server log")
}

/// A VerifyPdf call the limits stopped: busy is RESOURCE_EXHAUSTED, shutting down UNAVAILABLE.
pub fn verify_refused(e: &crate::limits::VerifyRefused) -> Status {
    use crate::limits::VerifyRefused;
    match e {
        VerifyRefused::Busy { .. } => Status::resource_exhausted(e.to_string()),
        VerifyRefused::ShuttingDown => Status::unavailable(e.to_string()),
        VerifyRefused::Failed(_) => internal(e),
    }
}

/// A caller without a usable identity: no certificate is UNAUTHENTICATED (`what` needs one),
/// an ambiguous or unusable name PERMISSION_DENIED.
pub fn identity(e: &crate::identity::IdentityError, what: &str) -> Status {
    use crate::identity::IdentityError;
    match e {
        IdentityError::NoCertificate => {
            Status::unauthenticated(format!("{what} requires a client certificate"))
        }
        other => {
            tracing::warn!(error = %other, "caller refused: no single identity");
            Status::permission_denied(other.to_string())
        }
    }
}

/// NOT_FOUND: `what` does not exist (a log entry, an agency).
pub fn not_found(what: String) -> Status {
    Status::not_found(what)
}

/// PERMISSION_DENIED: the caller may not do this, and why.
pub fn not_allowed(why: String) -> Status {
    Status::permission_denied(why)
}

/// RESOURCE_EXHAUSTED: a document of `bytes` bytes (unknown while it streams in) is over the
/// configured `limit`.
pub fn document_too_large(bytes: Option<u64>, limit: usize) -> Status {
    Status::resource_exhausted(match bytes {
        Some(b) => format!("the document has {b} bytes; the limit is {limit}"),
        None => format!("the document exceeds the limit of {limit} bytes"),
    })
}

/// ALREADY_EXISTS: a request id used before for another request.
pub fn request_id_reused(why: String) -> Status {
    Status::already_exists(why)
}

/// UNAVAILABLE: the server is shutting down.
pub fn shutting_down() -> Status {
    Status::unavailable("shutting down")
}

/// FAILED_PRECONDITION: `agency`'s e-seal certificate is not valid at the signing time, so
/// nothing was signed or logged. Reason `CERTIFICATE_EXPIRED` for [`NotValid::Expired`] (after
/// its notAfter), `CERTIFICATE_NOT_YET_VALID` for [`NotValid::NotYetValid`] (before its
/// notBefore); the message names the agency and the time in RFC 3339.
///
/// [`NotValid::Expired`]: crate::expiry::NotValid::Expired
/// [`NotValid::NotYetValid`]: crate::expiry::NotValid::NotYetValid
pub fn certificate_not_valid(agency: &str, e: &crate::expiry::NotValid) -> Status {
    Status::failed_precondition(format!(
        "agency {agency:?} cannot seal: its e-seal certificate {e}; nothing was signed"
    ))
}
