//! The engine's one error type.
//!
//! Every refusal says what is wrong and, where the input is at fault, at which byte offset.

use std::fmt;

/// Everything that can go wrong while reading, signing or verifying a PDF.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller stopped the work (its deadline passed, or it went away).
    #[error("stopped: the caller no longer waits for the answer")]
    Cancelled,
    /// The input is not a PDF at all.
    #[error("not a PDF: {0}")]
    NotPdf(NotPdfReason),
    /// A PDF syntax error at a byte offset.
    #[error("malformed PDF at byte {offset}: {kind}")]
    Syntax {
        /// Byte offset in the file (or in the decoded object stream, see `kind`).
        offset: usize,
        /// What was wrong.
        kind: SyntaxError,
    },
    /// The cross-reference data is broken; the engine never signs on top of a guess.
    #[error("broken cross-reference data: {0}")]
    Xref(XrefError),
    /// The document is encrypted.
    #[error("the PDF is encrypted (/Encrypt in the trailer); decrypt it before signing")]
    Encrypted,
    /// A certification signature forbids any change.
    #[error(
        "the PDF carries a certification signature that forbids any change (DocMDP /P 1); \
         a new signature would invalidate it"
    )]
    CertifiedNoChanges,
    /// The document structure (catalog, page tree, form) is not usable.
    #[error("document structure: {0}")]
    Structure(StructureError),
    /// A resource limit was hit (nesting, sizes, counts).
    #[error("limit exceeded: {0}")]
    Limit(LimitError),
    /// A feature that the engine does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A signature field problem.
    #[error("signature field: {0}")]
    Field(FieldError),
    /// A certificate given for signing could not be used.
    #[error("certificate #{index} of the signing chain: {reason}")]
    Certificate {
        /// Position in the chain (0 = signer).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The private-key operation failed.
    #[error("signer failed: {0}")]
    Signer(#[from] SignerError),
    /// The CMS structure did not fit into the reserved `/Contents` space.
    #[error("signature needs {needed} bytes but only {available} were reserved")]
    ContentsTooSmall {
        /// Bytes the CMS needs.
        needed: usize,
        /// Bytes reserved by `prepare`.
        available: usize,
    },
    /// The visible seal could not be drawn or placed.
    #[error("visible seal: {0}")]
    Stamp(#[from] crate::stamp::StampError),
    /// A DER structure (CMS or certificate) is malformed.
    #[error("malformed DER at byte {offset}: {what}")]
    Der {
        /// Offset inside the DER blob.
        offset: usize,
        /// What was wrong.
        what: &'static str,
    },
}

/// Why an input is not a PDF.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPdfReason {
    /// Zero bytes.
    Empty,
    /// No `%PDF-` header at the start; carries a printable excerpt of what is there instead.
    NoHeader(String),
}

impl fmt::Display for NotPdfReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the file is empty (0 bytes)"),
            Self::NoHeader(start) => write!(f, "no %PDF- header; the file starts with {start:?}"),
        }
    }
}

/// A syntax error.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxError {
    /// The data ended in the middle of an object.
    UnexpectedEnd,
    /// A byte that cannot start or continue what was being parsed.
    UnexpectedByte(u8),
    /// A keyword was expected.
    Expected(&'static str),
    /// A number does not fit.
    NumberOutOfRange,
    /// A stream's `/Length` is missing or does not lead to `endstream`.
    BadStreamLength,
    /// An object header `N G obj` names another object than the reference that led here.
    WrongObject {
        /// What was asked for.
        wanted: String,
        /// What was found.
        found: String,
    },
    /// A stream filter failed to decode.
    Decode(String),
    /// A value of the wrong type.
    WrongType {
        /// The key or role.
        key: &'static str,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("data ends in the middle of an object"),
            Self::UnexpectedByte(b) => write!(f, "unexpected byte {:?}", char::from(*b)),
            Self::Expected(what) => write!(f, "expected {what}"),
            Self::NumberOutOfRange => f.write_str("number out of range"),
            Self::BadStreamLength => {
                f.write_str("stream /Length missing or not followed by endstream")
            }
            Self::WrongObject { wanted, found } => {
                write!(f, "cross-reference points to object {found}, not {wanted}")
            }
            Self::Decode(why) => write!(f, "stream does not decode: {why}"),
            Self::WrongType {
                key,
                expected,
                found,
            } => write!(f, "/{key} should be a {expected}, found a {found}"),
        }
    }
}

/// A cross-reference problem.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XrefError {
    /// No `startxref` keyword near the end: truncated or not finished.
    NoStartXref,
    /// `startxref` points outside the file.
    OffsetOutOfRange {
        /// The offset.
        offset: u64,
        /// The file length.
        len: usize,
    },
    /// `startxref` or `/Prev` points at something that is neither `xref` nor an xref stream.
    NotXref {
        /// The offset.
        offset: usize,
    },
    /// The `/Prev` chain loops.
    PrevCycle {
        /// The offset seen twice.
        offset: usize,
    },
    /// A malformed section.
    Malformed {
        /// Where.
        offset: usize,
        /// What.
        what: String,
    },
    /// An object that the document needs has no entry.
    MissingObject(String),
    /// Resolving a reference leads back to an object that is being resolved (a `/Length`, or
    /// an object stream, that needs itself), or through too many references in a row.
    ReferenceCycle {
        /// The references being resolved, outermost first.
        chain: String,
    },
}

impl fmt::Display for XrefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoStartXref => f.write_str(
                "no startxref near the end of the file (truncated or incomplete download?)",
            ),
            Self::OffsetOutOfRange { offset, len } => {
                write!(f, "offset {offset} lies outside the file ({len} bytes)")
            }
            Self::NotXref { offset } => write!(
                f,
                "byte {offset} should start a cross-reference table or stream but does not"
            ),
            Self::PrevCycle { offset } => {
                write!(f, "the /Prev chain loops back to byte {offset}")
            }
            Self::Malformed { offset, what } => write!(f, "at byte {offset}: {what}"),
            Self::MissingObject(r) => write!(f, "object {r} is referenced but not in the table"),
            Self::ReferenceCycle { chain } => {
                write!(f, "resolving references loops or nests too deeply: {chain}")
            }
        }
    }
}

/// A problem with the catalog, page tree or form.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StructureError {
    /// The trailer has no `/Root`.
    NoRoot,
    /// A page tree node is reached twice.
    PageTreeCycle(String),
    /// The requested page does not exist.
    NoSuchPage {
        /// Requested (1-based).
        requested: u32,
        /// Pages in the document.
        count: u32,
    },
    /// Something else, described.
    Other(String),
}

impl fmt::Display for StructureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRoot => f.write_str("the trailer has no /Root catalog"),
            Self::PageTreeCycle(r) => write!(f, "the page tree loops: node {r} is reached twice"),
            Self::NoSuchPage { requested, count } => {
                write!(f, "page {requested} requested but the document has {count}")
            }
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// A resource limit.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// Objects nested too deeply.
    Nesting {
        /// Where.
        offset: usize,
    },
    /// A decoded stream is too large.
    Decompressed {
        /// The cap in bytes.
        limit: usize,
    },
    /// Reading the document would take more than its work budget (see
    /// [`crate::pdf::budget`]): the limit grows with the input size.
    Budget {
        /// What ran out.
        what: &'static str,
        /// The limit for this input.
        limit: u64,
    },
    /// A count (xref entries, sections, fields) is absurd.
    Count {
        /// What is counted.
        what: &'static str,
        /// The value found.
        value: u64,
    },
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nesting { offset } => {
                write!(
                    f,
                    "objects nested deeper than {} at byte {offset}",
                    crate::pdf::MAX_DEPTH
                )
            }
            Self::Decompressed { limit } => {
                write!(f, "a stream inflates to more than {limit} bytes")
            }
            Self::Budget { what, limit } => write!(
                f,
                "reading this document needs more than {limit} {what}, the budget for a file of its size"
            ),
            Self::Count { what, value } => write!(f, "{what} is {value}, which is absurd"),
        }
    }
}

/// A signature field problem.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// The named field exists but is not a signature field.
    NotSignatureField(String),
    /// The named field already holds a signature.
    AlreadySigned(String),
    /// A field name that cannot be used.
    BadName(String),
    /// A certification signature that cannot be made.
    BadCertification(String),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSignatureField(n) => {
                write!(f, "field {n:?} exists but is not a signature field")
            }
            Self::AlreadySigned(n) => write!(f, "field {n:?} is already signed"),
            Self::BadCertification(why) => write!(f, "cannot certify: {why}"),
            Self::BadName(n) => write!(
                f,
                "{n:?} is not a usable field name (no dots, 1-64 printable characters)"
            ),
        }
    }
}

/// The private-key operation failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SignerError(pub String);

impl Error {
    pub(crate) fn syntax(offset: usize, kind: SyntaxError) -> Self {
        Self::Syntax { offset, kind }
    }

    pub(crate) fn xref_malformed(offset: usize, what: impl Into<String>) -> Self {
        Self::Xref(XrefError::Malformed {
            offset,
            what: what.into(),
        })
    }

    pub(crate) fn structure(what: impl Into<String>) -> Self {
        Self::Structure(StructureError::Other(what.into()))
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
