//! What every request passes: a deadline, the security headers, an access log line (method,
//! route template, status, time, size, client address; never a document, its name, or the
//! document id of a `/d/…` path: the route template stands for it; the path itself only for
//! requests no route serves) and request metrics (`segel_http_requests_total{route, status}`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::HttpState;
use crate::status::{HttpRefusal, Reason};

/// The Content-Security-Policy of every answer: only Segel's own scripts, styles and images;
/// forms post only to Segel; no framing.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The longest path an access log line repeats.
const MAX_LOGGED_PATH: usize = 200;

/// The deadline, the headers, the log line and the metrics around one request.
pub(crate) async fn guard(
    State(state): State<Arc<HttpState>>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    // A routed request is logged by its template (`/d/{document_id}`), so that document ids
    // (what a letter's QR code links to) stay out of the logs.
    let path = (route == "unmatched").then(|| logged_path(req.uri().path()));
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let page = super::page::is_page(req.uri().path()).then(|| {
        (
            req.uri().path().to_owned(),
            req.uri().query().map(str::to_owned),
        )
    });
    let api = req.uri().path().starts_with("/api/");
    let mut resp = match tokio::time::timeout(state.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let late = HttpRefusal {
                status: 503,
                reason: Reason::Cancelled,
                message: format!(
                    "the request took longer than the server's limit of {} s",
                    state.request_timeout.as_secs()
                ),
            };
            match page {
                Some((path, query)) => {
                    super::page::refusal_page(&state, &path, query.as_deref(), &late)
                }
                None => late.into_response(),
            }
        }
    };
    security_headers(resp.headers_mut(), state.tls);
    if api {
        // Public, without credentials: pages of any origin may read the answers (and the
        // refusals).
        resp.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    let status = resp.status().as_u16();
    let bytes = axum::body::HttpBody::size_hint(resp.body()).exact();
    tracing::info!(
        target: "segel::access",
        %method,
        route,
        path,
        status,
        ms = start.elapsed().as_millis() as u64,
        bytes,
        remote,
    );
    metrics::counter!(
        "segel_http_requests_total",
        "route" => route,
        "status" => status.to_string()
    )
    .increment(1);
    resp
}

/// A path for the log: at most [`MAX_LOGGED_PATH`] bytes, control characters escaped.
fn logged_path(path: &str) -> String {
    // A segment that could be a document id (16 or more of `[A-Za-z0-9_-]`) is not repeated.
    let redacted: Vec<&str> = path
        .split('/')
        .map(|seg| {
            let id_like = seg.len() >= 16
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if id_like {
                "{id}"
            } else {
                seg
            }
        })
        .collect();
    let mut out = String::new();
    for c in redacted.join("/").chars() {
        if out.len() >= MAX_LOGGED_PATH {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The headers every answer carries; `Cache-Control: no-store` unless the handler chose.
fn security_headers(h: &mut HeaderMap, tls: bool) {
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    if tls {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
}

/// 404 for every path no route serves, as JSON (the page's own 404s are pages).
pub(crate) async fn not_found() -> Response {
    let mut r = HttpRefusal::new(
        Reason::InvalidRequest,
        "no such resource; see /api/openapi.json",
    );
    r.status = 404;
    r.into_response()
}

/// 405 as JSON for a route that does not answer the request's method.
pub(crate) async fn method_not_allowed() -> Response {
    let mut r = HttpRefusal::new(
        Reason::InvalidRequest,
        "this resource does not answer this method; see /api/openapi.json",
    );
    r.status = 405;
    r.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_are_short_and_escaped() {
        assert_eq!(logged_path("/d/abc"), "/d/abc");
        assert_eq!(logged_path("/d/pzT0NgoHLUj_OAvXnC4pZQ/"), "/d/{id}/");
        assert_eq!(
            logged_path("/api/v1/documents/pzT0NgoHLUj_OAvXnC4pZQ/x"),
            "/api/v1/documents/{id}/x"
        );
        assert_eq!(logged_path("/a\nb"), "/a\\nb");
        let long = "/".repeat(1000);
        assert!(logged_path(&long).len() < MAX_LOGGED_PATH + 8);
    }
}
