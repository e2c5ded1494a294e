//! The signature dictionary (ISO 32000-2 §12.8.1, ETSI EN 319 142-1 §5.4): written with
//! fixed-width placeholders for `/ByteRange` and `/Contents`, so that the byte range can be
//! filled in once the update's offsets are known without moving any byte.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::text::encode_text;
use crate::pdf::update::Tail;

use super::lock::fieldmdp_reference;
use super::SignatureRequest;

/// Room for `[0 a b c]` with ten digits each, padded with spaces once filled in.
const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

/// The signature dictionary's bytes, with where its placeholders are.
pub(super) struct Placeholder {
    bytes: Vec<u8>,
    fixed: Fixed,
}

/// Where the placeholders sit inside the dictionary's bytes.
#[derive(Clone, Copy)]
pub(super) struct Fixed {
    /// Offset of the `/ByteRange` array placeholder.
    byte_range_at: usize,
    /// Offset of the first hex digit of `/Contents`.
    contents_at: usize,
    /// Bytes reserved for the CMS (twice as many hex digits).
    contents_capacity: usize,
}

impl Placeholder {
    /// `/Type /Sig`, `/Filter /Adobe.PPKLite`, `/SubFilter /ETSI.CAdES.detached`, the
    /// placeholders, `/M` and the request's optional text entries, and the signature
    /// references: DocMDP for a certification (ISO 32000-2 §12.8.2.2), FieldMDP locking
    /// `locked` (fully qualified field names) when the request locks fields (§12.8.2.4).
    pub(super) fn new(
        request: &SignatureRequest,
        contents_capacity: usize,
        locked: &[String],
    ) -> Self {
        let mut sig = Vec::new();
        sig.extend_from_slice(
            b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange",
        );
        let byte_range_at = sig.len();
        sig.extend_from_slice(BYTE_RANGE_PLACEHOLDER.as_bytes());
        sig.extend_from_slice(b"/Contents <");
        let contents_at = sig.len();
        sig.resize(sig.len() + contents_capacity * 2, b'0');
        sig.push(b'>');
        let rest = described(request, locked);
        let mut rest_bytes = Vec::new();
        rest.write(&mut rest_bytes);
        // Drop the `<<` `>>` of the helper dictionary.
        sig.extend_from_slice(&rest_bytes[2..rest_bytes.len() - 2]);
        sig.extend_from_slice(b">>");
        Self {
            bytes: sig,
            fixed: Fixed {
                byte_range_at,
                contents_at,
                contents_capacity,
            },
        }
    }

    /// Where the placeholders are, to fill in after the update is written.
    pub(super) fn fixed(&self) -> Fixed {
        self.fixed
    }

    /// The dictionary's bytes.
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The entries after the placeholders: `/M`, `/Reason`, `/Location`, `/ContactInfo`, `/Name`,
/// and `/Reference` for a certification or a field lock.
fn described(request: &SignatureRequest, locked: &[String]) -> Dict {
    let mut rest = Dict::new();
    rest.set(b"M", Object::String(request.time.pdf_date().into_bytes()));
    for (key, value) in [
        (&b"Reason"[..], &request.reason),
        (b"Location", &request.location),
        (b"ContactInfo", &request.contact_info),
        (b"Name", &request.name),
    ] {
        if let Some(v) = value {
            rest.set(key, Object::String(encode_text(v)));
        }
    }
    let mut references = Vec::new();
    if let Some(p) = request.certify {
        // ISO 32000-2 §12.8.2.2: a signature reference with the DocMDP transform.
        let mut params = Dict::new();
        params.set(b"Type", Object::Name(b"TransformParams".to_vec()));
        params.set(b"P", Object::Integer(i64::from(p)));
        params.set(b"V", Object::Name(b"1.2".to_vec()));
        let mut sigref = Dict::new();
        sigref.set(b"Type", Object::Name(b"SigRef".to_vec()));
        sigref.set(b"TransformMethod", Object::Name(b"DocMDP".to_vec()));
        sigref.set(b"TransformParams", Object::Dict(params));
        references.push(Object::Dict(sigref));
    }
    if request.lock_fields {
        references.push(fieldmdp_reference(locked));
    }
    if !references.is_empty() {
        rest.set(b"Reference", Object::Array(references));
    }
    rest
}

/// The catalog's `/Perms` for a certification signature `sig_ref` (ISO 32000-2 §12.8.4).
pub(super) fn docmdp_perms(sig_ref: ObjRef) -> Object {
    let mut perms = Dict::new();
    perms.set(b"DocMDP", Object::Reference(sig_ref));
    Object::Dict(perms)
}

impl Fixed {
    /// Fill in the `/ByteRange` of the signature dictionary `sig_ref` inside `tail`, which
    /// follows `base` input bytes. Returns the update's bytes, the absolute position of the
    /// `/Contents` hex digits, and the byte range `[0 a b c]` around them.
    pub(super) fn fix_byte_range(
        self,
        base: usize,
        mut tail: Tail,
        sig_ref: ObjRef,
    ) -> Result<(Vec<u8>, Range<usize>, [usize; 4])> {
        let body = tail
            .body_offsets
            .iter()
            .find(|(r, _)| *r == sig_ref)
            .map(|(_, o)| *o)
            .ok_or_else(|| Error::structure("signature dictionary missing from the update"))?;
        let start = base + body + self.contents_at;
        let contents = start..start + self.contents_capacity * 2;
        let total = base + tail.bytes.len();
        let byte_range = [
            0,
            contents.start - 1,
            contents.end + 1,
            total - (contents.end + 1),
        ];
        let br = format!("[0 {} {} {}]", byte_range[1], byte_range[2], byte_range[3]);
        let br = format!("{br:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
        let at = body + self.byte_range_at;
        tail.bytes[at..at + br.len()].copy_from_slice(br.as_bytes());
        Ok((tail.bytes, contents, byte_range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UnixTime;

    fn written(request: &SignatureRequest, locked: &[String]) -> String {
        let p = Placeholder::new(request, 16, locked);
        String::from_utf8_lossy(&p.into_bytes()).into_owned()
    }

    #[test]
    fn certification_and_lock_write_both_references() {
        let mut request = SignatureRequest::new(UnixTime(1_795_942_800));
        let locked = vec!["Paraf".to_string(), "Segel".to_string()];
        assert!(!written(&request, &locked).contains("/Reference"));
        request.lock_fields = true;
        let lock = written(&request, &locked);
        assert!(lock.contains("/Reference[<<"), "{lock}");
        assert!(lock.contains("/FieldMDP"), "{lock}");
        assert!(!lock.contains("/DocMDP"), "{lock}");
        assert!(lock.contains("/Fields[(Paraf) (Segel)]"), "{lock}");
        request.certify = Some(2);
        let both = written(&request, &locked);
        let docmdp = both.find("/DocMDP").expect("DocMDP");
        let fieldmdp = both.find("/FieldMDP").expect("FieldMDP");
        assert!(docmdp < fieldmdp, "{both}");
        // The placeholders keep their place at the start of the dictionary.
        assert!(
            both.starts_with("<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange[0 0000000000"),
            "{both}"
        );
    }
}
