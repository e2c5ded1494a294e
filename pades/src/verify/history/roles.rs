//! Roles of objects in a revision, found by how its catalog reaches them: page tree nodes,
//! pages, what pages draw, the annotations they list, the form's field tree.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::classify::resolve_array;
use super::structure::StructRoles;
use super::*;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::Document;

/// Roles of objects in the older revision, found by how its catalog reaches them (never by how
/// an object looks: any dictionary can carry `/Type /DSS`, `/T` or `/Fields`).
pub(super) struct Context<'r> {
    pub(super) root: Option<u32>,
    pub(super) acroform: Option<u32>,
    /// The trailer's `/Info`, when nothing the catalog shows reaches it.
    pub(super) info: Option<u32>,
    /// The catalog's `/DSS`, when nothing else the catalog shows reaches it.
    pub(super) dss: Option<u32>,
    pub(super) roles: Roles,
    /// What the signed revision (and those since) show, from the catalog, `/DSS` aside.
    pub(super) shown: &'r HashSet<u32>,
    /// Fields of the final document (each is verified as a signature if it is one).
    pub(super) last_fields: &'r HashSet<u32>,
    /// Fields whose value the newer revision changed, by the field that holds `/V`.
    pub(super) fills: HashMap<u32, Fill>,
    /// The structure tree's objects that a later signature may extend.
    pub(super) structure: StructRoles,
    /// Visible signature widgets the newer revision adds to pages: (widget, field, what).
    pub(super) visible: RefCell<Vec<(u32, Option<String>, String)>>,
    /// The signatures the newer revision's added widgets claim to be (accepted as signing
    /// changes only if the verifier checked them: [`super::Claim`]).
    pub(super) claims: RefCell<Vec<super::Claim>>,
}

/// Objects by role in one revision.
#[derive(Default)]
pub(super) struct Roles {
    /// Pages (leaves of the page tree).
    pub(super) pages: HashSet<u32>,
    /// Each page's number (1-based, in page tree order).
    pub(super) page_numbers: HashMap<u32, usize>,
    /// Intermediate page tree nodes.
    pub(super) page_nodes: HashSet<u32>,
    /// Annotations listed by pages, widgets included.
    pub(super) annots: HashSet<u32>,
    /// The page that lists each annotation (the first one, if several do).
    pub(super) annot_pages: HashMap<u32, u32>,
    /// Indirect `/Annots` arrays of pages, with the page that lists each.
    pub(super) annot_arrays: HashMap<u32, u32>,
    /// Form fields (the `/Fields` tree through `/Kids`), widgets merged with fields included.
    pub(super) fields: HashSet<u32>,
    /// An indirect `/Fields` array.
    pub(super) fields_array: Option<u32>,
    /// What pages draw: everything reached from their `/Contents` and `/Resources`.
    pub(super) drawn: HashSet<u32>,
}

/// Most page tree nodes and fields walked for roles.
pub(super) const MAX_ROLE_NODES: usize = 1_000_000;

impl Roles {
    /// Walk `doc`'s page tree and field tree from its catalog.
    pub(super) fn of(doc: &Document<'_>, catalog: Option<&Dict>) -> Self {
        let mut roles = Self::default();
        let Some(catalog) = catalog else {
            return roles;
        };
        let mut seen = HashSet::new();
        let mut stack: Vec<ObjRef> = catalog
            .get(b"Pages")
            .and_then(Object::as_ref)
            .into_iter()
            .collect();
        while let Some(r) = stack.pop() {
            if seen.len() >= MAX_ROLE_NODES || !seen.insert(r.num) {
                continue;
            }
            let Ok(Object::Dict(d)) = doc.resolve(r) else {
                continue;
            };
            // What the node or page draws: its content, and its (inheritable) resources.
            let mut from: Vec<Object> = [b"Contents".as_slice(), b"Resources"]
                .iter()
                .filter_map(|k| d.get(k).cloned())
                .collect();
            while let Some(o) = from.pop() {
                match o {
                    Object::Reference(r)
                        if roles.drawn.len() < MAX_ROLE_NODES && roles.drawn.insert(r.num) =>
                    {
                        if let Ok(o) = doc.resolve(r) {
                            from.push(o);
                        }
                    }
                    Object::Array(a) => from.extend(a),
                    Object::Dict(d) => from.extend(d.iter().map(|(_, v)| v.clone())),
                    Object::Stream(s) => from.extend(s.dict.iter().map(|(_, v)| v.clone())),
                    _ => {}
                }
            }
            if let Some(kids) = d.get(b"Kids") {
                roles.page_nodes.insert(r.num);
                stack.extend(refs_of(doc, kids).into_iter().rev());
            } else {
                if roles.pages.insert(r.num) {
                    let number = roles.pages.len();
                    roles.page_numbers.insert(r.num, number);
                }
                if let Some(annots) = d.get(b"Annots") {
                    if let Some(a) = annots.as_ref() {
                        roles.annot_arrays.insert(a.num, r.num);
                    }
                    for a in refs_of(doc, annots) {
                        roles.annots.insert(a.num);
                        roles.annot_pages.entry(a.num).or_insert(r.num);
                    }
                }
            }
        }
        let form = catalog
            .get(b"AcroForm")
            .and_then(|f| doc.resolve_dict(f, "form").ok());
        if let Some(fields) = form.as_ref().and_then(|f| f.get(b"Fields")) {
            roles.fields_array = fields.as_ref().map(|r| r.num);
            let mut stack = refs_of(doc, fields);
            let mut walked = 0;
            while let Some(r) = stack.pop() {
                walked += 1;
                if walked > MAX_ROLE_NODES || !roles.fields.insert(r.num) {
                    continue;
                }
                if let Ok(Object::Dict(d)) = doc.resolve(r) {
                    if let Some(kids) = d.get(b"Kids") {
                        stack.extend(refs_of(doc, kids));
                    }
                }
            }
        }
        roles
    }
}

/// The references in an array (direct, or one reference away).
pub(super) fn refs_of(doc: &Document<'_>, o: &Object) -> Vec<ObjRef> {
    resolve_array(doc, Some(o))
        .iter()
        .filter_map(Object::as_ref)
        .collect()
}

impl<'r> Context<'r> {
    pub(super) fn new(
        old: &Document<'_>,
        root: Option<ObjRef>,
        shown: &'r HashSet<u32>,
        last_fields: &'r HashSet<u32>,
    ) -> Self {
        let catalog = root
            .and_then(|r| old.resolve(r).ok())
            .and_then(|o| o.as_dict().cloned());
        let get = |k: &[u8]| {
            catalog
                .as_ref()
                .and_then(|c| c.get(k))
                .and_then(Object::as_ref)
                .map(|r| r.num)
        };
        let unshown = |n: Option<u32>| n.filter(|n| !shown.contains(n));
        Self {
            root: root.map(|r| r.num),
            acroform: get(b"AcroForm"),
            info: unshown(
                old.trailer()
                    .get(b"Info")
                    .and_then(Object::as_ref)
                    .map(|r| r.num),
            ),
            dss: unshown(get(b"DSS")),
            roles: Roles::of(old, catalog.as_ref()),
            shown,
            last_fields,
            fills: HashMap::new(),
            structure: StructRoles::of(old, catalog.as_ref()),
            visible: RefCell::new(Vec::new()),
            claims: RefCell::new(Vec::new()),
        }
    }

    /// Is `v` (a new `/DSS` or `/Info` value) something the signed revision shows?
    pub(super) fn points_at_shown(&self, v: Option<&Object>) -> bool {
        v.and_then(Object::as_ref)
            .is_some_and(|r| self.shown.contains(&r.num))
    }
}
