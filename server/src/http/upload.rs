//! Reading an uploaded document: a verification slot first (busy: 429 at once, before a byte
//! of the body is read), then the PDF, as the body (`application/pdf`) or as the multipart
//! field `file`, never more than the upload limit (413) and never stored.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use http_body_util::BodyExt;
use tokio::sync::OwnedSemaphorePermit;

use super::HttpState;
use crate::status::{HttpRefusal, Reason};

/// An uploaded document, with the verification slot it holds until it is dropped.
#[derive(Debug)]
pub(crate) struct Upload {
    /// The document's bytes.
    pub(crate) pdf: Vec<u8>,
    /// The client's file name, if the multipart part gave one (for display only; at most
    /// 200 characters, control characters removed).
    pub(crate) file_name: Option<String>,
    /// The admission slot (see [`crate::limits::VerifyLimit::admit`]).
    pub(crate) _slot: OwnedSemaphorePermit,
}

/// The largest file name kept for display.
const MAX_FILE_NAME: usize = 200;

impl FromRequest<Arc<HttpState>> for Upload {
    type Rejection = HttpRefusal;

    async fn from_request(req: Request, state: &Arc<HttpState>) -> Result<Self, HttpRefusal> {
        let cap = state.max_upload_bytes.saturating_add(MULTIPART_ENVELOPE);
        drained_on_refusal(req, cap, |req| read_upload(req, state)).await
    }
}

/// What a multipart form may add around its file (boundaries, part headers, other fields).
const MULTIPART_ENVELOPE: usize = 64 * 1024;

/// The slot, then the document.
async fn read_upload(req: Request, state: &Arc<HttpState>) -> Result<Upload, HttpRefusal> {
    let slot = state.segel.verify_limit().admit().map_err(|e| {
        crate::status::http_verify_error(&crate::verification::VerifyError::from(e))
    })?;
    let limit = state.max_upload_bytes;
    let too_large = |bytes: Option<u64>| {
        HttpRefusal::new(
            Reason::DocumentTooLarge,
            match bytes {
                Some(b) => format!("the upload has {b} bytes; the limit is {limit}"),
                None => format!("the upload exceeds the limit of {limit} bytes"),
            },
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let kind = media_type(req.headers());
    let (pdf, file_name) = match kind.as_deref() {
        Some("application/pdf") => {
            if declared.is_some_and(|d| d > limit as u64) {
                return Err(too_large(declared));
            }
            (
                read_limited(req.into_body(), limit)
                    .await
                    .map_err(|()| too_large(None))?,
                None,
            )
        }
        Some("multipart/form-data") => {
            let envelope = limit.saturating_add(MULTIPART_ENVELOPE);
            if declared.is_some_and(|d| d > envelope as u64) {
                return Err(too_large(declared));
            }
            let req = req.map(|b| Body::new(http_body_util::Limited::new(b, envelope)));
            read_multipart(req, state, limit).await?
        }
        _ => {
            return Err(HttpRefusal::new(
                Reason::InvalidRequest,
                "send the PDF as the request body with Content-Type: application/pdf, or \
                 as the field `file` of a multipart/form-data form",
            ))
        }
    };
    if pdf.is_empty() {
        return Err(HttpRefusal::new(
            Reason::NotAPdf,
            "the upload is empty: choose a PDF file",
        ));
    }
    Ok(Upload {
        pdf,
        file_name,
        _slot: slot,
    })
}

/// The longest a refused upload's unread body is read on (see [`drained_on_refusal`]).
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Answer `req` with `handle`; when it is refused (busy, too large, malformed) while the client
/// may still be sending its body, read and discard the rest of the body first, at most `cap`
/// bytes and for at most [`DRAIN_TIME`], without holding a verification slot. Closing a
/// connection with unread bytes makes the kernel reset it, and a client still sending loses
/// the refusal with it (it sees a broken connection, not the 429 or 413 it can act on). A
/// client that asked `Expect: 100-continue` sent no body, and one declaring more than `cap`
/// would not be read to its end: neither is waited for.
pub(crate) async fn drained_on_refusal<T, F>(
    req: Request,
    cap: usize,
    handle: impl FnOnce(Request) -> F,
) -> Result<T, HttpRefusal>
where
    F: Future<Output = Result<T, HttpRefusal>>,
{
    let h = req.headers();
    let expects_continue = h
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let declared_over = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|d| d > cap as u64);
    let (parts, body) = req.into_parts();
    let shared = Arc::new(Mutex::new(Some(body)));
    let result = handle(Request::from_parts(
        parts,
        Body::new(SharedBody(shared.clone())),
    ))
    .await;
    if result.is_err() && !expects_continue && !declared_over {
        let rest = shared.lock().ok().and_then(|mut b| b.take());
        if let Some(rest) = rest {
            let _ = tokio::time::timeout(DRAIN_TIME, read_limited(rest, cap)).await;
        }
    }
    result
}

/// A request body the handler reads while [`drained_on_refusal`] keeps it.
struct SharedBody(Arc<Mutex<Option<Body>>>);

impl HttpBody for SharedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, axum::Error>>> {
        let mut body = match self.0.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        match body.as_mut() {
            Some(b) => Pin::new(b).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}

/// The media type of the request, lower-case, without parameters.
fn media_type(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next()?.trim().to_ascii_lowercase())
}

/// Read `body` whole, refusing (`Err(())`) as soon as it passes `limit` bytes. Other body
/// errors (a client that went away) are refusals too.
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, ()> {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ())?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The field `file` of a multipart form, at most `limit` bytes; other fields are skipped.
async fn read_multipart(
    req: Request,
    state: &Arc<HttpState>,
    limit: usize,
) -> Result<(Vec<u8>, Option<String>), HttpRefusal> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            HttpRefusal::new(
                Reason::DocumentTooLarge,
                format!("the upload exceeds the limit of {limit} bytes"),
            )
        } else {
            HttpRefusal::new(
                Reason::InvalidRequest,
                format!("the form cannot be read: {e}"),
            )
        }
    };
    let mut form = Multipart::from_request(req, state).await.map_err(|e| {
        HttpRefusal::new(
            Reason::InvalidRequest,
            format!("the form cannot be read: {e}"),
        )
    })?;
    while let Some(mut field) = form.next_field().await.map_err(broken)? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().map(clean_file_name);
        let mut out = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            if out.len() + chunk.len() > limit {
                return Err(HttpRefusal::new(
                    Reason::DocumentTooLarge,
                    format!("the file exceeds the limit of {limit} bytes"),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        return Ok((out, file_name));
    }
    Err(HttpRefusal::new(
        Reason::InvalidRequest,
        "the form has no field `file`: choose a PDF file",
    ))
}

/// A client's file name for display: control and bidirectional-override characters removed,
/// at most [`MAX_FILE_NAME`] characters.
fn clean_file_name(name: &str) -> String {
    name.chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_FILE_NAME)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_control_and_direction_characters() {
        assert_eq!(clean_file_name("surat\u{202e}fdp.exe"), "suratfdp.exe");
        assert_eq!(clean_file_name("a\nb"), "ab");
        assert_eq!(
            clean_file_name(&"x".repeat(500)).chars().count(),
            MAX_FILE_NAME
        );
    }
}
