//! Visible seals: the stamp a signature widget shows.
//!
//! - [`template`]: the words (an agency's template, a request's values, the finished
//!   [`Appearance`]), the document id and the verification link.
//! - [`qr`]: the QR code that carries the link, as vector operators.
//!
//! Everything here is pure: values in, PDF bytes out.

mod error;
pub mod qr;
pub mod template;

pub use error::StampError;
pub use qr::{QrCode, QrError, MIN_SIZE_PT};
pub use template::{
    compose, Appearance, DocumentId, Placement, StampLine, StampSettings, StampTemplate,
    VisibleOptions, DEFAULT_HEIGHT, DEFAULT_WIDTH,
};
