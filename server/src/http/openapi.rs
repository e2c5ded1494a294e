//! `GET /api/openapi.json`: the OpenAPI 3.1 description of every route of the listener
//! (`openapi.json` beside this file, compiled in; `docs/http-api.md` is its prose).

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::api::only;
use super::HttpState;

/// The document, as served.
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

/// The routes of this module.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new().route("/api/openapi.json", only("GET", get(openapi)))
}

/// The document; the same for every caller, so caches may keep it for an hour.
async fn openapi() -> Response {
    let mut resp = OPENAPI.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_names_every_api_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        for (path, method) in [
            ("/api/v1/verify", "post"),
            ("/api/v1/documents/{document_id}", "get"),
            ("/api/v2/verify/pdf", "post"),
            ("/api/openapi.json", "get"),
            ("/log/checkpoint", "get"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        // Every reference resolves.
        let text = OPENAPI;
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "unresolved {name}"
            );
        }
    }
}
