//! # segel-client
//!
//! The client side of Segel:
//! - [`online`]: typed async calls to the signing server over mutual TLS (sign a PDF, unary or
//!   streamed; sign a locally prepared PDF by its digest; verify; read the log), with every
//!   proof checked against the log's key and the newest checkpoint seen ([`logcheck`]);
//! - [`batch`]: signing folders of PDFs with bounded concurrency, resumable, with a report;
//! - [`offline`]: signing and verifying files with the `pades` engine and a local key;
//! - [`settings`], [`pem`], [`render`]: what the `segel` CLI is made of.

#![forbid(unsafe_code)]

pub mod batch;
pub mod error;
pub mod logcheck;
pub mod offline;
pub mod online;
pub mod pem;
pub mod render;
pub mod settings;

pub use error::ClientError;

/// Read a whole file; an error names it.
///
/// # Errors
/// [`ClientError::Read`].
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Lower-case hexadecimal of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The SHA-256 state after `data` (to finish, or to continue with what follows it).
pub(crate) fn sha256_state(data: &[u8]) -> aws_lc_rs::digest::Context {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(data);
    ctx
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}
