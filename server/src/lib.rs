//! # segel-server
//!
//! The Segel signing server. This version provides the development PKI generator used by
//! `segel-server --dev`; the gRPC service, agency keys, mutual TLS and the signature log follow.

#![forbid(unsafe_code)]

pub mod devpki;
pub mod store;
