//! The verification page (being built).

use std::sync::Arc;

use axum::Router;

use super::HttpState;

/// The routes of the page.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
}
