//! The JSON API, version 1: a PDF's verdict (`POST /api/v1/verify`) and what the log holds for
//! a visible seal's document id (`GET /api/v1/documents/{document_id}`).
//!
//! The wire shapes are the structs of [`wire`], built from the domain types here at the edge;
//! the one domain type serialised as it is, is the engine's [`SignatureReport`] (`report`).
//! Every refusal is a JSON [`HttpRefusal`] (`{"error", "reason"}`), the status from
//! [`crate::status::http_status`]. `docs/http-api.md` describes every field.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use base64::Engine as _;
use pades::stamp::DocumentId;
use pades::verify::{Coverage, SignatureReport};
use pades::UnixTime;

use super::upload::Upload;
use super::HttpState;
use crate::service::Segel;
use crate::status::{HttpRefusal, Reason};
use crate::verification::{LogMatch, Verification, Via};

/// The routes of this module.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/api/v1/verify", only("POST", post(verify)))
        .route(
            "/api/v1/documents/{document_id}",
            only("GET", get(document)),
        )
}

/// `route` answering a CORS preflight (`OPTIONS`) for `allow`, and every other method with a
/// JSON 405 naming `allow`.
pub(super) fn only(
    allow: &'static str,
    route: MethodRouter<Arc<HttpState>>,
) -> MethodRouter<Arc<HttpState>> {
    route
        .options(move || async move { preflight(allow) })
        .fallback(move || async move { method_not_allowed(allow) })
}

/// The answer to a CORS preflight: the APIs are public and take no credentials, so a page of
/// any origin may call them (the guard adds `Access-Control-Allow-Origin: *` to every `/api/`
/// answer).
fn preflight(allow: &'static str) -> Response {
    let mut resp = axum::http::StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(allow),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

/// 405 as JSON, with `Allow`.
fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = HttpRefusal::new(
        Reason::InvalidRequest,
        format!("this resource answers {allow} only; see /api/openapi.json"),
    );
    r.status = 405;
    let mut resp = r.into_response();
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// `POST /api/v1/verify`: the uploaded PDF's verdict, each signature with its log entry.
async fn verify(
    State(state): State<Arc<HttpState>>,
    req: Request,
) -> Result<Json<wire::Verdict>, HttpRefusal> {
    let v = Upload::from_request(req, &state)
        .await?
        .verify(&state, Via::Api)
        .await?;
    Ok(Json(wire::Verdict::new(&v, &state.segel)))
}

/// `GET /api/v1/documents/{document_id}`: the log entries recording a visible seal's document id.
async fn document(
    State(state): State<Arc<HttpState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<wire::Document>, HttpRefusal> {
    let invalid = || {
        HttpRefusal::new(
            Reason::InvalidDocumentId,
            "a document id is 16 to 64 characters of A-Z, a-z, 0-9, '_' and '-'",
        )
    };
    let Path(raw) = id.map_err(|_| invalid())?;
    let id = DocumentId::parse(&raw).map_err(|_| invalid())?;
    let found = state.segel.document_entries(&id).map_err(|e| {
        tracing::error!(error = %e, "document lookup failed");
        HttpRefusal::new(Reason::Internal, "internal error; see the server log")
    })?;
    if found.entries.is_empty() {
        return Err(HttpRefusal::new(
            Reason::EntryNotFound,
            "the log holds no seal with this document id",
        ));
    }
    Ok(Json(wire::Document {
        document_id: found.id.as_str().to_owned(),
        entries: found
            .entries
            .iter()
            .map(|m| wire::LogEntry::new(m, &state.segel))
            .collect(),
        checkpoint: wire::Checkpoint::new(&found.checkpoint, found.size),
    }))
}

/// A time as RFC 3339 with milliseconds, UTC (`2026-05-01T08:30:00.123Z`).
fn rfc3339_ms(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = UnixTime::from_ms(ms).civil();
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        ms.rem_euclid(1000)
    )
}

/// Base64 (standard alphabet, padded).
fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The wire shapes of version 1 (snake_case; absent values are `null`, never left out).
pub(super) mod wire {
    use super::*;

    /// The answer of `POST /api/v1/verify`.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Verdict {
        /// `TOTAL-PASSED`, `TOTAL-FAILED` or `INDETERMINATE` (also when there is no signature).
        pub(crate) overall: String,
        /// One per signature, in field order; empty for a PDF without signatures.
        pub(crate) signatures: Vec<Signature>,
        /// The checkpoint every inclusion proof is at.
        pub(crate) checkpoint: Checkpoint,
    }

    impl Verdict {
        /// The wire form of `v`.
        pub(crate) fn new(v: &Verification, segel: &Segel) -> Self {
            Self {
                overall: v.overall.to_string(),
                signatures: v
                    .signatures
                    .iter()
                    .map(|s| Signature::new(&s.report, s.log.as_ref(), segel))
                    .collect(),
                checkpoint: Checkpoint::new(&v.checkpoint, v.size),
            }
        }
    }

    /// One signature's verdict.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Signature {
        /// The signature field's fully qualified name.
        pub(crate) field: String,
        /// `TOTAL-PASSED`, `TOTAL-FAILED` or `INDETERMINATE`.
        pub(crate) indication: String,
        /// ETSI EN 319 102-1 sub-indication (`HASH_FAILURE`, …); null when passed.
        pub(crate) sub_indication: Option<&'static str>,
        /// The signer's certificate names; null when no certificate was found.
        pub(crate) signer: Option<Signer>,
        /// The signing time the signature claims (`/M`), RFC 3339; not a trusted time.
        pub(crate) signing_time: Option<String>,
        /// What of the file the signature covers.
        pub(crate) coverage: CoverageJson,
        /// Whether the signer's certificate chains to one of the server's trust anchors.
        pub(crate) chain_trusted: bool,
        /// The engine's report, as it serialises itself.
        pub(crate) report: SignatureReport,
        /// The log entry recording this very signature, or null.
        pub(crate) log: Option<LogEntry>,
    }

    impl Signature {
        fn new(r: &SignatureReport, log: Option<&LogMatch>, segel: &Segel) -> Self {
            Self {
                field: r.field.clone(),
                indication: r.indication.to_string(),
                sub_indication: r.sub_indication.map(|s| s.as_str()),
                signer: r.certificate.as_ref().map(|c| Signer {
                    name: c.common_name.clone(),
                    organization: c.organization.clone(),
                    subject: c.subject.clone(),
                }),
                signing_time: r.claimed_time.map(UnixTime::rfc3339),
                coverage: CoverageJson::new(r.coverage),
                chain_trusted: r.check_passed("chain") == Some(true),
                report: r.clone(),
                // The document id is known only to whoever holds it (the QR code's link); the
                // log records its hash.
                log: log.map(|m| LogEntry::new(m, segel)),
            }
        }
    }

    /// The signer, from its certificate's subject.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Signer {
        /// The common name (CN), when the subject has exactly one.
        pub(crate) name: Option<String>,
        /// The organisation (O), when the subject has exactly one.
        pub(crate) organization: Option<String>,
        /// The subject's distinguished name (RFC 4514).
        pub(crate) subject: String,
    }

    /// What of the file a signature covers.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct CoverageJson {
        /// `whole_file`, `revision` (an earlier revision: the file changed after it) or
        /// `invalid` (an unusable byte range).
        pub(crate) kind: &'static str,
        /// For `revision`: the first byte not covered; otherwise null.
        pub(crate) end: Option<u64>,
    }

    impl CoverageJson {
        fn new(c: Coverage) -> Self {
            match c {
                Coverage::WholeFile => Self {
                    kind: "whole_file",
                    end: None,
                },
                Coverage::Revision { end } => Self {
                    kind: "revision",
                    end: Some(end as u64),
                },
                Coverage::Invalid => Self {
                    kind: "invalid",
                    end: None,
                },
            }
        }
    }

    /// A log entry with its inclusion proof.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct LogEntry {
        /// The entry's index in the log.
        pub(crate) index: u64,
        /// The agency whose key signed (its id).
        pub(crate) agency: String,
        /// The agency's configured name, when it is still configured.
        pub(crate) agency_name: Option<String>,
        /// When the entry was logged, RFC 3339 with milliseconds.
        pub(crate) logged_at: String,
        /// SHA-256 of the signed PDF (hex).
        pub(crate) document_sha256: String,
        /// SHA-256 of the visible seal's document id (hex); null without one.
        pub(crate) document_id_sha256: Option<String>,
        /// The document id itself, when the entry records one (null for entries logged before
        /// the server kept ids beside their hashes).
        pub(crate) document_id: Option<String>,
        /// The entry as the log hashes it (tlog entry format), base64.
        pub(crate) record: String,
        /// The inclusion proof at the checkpoint's size.
        pub(crate) inclusion_proof: InclusionProof,
        /// Whether the server checked the proof against the checkpoint's root.
        pub(crate) proof_verified: bool,
    }

    impl LogEntry {
        /// The wire form of `m`.
        pub(crate) fn new(m: &LogMatch, segel: &Segel) -> Self {
            let e = &m.entry;
            Self {
                index: m.index,
                agency: e.agency.clone(),
                agency_name: segel.agency_name(&e.agency).map(str::to_owned),
                logged_at: rfc3339_ms(e.time_ms),
                document_sha256: hex::encode(e.document_sha256),
                document_id_sha256: match e.document_id_sha256 {
                    tlog::DocumentIdHash::Present(h) => Some(hex::encode(h)),
                    tlog::DocumentIdHash::Absent | tlog::DocumentIdHash::Unrecorded => None,
                },
                document_id: m.document_id.clone(),
                record: b64(&m.record),
                inclusion_proof: InclusionProof {
                    leaf_index: m.proof.leaf_index,
                    tree_size: m.proof.tree_size,
                    hashes: m.proof.hashes.iter().map(|h| b64(h)).collect(),
                },
                proof_verified: m.proof_verified,
            }
        }
    }

    /// An inclusion proof (RFC 6962 audit path).
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct InclusionProof {
        /// The entry's index.
        pub(crate) leaf_index: u64,
        /// The tree size the proof is for.
        pub(crate) tree_size: u64,
        /// The audit path, leaf to root, base64.
        pub(crate) hashes: Vec<String>,
    }

    /// The log's signed checkpoint.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Checkpoint {
        /// The C2SP signed note, verbatim.
        pub(crate) note: String,
        /// The C2SP verifier key of the note's signer.
        pub(crate) verifier_key: String,
        /// The tree size the note names.
        pub(crate) size: u64,
    }

    impl Checkpoint {
        /// The wire form of `c` at `size`.
        pub(crate) fn new(c: &crate::reply::Checkpoint, size: u64) -> Self {
            Self {
                note: c.note.clone(),
                verifier_key: c.verifier_key.clone(),
                size,
            }
        }
    }

    /// The answer of `GET /api/v1/documents/{document_id}`.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Document {
        /// The document id asked for.
        pub(crate) document_id: String,
        /// Its entries (usually one), each with a proof at the checkpoint's size.
        pub(crate) entries: Vec<LogEntry>,
        /// The checkpoint the proofs are at.
        pub(crate) checkpoint: Checkpoint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_milliseconds_in_utc() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_777_624_200_123), "2026-05-01T08:30:00.123Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    }
}
