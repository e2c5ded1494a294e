//! Drawing for visible seals (issue #17): pieces of the stamp that a signature widget shows.
//!
//! Everything here is pure: it turns values into PDF content-stream bytes and touches no file.
//! So far it holds the QR code ([`qr`]) that carries the verification link.

pub mod qr;

pub use qr::{QrCode, QrError, MIN_SIZE_PT};
