//! Routes of `openapi` (being built).

use std::sync::Arc;

use axum::Router;

use super::HttpState;

/// The routes of this module.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
}
