//! Refusals as HTTP answers: JSON `{"error": …, "reason": …}` for programs (the page renders
//! its own refusals as pages). Busy answers say when to retry.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::status::{HttpRefusal, Reason};

impl IntoResponse for HttpRefusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({ "error": self.message, "reason": self.reason.as_str() });
        let mut resp = (status, axum::Json(body)).into_response();
        if matches!(self.reason, Reason::Busy | Reason::ShuttingDown) {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
        }
        resp
    }
}
