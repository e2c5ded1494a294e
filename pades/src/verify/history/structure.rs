//! The structure tree (ISO 32000-2 §14.7) after a later visible signature: a signer of a
//! tagged document adds its widget to the tree (PDF/UA), a `/Form` structure element with an
//! `/OBJR` kid under the root or a top-level element, and an entry for it in the parent tree
//! (§14.7.5.4). Those additions, and nothing else, are signature-level changes; any other
//! change to those objects falls through to a content change.

use std::collections::HashSet;

use super::classify::{resolve_array, value_owner};
use super::*;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::Document;

/// Most top-level structure elements, parent tree nodes and parent tree depth examined; a
/// tree beyond them is not extended by a later signature without a content change.
const MAX_TOPS: usize = 100_000;
const MAX_NODES: usize = 100_000;
const MAX_DEPTH: usize = 64;

/// The structure tree objects a later signature may extend, in the older revision.
#[derive(Default)]
pub(super) struct StructRoles {
    /// The catalog's `/StructTreeRoot`.
    root: Option<u32>,
    /// The elements listed by the root's `/K`.
    tops: HashSet<u32>,
    /// Indirect `/K` arrays of the root and of the top-level elements.
    k_arrays: HashSet<u32>,
    /// Parent tree nodes (indirect).
    nodes: HashSet<u32>,
    /// Indirect `/Nums` arrays of parent tree nodes.
    nums_arrays: HashSet<u32>,
    /// Indirect `/Kids` arrays of parent tree nodes.
    kids_arrays: HashSet<u32>,
    /// The largest key in the parent tree (None: no key).
    max_key: Option<i64>,
    /// The parent tree was larger or deeper than examined.
    incomplete: bool,
}

impl StructRoles {
    /// Find the structure tree's extendable objects in `doc`.
    pub(super) fn of(doc: &Document<'_>, catalog: Option<&Dict>) -> Self {
        let mut roles = Self::default();
        let Some(root_ref) = catalog
            .and_then(|c| c.get(b"StructTreeRoot"))
            .and_then(Object::as_ref)
        else {
            return roles;
        };
        let Ok(Object::Dict(root)) = doc.resolve(root_ref) else {
            return roles;
        };
        roles.root = Some(root_ref.num);
        let mut tops = Vec::new();
        match root.get(b"K") {
            Some(Object::Reference(r)) => match doc.resolve(*r) {
                Ok(Object::Array(a)) => {
                    roles.k_arrays.insert(r.num);
                    tops.extend(a.iter().filter_map(Object::as_ref));
                }
                _ => tops.push(*r),
            },
            Some(Object::Array(a)) => tops.extend(a.iter().filter_map(Object::as_ref)),
            _ => {}
        }
        for t in tops.into_iter().take(MAX_TOPS) {
            roles.tops.insert(t.num);
            if let Ok(Object::Dict(e)) = doc.resolve(t) {
                if let Some(k) = e.get(b"K").and_then(Object::as_ref) {
                    if matches!(doc.resolve(k), Ok(Object::Array(_))) {
                        roles.k_arrays.insert(k.num);
                    }
                }
            }
        }
        if let Some(tree) = root.get(b"ParentTree") {
            roles.walk_parent_tree(doc, tree.clone());
        }
        roles
    }

    /// Every node of the parent tree from `tree`, its indirect arrays and its largest key.
    fn walk_parent_tree(&mut self, doc: &Document<'_>, tree: Object) {
        let mut stack = vec![(tree, 0usize)];
        while let Some((o, depth)) = stack.pop() {
            let node = match o {
                Object::Reference(r) => {
                    if self.nodes.len() >= MAX_NODES || depth > MAX_DEPTH {
                        self.incomplete = true;
                        return;
                    }
                    if !self.nodes.insert(r.num) {
                        continue;
                    }
                    match doc.resolve(r) {
                        Ok(Object::Dict(d)) => d,
                        _ => continue,
                    }
                }
                Object::Dict(d) => d,
                _ => continue,
            };
            if let Some(nums) = node.get(b"Nums") {
                if let Some(r) = nums.as_ref() {
                    self.nums_arrays.insert(r.num);
                }
                let pairs = resolve_array(doc, Some(nums));
                for k in pairs.iter().step_by(2).filter_map(Object::as_i64) {
                    self.max_key = Some(self.max_key.map_or(k, |m| m.max(k)));
                }
            }
            if let Some(kids) = node.get(b"Kids") {
                if let Some(r) = kids.as_ref() {
                    self.kids_arrays.insert(r.num);
                }
                for kid in resolve_array(doc, Some(kids)) {
                    stack.push((kid, depth + 1));
                }
            }
        }
    }
}

impl StructRoles {
    /// Does the document have a structure tree?
    pub(super) fn tagged(&self) -> bool {
        self.root.is_some()
    }
}

/// A dictionary of the structure tree changed from `a` to `b`: `None` if `n` plays no role
/// there, else how far-reaching the change is.
pub(super) fn dict_change(
    ctx: &Context<'_>,
    n: u32,
    a: &Dict,
    b: &Dict,
    old: &Document<'_>,
    new: &Document<'_>,
    last: &Document<'_>,
) -> Option<(ChangeLevel, Option<String>, String)> {
    let s = &ctx.structure;
    let role = if Some(n) == s.root {
        "structure tree root"
    } else if s.tops.contains(&n) {
        "top-level structure element"
    } else if s.nodes.contains(&n) {
        "parent tree node"
    } else {
        return None;
    };
    let mut bad = Vec::new();
    for k in &classify::changed_keys(a, b) {
        let result = match (k.as_slice(), role) {
            (b"K", "structure tree root" | "top-level structure element") => kids_appended(
                ctx,
                &kids_list(old, a.get(b"K")),
                &kids_list(new, b.get(b"K")),
                new,
                last,
            ),
            (b"ParentTreeNextKey", "structure tree root") => {
                let was = a.get(b"ParentTreeNextKey").and_then(Object::as_i64);
                match b.get(b"ParentTreeNextKey").and_then(Object::as_i64) {
                    Some(now) if now >= was.unwrap_or(0) => Ok(()),
                    _ => Err("/ParentTreeNextKey went down or is not a number".into()),
                }
            }
            (b"ParentTree", "structure tree root") => {
                match (a.get(b"ParentTree"), b.get(b"ParentTree")) {
                    (None, Some(Object::Reference(r))) => new_leaf(ctx, *r, new, last, &mut None),
                    (Some(Object::Dict(x)), Some(Object::Dict(y))) => {
                        node_change(ctx, x, y, old, new, last)
                    }
                    _ => Err("the parent tree was replaced".into()),
                }
            }
            (b"Nums" | b"Kids", "parent tree node") => node_change(ctx, a, b, old, new, last),
            (other, _) => Err(format!("/{} changed", String::from_utf8_lossy(other))),
        };
        if let Err(why) = result {
            bad.push(why);
        }
    }
    Some(if bad.is_empty() {
        (
            ChangeLevel::Signatures,
            None,
            format!("{role} object {n}: a new signature widget joined the structure tree"),
        )
    } else {
        (
            ChangeLevel::Content,
            None,
            format!("{role} object {n} changed: {}", bad.join("; ")),
        )
    })
}

/// An indirect array of the structure tree changed: `None` if it plays no role there.
pub(super) fn array_change(
    ctx: &Context<'_>,
    n: u32,
    a: &[Object],
    b: &[Object],
    new: &Document<'_>,
    last: &Document<'_>,
) -> Option<(ChangeLevel, Option<String>, String)> {
    let s = &ctx.structure;
    let result = if s.k_arrays.contains(&n) {
        kids_appended(ctx, a, b, new, last)
    } else if s.nums_arrays.contains(&n) {
        pairs_appended(ctx, a, b, new, last, &mut None)
    } else if s.kids_arrays.contains(&n) {
        leaves_appended(ctx, a, b, new, last)
    } else {
        return None;
    };
    Some(match result {
        Ok(()) => (
            ChangeLevel::Signatures,
            None,
            format!("structure tree array {n}: a new signature widget joined the structure tree"),
        ),
        Err(why) => (
            ChangeLevel::Content,
            None,
            format!("structure tree array {n} changed: {why}"),
        ),
    })
}

/// A structure element's `/K` as a list: an indirect array's items, or the one kid.
fn kids_list(doc: &Document<'_>, k: Option<&Object>) -> Vec<Object> {
    match k {
        None => Vec::new(),
        Some(Object::Array(a)) => a.clone(),
        Some(o @ Object::Reference(r)) => match doc.resolve(*r) {
            Ok(Object::Array(a)) => a,
            _ => vec![o.clone()],
        },
        Some(o) => vec![o.clone()],
    }
}

/// `now` must be `was` with new `/Form` elements of new signature widgets appended.
fn kids_appended(
    ctx: &Context<'_>,
    was: &[Object],
    now: &[Object],
    new: &Document<'_>,
    last: &Document<'_>,
) -> Result<(), String> {
    let extra = prefix_kept(was, now)?;
    for o in extra {
        let r = o
            .as_ref()
            .ok_or("a direct object was added to the structure tree")?;
        form_element(ctx, r, new, last)?;
    }
    Ok(())
}

/// The entries of `now` after `was`, which must be kept as they were.
fn prefix_kept<'o>(was: &[Object], now: &'o [Object]) -> Result<&'o [Object], String> {
    match now.get(..was.len()) {
        Some(head) if head == was => Ok(&now[was.len()..]),
        _ => Err("existing entries removed or reordered".into()),
    }
}

/// A parent tree node changed from `a` to `b`: only `/Nums` pairs and `/Kids` leaves added.
fn node_change(
    ctx: &Context<'_>,
    a: &Dict,
    b: &Dict,
    old: &Document<'_>,
    new: &Document<'_>,
    last: &Document<'_>,
) -> Result<(), String> {
    for k in classify::changed_keys(a, b) {
        match k.as_slice() {
            b"Nums" => pairs_appended(
                ctx,
                &resolve_array(old, a.get(b"Nums")),
                &resolve_array(new, b.get(b"Nums")),
                new,
                last,
                &mut None,
            )?,
            b"Kids" => leaves_appended(
                ctx,
                &resolve_array(old, a.get(b"Kids")),
                &resolve_array(new, b.get(b"Kids")),
                new,
                last,
            )?,
            other => {
                return Err(format!(
                    "parent tree node /{} changed",
                    String::from_utf8_lossy(other)
                ))
            }
        }
    }
    Ok(())
}

/// `now` must be the `/Nums` pairs `was` with pairs `N → Form element` appended, each `N` above
/// every key of the older tree (and above `floor`, the last key seen), naming a new signature
/// widget whose `/StructParent` is `N`.
fn pairs_appended(
    ctx: &Context<'_>,
    was: &[Object],
    now: &[Object],
    new: &Document<'_>,
    last: &Document<'_>,
    floor: &mut Option<i64>,
) -> Result<(), String> {
    let s = &ctx.structure;
    if s.incomplete {
        return Err("the parent tree is larger than examined".into());
    }
    let extra = prefix_kept(was, now)?;
    if extra.len() % 2 != 0 {
        return Err("a parent tree key without a value".into());
    }
    for pair in extra.chunks_exact(2) {
        let key = pair[0]
            .as_i64()
            .ok_or("a parent tree key is not a number")?;
        let above = s.max_key.max(*floor);
        if above.is_some_and(|m| key <= m) {
            return Err(format!(
                "parent tree key {key} is not above the keys in use"
            ));
        }
        *floor = Some(key);
        let r = pair[1]
            .as_ref()
            .ok_or("a parent tree value is not a reference")?;
        let sp = form_element(ctx, r, new, last)?;
        if sp != Some(key) {
            return Err(format!(
                "parent tree key {key} names {r}, whose widget's /StructParent differs"
            ));
        }
    }
    Ok(())
}

/// `now` must be the `/Kids` `was` with new leaves appended (see [`new_leaf`]).
fn leaves_appended(
    ctx: &Context<'_>,
    was: &[Object],
    now: &[Object],
    new: &Document<'_>,
    last: &Document<'_>,
) -> Result<(), String> {
    let mut floor = None;
    for o in prefix_kept(was, now)? {
        let r = o.as_ref().ok_or("a direct parent tree node was added")?;
        new_leaf(ctx, r, new, last, &mut floor)?;
    }
    Ok(())
}

/// A new parent tree leaf `r`: only `/Nums` (pairs as [`pairs_appended`] allows) and `/Limits`
/// that are its first and last keys (wrong limits would hide the older entries from a lookup).
fn new_leaf(
    ctx: &Context<'_>,
    r: ObjRef,
    new: &Document<'_>,
    last: &Document<'_>,
    floor: &mut Option<i64>,
) -> Result<(), String> {
    if ctx.shown.contains(&r.num) {
        return Err(format!(
            "{r} is an object the signed revision already shows"
        ));
    }
    let d = new
        .resolve_dict(&Object::Reference(r), "parent tree node")
        .map_err(|_| format!("{r} is not a parent tree node"))?;
    if let Some(k) = d
        .iter()
        .map(|(k, _)| k)
        .find(|k| !matches!(*k, b"Nums" | b"Limits"))
    {
        return Err(format!(
            "new parent tree node {r} has /{}",
            String::from_utf8_lossy(k)
        ));
    }
    if let Some(nums) = d.get(b"Nums").and_then(Object::as_ref) {
        if ctx.shown.contains(&nums.num) {
            return Err(format!(
                "{nums} is an object the signed revision already shows"
            ));
        }
    }
    let nums = resolve_array(new, d.get(b"Nums"));
    pairs_appended(ctx, &[], &nums, new, last, floor)?;
    if let Some(limits) = d.get(b"Limits") {
        let first = nums.first().and_then(Object::as_i64);
        let end = nums.iter().rev().nth(1).and_then(Object::as_i64);
        let want = [first, end];
        let got: Vec<Option<i64>> = resolve_array(new, Some(limits))
            .iter()
            .map(Object::as_i64)
            .collect();
        if got != want {
            return Err(format!("new parent tree node {r} has wrong /Limits"));
        }
    }
    Ok(())
}

/// `r` must be a new `/Form` structure element whose one kid is an object reference to a new
/// widget of a signed signature field of the final document. Returns that widget's
/// `/StructParent`.
fn form_element(
    ctx: &Context<'_>,
    r: ObjRef,
    new: &Document<'_>,
    last: &Document<'_>,
) -> Result<Option<i64>, String> {
    if ctx.shown.contains(&r.num) {
        return Err(format!(
            "{r} is an object the signed revision already shows"
        ));
    }
    let e = new
        .resolve_dict(&Object::Reference(r), "structure element")
        .map_err(|_| format!("{r} is not a structure element"))?;
    if e.get(b"S").and_then(Object::as_name) != Some(b"Form")
        || e.get(b"Type")
            .is_some_and(|t| t.as_name() != Some(b"StructElem"))
    {
        return Err(format!("{r} is not a /Form structure element"));
    }
    let kid = e
        .get(b"K")
        .and_then(|k| new.resolve_dict(k, "object reference").ok())
        .filter(|k| k.get(b"Type").and_then(Object::as_name) == Some(b"OBJR"))
        .ok_or_else(|| format!("structure element {r} does not hold one object reference"))?;
    let w = kid
        .get(b"Obj")
        .and_then(Object::as_ref)
        .ok_or_else(|| format!("structure element {r} refers to no object"))?;
    let not_ours = || format!("structure element {r} refers to {w}, not a new signature widget");
    if ctx.shown.contains(&w.num) || !ctx.last_fields.contains(&w.num) {
        return Err(not_ours());
    }
    let wd = last
        .resolve_dict(&Object::Reference(w), "widget")
        .map_err(|_| not_ours())?;
    if wd.get(b"Subtype").and_then(Object::as_name) != Some(b"Widget") {
        return Err(not_ours());
    }
    let owner = value_owner(last, w.num, &wd);
    let signed = gen_of(last, owner)
        .and_then(|o| last.resolve(o).ok())
        .and_then(|o| o.as_dict().cloned())
        .filter(|f| classify::field_type(last, f).as_deref() == Some(b"Sig"))
        .and_then(|f| f.get(b"V").and_then(|v| last.resolve_dict(v, "value").ok()))
        .is_some_and(|v| v.get(b"ByteRange").is_some() && v.get(b"Contents").is_some());
    if !signed {
        return Err(not_ours());
    }
    Ok(wd.get(b"StructParent").and_then(Object::as_i64))
}
