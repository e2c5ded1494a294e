//! # segel-client
//!
//! The client side of Segel: offline signing and verification of files with the `pades` engine,
//! PEM loading, and the renderers the `segel` CLI uses. The online client (gRPC to the signing
//! server) and log-proof checks follow.

#![forbid(unsafe_code)]

pub mod error;
pub mod offline;
pub mod pem;
pub mod render;

pub use error::ClientError;
