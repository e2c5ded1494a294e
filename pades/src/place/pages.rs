//! The pages of a document in order, each with its inherited attributes (ISO 32000-2
//! §7.7.3.4: `/Resources`, `/MediaBox`, `/CropBox`, `/Rotate`).
//!
//! The page tree is walked depth-first with an explicit stack: at most [`MAX_TREE_DEPTH`]
//! levels and [`MAX_PAGE_NODES`] nodes, and a node met twice is a cycle, refused.

use std::collections::HashSet;
use std::rc::Rc;

use super::geometry::PageBox;
use crate::error::{Error, LimitError, Result, StructureError};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::Document;

/// Depth limit for the page tree.
const MAX_TREE_DEPTH: usize = 64;
/// Most page tree nodes walked.
const MAX_PAGE_NODES: usize = 1_000_000;

/// Attributes a page inherits from its ancestors.
#[derive(Debug, Default)]
struct Inherited {
    resources: Option<Object>,
    media: Option<Object>,
    crop: Option<Object>,
    rotate: Option<Object>,
}

impl Inherited {
    fn below(parent: &Rc<Inherited>, node: &Dict) -> Rc<Inherited> {
        let keys: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];
        if keys.iter().all(|k| node.get(k).is_none()) {
            return parent.clone();
        }
        let pick = |k: &[u8], from: &Option<Object>| node.get(k).cloned().or_else(|| from.clone());
        Rc::new(Inherited {
            resources: pick(b"Resources", &parent.resources),
            media: pick(b"MediaBox", &parent.media),
            crop: pick(b"CropBox", &parent.crop),
            rotate: pick(b"Rotate", &parent.rotate),
        })
    }
}

/// One page, with what it inherits resolved.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    /// 1-based number.
    pub(crate) number: u32,
    /// Its object.
    pub(crate) r: ObjRef,
    /// Its dictionary.
    pub(crate) dict: Dict,
    /// Its `/Resources` (own or inherited), as written.
    pub(crate) resources: Option<Object>,
    /// Its geometry.
    pub(crate) geometry: PageBox,
}

/// Call `visit` on each page in order until it returns `Some`.
///
/// # Errors
/// A page tree that loops, nests too deeply, has too many nodes or is malformed; an error of
/// `visit`.
pub(crate) fn each_page<T>(
    doc: &Document<'_>,
    catalog: &Dict,
    mut visit: impl FnMut(&Page) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let root = catalog
        .get(b"Pages")
        .and_then(Object::as_ref)
        .ok_or_else(|| Error::structure("the catalog has no /Pages reference"))?;
    let mut visited = HashSet::new();
    let mut number: u32 = 0;
    let mut stack = vec![(root, 0usize, Rc::new(Inherited::default()))];
    while let Some((r, depth, inherited)) = stack.pop() {
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
        let node = doc.resolve_dict(&Object::Reference(r), "a page tree node")?;
        let here = Inherited::below(&inherited, &node);
        let is_pages = node.has_type(b"Pages") || (depth == 0 && node.get(b"Kids").is_some());
        if !is_pages {
            number = number.saturating_add(1);
            let page = Page {
                number,
                r,
                resources: here.resources.clone(),
                geometry: PageBox::from_entries(
                    deref_soft(doc, here.media.as_ref())?.as_ref(),
                    deref_soft(doc, here.crop.as_ref())?.as_ref(),
                    deref_soft(doc, here.rotate.as_ref())?.as_ref(),
                ),
                dict: node,
            };
            if let Some(found) = visit(&page)? {
                return Ok(Some(found));
            }
            continue;
        }
        let kids = match node.get(b"Kids").map(|k| doc.deref(k)).transpose()? {
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
            stack.push((kr, depth + 1, here.clone()));
        }
    }
    Ok(None)
}

/// Resolve an attribute written as a reference (a `/MediaBox 5 0 R`); unreadable is absent.
fn deref_soft(doc: &Document<'_>, o: Option<&Object>) -> Result<Option<Object>> {
    match o {
        Some(o) => super::soft(doc.deref(o)),
        None => Ok(None),
    }
}

/// Page `n` (1-based).
///
/// # Errors
/// As [`each_page`]; [`StructureError::NoSuchPage`] when the document has fewer pages.
pub(super) fn page(doc: &Document<'_>, catalog: &Dict, n: u32) -> Result<Page> {
    let mut count = 0;
    let found = each_page(doc, catalog, |p| {
        count = p.number;
        Ok((p.number == n).then(|| p.clone()))
    })?;
    found.ok_or(Error::Structure(StructureError::NoSuchPage {
        requested: n,
        count,
    }))
}
