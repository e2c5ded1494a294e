//! The verification page for people: `GET /` (the form), `POST /` (an uploaded PDF's verdict,
//! as a page), `GET /d/{document_id}` (what the log holds for a visible seal's document id:
//! the page its QR code opens), `POST /d/{document_id}` (an upload compared with that entry),
//! `GET /static/{name}` (the page's own styles, script and icons).
//!
//! Indonesian by default, English with `?lang=en`. Everything works as plain HTML forms; the
//! script only adds drag and drop. Uploads are never stored or logged.
//!
//! - [`routes`]: handlers, HTTP in and pages out;
//! - [`view`]: what a page shows, built from a [`crate::verification::Verification`];
//! - [`text`]: every word, once per language;
//! - [`templates`]: the askama templates (auto-escaping: nothing from a document can become
//!   markup; askama checks the templates at compile time, so a page cannot fail at run time
//!   for a typo);
//! - [`assets`]: the static files.

mod assets;
mod routes;
mod templates;
#[cfg(test)]
mod tests;
mod text;
mod view;

use std::sync::Arc;

use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::HttpState;
use crate::status::HttpRefusal;

/// Whether the answers at `path` are pages (so a refusal there is a page too).
pub(super) fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/d/")
}

/// A refusal as a page for the request to `path`, in the language `query` asks for: for the
/// guard, which refuses a request past its deadline before any handler can. Its form posts
/// back to `/d/{id}` for a well-formed id there, else to `/`.
pub(super) fn refusal_page(
    state: &HttpState,
    path: &str,
    query: Option<&str>,
    r: &HttpRefusal,
) -> Response {
    let form = path
        .strip_prefix("/d/")
        .and_then(|id| pades::stamp::DocumentId::parse(id).ok())
        .map_or_else(|| "/".to_string(), |id| format!("/d/{}", id.as_str()));
    routes::refusal(state, text::Lang::from_query(query), &form, r)
}

/// The routes of the page.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/", get(routes::home).post(routes::verify))
        .route(
            "/d/{document_id}",
            get(routes::document).post(routes::compare),
        )
        // QR scanners and link rewriters add a trailing slash now and then.
        .route("/d/{document_id}/", get(routes::without_slash))
        .route("/static/{name}", get(assets::asset))
}
