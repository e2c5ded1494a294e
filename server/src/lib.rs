//! # segel-server
//!
//! The Segel signing server: agency keys and policy ([`config`]), certificate validity over
//! time ([`expiry`]), the gRPC services
//! ([`service`]: requests checked into [`command`]s, results turned into replies in [`reply`],
//! errors mapped in [`status`]), the caller's identity ([`identity`]), serving
//! with mutual TLS ([`serve`], [`tls`]) under limits against hostile callers ([`limits`]), the
//! signature log ([`store`]: the Merkle log over a small storage trait, with sled on disk and a
//! memory backend for tests). The development PKI that `--dev` serves with comes from the
//! `segel-devpki` crate.

#![forbid(unsafe_code)]

pub mod command;
pub mod config;
pub mod expiry;
pub mod http;
pub mod identity;
pub mod limits;
pub mod metrics;
pub mod reply;
pub mod serve;
pub mod service;
pub mod status;
pub mod store;
pub mod tls;
pub mod verification;
