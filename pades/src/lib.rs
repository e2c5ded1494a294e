//! # pades — the Segel PAdES engine
//!
//! Pure code, no I/O: bytes, a [`Signer`] and a time value go in; bytes or a [`verify::Report`]
//! come out. No files, sockets, databases or clocks are touched here, so the server, the CLI and
//! the tests share exactly the same engine.
//!
//! ```text
//!  PDF bytes ─▶ pdf::Document (lazy xref reader) ─▶ sign::prepare ─▶ Prepared
//!                                                   (placeholder,     │ digest()
//!                                                    ByteRange fixed) ▼
//!                              cms::SignerIdentity::signed_attributes ─▶ Signer::sign
//!                                                                     │
//!       SignedPdf (input ++ incremental update) ◀── Prepared::embed(cms)
//! ```
//!
//! Signing follows ETSI EN 319 142-1 baseline B-B: `/SubFilter /ETSI.CAdES.detached`, CMS
//! SignedData with SHA-256 and the signed attributes content-type, message-digest and ESS
//! signing-certificate-v2, the signer's chain embedded without the root, and the claimed time in
//! the signature dictionary's `/M`. The document is changed by incremental update only: the
//! output starts with the input's exact bytes.
//!
//! [`prepare`] and [`sign()`] keep their input as given ([`sign::Input`]: borrowed, owned or
//! shared bytes), so a [`Prepared`] document can wait for a remote signer on another thread
//! without preparing the file again.
//!
//! The cargo feature `testing` (off by default) adds `pades::testing`, synthetic PDFs for tests
//! and benchmarks.

#![forbid(unsafe_code)]

pub mod cms;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod options;
pub mod pdf;
pub mod pem;
pub mod place;
pub mod sign;
pub mod signer;
/// Visible seals: template, document id, QR code and the stamp's drawing.
pub mod stamp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod verify;

pub use cms::{sha256, SignerIdentity};
pub use error::{Error, Result};
pub use options::SignOptions;
pub use sign::{prepare, sign, Prepared, SignatureRequest, SignedPdf};
pub use signer::{RsaKeySigner, SignatureAlgorithm, Signer};
pub use time::UnixTime;
pub use verify::{verify, Indication, Report, SubIndication, VerifyOptions};
