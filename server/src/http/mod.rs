//! The HTTP listener: verification for people without a gRPC client, and the log for auditors.
//!
//! ```text
//!  GET  /                     the verification page (Indonesian; `?lang=en` English)   page/
//!  POST /                     an uploaded PDF's verdict, as a page (no JavaScript needed)
//!  GET  /d/{document_id}      what the log holds for a visible seal's document id (QR landing;
//!                             `/d/{document_id}/` redirects here)
//!  POST /d/{document_id}      an upload compared with that entry
//!  GET  /static/…             the page's own styles, script and icons
//!  POST /api/v1/verify        a PDF's verdict as JSON                                    api.rs
//!  GET  /api/v1/documents/{document_id}   the log entry of a document id, as JSON
//!  POST /api/v2/verify/pdf    the verdict in the national e-signature service's shape    national.rs
//!  GET  /api/openapi.json     the OpenAPI description of the APIs                        openapi.rs
//!  GET  /log/checkpoint       the log as C2SP tlog-tiles                                 tiles.rs
//!  GET  /log/tile/…
//!  GET  /log/vkey             the note verifier key of the checkpoints
//! ```
//!
//! Every request passes [`guard`]: a deadline, security headers, an access log line without
//! document content, and request metrics. Uploads are read by [`upload`]: an upload place
//! first, the body at a minimum pace and within the size limit, then a verification slot (the
//! pool gRPC `VerifyPdf` shares); they are never stored. Refusals are [`crate::status::HttpRefusal`]s, mapped once in
//! [`crate::status`].

mod api;
mod guard;
mod national;
mod openapi;
mod page;
mod refusal;
mod serve;
mod tiles;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use crate::service::Segel;

pub use serve::serve_http;

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct HttpState {
    /// The signing core: verification and the log.
    pub(crate) segel: Arc<Segel>,
    /// Largest upload accepted, in bytes.
    pub(crate) max_upload_bytes: usize,
    /// Places for uploads being received ([`upload`]).
    pub(crate) uploads: Arc<tokio::sync::Semaphore>,
    /// How many places there are.
    pub(crate) max_concurrent_uploads: usize,
    /// Places per client address.
    pub(crate) upload_sources: Arc<crate::limits::PerAddress>,
    /// How many per address.
    pub(crate) max_uploads_per_address: usize,
    /// Whether this listener speaks TLS itself (then `Strict-Transport-Security` is sent).
    pub(crate) tls: bool,
    /// Deadline of every request, upload and verification included.
    pub(crate) request_timeout: Duration,
}

/// The settings the router needs.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Uploads being received at once.
    pub max_concurrent_uploads: usize,
    /// Uploads being received at once from one IPv4 address or IPv6 /64.
    pub max_uploads_per_address: usize,
    /// Whether the listener speaks TLS itself.
    pub tls: bool,
    /// Deadline of every request.
    pub request_timeout: Duration,
}

/// Every route of the listener over `segel`, behind [`guard`].
pub fn router(segel: Arc<Segel>, settings: &HttpSettings) -> Router {
    let state = Arc::new(HttpState {
        segel,
        max_upload_bytes: settings.max_upload_bytes,
        uploads: Arc::new(tokio::sync::Semaphore::new(settings.max_concurrent_uploads)),
        max_concurrent_uploads: settings.max_concurrent_uploads,
        upload_sources: crate::limits::PerAddress::new(settings.max_uploads_per_address),
        max_uploads_per_address: settings.max_uploads_per_address,
        tls: settings.tls,
        request_timeout: settings.request_timeout,
    });
    Router::new()
        .merge(page::routes())
        .merge(api::routes())
        .merge(national::routes())
        .merge(openapi::routes())
        .merge(tiles::routes())
        .fallback(guard::not_found)
        .method_not_allowed_fallback(guard::method_not_allowed)
        // Bodies are read only through `upload`, each with its own limit (axum's default
        // limit would cut multipart uploads short).
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .with_state(state)
}
