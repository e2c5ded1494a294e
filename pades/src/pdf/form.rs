//! The interactive form (ISO 32000-2 §12.7): where the `/AcroForm` dictionary and its
//! `/Fields` array live, and the field tree below them (§12.7.4), read into the terminal fields
//! with their fully qualified names (§12.7.4.2).
//!
//! The signer reads it to find or add a signature field and rewrites the fewest objects; the
//! verifier reads it to find every signature field with a value.

use std::collections::HashSet;
use std::rc::Rc;

use super::object::{Dict, ObjRef, Object};
use super::text::decode_text;
use super::update::Update;
use super::Document;
use crate::error::{Error, LimitError, Result};

/// Depth limit for the form field tree.
const MAX_TREE_DEPTH: usize = 64;
/// Most form fields walked when looking for names.
const MAX_FIELDS: usize = 100_000;
/// Bytes of fully qualified field names every document may have, on top of one per input
/// byte.
pub const NAMES_FLOOR: usize = 1 << 20;

/// Where the interactive form lives, so that it can be updated with the fewest rewritten
/// objects: an indirect `/AcroForm` or `/Fields` array is rewritten alone; the catalog only
/// when the form is direct or missing.
#[derive(Debug)]
pub(crate) struct FormLocation {
    acroform_ref: Option<ObjRef>,
    acroform: Option<Dict>,
    pub(crate) fields: Vec<Object>,
    fields_ref: Option<ObjRef>,
    sig_flags: i64,
}

impl FormLocation {
    pub(crate) fn find(doc: &Document<'_>, catalog: &Dict) -> Result<Self> {
        let (acroform_ref, mut acroform) = match catalog.get(b"AcroForm") {
            None => (None, None),
            Some(Object::Reference(r)) => match doc.resolve(*r)? {
                Object::Dict(d) => (Some(*r), Some(d)),
                Object::Null => (None, None),
                other => {
                    return Err(Error::structure(format!(
                        "/AcroForm is a {}, not a dictionary",
                        other.type_name()
                    )))
                }
            },
            Some(Object::Dict(d)) => (None, Some(d.clone())),
            Some(other) => {
                return Err(Error::structure(format!(
                    "/AcroForm is a {}, not a dictionary",
                    other.type_name()
                )))
            }
        };
        // A direct /Fields array is moved out of the form (not copied: it can be long), and
        // put back by `write_with`.
        let (fields, fields_ref) = match acroform.as_ref().and_then(|a| a.get(b"Fields")) {
            None => (Vec::new(), None),
            Some(Object::Reference(r)) => match doc.resolve(*r)? {
                Object::Array(a) => (a, Some(*r)),
                _ => return Err(Error::structure("/AcroForm /Fields is not an array")),
            },
            Some(Object::Array(_)) => match acroform.as_mut().and_then(|a| a.take(b"Fields")) {
                Some(Object::Array(a)) => (a, None),
                _ => (Vec::new(), None),
            },
            Some(_) => return Err(Error::structure("/AcroForm /Fields is not an array")),
        };
        let sig_flags = acroform
            .as_ref()
            .and_then(|a| a.get(b"SigFlags"))
            .and_then(Object::as_i64)
            .unwrap_or(0);
        Ok(Self {
            acroform_ref,
            acroform,
            fields,
            fields_ref,
            sig_flags,
        })
    }

    /// Whether `/SigFlags` is anything but exactly `SignaturesExist | AppendOnly` (3): the form
    /// is then rewritten to set both even when no field is added.
    pub(crate) fn needs_sig_flags(&self) -> bool {
        self.sig_flags != 3
    }

    /// Write the form with `/SigFlags 3` and `new_field` added. Returns the catalog entry to
    /// set when the form is new or direct (the caller rewrites the catalog once).
    pub(crate) fn write_with(
        self,
        update: &mut Update<'_, '_>,
        new_field: Option<ObjRef>,
    ) -> Option<(&'static [u8], Object)> {
        let mut fields = self.fields;
        if let Some(f) = new_field {
            // One more, not twice as many (the array can be long).
            fields.reserve_exact(1);
            fields.push(Object::Reference(f));
        }
        let mut form = self.acroform.unwrap_or_default();
        match (self.fields_ref, new_field) {
            (Some(r), Some(_)) => update.put_object(r, &Object::Array(fields)),
            (Some(_), None) => {}
            (None, _) => form.set(b"Fields", Object::Array(fields)),
        }
        let form_changed = self.fields_ref.is_none() || self.sig_flags != 3;
        if !form_changed {
            return None;
        }
        form.set(b"SigFlags", Object::Integer(self.sig_flags | 3));
        match self.acroform_ref {
            Some(r) => {
                update.put_object(r, &Object::Dict(form));
                None
            }
            None => {
                let r = update.allocate();
                update.put_object(r, &Object::Dict(form));
                Some((b"AcroForm", Object::Reference(r)))
            }
        }
    }
}

/// A terminal field of the form.
#[derive(Debug)]
pub(crate) struct FieldInfo {
    /// The field dictionary.
    pub(crate) r: ObjRef,
    /// Its fully qualified name (partial names joined with `.`).
    pub(crate) name: String,
    /// `/FT /Sig`, set on the field or inherited.
    pub(crate) is_signature: bool,
    /// It has a `/V`.
    pub(crate) has_value: bool,
}

/// A field still to walk: its reference, its parent's fully qualified name (shared with its
/// siblings), the `/FT` it inherits, its depth.
type PendingField = (ObjRef, Rc<str>, Option<Rc<[u8]>>, usize);

/// Walk the field tree (ISO 32000-2 §12.7.4) collecting fully qualified names of terminal fields.
///
/// Every object is resolved at most twice (once as a kid, once as a field): a kid reached again
/// is not read again (a field reached twice is a loop). Parent names are shared, not copied per
/// kid, and the fully qualified names built are bounded in total by [`NAMES_FLOOR`] plus the
/// input size.
pub(crate) fn collect_fields(doc: &Document<'_>, roots: &[Object]) -> Result<Vec<FieldInfo>> {
    let names_limit = NAMES_FLOOR.saturating_add(doc.data().len());
    let mut names_total = 0usize;
    let mut out = Vec::new();
    // Fields pushed for walking (a repeat is a loop), and kids found to be widgets.
    let mut seen = HashSet::new();
    let mut widgets = HashSet::new();
    let mut stack: Vec<PendingField> = Vec::new();
    let push_field = |seen: &mut HashSet<ObjRef>, r: ObjRef| -> Result<()> {
        if !seen.insert(r) {
            return Err(Error::structure(format!(
                "the form field tree loops at {r}"
            )));
        }
        if seen.len() > MAX_FIELDS {
            return Err(Error::Limit(LimitError::Count {
                what: "the number of form fields",
                value: seen.len() as u64,
            }));
        }
        Ok(())
    };
    for r in roots.iter().rev().filter_map(Object::as_ref) {
        push_field(&mut seen, r)?;
        stack.push((r, Rc::from(""), None, 0));
    }
    while let Some((r, prefix, inherited_ft, depth)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(Error::structure(format!(
                "the form field tree is nested deeper than {MAX_TREE_DEPTH} levels (at {r})"
            )));
        }
        let d = match doc.resolve(r)? {
            Object::Dict(d) => d,
            _ => continue,
        };
        let partial = d.get(b"T").and_then(Object::as_string).map(decode_text);
        let name: Rc<str> = match (&partial, prefix.is_empty()) {
            (Some(p), true) => Rc::from(p.as_str()),
            (Some(p), false) => Rc::from(format!("{prefix}.{p}")),
            (None, _) => prefix,
        };
        if partial.is_some() {
            names_total = names_total.saturating_add(name.len());
            if names_total > names_limit {
                return Err(Error::Limit(LimitError::Budget {
                    what: "bytes of fully qualified form field names",
                    limit: names_limit as u64,
                }));
            }
        }
        let ft: Option<Rc<[u8]>> = d
            .get(b"FT")
            .and_then(Object::as_name)
            .map(Rc::from)
            .or(inherited_ft);
        let kids: Vec<Object> = match d.get(b"Kids").map(|k| doc.deref(k)).transpose()? {
            Some(Object::Array(a)) => a,
            _ => Vec::new(),
        };
        // Kids that have /T are fields; kids without are widgets of this field.
        let mut field_kids = Vec::new();
        for kr in kids.iter().filter_map(Object::as_ref) {
            if widgets.contains(&kr) {
                continue;
            }
            if seen.contains(&kr) {
                return Err(Error::structure(format!(
                    "the form field tree loops at {kr}"
                )));
            }
            let is_field = doc
                .resolve(kr)
                .ok()
                .and_then(|o| o.as_dict().map(|d| d.get(b"T").is_some()))
                .unwrap_or(false);
            if is_field {
                push_field(&mut seen, kr)?;
                field_kids.push(kr);
            } else {
                widgets.insert(kr);
            }
        }
        if field_kids.is_empty() {
            if partial.is_some() {
                out.push(FieldInfo {
                    r,
                    name: name.to_string(),
                    is_signature: ft.as_deref() == Some(b"Sig"),
                    has_value: d.get(b"V").is_some(),
                });
            }
        } else {
            for k in field_kids.into_iter().rev() {
                stack.push((k, name.clone(), ft.clone(), depth + 1));
            }
        }
    }
    Ok(out)
}
