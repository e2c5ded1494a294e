//! The one mapping from errors to gRPC status codes. Messages say what is wrong with the
//! request; internal failures are logged and answered without internals.

use tonic::Status;

use crate::store::StoreError;

/// A document or option the engine refused: INVALID_ARGUMENT with the engine's reason; a
/// failing key operation is INTERNAL.
pub fn engine_status(e: &pades::Error) -> Status {
    match e {
        pades::Error::Signer(_) => {
            tracing::error!(error = %e, "private-key operation failed");
            Status::internal("the signing key failed; see the server log")
        }
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

/// INVALID_ARGUMENT.
pub fn invalid(what: &str) -> Status {
    Status::invalid_argument(what.to_string())
}

/// INTERNAL, logged.
pub fn internal(e: &dyn std::fmt::Display) -> Status {
    tracing::error!(error = %e, "internal error");
    Status::internal("internal error; see the server log")
}
