//! The Segel gRPC API (`proto/segel/v1/segel.proto`), generated at build time.

#![allow(missing_docs, unreachable_pub, clippy::unwrap_used)]

/// `segel.v1`.
// A stream's first message (the metadata) is larger than its chunks; boxing it would cost an
// allocation per stream for nothing (one metadata message per stream).
#[allow(clippy::large_enum_variant)]
pub mod v1 {
    tonic::include_proto!("segel.v1");
}

mod convert;
pub use convert::stamp_settings;

/// The `bytes` crate of the generated documents' fields (`pdf`, `signed_pdf`, chunks).
pub use bytes;

/// Response metadata of a `SignDigest` refused as ALREADY_EXISTS: the signing time (Unix
/// seconds, decimal) the request id was first used with.
pub const SIGNING_TIME_METADATA: &str = "segel-signing-time";

/// Response metadata of a `SignDigest` refused as ALREADY_EXISTS whose request id was first used
/// with a document id: that id, so that the caller draws the same seal again.
pub const DOCUMENT_ID_METADATA: &str = "segel-document-id";

/// The domain of the `google.rpc.ErrorInfo` in the details of every refusal by a Segel server
/// (its `reason` names the refusal; `docs/api.md` lists them).
pub const ERROR_DOMAIN: &str = "segel";

/// The encoded `FileDescriptorSet` of the API, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/segel_descriptor.bin"));
