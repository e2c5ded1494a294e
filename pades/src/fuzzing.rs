//! Entry points for the fuzz targets in `fuzz/` (outside the workspace). Not a stable API.

use crate::pdf::{Document, ObjRef};

/// Parse one object from arbitrary bytes.
pub fn parse_object(data: &[u8]) {
    let _ = crate::pdf::parse::parse_one(data);
}

/// Open a document and resolve every object it lists, then try to prepare a signature.
pub fn open_document(data: &[u8]) {
    if let Ok(doc) = Document::open(data) {
        for n in 0..doc.max_object_number().min(10_000) {
            let _ = doc.resolve(ObjRef::new(n, 0));
        }
    }
    let _ = crate::sign::prepare(data, &crate::SignatureRequest::new(crate::UnixTime(0)), 64);
    let _ = crate::verify::verify(
        data,
        &crate::VerifyOptions {
            trust_anchors: Vec::new(),
            time: crate::UnixTime(0),
        },
    );
}

/// What the document reads on this thread have cost so far, summed over every open: objects
/// read, bytes parsed, inflated and hashed, cross-reference rows (for the hostile-document
/// tests, which assert that these grow linearly with the input).
pub fn work() -> crate::pdf::budget::Counters {
    crate::pdf::budget::counters()
}

/// Parse arbitrary bytes as CMS SignedData.
pub fn parse_cms(data: &[u8]) {
    let _ = crate::cms::parse::parse(data);
}

/// Parse one object and return it (for round-trip property tests).
///
/// # Errors
/// As the parser.
pub fn parse_object_value(data: &[u8]) -> crate::Result<crate::pdf::Object> {
    crate::pdf::parse::parse_one(data)
}

/// Whether skipping a value (no allocation) ends where parsing it ends; `None` if it does not
/// parse.
pub fn skip_matches_parse(data: &[u8]) -> Option<bool> {
    let mut a = crate::pdf::parse::Parser::new(data, 0);
    a.parse_object().ok()?;
    let mut b = crate::pdf::parse::Parser::new(data, 0);
    Some(b.skip_value(0).is_ok() && a.pos() == b.pos())
}
