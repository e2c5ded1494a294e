//! The signature field (ISO 32000-2 §12.7.5.5): an existing empty signature field is filled,
//! or a new field is made with its widget annotation (§12.5.6.19) on the chosen page, and the
//! form and the page's `/Annots` are updated with the fewest rewritten objects.

use std::collections::HashSet;

use crate::error::{Error, FieldError, LimitError, Result, StructureError};
use crate::pdf::form::{FieldInfo, FormLocation};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::text::encode_text;
use crate::pdf::update::Update;
use crate::pdf::Document;

use super::structure::tag_widget;
use super::visible::{widget_of, Visible};

/// Depth limit for the page tree.
const MAX_TREE_DEPTH: usize = 64;
/// Most page tree nodes walked.
const MAX_PAGE_NODES: usize = 1_000_000;

/// An entry the catalog must get (it is rewritten once, with all of them).
pub(super) type CatalogEdit = (&'static [u8], Object);

/// The name of the field to sign: the requested one (checked), or the first of `Signature1`,
/// `Signature2`, … that the form does not have.
pub(super) fn choose_name(requested: Option<&str>, existing: &[FieldInfo]) -> Result<String> {
    match requested {
        Some(n) => {
            check_field_name(n)?;
            Ok(n.to_string())
        }
        None => Ok((1..)
            .map(|i| format!("Signature{i}"))
            .find(|n| !existing.iter().any(|f| f.name == *n))
            .unwrap_or_else(|| "Signature".into())),
    }
}

/// A field name this signer makes: 1 to 64 bytes, no `.` (which separates the parts of a
/// fully qualified name), no control characters.
fn check_field_name(n: &str) -> Result<()> {
    let ok =
        !n.is_empty() && n.len() <= 64 && !n.contains('.') && n.chars().all(|c| !c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::Field(FieldError::BadName(n.to_string())))
    }
}

/// The field to give a value: its name, the page for a new field's widget, the signature
/// dictionary that becomes its `/V`, the visible seal it shows (if any) and the field's
/// `/Lock` (if it locks fields).
#[derive(Debug, Clone, Copy)]
pub(super) struct NewValue<'n> {
    pub(super) name: &'n str,
    pub(super) page: u32,
    pub(super) sig_ref: ObjRef,
    pub(super) visible: Option<&'n Visible>,
    pub(super) lock: Option<&'n Object>,
    /// Add a visible widget to a tagged document's structure tree.
    pub(super) tag_structure: bool,
}

/// Make the field `value.name` point at the signature dictionary: fill the existing empty
/// signature field of that name, or add a new field with its widget on `value.page`. Returns
/// the entries the catalog must get.
///
/// # Errors
/// The field exists but is not a signature field, or is already signed; the page does not
/// exist; the page tree or the page's `/Annots` is malformed.
pub(super) fn place_field(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    catalog: &Dict,
    form: FormLocation,
    existing: &[FieldInfo],
    value: NewValue<'_>,
) -> Result<Vec<CatalogEdit>> {
    let field_name = value.name;
    let mut catalog_edits = Vec::new();
    match existing.iter().find(|f| f.name == field_name) {
        Some(f) if !f.is_signature => {
            return Err(Error::Field(FieldError::NotSignatureField(
                field_name.to_string(),
            )))
        }
        Some(f) if f.has_value => {
            return Err(Error::Field(FieldError::AlreadySigned(
                field_name.to_string(),
            )))
        }
        Some(f) => {
            // Sign into the existing empty field: the field dictionary changes, and with a
            // visible seal its widget's appearance.
            let mut d = doc.resolve_dict(&Object::Reference(f.r), "the signature field")?;
            d.set(b"V", Object::Reference(value.sig_ref));
            if let Some(lock) = value.lock {
                d.set(b"Lock", lock.clone());
            }
            if let Some(v) = value.visible {
                d.set(b"TU", Object::String(encode_text(&v.alt)));
                let (widget_ref, mut widget) = widget_of(doc, f.r)?;
                if widget_ref == f.r {
                    d.set(b"AP", appearance_dict(v.form));
                } else {
                    widget.set(b"AP", appearance_dict(v.form));
                    update.put_object(widget_ref, &Object::Dict(widget));
                }
            }
            update.put_object(f.r, &Object::Dict(d));
            if form.needs_sig_flags() {
                catalog_edits.extend(form.write_with(update, None));
            }
        }
        None => {
            let widget_ref = add_widget(update, doc, catalog, value)?;
            catalog_edits.extend(form.write_with(update, Some(widget_ref)));
        }
    }
    Ok(catalog_edits)
}

/// Add a new signature field merged with its widget annotation (printed and locked) to the
/// page: with a visible seal, the seal's page, rectangle, appearance and alternate
/// description (and its place in a tagged document's structure tree); without, an empty
/// rectangle on page `value.page` with an empty appearance. Returns the widget's reference, to
/// be added to the form's `/Fields`.
fn add_widget(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    catalog: &Dict,
    value: NewValue<'_>,
) -> Result<ObjRef> {
    let page_ref = match value.visible {
        Some(v) => v.page_ref,
        None => find_page(doc, catalog, value.page)?.0,
    };
    // The page as the update leaves it so far (the footer may have changed it).
    let page = update.current_dict(page_ref, "the page")?;
    let widget_ref = update.allocate();
    let mut w = Dict::new();
    w.set(b"Type", Object::Name(b"Annot".to_vec()));
    w.set(b"Subtype", Object::Name(b"Widget".to_vec()));
    w.set(b"FT", Object::Name(b"Sig".to_vec()));
    w.set(b"T", Object::String(value.name.as_bytes().to_vec()));
    w.set(b"V", Object::Reference(value.sig_ref));
    w.set(b"F", Object::Integer(132)); // Print | Locked
    w.set(b"P", Object::Reference(page_ref));
    if let Some(lock) = value.lock {
        w.set(b"Lock", lock.clone());
    }
    match value.visible {
        Some(v) => {
            w.set(b"Rect", v.rect_object());
            w.set(b"AP", appearance_dict(v.form));
            w.set(b"TU", Object::String(encode_text(&v.alt)));
            if value.tag_structure {
                if let Some(n) = tag_widget(update, doc, catalog, widget_ref, page_ref, &v.alt)? {
                    w.set(b"StructParent", Object::Integer(n));
                }
            }
        }
        None => {
            let ap_ref = update.allocate();
            w.set(b"Rect", Object::Array(vec![Object::Integer(0); 4]));
            w.set(b"AP", appearance_dict(ap_ref));
            // An empty appearance: PDF/A wants every widget to have one.
            update.put(
                ap_ref,
                b"<</Type/XObject/Subtype/Form/BBox[0 0 0 0]/Length 0>>stream\n\nendstream"
                    .to_vec(),
            );
        }
    }
    update.put_object(widget_ref, &Object::Dict(w));
    add_to_array(update, doc, page_ref, &page, b"Annots", widget_ref)?;
    Ok(widget_ref)
}

/// `<</N form>>`: a widget's appearance dictionary.
fn appearance_dict(form: ObjRef) -> Object {
    let mut ap = Dict::new();
    ap.set(b"N", Object::Reference(form));
    Object::Dict(ap)
}

/// Find page `n` (1-based). The whole page tree is walked (its nodes, not the pages' content),
/// so that a loop anywhere in it is refused, not only on the way to the chosen page.
fn find_page(doc: &Document<'_>, catalog: &Dict, n: u32) -> Result<(ObjRef, Dict)> {
    let root_ref = catalog
        .get(b"Pages")
        .and_then(Object::as_ref)
        .ok_or_else(|| Error::structure("the catalog has no /Pages reference"))?;
    let mut visited = HashSet::new();
    let mut found = None;
    let mut count: u32 = 0;
    // Depth-first, in document order: a stack of (node, depth).
    let mut stack = vec![(root_ref, 0usize)];
    while let Some((r, depth)) = stack.pop() {
        if !visited.insert(r) {
            return Err(Error::Structure(StructureError::PageTreeCycle(
                r.to_string(),
            )));
        }
        if depth > MAX_TREE_DEPTH {
            return Err(Error::structure(format!(
                "the page tree is nested deeper than {MAX_TREE_DEPTH} levels (at {r})"
            )));
        }
        if visited.len() > MAX_PAGE_NODES {
            return Err(Error::Limit(LimitError::Count {
                what: "the number of page tree nodes",
                value: visited.len() as u64,
            }));
        }
        let node = doc
            .skim_node(r)?
            .ok_or_else(|| Error::structure(format!("page tree node {r} is not a dictionary")))?;
        // The root is a page tree node even if its /Type is missing.
        let is_pages = node.pages || (depth == 0 && node.kids.is_some());
        if !is_pages {
            count += 1;
            if count == n {
                let page = doc.resolve_dict(&Object::Reference(r), "the page")?;
                found = Some((r, page));
            }
            continue;
        }
        let kids = match node.kids.as_ref().map(|k| doc.deref(k)).transpose()? {
            Some(Object::Array(a)) => a,
            _ => {
                return Err(Error::structure(format!(
                    "page tree node {r} has no /Kids array"
                )))
            }
        };
        for kid in kids.iter().rev() {
            let kr = kid.as_ref().ok_or_else(|| {
                Error::structure(format!("a /Kids entry of {r} is not a reference"))
            })?;
            stack.push((kr, depth + 1));
        }
    }
    found.ok_or(Error::Structure(StructureError::NoSuchPage {
        requested: n,
        count,
    }))
}

/// Append `item` to the array under `key` of object `owner` (dictionary `dict`), rewriting the
/// array object if it is indirect, otherwise the owner.
fn add_to_array(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    owner: ObjRef,
    dict: &Dict,
    key: &[u8],
    item: ObjRef,
) -> Result<()> {
    match dict.get(key) {
        Some(Object::Reference(r)) => {
            let mut arr = match doc.resolve(*r)? {
                Object::Array(a) => a,
                Object::Null => Vec::new(),
                other => {
                    return Err(Error::structure(format!(
                        "/{} of {owner} is a {}, not an array",
                        String::from_utf8_lossy(key),
                        other.type_name()
                    )))
                }
            };
            arr.push(Object::Reference(item));
            update.put_object(*r, &Object::Array(arr));
        }
        other => {
            let mut arr = match other {
                Some(Object::Array(a)) => a.clone(),
                None => Vec::new(),
                Some(o) => {
                    return Err(Error::structure(format!(
                        "/{} of {owner} is a {}, not an array",
                        String::from_utf8_lossy(key),
                        o.type_name()
                    )))
                }
            };
            arr.push(Object::Reference(item));
            let mut d = dict.clone();
            d.set(key, Object::Array(arr));
            update.put_object(owner, &Object::Dict(d));
        }
    }
    Ok(())
}
