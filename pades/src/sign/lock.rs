//! Field locks (ISO 32000-2 §12.7.5.5 Table 235, §12.8.2.4): a signature that locks the
//! signed fields says so twice, in its field's `/Lock` (what a form filler reads) and in its
//! signature dictionary's FieldMDP reference (what a verifier reads, covered by the signature).

use crate::pdf::object::{Dict, Object};
use crate::pdf::text::encode_text;

/// The `/Action /Include /Fields [...]` pair both dictionaries share.
fn include(fields: &[String], into: &mut Dict) {
    into.set(b"Action", Object::Name(b"Include".to_vec()));
    into.set(
        b"Fields",
        Object::Array(
            fields
                .iter()
                .map(|f| Object::String(encode_text(f)))
                .collect(),
        ),
    );
}

/// The field's /Lock dictionary (ISO 32000-2 §12.7.5.5, Table 235) locking `fields`
/// (fully qualified names): /Type /SigFieldLock /Action /Include /Fields [...].
pub(super) fn lock_dict(fields: &[String]) -> Object {
    let mut d = Dict::new();
    d.set(b"Type", Object::Name(b"SigFieldLock".to_vec()));
    include(fields, &mut d);
    Object::Dict(d)
}

/// The FieldMDP signature reference (§12.8.2.4) for the signature dictionary's /Reference:
/// TransformMethod /FieldMDP with TransformParams /Action /Include /Fields [...] /V /1.2.
pub(super) fn fieldmdp_reference(fields: &[String]) -> Object {
    let mut params = Dict::new();
    params.set(b"Type", Object::Name(b"TransformParams".to_vec()));
    include(fields, &mut params);
    params.set(b"V", Object::Name(b"1.2".to_vec()));
    let mut sigref = Dict::new();
    sigref.set(b"Type", Object::Name(b"SigRef".to_vec()));
    sigref.set(b"TransformMethod", Object::Name(b"FieldMDP".to_vec()));
    sigref.set(b"TransformParams", Object::Dict(params));
    Object::Dict(sigref)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(o: &Object) -> String {
        let mut out = Vec::new();
        o.write(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn the_lock_and_the_reference_name_the_same_fields() {
        let fields = vec!["Paraf".to_string(), "Segel".to_string()];
        let lock = written(&lock_dict(&fields));
        assert!(lock.contains("/Type/SigFieldLock"), "{lock}");
        assert!(lock.contains("/Action/Include"), "{lock}");
        assert!(lock.contains("/Fields[(Paraf) (Segel)]"), "{lock}");
        let r = written(&fieldmdp_reference(&fields));
        assert!(r.contains("/TransformMethod/FieldMDP"), "{r}");
        assert!(r.contains("/Fields[(Paraf) (Segel)]"), "{r}");
        assert!(r.contains("/V/1.2"), "{r}");
    }

    #[test]
    fn names_outside_latin_are_written_as_text_strings() {
        // A name with a character outside PDFDocEncoding becomes UTF-16BE, which the
        // verifier decodes back to the same name.
        let name = "Tanda tangan ✓".to_string();
        let Object::Dict(d) = lock_dict(std::slice::from_ref(&name)) else {
            panic!("a dictionary");
        };
        let listed = d
            .get(b"Fields")
            .and_then(Object::as_array)
            .and_then(|a| a.first())
            .and_then(Object::as_string)
            .map(crate::pdf::text::decode_text);
        assert_eq!(listed.as_deref(), Some(name.as_str()));
    }
}
