//! The client library's error type.

use std::path::PathBuf;

/// What can go wrong on the client side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A PEM file holds nothing usable.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The key could not be used.
    #[error("{path}: {source}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: pades::error::SignerError,
    },
    /// The engine refused the document or the certificates.
    #[error("{path}: {source}")]
    Engine {
        /// The PDF.
        path: PathBuf,
        /// Why.
        source: pades::Error,
    },
}

impl ClientError {
    /// True when the input could not be read at all (exit code 2 territory), as opposed to a
    /// document that was read and refused.
    pub fn is_unreadable_input(&self) -> bool {
        matches!(
            self,
            Self::Read { .. } | Self::Pem { .. } | Self::Key { .. }
        )
    }
}
