//! Reading an uploaded document, in this order: a place among the uploads being received
//! (`http.max_concurrent_uploads`, and `http.max_uploads_per_address` of them from one address;
//! none free: 429 at once, before a byte of the body is read);
//! the PDF, as the body (`application/pdf`) or as the multipart field `file`, never more than
//! the upload limit (413), never slower on average than [`MIN_RATE`] beyond a head start of
//! [`GRACE`] and never pausing longer than [`MAX_GAP`] (408: a client trickling bytes, or
//! sending none, cannot hold a place for long); then a verification slot (the same
//! limits as gRPC `VerifyPdf`; busy: 429). A slow client therefore never holds a verification
//! slot, and gRPC callers never wait for HTTP uploads. Uploads are never stored.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request};
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

impl Upload {
    /// Verify the document ([`crate::service::Segel::verify_document`]), holding the slot until
    /// the verdict is there; a refusal is mapped in [`crate::status`].
    pub(crate) async fn verify(
        self,
        state: &HttpState,
        via: crate::verification::Via,
    ) -> Result<crate::verification::Verification, HttpRefusal> {
        let Upload { pdf, _slot, .. } = self;
        state
            .segel
            .verify_document(bytes::Bytes::from(pdf), via)
            .await
            .map_err(|e| crate::status::http_verify_error(&e))
    }
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

/// The slowest average pace an upload may keep, in bytes per second, beyond [`GRACE`].
pub(crate) const MIN_RATE: u64 = 8 * 1024;
/// The head start of an upload's pace: its first bytes must come within it.
pub(crate) const GRACE: Duration = Duration::from_secs(2);
/// The longest an upload may go without a byte.
pub(crate) const MAX_GAP: Duration = Duration::from_secs(5);

/// A place, the document, then the slot.
async fn read_upload(req: Request, state: &Arc<HttpState>) -> Result<Upload, HttpRefusal> {
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
    let declared = declared_length(req.headers());
    let multipart = match media_type(req.headers()).as_deref() {
        Some("application/pdf") => false,
        Some("multipart/form-data") => true,
        _ => {
            return Err(HttpRefusal::new(
                Reason::InvalidRequest,
                "send the PDF as the request body with Content-Type: application/pdf, or \
                 as the field `file` of a multipart/form-data form",
            ))
        }
    };
    let envelope = if multipart {
        limit.saturating_add(MULTIPART_ENVELOPE)
    } else {
        limit
    };
    if declared.is_some_and(|d| d > envelope as u64) {
        return Err(too_large(declared));
    }
    let place = receiving(state, &req)?;
    let (req, pace) = paced(req);
    let read = if multipart {
        let req = req.map(|b| Body::new(http_body_util::Limited::new(b, envelope)));
        read_multipart(req, state, limit).await
    } else {
        read_limited(req.into_body(), limit)
            .await
            .map(|pdf| (pdf, None))
            .map_err(|e| e.refusal(|| too_large(None)))
    };
    let (pdf, file_name) = read.map_err(|e| pace.explain(e))?;
    drop(place);
    if pdf.is_empty() {
        return Err(HttpRefusal::new(
            Reason::NotAPdf,
            "the upload is empty: choose a PDF file",
        ));
    }
    Ok(Upload {
        pdf,
        file_name,
        _slot: admit(state)?,
    })
}

/// The declared `Content-Length`, if any.
pub(crate) fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// A place among the uploads being received, and among those of the client's address (IPv4
/// address or IPv6 /64); none free: 429 at once.
pub(crate) fn receiving(state: &HttpState, req: &Request) -> Result<Place, HttpRefusal> {
    let busy = |what: String| {
        metrics::counter!("segel_http_uploads_refused_total").increment(1);
        HttpRefusal::new(Reason::Busy, format!("{what}; try again in a moment"))
    };
    let source = match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        None => None,
        Some(ConnectInfo(addr)) => Some(state.upload_sources.take(addr.ip()).ok_or_else(|| {
            busy(format!(
                "the server is receiving {} uploads from your address, its limit",
                state.max_uploads_per_address
            ))
        })?),
    };
    let place = state.uploads.clone().try_acquire_owned().map_err(|_| {
        busy(format!(
            "the server is receiving {} uploads, its limit",
            state.max_concurrent_uploads
        ))
    })?;
    Ok(Place {
        _place: place,
        _source: source,
    })
}

/// An upload's place while it is received (see [`receiving`]).
#[derive(Debug)]
pub(crate) struct Place {
    _place: OwnedSemaphorePermit,
    _source: Option<crate::limits::AddressSlot>,
}

/// A verification slot (running or queued, shared with gRPC `VerifyPdf`); none free: 429.
pub(crate) fn admit(state: &HttpState) -> Result<OwnedSemaphorePermit, HttpRefusal> {
    state
        .segel
        .verify_limit()
        .admit()
        .map_err(|e| crate::status::http_verify_error(&crate::verification::VerifyError::from(e)))
}

/// Whether a paced body was cut for being too slow.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pace(Arc<AtomicBool>);

impl Pace {
    /// `refusal`, or 408 when the body failed for being too slow.
    pub(crate) fn explain(&self, refusal: HttpRefusal) -> HttpRefusal {
        if self.0.load(Ordering::Relaxed) {
            HttpRefusal::new(
                Reason::UploadTooSlow,
                format!(
                    "the upload arrived slower than {} KiB/s on average, or paused for more \
                     than {} s; try again on a better connection",
                    MIN_RATE / 1024,
                    MAX_GAP.as_secs()
                ),
            )
        } else {
            refusal
        }
    }
}

/// `req` with its body paced: it fails once its average rate falls below [`MIN_RATE`] after
/// [`GRACE`], and the returned [`Pace`] says so.
pub(crate) fn paced(req: Request) -> (Request, Pace) {
    let pace = Pace::default();
    let start = tokio::time::Instant::now();
    let slow = pace.0.clone();
    let req = req.map(|inner| {
        Body::new(PacedBody {
            inner,
            start,
            bytes: 0,
            sleep: Box::pin(tokio::time::sleep_until(start + GRACE.min(MAX_GAP))),
            slow,
        })
    });
    (req, pace)
}

/// A body that fails when it arrives too slowly (see [`paced`]).
struct PacedBody {
    inner: Body,
    start: tokio::time::Instant,
    bytes: u64,
    sleep: Pin<Box<tokio::time::Sleep>>,
    slow: Arc<AtomicBool>,
}

/// The error of a body that arrived too slowly.
#[derive(Debug, thiserror::Error)]
#[error("the upload arrived too slowly")]
struct TooSlow;

impl HttpBody for PacedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes = this.bytes.saturating_add(data.len() as u64);
                    // The deadline of the next byte: the time these bytes may take at the
                    // slowest pace beyond the grace, and never more than the longest gap.
                    let allowed = Duration::from_millis(this.bytes.saturating_mul(1000) / MIN_RATE);
                    let pace = this.start + GRACE + allowed;
                    let gap = tokio::time::Instant::now() + MAX_GAP;
                    this.sleep.as_mut().reset(pace.min(gap));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.slow.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(TooSlow))));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

/// The longest a refused upload's unread body is read on (see [`drained_on_refusal`]).
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Answer `req` with `handle`; when it is refused (busy, too large, malformed) while the client
/// may still be sending its body, read and discard the rest of the body first, at most `cap`
/// bytes and for at most [`DRAIN_TIME`], keeping none of them and holding no slot. Closing a
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
            let _ = tokio::time::timeout(DRAIN_TIME, discard(rest, cap)).await;
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

/// Read and drop up to `cap` bytes of `body` (nothing is kept).
async fn discard(mut body: Body, cap: usize) {
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen > cap {
                return;
            }
        }
    }
}

/// The media type of the request, lower-case, without parameters.
fn media_type(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next()?.trim().to_ascii_lowercase())
}

/// Why a body was not read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// It passed the limit.
    TooLarge,
    /// It broke off: the client went away, or it was cut for its pace (see [`Pace::explain`]).
    Broken,
}

impl BodyError {
    /// The refusal: `too_large` for a body over the limit, else a broken upload.
    pub(crate) fn refusal(self, too_large: impl FnOnce() -> HttpRefusal) -> HttpRefusal {
        match self {
            Self::TooLarge => too_large(),
            Self::Broken => HttpRefusal::new(
                Reason::InvalidRequest,
                "the upload broke off before its end; send it again",
            ),
        }
    }
}

/// Read `body` whole, refusing as soon as it passes `limit` bytes.
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
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
