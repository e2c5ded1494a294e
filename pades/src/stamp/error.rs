//! Why a visible seal could not be composed, drawn or placed.

/// Why a visible seal could not be made. Every message names what is wrong and where.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StampError {
    /// The placement tag does not occur in the document's text.
    #[error("the tag {0:?} does not occur in the text of any page")]
    TagNotFound(String),
    /// The stamp's rectangle would leave the visible page.
    #[error("the stamp ({width:.1} x {height:.1} pt at {x:.1}, {y:.1} from the top-left corner) does not fit on page {page} ({page_width:.1} x {page_height:.1} pt as seen)")]
    OffPage {
        /// Page (1-based).
        page: u32,
        /// Left edge, points from the page's left edge as seen.
        x: f64,
        /// Top edge, points from the page's top edge as seen.
        y: f64,
        /// Width in points.
        width: f64,
        /// Height in points.
        height: f64,
        /// Visible page width (crop box, rotation applied).
        page_width: f64,
        /// Visible page height.
        page_height: f64,
    },
    /// The requested size or position is not usable (not a finite number, negative, too small
    /// for a readable QR code, or too large).
    #[error("stamp geometry: {0}")]
    Geometry(String),
    /// The text does not fit in the box even at the smallest readable font size.
    #[error("the stamp text does not fit in {width:.1} x {height:.1} pt even at {min_size} pt; first line that does not fit: {line:?}")]
    TextDoesNotFit {
        /// Box width in points.
        width: f64,
        /// Box height in points.
        height: f64,
        /// The smallest font size tried.
        min_size: f64,
        /// The line that did not fit.
        line: String,
    },
    /// The text holds a character that the bundled font cannot show.
    #[error("the character {ch:?} (U+{code:04X}) in {text:?} is not in the stamp's font")]
    MissingGlyph {
        /// The character.
        ch: char,
        /// Its code point.
        code: u32,
        /// The text it is in.
        text: String,
    },
    /// The template or a value for it is not usable.
    #[error("stamp template: {0}")]
    Template(String),
    /// The specimen image or logo is not a usable PNG or JPEG.
    #[error("stamp image: {0}")]
    Image(String),
    /// The QR code could not be made.
    #[error(transparent)]
    Qr(#[from] super::QrError),
    /// The document identifier is not of the required form.
    #[error("document id {0:?} must be 16 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")]
    DocumentId(String),
    /// A footer was asked for on a document that is already signed.
    #[error("a footer changes every page's content, which would break the {0} signature(s) the document already carries; sign without a footer")]
    FooterOnSignedDocument(usize),
    /// A footer was asked for on a document with more pages than a footer is added to.
    #[error("a footer is added to documents of at most {limit} pages; this one has more ({pages} counted so far); sign without a footer")]
    FooterTooManyPages {
        /// Pages counted when the limit was passed.
        pages: u32,
        /// The limit.
        limit: u32,
    },
    /// The placement does not go with the rest of the request.
    #[error("stamp placement: {0}")]
    Placement(String),
}
