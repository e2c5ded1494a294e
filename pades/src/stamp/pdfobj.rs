//! The bridge between pdf-writer and the engine's incremental update: every stamp object is
//! written alone into a pdf-writer [`Chunk`], and its body (what
//! [`crate::pdf::update::Update::put`] takes) is cut out of the chunk's bytes.

use pdf_writer::{Chunk, Ref};

use crate::pdf::object::ObjRef;

/// New objects: (reference, body) pairs, bodies as [`body_of`] cuts them.
pub(crate) type Objects = Vec<(ObjRef, Vec<u8>)>;

/// The pdf-writer reference of `r`. New objects have generation 0, which is all pdf-writer
/// writes; their numbers come from an update's allocator and stay below the engine's object
/// limit (`pdf::document::MAX_OBJECTS`), far below `i32::MAX`.
pub(crate) fn pdf_ref(r: ObjRef) -> Ref {
    Ref::new(i32::try_from(r.num).unwrap_or(i32::MAX).max(1))
}

/// The body of object `r`, the only object written into `chunk`: the chunk's bytes without
/// the `N 0 obj\n` before it and the `\nendobj\n\n` after it.
///
/// # Panics
/// If `chunk` does not hold exactly that framing, which pdf-writer always writes for one
/// indirect object: a programming error in this module, not an input error.
pub(crate) fn body_of(chunk: &Chunk, r: ObjRef) -> Vec<u8> {
    let bytes = chunk.as_bytes();
    let head = format!("{} 0 obj\n", pdf_ref(r).get());
    let body = bytes
        .strip_prefix(head.as_bytes())
        .and_then(|b| b.strip_suffix(b"\nendobj\n\n"))
        .expect("a chunk holding one object is framed as `N 0 obj\\n … \\nendobj\\n\\n`");
    body.to_vec()
}

#[cfg(test)]
mod tests {
    use pdf_writer::{Filter, Name};

    use super::*;

    #[test]
    fn a_dictionary_body_is_cut_from_its_frame() {
        let r = ObjRef::new(12, 0);
        let mut c = Chunk::new();
        c.indirect(pdf_ref(r))
            .dict()
            .pair(Name(b"Type"), Name(b"Font"));
        assert_eq!(body_of(&c, r), b"<<\n  /Type /Font\n>>");
    }

    #[test]
    fn a_stream_body_keeps_its_dictionary_and_data() {
        let r = ObjRef::new(7, 0);
        let mut c = Chunk::new();
        c.stream(pdf_ref(r), b"q Q").filter(Filter::FlateDecode);
        let body = body_of(&c, r);
        assert!(body.starts_with(b"<<\n  /Length 3\n  /Filter /FlateDecode\n>>\nstream\n"));
        assert!(
            body.ends_with(b"\nq Q\nendstream"),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }

    #[test]
    fn references_are_positive() {
        assert_eq!(pdf_ref(ObjRef::new(0, 0)).get(), 1);
        assert_eq!(pdf_ref(ObjRef::new(u32::MAX, 0)).get(), i32::MAX);
    }
}
