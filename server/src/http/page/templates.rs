//! The pages as askama templates (`templates/*.html`, compiled into the binary). Askama escapes
//! every value for HTML unless a template says otherwise, and none of ours does: text from a
//! document cannot become markup. Values shown from documents are also wrapped in `<bdi>` so
//! that right-to-left text cannot reorder the words around it.

use askama::Template;

use super::text::{Lang, Texts};
use super::view::{DocumentView, Match, ResultView};

/// What every page shares: the language, its words, the page's title, the language switch
/// and the verification form's action.
#[derive(Debug)]
pub(super) struct Frame {
    /// The page's language.
    pub(super) lang: Lang,
    /// Its words.
    pub(super) t: &'static Texts,
    /// The page's title (the `h1` and the `<title>`).
    pub(super) title: &'static str,
    /// This page in the other language.
    pub(super) switch_href: String,
    /// Where the form posts (keeps the language).
    pub(super) action: String,
    /// The upload limit, in words.
    pub(super) upload_limit: String,
}

impl Frame {
    /// The frame of a page at `path` (a path of ours: `/` or `/d/{checked id}`).
    pub(super) fn new(lang: Lang, title: &'static str, path: &str, max_upload: usize) -> Frame {
        Frame {
            lang,
            t: lang.texts(),
            title,
            switch_href: format!("{path}{}", lang.other().query()),
            action: format!("{path}{}", lang.query()),
            upload_limit: lang.upload_limit(max_upload),
        }
    }
}

/// `GET /`.
#[derive(Debug, Template)]
#[template(path = "index.html", config = "src/http/page/askama.toml")]
pub(super) struct IndexPage {
    /// The frame.
    pub(super) f: Frame,
}

/// `POST /`: a verdict.
#[derive(Debug, Template)]
#[template(path = "verdict.html", config = "src/http/page/askama.toml")]
pub(super) struct VerdictPage {
    /// The frame.
    pub(super) f: Frame,
    /// The verdict.
    pub(super) r: ResultView,
}

/// `GET /d/{id}` (and `POST`, with the compared upload's verdict).
#[derive(Debug, Template)]
#[template(path = "document.html", config = "src/http/page/askama.toml")]
pub(super) struct DocumentPage {
    /// The frame.
    pub(super) f: Frame,
    /// What the log holds.
    pub(super) d: DocumentView,
    /// The compared upload's verdict, after a `POST`.
    pub(super) result: Option<ResultView>,
}

/// A refusal or a failure, as a page.
#[derive(Debug, Template)]
#[template(path = "error.html", config = "src/http/page/askama.toml")]
pub(super) struct ErrorPage {
    /// The frame.
    pub(super) f: Frame,
    /// The HTTP status.
    pub(super) status: u16,
    /// The machine-readable reason (`data-reason`).
    pub(super) reason: &'static str,
    /// What went wrong, in plain words.
    pub(super) plain: &'static str,
    /// What to do about it, when there is more to say.
    pub(super) help: Option<&'static str>,
    /// The technical message.
    pub(super) technical: String,
    /// Whether to offer the form again (not on a 404 of `/d/{id}`).
    pub(super) show_form: bool,
}
