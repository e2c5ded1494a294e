//! The signature log over HTTP as a C2SP `tlog-tiles` log under `/log/`, so that standard tile
//! clients (Go's `sumdb/tlog` tile reader, the transparency-dev tooling) can prove any entry
//! without trusting this server.
//!
//! ```text
//!  GET /log/checkpoint                the signed checkpoint (C2SP signed note)   no-cache
//!  GET /log/vkey                      the note verifier key of the checkpoints   5 minutes
//!  GET /log/tile/<L>/<N>[.p/<W>]      hash tiles (32-byte hashes)                immutable
//!  GET /log/tile/entries/<N>[.p/<W>]  entry bundles (u16 big-endian lengths)     immutable
//! ```
//!
//! Tile paths are read from the raw request path (never percent-decoded, so every tile has
//! exactly one URL) and parsed strictly by [`TilePath::parse`]; anything else under `/log/`,
//! and every tile the published tree does not have, is a 404 with a short text body. A tile's
//! bytes never change once it exists — a partial tile `.p/<W>` names the same hashes in every
//! tree that has it — so full and partial tiles alike are cacheable for a year; the 404 of a
//! tile not yet there is not cached. Every answer allows any origin (public data, read by
//! browser-based clients). HEAD is answered like GET, without the body.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tlog::tiles::TilePath;

use super::HttpState;
use crate::store::tiles::TileReadError;

/// The URL prefix of the log (the specification's `<prefix>`).
const PREFIX: &str = "/log/";
/// The caching of a tile: its bytes never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The caching of the checkpoint: it changes with every commit, so caches must ask again.
const NO_CACHE: &str = "no-cache";
/// The caching of the verifier key: fixed for the life of the log, but re-read now and then in
/// case the operator announces a new one.
const VKEY_CACHE: &str = "public, max-age=300";
/// The longest path looked at: a canonical tile path is at most 52 bytes after the prefix.
const MAX_PATH: usize = 128;

/// The routes of this module.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/vkey", get(vkey))
        .route("/log/tile/{*rest}", get(tile))
        .route("/log/", get(unknown))
        .route("/log/{*rest}", get(unknown))
}

/// `GET /log/checkpoint`: the latest signed checkpoint, exactly as signed.
async fn checkpoint(State(state): State<Arc<HttpState>>) -> Response {
    text(StatusCode::OK, state.segel.log().checkpoint(), NO_CACHE)
}

/// `GET /log/vkey`: the verifier key of the checkpoints' signatures (`name+id+key`).
async fn vkey(State(state): State<Arc<HttpState>>) -> Response {
    let key = state.segel.log().verifier().to_vkey();
    text(StatusCode::OK, format!("{key}\n"), VKEY_CACHE)
}

/// `GET /log/tile/…`: a hash tile or an entry bundle.
async fn tile(State(state): State<Arc<HttpState>>, uri: Uri) -> Response {
    let raw = uri.path();
    let Some(path) = raw
        .strip_prefix(PREFIX)
        .filter(|p| p.len() <= MAX_PATH)
        .and_then(|p| TilePath::parse(p).ok())
    else {
        return not_found("not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]");
    };
    match state.segel.log().tile(&path) {
        Ok(bytes) => {
            let mut resp = (StatusCode::OK, bytes).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            resp
        }
        Err(TileReadError::NotFound { .. }) => {
            not_found("the log has no such tile (yet): fetch the checkpoint first")
        }
        Err(e) => {
            tracing::error!(tile = %path, error = %e, "a log tile could not be read");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the log could not be read\n".into(),
                "no-store",
            )
        }
    }
}

/// Anything else under `/log/`.
async fn unknown() -> Response {
    not_found("no such log resource: checkpoint, vkey, tile/…")
}

/// A 404 with a short explanation, not cached (the tile may exist later).
fn not_found(why: &str) -> Response {
    text(StatusCode::NOT_FOUND, format!("{why}\n"), "no-store")
}

/// A UTF-8 text answer with its caching, readable from any origin.
fn text(status: StatusCode, body: String, cache: &'static str) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}
