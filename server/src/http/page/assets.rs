//! The page's own files (styles, the optional script, icons), compiled into the binary and
//! served from `/static/{name}` with their media type and a day of caching. Nothing is loaded
//! from elsewhere.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Every file: name, media type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "segel.css",
        "text/css; charset=utf-8",
        include_bytes!("static/segel.css"),
    ),
    (
        "segel.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/segel.js"),
    ),
    (
        "icon-good.svg",
        "image/svg+xml",
        include_bytes!("static/icon-good.svg"),
    ),
    (
        "icon-bad.svg",
        "image/svg+xml",
        include_bytes!("static/icon-bad.svg"),
    ),
    (
        "icon-unsure.svg",
        "image/svg+xml",
        include_bytes!("static/icon-unsure.svg"),
    ),
    (
        "icon-file.svg",
        "image/svg+xml",
        include_bytes!("static/icon-file.svg"),
    ),
    (
        "logo.svg",
        "image/svg+xml",
        include_bytes!("static/logo.svg"),
    ),
];

/// `GET /static/{name}`: one of [`FILES`], or the listener's not-found answer.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, media, bytes)) => (
            [
                (header::CONTENT_TYPE, *media),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => crate::http::guard::not_found().await,
    }
}
