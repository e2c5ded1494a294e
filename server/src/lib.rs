//! # segel-server
//!
//! The Segel signing server: agency keys and policy ([`config`]), the gRPC services
//! ([`service`], errors mapped in [`status`]), serving with mutual TLS ([`serve`]), the signature
//! log on sled ([`store`]), and the development PKI generator ([`devpki`]).

#![forbid(unsafe_code)]

pub mod config;
pub mod devpki;
pub mod metrics;
pub mod serve;
pub mod service;
pub mod status;
pub mod store;
