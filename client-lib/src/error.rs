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
    /// The connection settings are incomplete or malformed: what the user configured (flags,
    /// environment, settings file) and how to put it right.
    #[error("{0}")]
    Settings(String),
    /// A command-line argument that should be hexadecimal (a SHA-256) is not.
    #[error("{text:?} is not hexadecimal (64 hex digits for a SHA-256)")]
    NotHex {
        /// The argument, trimmed.
        text: String,
    },
    /// The state file (the log key and newest checkpoint kept for a server) cannot be read as
    /// one.
    #[error("{path}: {source} (remove the file to start afresh)")]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// The agency asked for is not among those this client may seal for.
    #[error(
        "this client may not seal for agency {agency:?}; it may for: {}",
        if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") }
    )]
    AgencyNotAllowed {
        /// The agency asked for.
        agency: String,
        /// The agencies the server lets this client use.
        allowed: Vec<String>,
    },
    /// The async runtime could not be started.
    #[error("cannot start the async runtime: {source}")]
    Runtime {
        /// Why.
        source: std::io::Error,
    },
    /// A task of the client's own failed (it panicked): a bug, not a problem of the input.
    #[error("internal error: {source}")]
    Task {
        /// The task's failure.
        source: tokio::task::JoinError,
    },
    /// The server could not be reached or the TLS handshake failed.
    #[error("cannot connect to {server}: {detail}")]
    Connect {
        /// The server URL.
        server: String,
        /// Why, with what to do next.
        detail: String,
    },
    /// The server refused a request.
    #[error(
        "{what}: the server answered {code:?}{}: {message}",
        reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    Refused {
        /// What was asked.
        what: String,
        /// The gRPC status code.
        code: tonic::Code,
        /// The refusal's reason (`REQUEST_ID_REUSED`, `NOT_A_PDF`, …; `docs/api.md` lists
        /// them): the `google.rpc.ErrorInfo` of domain `segel` in the status details; `None`
        /// when the status carries none (a refusal by the transport, or by a client-side
        /// timeout).
        reason: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The server logged this request id (SignDigest) for a file prepared with another signing
    /// time: prepare the file with `time` and ask again to get the same entry back.
    #[error(
        "request id {request_id:?} was first used for a file prepared with signing time {time}"
    )]
    EarlierSigningTime {
        /// The request id.
        request_id: String,
        /// The signing time (Unix seconds) of the first request.
        time: i64,
        /// The document id the first request's visible seal linked to, when the server names
        /// it (response metadata `segel-document-id`): the seal drawn again must link to it.
        document_id: Option<String>,
    },
    /// The server's answer is malformed or contradicts itself.
    #[error("{what}: bad answer from the server: {detail}")]
    BadAnswer {
        /// What was asked.
        what: String,
        /// What is wrong with the answer.
        detail: String,
    },
    /// The server's log answer did not check out (signature, proof, consistency).
    #[error("{what}: {source}")]
    Log {
        /// What was asked.
        what: String,
        /// What failed.
        source: crate::logcheck::LogCheckError,
    },
    /// An output, or an output subfolder on its way, is a symbolic link: refused for that file,
    /// nothing is written through it.
    #[error(
        "refusing to write {path}: it is a symbolic link (outputs are never written through \
         links: remove it, or give an output folder without links)"
    )]
    SymlinkedOutput {
        /// The link: the output itself or a folder on its way.
        path: PathBuf,
    },
    /// The output folder is the input folder, contains it or lies inside it (compared as
    /// canonical paths).
    #[error(
        "the output folder {output} {relation} the input folder {input}: give an output folder \
         outside the input folder that does not contain it (outputs must never land among the \
         inputs, nor be read as inputs)"
    )]
    FoldersOverlap {
        /// The input folder, canonical.
        input: PathBuf,
        /// The output folder, canonical (as it will be once created).
        output: PathBuf,
        /// "is", "contains" or "is inside".
        relation: &'static str,
    },
    /// A batch's document references file has lines that are wrong; nothing was signed.
    #[error(
        "{file}: {} (nothing was signed; correct the file and run again)",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    DocumentRefs {
        /// The references file.
        file: PathBuf,
        /// Every wrong line, in line order.
        problems: Vec<crate::batch::LineProblem>,
    },
    /// The visible seal asked for cannot be made as given: its settings (template, verify
    /// URL, image), its values or its document id.
    #[error("visible seal: {source}")]
    Seal {
        /// What is wrong.
        #[from]
        source: pades::stamp::StampError,
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
    /// True when the input could not be read at all, the command cannot run as given, or the
    /// client itself failed (exit code 2 territory), as opposed to a document that was read and
    /// refused.
    pub fn is_unreadable_input(&self) -> bool {
        matches!(
            self,
            Self::Read { .. }
                | Self::Pem { .. }
                | Self::Key { .. }
                | Self::Settings(_)
                | Self::NotHex { .. }
                | Self::StateFile { .. }
                | Self::AgencyNotAllowed { .. }
                | Self::Runtime { .. }
                | Self::Task { .. }
                | Self::FoldersOverlap { .. }
                | Self::DocumentRefs { .. }
                | Self::Seal { .. }
        )
    }

    /// True when the server could not be reached at all (as opposed to a refusal).
    pub fn is_connection(&self) -> bool {
        matches!(self, Self::Connect { .. })
            || matches!(self, Self::Refused { code, .. }
                if matches!(code, tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled | tonic::Code::Unknown))
    }

    /// True when retrying the same request may succeed (timeouts, unavailable server).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Refused { code, .. }
            if matches!(code, tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled | tonic::Code::Aborted))
    }
}
