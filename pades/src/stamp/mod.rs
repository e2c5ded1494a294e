//! Visible seals: the stamp a signature widget shows.
//!
//! - [`template`]: the words (an agency's template, a request's values, the finished
//!   [`Appearance`]), the document id and the verification link.
//! - [`qr`]: the QR code that carries the link, as vector operators.
//! - `appearance`: the drawn stamp (a form XObject with its fonts and image), built from
//!   `font` (the bundled DejaVu faces, embedded as subsets), `layout` (text wrapped and shrunk
//!   to fit) and `image` (the specimen image or logo).
//! - `footer`: the note at the bottom of every page of an unsigned document.
//!
//! Everything here is pure: values in, PDF bytes out.

pub(crate) mod appearance;
mod error;
pub(crate) mod font;
pub(crate) mod footer;
pub(crate) mod image;
pub(crate) mod layout;
mod pdfobj;
pub mod qr;
pub mod template;
/// Test and benchmark access to the drawing (the `testing` feature; not part of the product).
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing;

pub(crate) use appearance::draw_stamp;
pub use error::StampError;
pub(crate) use footer::Footer;
pub use qr::{QrCode, QrError, MIN_SIZE_PT};
pub use template::{
    compose, Appearance, DocumentId, Placement, StampLine, StampSettings, StampTemplate,
    VisibleOptions, DEFAULT_HEIGHT, DEFAULT_WIDTH,
};
