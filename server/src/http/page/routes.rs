//! The page's handlers: HTTP in, a rendered page out. Uploads go to the shared verification and
//! are dropped with the request; neither the file nor its name is stored or logged.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pades::stamp::DocumentId;

use super::templates::{DocumentPage, ErrorPage, Frame, IndexPage, VerdictPage};
use super::text::Lang;
use super::view::{records_document, DocumentView, ResultView};
use crate::http::upload::{drained_on_refusal, Upload};
use crate::http::HttpState;
use crate::status::{HttpRefusal, Reason};
use crate::verification::{Verification, Via};

/// `GET /`: the form.
pub(super) async fn home(State(state): State<Arc<HttpState>>, RawQuery(q): RawQuery) -> Response {
    let lang = Lang::from_query(q.as_deref());
    let f = Frame::new(lang, lang.texts().title, "/", state.max_upload_bytes);
    html(StatusCode::OK, &IndexPage { f })
}

/// `POST /`: the verdict of the uploaded PDF.
pub(super) async fn verify(
    State(state): State<Arc<HttpState>>,
    RawQuery(q): RawQuery,
    upload: Result<Upload, HttpRefusal>,
) -> Response {
    let lang = Lang::from_query(q.as_deref());
    let (v, file_name) = match check(&state, upload).await {
        Ok(x) => x,
        Err(r) => return refusal(&state, lang, "/", &r),
    };
    let r = ResultView::new(&v, &state.segel, lang, file_name.as_deref(), None);
    let f = Frame::new(lang, lang.texts().result_title, "/", state.max_upload_bytes);
    html(StatusCode::OK, &VerdictPage { f, r })
}

/// `GET /d/{document_id}`: what the log holds for a seal's document id.
pub(super) async fn document(
    State(state): State<Arc<HttpState>>,
    RawQuery(q): RawQuery,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let lang = Lang::from_query(q.as_deref());
    match recorded(&state, lang, id) {
        Ok((id, d)) => document_page(&state, lang, &id, d, None),
        Err(r) => refusal(&state, lang, "/", &r),
    }
}

/// `GET /d/{document_id}/`: a permanent redirect to the page without the slash (a well-formed
/// id only: nothing else is echoed into `Location`), else the 404 page.
pub(super) async fn without_slash(
    State(state): State<Arc<HttpState>>,
    RawQuery(q): RawQuery,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let lang = Lang::from_query(q.as_deref());
    match id.ok().and_then(|Path(id)| DocumentId::parse(&id).ok()) {
        Some(id) => axum::response::Redirect::permanent(&format!(
            "/d/{}{}",
            id.as_str(),
            if lang == Lang::En { "?lang=en" } else { "" }
        ))
        .into_response(),
        None => refusal(
            &state,
            lang,
            "/",
            &HttpRefusal::new(
                Reason::EntryNotFound,
                "no document with this code is recorded",
            ),
        ),
    }
}

/// `POST /d/{document_id}`: the uploaded PDF's verdict, and whether it is the document this id
/// records (one of its signatures has a log entry with the id's hash). The id is looked up
/// first: an unknown one is refused before the upload takes a place or a slot.
pub(super) async fn compare(
    State(state): State<Arc<HttpState>>,
    RawQuery(q): RawQuery,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    req: axum::extract::Request,
) -> Response {
    let lang = Lang::from_query(q.as_deref());
    let (id, d) = match recorded(&state, lang, id) {
        Ok(x) => x,
        Err(r) => {
            // The body is read and dropped (bounded) so that the refusal reaches the client.
            let cap = state.max_upload_bytes;
            let refused = r.clone();
            let _ = drained_on_refusal(req, cap, |_| async move { Err::<(), _>(refused) }).await;
            return refusal(&state, lang, "/", &r);
        }
    };
    let upload = Upload::from_request(req, &state).await;
    let path = format!("/d/{}", id.as_str());
    let (v, file_name) = match check(&state, upload).await {
        Ok(x) => x,
        Err(r) => return refusal(&state, lang, &path, &r),
    };
    let matches = records_document(&v, &id);
    let r = ResultView::new(&v, &state.segel, lang, file_name.as_deref(), Some(matches));
    document_page(&state, lang, &id, d, Some(r))
}

/// Verify an upload: the verdict and the upload's file name, or the refusal.
async fn check(
    state: &HttpState,
    upload: Result<Upload, HttpRefusal>,
) -> Result<(Verification, Option<String>), HttpRefusal> {
    let upload = upload?;
    let file_name = upload.file_name.clone();
    Ok((upload.verify(state, Via::Page).await?, file_name))
}

/// The id of `/d/{id}` and its view, or the refusal to answer instead (404 when the id is not
/// well-formed or not recorded, 500 when the log cannot be read).
fn recorded(
    state: &HttpState,
    lang: Lang,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<(DocumentId, DocumentView), HttpRefusal> {
    let not_found = |technical: String| HttpRefusal::new(Reason::EntryNotFound, technical);
    let Ok(Path(raw)) = id else {
        return Err(not_found("the document id cannot be read".into()));
    };
    let Ok(id) = DocumentId::parse(&raw) else {
        return Err(not_found(
            "a document id has 16 to 64 characters of A-Z, a-z, 0-9, _ and -".into(),
        ));
    };
    let entries = match state.segel.document_entries(&id) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "reading the log for a document id failed");
            return Err(HttpRefusal::new(
                Reason::Internal,
                "internal error; see the server log",
            ));
        }
    };
    match DocumentView::new(&entries, &state.segel, lang) {
        Some(d) => Ok((id, d)),
        None => Err(not_found(format!(
            "the log has no entry for document id {}",
            id.as_str()
        ))),
    }
}

/// The `/d/{id}` page, with a compared upload's verdict when there is one.
fn document_page(
    state: &HttpState,
    lang: Lang,
    id: &DocumentId,
    d: DocumentView,
    result: Option<ResultView>,
) -> Response {
    let path = format!("/d/{}", id.as_str());
    let title = if result.is_some() {
        lang.texts().result_title
    } else {
        lang.texts().document_title
    };
    let f = Frame::new(lang, title, &path, state.max_upload_bytes);
    html(StatusCode::OK, &DocumentPage { f, d, result })
}

/// A refusal as a page with its status (and `Retry-After` when busy). `path` is the page the
/// form posts to again.
pub(super) fn refusal(state: &HttpState, lang: Lang, path: &str, r: &HttpRefusal) -> Response {
    let t = lang.texts();
    let not_found = matches!(r.reason, Reason::EntryNotFound | Reason::InvalidDocumentId);
    let page = ErrorPage {
        f: Frame::new(
            lang,
            if not_found {
                t.not_found_title
            } else {
                t.error_title
            },
            path,
            state.max_upload_bytes,
        ),
        status: r.status,
        reason: r.reason.as_str(),
        plain: lang.refusal(r.reason),
        help: not_found.then_some(t.not_found_help),
        technical: super::view::clean(&r.message),
        show_form: !not_found,
    };
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = html(status, &page);
    if matches!(r.reason, Reason::Busy | Reason::ShuttingDown) {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// A rendered page with `status` (a template that fails to render is a plain 500).
fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
