//! Preparing the incremental update: the steps from the input bytes to a [`Prepared`]
//! document with its placeholder and its fixed `/ByteRange`.

use std::cell::OnceCell;

use super::dictionary::{docmdp_perms, Placeholder};
use super::field::{choose_name, place_field, CatalogEdit, NewValue};
use super::lock::lock_dict;
use super::visible;
use super::{Input, Prepared, SignatureRequest};
use crate::cms::sha256;
use crate::error::{Error, FieldError, Result, StructureError};
use crate::pdf::form::{collect_fields, FieldInfo, FormLocation};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::update::Update;
use crate::pdf::Document;
use crate::time::UnixTime;

/// Prepare the incremental update: signature dictionary with a zeroed `/Contents` of
/// `contents_capacity` bytes, field and widget, updated page, form and catalog; `/ByteRange`
/// fixed.
///
/// Reads only the trailer, the catalog, the page tree path to the chosen page, that page, and
/// the form fields. The input is kept as given (borrowed, owned or shared) in the result.
///
/// # Errors
/// Not a PDF, broken cross-reference data, encrypted, certified with no changes allowed, page
/// tree cycles, bad field names, an already signed field, or a document that needs more than
/// its work budget to read ([`crate::pdf::budget`]).
pub fn prepare<I: Input>(
    input: I,
    request: &SignatureRequest,
    contents_capacity: usize,
) -> Result<Prepared<I>> {
    let bytes = input.bytes();
    let scope = crate::pdf::budget::Scope::enter(bytes.len());
    let layout = prepare_update(bytes, request, contents_capacity)?;
    // Nothing is prepared from a reading that the budget cut short.
    scope.check()?;
    Ok(Prepared {
        input,
        digest: OnceCell::new(),
        input_state: OnceCell::new(),
        tail: layout.tail,
        contents: layout.contents,
        byte_range: layout.byte_range,
        field: layout.field,
    })
}

/// The prepared update, apart from the input it follows.
struct Layout {
    tail: Vec<u8>,
    contents: std::ops::Range<usize>,
    byte_range: [usize; 4],
    field: String,
}

/// Read what the update depends on, write the update, and fix its `/ByteRange`.
fn prepare_update(
    input: &[u8],
    request: &SignatureRequest,
    contents_capacity: usize,
) -> Result<Layout> {
    let doc = Document::open(input)?;
    let (root_ref, catalog) = read_catalog(&doc)?;
    check_docmdp(&doc, &catalog)?;
    let mut update = Update::new(&doc);
    let form = FormLocation::find(&doc, &catalog)?;
    let existing = collect_fields(&doc, &form.fields)?;
    check_certification(request.certify, &existing, &catalog)?;
    let field_name = choose_name(request.field.as_deref(), &existing)?;
    let sig_ref = update.allocate();
    let visible = request
        .appearance
        .as_ref()
        .map(|a| visible::place(&mut update, &doc, &catalog, &existing, &field_name, a))
        .transpose()?;
    let locked = locked_fields(request.lock_fields, &existing, &field_name);
    let lock = (!locked.is_empty()).then(|| lock_dict(&locked));
    // A seal joins a tagged document's structure tree (PDF/UA) when it is the first
    // signature. On a document signed already it does not: validators (pyHanko among them)
    // judge structure-tree edits after a signature as changes to what that signature covers;
    // the widget's /TU still describes it.
    let signed_already = existing.iter().any(|f| f.is_signature && f.has_value);
    let value = NewValue {
        name: &field_name,
        page: request.page,
        sig_ref,
        visible: visible.as_ref(),
        lock: lock.as_ref(),
        tag_structure: !signed_already,
    };
    let mut catalog_edits = place_field(&mut update, &doc, &catalog, form, &existing, value)?;
    let placeholder = Placeholder::new(request, contents_capacity, &locked);
    if request.certify.is_some() {
        catalog_edits.push((b"Perms", docmdp_perms(sig_ref)));
    }
    rewrite_catalog(&mut update, root_ref, catalog, catalog_edits);
    let fixed = placeholder.fixed();
    update.put(sig_ref, placeholder.into_bytes());
    let tail = update.finish(fresh_id(input, request.time))?;
    let (tail, contents, byte_range) = fixed.fix_byte_range(input.len(), tail, sig_ref)?;
    Ok(Layout {
        tail,
        contents,
        byte_range,
        field: field_name,
    })
}

/// The fields a locking signature locks: the document's signed signature fields and the one
/// being signed (none when it does not lock).
fn locked_fields(lock: bool, existing: &[FieldInfo], field_name: &str) -> Vec<String> {
    if !lock {
        return Vec::new();
    }
    let mut names: Vec<String> = existing
        .iter()
        .filter(|f| f.is_signature && f.has_value)
        .map(|f| f.name.clone())
        .collect();
    names.push(field_name.to_string());
    names
}

/// The catalog and its reference. Refuses a trailer without `/Root` and a `/Root` that is
/// neither typed `/Catalog` nor has `/Pages`.
fn read_catalog(doc: &Document<'_>) -> Result<(ObjRef, Dict)> {
    let root_ref = doc
        .trailer()
        .get(b"Root")
        .and_then(Object::as_ref)
        .ok_or(Error::Structure(StructureError::NoRoot))?;
    let catalog = doc.resolve_dict(&Object::Reference(root_ref), "the catalog (/Root)")?;
    if !catalog.has_type(b"Catalog") && catalog.get(b"Pages").is_none() {
        return Err(Error::structure("/Root is not a catalog"));
    }
    Ok((root_ref, catalog))
}

/// Refuse documents whose certification signature forbids changes (ISO 32000-2 §12.8.2.2).
fn check_docmdp(doc: &Document<'_>, catalog: &Dict) -> Result<()> {
    let Some(perms) = catalog.get(b"Perms") else {
        return Ok(());
    };
    let perms = doc.resolve_dict(perms, "/Perms")?;
    let Some(docmdp) = perms.get(b"DocMDP") else {
        return Ok(());
    };
    let sig = doc.resolve_dict(docmdp, "/Perms /DocMDP")?;
    let refs = match sig.get(b"Reference").map(|r| doc.deref(r)).transpose()? {
        Some(Object::Array(a)) => a,
        _ => return Ok(()),
    };
    for r in refs {
        let sr = doc.resolve_dict(&r, "a signature reference dictionary")?;
        if sr.get(b"TransformMethod").and_then(Object::as_name) != Some(b"DocMDP") {
            continue;
        }
        let p = match sr.get(b"TransformParams") {
            Some(tp) => doc
                .resolve_dict(tp, "/TransformParams")?
                .get(b"P")
                .and_then(Object::as_i64)
                .unwrap_or(2),
            None => 2,
        };
        if p == 1 {
            return Err(Error::CertifiedNoChanges);
        }
    }
    Ok(())
}

/// Whether a certification with DocMDP permissions `certify` may be made: `/P` is 1, 2 or 3,
/// and the document has no signature yet (no signed field, no `/Perms`).
fn check_certification(certify: Option<u8>, existing: &[FieldInfo], catalog: &Dict) -> Result<()> {
    let Some(p) = certify else {
        return Ok(());
    };
    if !(1..=3).contains(&p) {
        return Err(Error::Field(FieldError::BadCertification(format!(
            "DocMDP /P must be 1, 2 or 3, not {p}"
        ))));
    }
    if existing.iter().any(|f| f.is_signature && f.has_value) || catalog.get(b"Perms").is_some() {
        return Err(Error::Field(FieldError::BadCertification(
            "the document is already signed; a certification signature must be the first".into(),
        )));
    }
    Ok(())
}

/// Rewrite the catalog once with every entry the form and the certification need (none: the
/// catalog is not rewritten).
fn rewrite_catalog(
    update: &mut Update<'_, '_>,
    root_ref: ObjRef,
    mut catalog: Dict,
    edits: Vec<CatalogEdit>,
) {
    if edits.is_empty() {
        return;
    }
    for (k, v) in edits {
        catalog.set(k, v);
    }
    update.put_object(root_ref, &Object::Dict(catalog));
}

/// The new file identifier (second `/ID` entry): derived from the input's last KiB, its length
/// and the signing time, so that preparing the same input at the same time gives the same bytes.
fn fresh_id(input: &[u8], time: UnixTime) -> [u8; 16] {
    let tail_start = input.len().saturating_sub(1024);
    let mut seed = input[tail_start..].to_vec();
    seed.extend_from_slice(&(input.len() as u64).to_be_bytes());
    seed.extend_from_slice(&time.0.to_be_bytes());
    let h = sha256(&seed);
    let mut id = [0u8; 16];
    id.copy_from_slice(&h[..16]);
    id
}
