//! The seal in the structure tree of a tagged document (ISO 32000-2 §14.7, PDF/UA-1 §7.18.4):
//! the new widget becomes the object of a `/Form` structure element with an alternate
//! description, and the parent tree (§14.7.5.4) maps the widget's `/StructParent` key back to
//! that element, so that a screen reader meets the seal in reading order and announces it.
//!
//! ```text
//!  StructTreeRoot ──/K──▶ Document element ──/K──▶ [ …, Form element ]
//!        │                                              │ /K << /Type /OBJR /Obj widget >>
//!        └──/ParentTree──▶ number tree: … N ──▶ Form element ◀── widget /StructParent N
//! ```
//!
//! Only the objects that gain an entry are rewritten: the root (its `/ParentTreeNextKey`), the
//! element or array that gains the kid, and the parent tree node or array that gains the key.

use std::collections::HashSet;

use crate::error::{Error, LimitError, Result};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::text::encode_text;
use crate::pdf::update::Update;
use crate::pdf::Document;

/// Deepest parent tree walked.
const MAX_DEPTH: usize = 64;
/// Most parent tree nodes walked.
const MAX_NODES: usize = 100_000;
/// Most keys in the parent tree, and most entries of an array that gains one.
const MAX_ENTRIES: usize = 1_000_000;

/// On a tagged document (the catalog has /StructTreeRoot; /MarkInfo /Marked true), make the
/// new widget annotation part of the structure tree the way PDF/UA asks: a /Form structure
/// element with an /OBJR kid pointing at the widget (and /Pg the page), /Alt `alt`, added
/// under the structure tree's top-level element (the document element, or the root's /K);
/// the widget gets /StructParent N and /ParentTree gets N -> the Form element, N taken from
/// /ParentTreeNextKey (or one past the largest key in use), /ParentTreeNextKey updated.
/// Returns N to put into the widget's dictionary as /StructParent (None: not tagged; nothing
/// written). Rewrites the fewest objects; handles a /ParentTree whose root has /Nums or
/// /Kids (append a new leaf kid with /Limits), and a /K that is a dictionary, an array or a
/// reference. Hostile trees (cycles, depth, huge arrays) are refused with clear errors.
///
/// A document with a structure tree but without `/MarkInfo /Marked true` is tagged too: its
/// tree stays consistent with the new widget either way.
///
/// # Errors
/// A `/StructTreeRoot` held directly in the catalog (the catalog is not this function's to
/// rewrite); a structure tree or parent tree that is malformed, cyclic, deeper than 64 levels,
/// with more than 100 000 nodes or a million keys; a key that would overflow.
pub(super) fn tag_widget(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    catalog: &Dict,
    widget_ref: ObjRef,
    page_ref: ObjRef,
    alt: &str,
) -> Result<Option<i64>> {
    let root_ref =
        match catalog.get(b"StructTreeRoot") {
            None | Some(Object::Null) => return Ok(None),
            Some(Object::Reference(r)) => *r,
            Some(_) => return Err(Error::Unsupported(
                "a structure tree root held directly in the catalog (not as an indirect object)"
                    .into(),
            )),
        };
    let mut root = match doc.resolve(root_ref)? {
        Object::Dict(d) => d,
        Object::Null => return Ok(None),
        other => {
            return Err(Error::structure(format!(
                "/StructTreeRoot {root_ref} is a {}, not a dictionary",
                other.type_name()
            )))
        }
    };
    let mut tree = Tree {
        update,
        doc,
        written: HashSet::from([root_ref.num]),
    };
    let key = next_key(doc, &root)?;
    let next = key
        .checked_add(1)
        .ok_or_else(|| Error::structure("the parent tree's next key overflows"))?;
    let form_ref = tree.update.allocate();
    let parent = tree.add_kid(&mut root, root_ref, form_ref)?;
    let mut objr = Dict::new();
    objr.set(b"Type", Object::Name(b"OBJR".to_vec()));
    objr.set(b"Obj", Object::Reference(widget_ref));
    objr.set(b"Pg", Object::Reference(page_ref));
    let mut form = Dict::new();
    form.set(b"Type", Object::Name(b"StructElem".to_vec()));
    form.set(b"S", Object::Name(b"Form".to_vec()));
    form.set(b"P", Object::Reference(parent));
    form.set(b"Pg", Object::Reference(page_ref));
    form.set(b"K", Object::Dict(objr));
    form.set(b"Alt", Object::String(encode_text(alt)));
    tree.update.put_object(form_ref, &Object::Dict(form));
    tree.add_key(&mut root, key, form_ref)?;
    root.set(b"ParentTreeNextKey", Object::Integer(next));
    tree.update.put_object(root_ref, &Object::Dict(root));
    Ok(Some(key))
}

/// The rewriting of one structure tree.
struct Tree<'u, 'd, 'a, 'x> {
    update: &'u mut Update<'d, 'a>,
    doc: &'u Document<'x>,
    /// Objects rewritten so far: one object playing two parts is refused, not written twice.
    written: HashSet<u32>,
}

impl Tree<'_, '_, '_, '_> {
    /// Claim object `r` for rewriting.
    fn claim(&mut self, r: ObjRef) -> Result<()> {
        if self.written.insert(r.num) {
            Ok(())
        } else {
            Err(Error::structure(format!(
                "object {r} plays two parts in the structure tree"
            )))
        }
    }

    /// Add `form` as a kid of the root's top-level element (or of the root when it has
    /// several or none). Returns the element that got it.
    fn add_kid(&mut self, root: &mut Dict, root_ref: ObjRef, form: ObjRef) -> Result<ObjRef> {
        let k = root.get(b"K").cloned();
        let items = match &k {
            Some(Object::Reference(r)) => match self.doc.resolve(*r)? {
                Object::Array(a) => Some(a),
                Object::Dict(d) if is_element(&d) => return self.add_to_element(*r, d, form),
                _ => None,
            },
            Some(Object::Array(a)) => Some(a.clone()),
            _ => None,
        };
        // One top-level element (the document element): the seal joins it.
        if let Some(items) = &items {
            if let [Object::Reference(e)] = items.as_slice() {
                if let Object::Dict(d) = self.doc.resolve(*e)? {
                    if is_element(&d) {
                        return self.add_to_element(*e, d, form);
                    }
                }
            }
        }
        let kids = self.appended(k, form)?;
        if let Some(kids) = kids {
            root.set(b"K", kids);
        }
        Ok(root_ref)
    }

    /// Add `form` to the kids of element `e` (dictionary `d`).
    fn add_to_element(&mut self, e: ObjRef, mut d: Dict, form: ObjRef) -> Result<ObjRef> {
        self.claim(e)?;
        if let Some(kids) = self.appended(d.get(b"K").cloned(), form)? {
            d.set(b"K", kids);
            self.update.put_object(e, &Object::Dict(d));
        }
        Ok(e)
    }

    /// `/K` value `k` with `form` appended. An indirect array is rewritten in place (`None`:
    /// the owner keeps its value); otherwise the new value for the owner.
    fn appended(&mut self, k: Option<Object>, form: ObjRef) -> Result<Option<Object>> {
        let item = Object::Reference(form);
        Ok(match k {
            None | Some(Object::Null) => Some(item),
            Some(Object::Reference(r)) => match self.doc.resolve(r)? {
                Object::Array(mut a) => {
                    check_len(a.len(), "a structure element's kids")?;
                    self.claim(r)?;
                    a.push(item);
                    self.update.put_object(r, &Object::Array(a));
                    None
                }
                Object::Null => Some(item),
                _ => Some(Object::Array(vec![Object::Reference(r), item])),
            },
            Some(Object::Array(mut a)) => {
                check_len(a.len(), "a structure element's kids")?;
                a.push(item);
                Some(Object::Array(a))
            }
            Some(o @ (Object::Integer(_) | Object::Dict(_))) => Some(Object::Array(vec![o, item])),
            Some(o) => {
                return Err(Error::structure(format!(
                    "a structure element's /K is a {}",
                    o.type_name()
                )))
            }
        })
    }

    /// Map `key` to `form` in the root's parent tree (made if missing).
    fn add_key(&mut self, root: &mut Dict, key: i64, form: ObjRef) -> Result<()> {
        let pair = [Object::Integer(key), Object::Reference(form)];
        match root.get(b"ParentTree").cloned() {
            None | Some(Object::Null) => {
                let r = self.update.allocate();
                let mut node = Dict::new();
                node.set(b"Nums", Object::Array(pair.to_vec()));
                self.update.put_object(r, &Object::Dict(node));
                root.set(b"ParentTree", Object::Reference(r));
            }
            Some(Object::Reference(r)) => {
                let mut node = self
                    .doc
                    .resolve_dict(&Object::Reference(r), "/ParentTree")?;
                if self.add_to_node(&mut node, pair)? {
                    self.claim(r)?;
                    self.update.put_object(r, &Object::Dict(node));
                }
            }
            Some(Object::Dict(mut node)) => {
                if self.add_to_node(&mut node, pair)? {
                    root.set(b"ParentTree", Object::Dict(node));
                }
            }
            Some(o) => {
                return Err(Error::structure(format!(
                    "/ParentTree is a {}, not a dictionary",
                    o.type_name()
                )))
            }
        }
        Ok(())
    }

    /// Add `pair` to the parent tree's root node: to its `/Nums`, or as a new leaf of its
    /// `/Kids`. Returns whether the node itself changed (not only an indirect array of it).
    fn add_to_node(&mut self, node: &mut Dict, pair: [Object; 2]) -> Result<bool> {
        let (key, value) = if node.get(b"Kids").is_some() {
            if node.get(b"Nums").is_some() {
                return Err(Error::structure(
                    "the parent tree's root has both /Kids and /Nums",
                ));
            }
            let leaf = self.update.allocate();
            let mut d = Dict::new();
            d.set(
                b"Limits",
                Object::Array(vec![pair[0].clone(), pair[0].clone()]),
            );
            d.set(b"Nums", Object::Array(pair.to_vec()));
            self.update.put_object(leaf, &Object::Dict(d));
            (&b"Kids"[..], vec![Object::Reference(leaf)])
        } else {
            (&b"Nums"[..], pair.to_vec())
        };
        match node.get(key).cloned() {
            Some(Object::Reference(r)) => {
                let Object::Array(mut a) = self.doc.resolve(r)? else {
                    return Err(Error::structure(format!(
                        "the parent tree's /{} is not an array",
                        String::from_utf8_lossy(key)
                    )));
                };
                check_len(a.len(), "the parent tree's root")?;
                self.claim(r)?;
                a.extend(value);
                self.update.put_object(r, &Object::Array(a));
                Ok(false)
            }
            Some(Object::Array(mut a)) => {
                check_len(a.len(), "the parent tree's root")?;
                a.extend(value);
                node.set(key, Object::Array(a));
                Ok(true)
            }
            None | Some(Object::Null) => {
                node.set(key, Object::Array(value));
                Ok(true)
            }
            Some(o) => Err(Error::structure(format!(
                "the parent tree's /{} is a {}",
                String::from_utf8_lossy(key),
                o.type_name()
            ))),
        }
    }
}

/// A structure element: a dictionary with a structure type `/S`.
fn is_element(d: &Dict) -> bool {
    d.get(b"S").and_then(Object::as_name).is_some()
}

fn check_len(len: usize, what: &'static str) -> Result<()> {
    if len >= MAX_ENTRIES {
        return Err(Error::Limit(LimitError::Count {
            what,
            value: len as u64,
        }));
    }
    Ok(())
}

/// The parent tree key for the new widget: `/ParentTreeNextKey`, raised to one past the
/// largest key in use if it is not above it (a stale value would make two objects share a key).
fn next_key(doc: &Document<'_>, root: &Dict) -> Result<i64> {
    let largest = largest_key(doc, root.get(b"ParentTree"))?;
    let after_largest = match largest {
        Some(k) => k
            .checked_add(1)
            .ok_or_else(|| Error::structure("the parent tree's largest key overflows"))?,
        None => 0,
    };
    let declared = root
        .get(b"ParentTreeNextKey")
        .and_then(Object::as_i64)
        .unwrap_or(0)
        .max(0);
    Ok(declared.max(after_largest))
}

/// The largest key of the parent tree from `tree`, walking every node once.
fn largest_key(doc: &Document<'_>, tree: Option<&Object>) -> Result<Option<i64>> {
    let Some(tree) = tree else {
        return Ok(None);
    };
    let mut largest: Option<i64> = None;
    let mut seen = HashSet::new();
    let mut keys = 0usize;
    let mut stack = vec![(tree.clone(), 0usize)];
    while let Some((o, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::structure(format!(
                "the parent tree is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        if let Object::Reference(r) = o {
            if !seen.insert(r.num) {
                return Err(Error::structure(format!(
                    "the parent tree has a cycle (at {r})"
                )));
            }
            if seen.len() > MAX_NODES {
                return Err(Error::Limit(LimitError::Count {
                    what: "the parent tree's nodes",
                    value: seen.len() as u64,
                }));
            }
        }
        let node = match doc.deref(&o)? {
            Object::Dict(d) => d,
            Object::Null => continue,
            other => {
                return Err(Error::structure(format!(
                    "a parent tree node is a {}",
                    other.type_name()
                )))
            }
        };
        if let Some(nums) = node.get(b"Nums") {
            let Object::Array(a) = doc.deref(nums)? else {
                return Err(Error::structure("a parent tree /Nums is not an array"));
            };
            keys += a.len() / 2;
            if keys > MAX_ENTRIES {
                return Err(Error::Limit(LimitError::Count {
                    what: "the parent tree's keys",
                    value: keys as u64,
                }));
            }
            for k in a.iter().step_by(2).filter_map(Object::as_i64) {
                largest = Some(largest.map_or(k, |m| m.max(k)));
            }
        }
        if let Some(kids) = node.get(b"Kids") {
            let Object::Array(a) = doc.deref(kids)? else {
                return Err(Error::structure("a parent tree /Kids is not an array"));
            };
            check_len(a.len(), "a parent tree node's kids")?;
            stack.extend(a.into_iter().map(|k| (k, depth + 1)));
        }
    }
    Ok(largest)
}

#[cfg(test)]
mod tests;
