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
mod tests {
    use super::*;

    /// A PDF of `objects` (numbered as given), catalog 1, page 3.
    fn pdf(objects: &[(u32, String)]) -> Vec<u8> {
        let size = objects.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = vec![None; size as usize];
        for (n, body) in objects {
            offsets[*n as usize] = Some(out.len());
            out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {size}\n").as_bytes());
        for o in &offsets {
            match o {
                Some(o) => out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes()),
                None => out.extend_from_slice(b"0000000000 65535 f \n"),
            }
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        out
    }

    /// A tagged document whose structure root (4) has `root` for its entries after the type.
    fn tagged(root: &str, more: &[(u32, &str)]) -> Vec<u8> {
        let mut objects = vec![
            (
                1,
                "<< /Type /Catalog /Pages 2 0 R /StructTreeRoot 4 0 R /MarkInfo << /Marked true >> >>"
                    .to_string(),
            ),
            (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into()),
            (3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".into()),
            (4, format!("<< /Type /StructTreeRoot {root} >>")),
        ];
        objects.extend(more.iter().map(|(n, b)| (*n, (*b).to_string())));
        pdf(&objects)
    }

    /// Tag a widget on `input`: the key, the widget's and the form element's references and
    /// the updated file.
    fn tag(input: &[u8]) -> Result<(Option<i64>, ObjRef, Vec<u8>)> {
        let doc = Document::open(input)?;
        let catalog = doc.resolve_dict(&Object::Reference(ObjRef::new(1, 0)), "catalog")?;
        let mut update = Update::new(&doc);
        let widget = update.allocate();
        let key = tag_widget(
            &mut update,
            &doc,
            &catalog,
            widget,
            ObjRef::new(3, 0),
            "Segel elektronik",
        )?;
        let tail = update.finish([1; 16])?;
        let mut out = input.to_vec();
        out.extend_from_slice(&tail.bytes);
        Ok((key, widget, out))
    }

    fn get(doc: &Document<'_>, n: u32) -> Object {
        doc.resolve(ObjRef::new(n, 0)).expect("reads")
    }

    /// The form element that `key` maps to in a flat `/Nums`, checked against `widget`.
    fn form_of(doc: &Document<'_>, nums: &[Object], key: i64, widget: ObjRef) -> Dict {
        let at = nums
            .chunks(2)
            .find(|p| p[0].as_i64() == Some(key))
            .and_then(|p| p[1].as_ref())
            .expect("the key is in the parent tree");
        let form = doc
            .resolve_dict(&Object::Reference(at), "form")
            .expect("form");
        assert_eq!(form.get(b"S").and_then(Object::as_name), Some(&b"Form"[..]));
        let objr = form.get(b"K").and_then(Object::as_dict).expect("objr");
        assert_eq!(objr.get(b"Obj").and_then(Object::as_ref), Some(widget));
        assert_eq!(
            form.get(b"Alt").and_then(Object::as_string),
            Some(&b"Segel elektronik"[..])
        );
        form
    }

    #[test]
    fn an_untagged_document_is_left_alone() {
        let input = pdf(&[
            (1, "<< /Type /Catalog /Pages 2 0 R >>".into()),
            (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into()),
            (3, "<< /Type /Page /Parent 2 0 R >>".into()),
        ]);
        let (key, _, out) = tag(&input).expect("tags");
        assert_eq!(key, None);
        let doc = Document::open(&out).expect("opens");
        assert_eq!(doc.sections()[0].objects.len(), 0, "nothing written");
    }

    #[test]
    fn the_seal_joins_the_document_element_and_the_parent_tree() {
        let input = tagged(
            "/K 5 0 R /ParentTree 6 0 R /ParentTreeNextKey 3",
            &[
                (
                    5,
                    "<< /Type /StructElem /S /Document /P 4 0 R /K [7 0 R] >>",
                ),
                (6, "<< /Nums [0 [7 0 R] 1 7 0 R] >>"),
                (7, "<< /Type /StructElem /S /P /P 5 0 R /K 0 /Pg 3 0 R >>"),
            ],
        );
        let (key, widget, out) = tag(&input).expect("tags");
        assert_eq!(key, Some(3));
        let doc = Document::open(&out).expect("opens");
        let mut rewritten = doc.sections()[0].objects.clone();
        rewritten.retain(|&n| n <= 7);
        rewritten.sort_unstable();
        assert_eq!(
            rewritten,
            vec![4, 5, 6],
            "root, document element, parent tree"
        );
        let root = get(&doc, 4);
        let root = root.as_dict().expect("root");
        assert_eq!(root.get(b"ParentTreeNextKey"), Some(&Object::Integer(4)));
        let nums = get(&doc, 6).as_dict().expect("node").clone();
        let nums = nums.get(b"Nums").and_then(Object::as_array).expect("nums");
        assert_eq!(nums.len(), 6);
        let form = form_of(&doc, nums, 3, widget);
        assert_eq!(
            form.get(b"P").and_then(Object::as_ref),
            Some(ObjRef::new(5, 0))
        );
        let element = get(&doc, 5);
        let kids = element.as_dict().and_then(|d| d.get(b"K")).expect("kids");
        assert_eq!(kids.as_array().map(<[Object]>::len), Some(2));
    }

    #[test]
    fn a_parent_tree_with_kids_gets_a_new_leaf_and_a_stale_next_key_is_raised() {
        let input = tagged(
            "/K [5 0 R 8 0 R] /ParentTree 6 0 R /ParentTreeNextKey 2",
            &[
                (5, "<< /Type /StructElem /S /P /P 4 0 R /K 0 /Pg 3 0 R >>"),
                (6, "<< /Kids [9 0 R] >>"),
                (8, "<< /Type /StructElem /S /P /P 4 0 R /K 1 /Pg 3 0 R >>"),
                (9, "<< /Limits [0 10] /Nums [0 [5 0 R 8 0 R] 10 5 0 R] >>"),
            ],
        );
        let (key, widget, out) = tag(&input).expect("tags");
        assert_eq!(
            key,
            Some(11),
            "one past the largest key, not the stale next key"
        );
        let doc = Document::open(&out).expect("opens");
        let node = get(&doc, 6);
        let kids = node
            .as_dict()
            .and_then(|d| d.get(b"Kids"))
            .and_then(Object::as_array)
            .expect("kids");
        let leaf = doc.resolve_dict(&kids[1], "leaf").expect("a new leaf");
        assert_eq!(
            leaf.get(b"Limits"),
            Some(&Object::Array(vec![
                Object::Integer(11),
                Object::Integer(11)
            ]))
        );
        let nums = leaf.get(b"Nums").and_then(Object::as_array).expect("nums");
        let form = form_of(&doc, nums, 11, widget);
        // Two top-level elements: the seal joins the root.
        assert_eq!(
            form.get(b"P").and_then(Object::as_ref),
            Some(ObjRef::new(4, 0))
        );
        let root = get(&doc, 4);
        let k = root.as_dict().and_then(|d| d.get(b"K")).expect("K");
        assert_eq!(k.as_array().map(<[Object]>::len), Some(3));
    }

    #[test]
    fn indirect_arrays_are_rewritten_in_place_and_a_missing_tree_is_made() {
        let input = tagged(
            "/K 5 0 R",
            &[
                (5, "<< /Type /StructElem /S /Document /P 4 0 R /K 6 0 R >>"),
                (6, "[7 0 R]"),
                (7, "<< /Type /StructElem /S /P /P 5 0 R /K 0 /Pg 3 0 R >>"),
            ],
        );
        let (key, widget, out) = tag(&input).expect("tags");
        assert_eq!(key, Some(0));
        let doc = Document::open(&out).expect("opens");
        let mut rewritten = doc.sections()[0].objects.clone();
        rewritten.retain(|&n| n <= 7);
        rewritten.sort_unstable();
        assert_eq!(
            rewritten,
            vec![4, 6],
            "the root and the element's kids array"
        );
        assert_eq!(get(&doc, 6).as_array().map(<[Object]>::len), Some(2));
        let root = get(&doc, 4);
        let tree = root
            .as_dict()
            .and_then(|d| d.get(b"ParentTree"))
            .expect("a parent tree");
        let tree = doc.resolve_dict(tree, "tree").expect("tree");
        let nums = tree.get(b"Nums").and_then(Object::as_array).expect("nums");
        form_of(&doc, nums, 0, widget);
    }

    #[test]
    fn a_single_kid_dictionary_becomes_an_array() {
        let input = tagged(
            "/K 5 0 R /ParentTree << /Nums [] >>",
            &[(
                5,
                "<< /Type /StructElem /S /Document /K << /Type /MCR /Pg 3 0 R /MCID 0 >> >>",
            )],
        );
        let (key, _, out) = tag(&input).expect("tags");
        assert_eq!(key, Some(0));
        let doc = Document::open(&out).expect("opens");
        let element = get(&doc, 5);
        let k = element.as_dict().and_then(|d| d.get(b"K")).expect("K");
        let k = k.as_array().expect("an array now");
        assert!(matches!(k[0], Object::Dict(_)) && k[1].as_ref().is_some());
    }

    #[test]
    fn hostile_trees_are_refused() {
        let refused = |root: &str, more: &[(u32, &str)], needle: &str| {
            let err = tag(&tagged(root, more)).expect_err(needle).to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        };
        // A cycle in the parent tree.
        refused(
            "/ParentTree 6 0 R",
            &[(6, "<< /Kids [7 0 R] >>"), (7, "<< /Kids [6 0 R] >>")],
            "cycle",
        );
        // A parent tree 100 levels deep.
        let chain: Vec<(u32, String)> = (10..110)
            .map(|n| (n, format!("<< /Kids [{} 0 R] >>", n + 1)))
            .chain([(110, "<< /Nums [0 4 0 R] >>".to_string())])
            .collect();
        let chain: Vec<(u32, &str)> = chain.iter().map(|(n, s)| (*n, s.as_str())).collect();
        refused("/ParentTree 10 0 R", &chain, "deeper");
        // A key that cannot be followed by another.
        refused(
            "/ParentTree << /Nums [9223372036854775807 4 0 R] >>",
            &[],
            "overflows",
        );
        refused("/ParentTreeNextKey 9223372036854775807", &[], "overflows");
        // One object playing the element's kids array and the parent tree's /Nums.
        refused(
            "/K 5 0 R /ParentTree << /Nums 6 0 R >>",
            &[
                (5, "<< /Type /StructElem /S /Document /K 6 0 R >>"),
                (6, "[]"),
            ],
            "two parts",
        );
        refused("/ParentTree 6 0 R", &[(6, "(text)")], "node is a string");
        refused("/K (text)", &[], "/K is a string");
        // A structure tree root held in the catalog itself.
        let direct = pdf(&[
            (
                1,
                "<< /Type /Catalog /Pages 2 0 R /StructTreeRoot << /K [] >> >>".into(),
            ),
            (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into()),
            (3, "<< /Type /Page /Parent 2 0 R >>".into()),
        ]);
        let err = tag(&direct).expect_err("direct root").to_string();
        assert!(err.contains("directly in the catalog"), "{err}");
    }

    /// A signer's seal on `data`: a visible signature field `field` on page 3 tagged by
    /// [`tag_widget`], listed by the page and the form, in a revision of its own.
    fn with_tagged_seal(data: &[u8], field: &str) -> Vec<u8> {
        let doc = Document::open(data).expect("opens");
        let catalog = doc
            .resolve_dict(&Object::Reference(ObjRef::new(1, 0)), "catalog")
            .expect("catalog");
        let mut update = Update::new(&doc);
        let widget = update.allocate();
        let page = ObjRef::new(3, 0);
        let key = tag_widget(&mut update, &doc, &catalog, widget, page, field)
            .expect("tags")
            .expect("tagged");
        let mut w = Dict::new();
        w.set(b"Type", Object::Name(b"Annot".to_vec()));
        w.set(b"Subtype", Object::Name(b"Widget".to_vec()));
        w.set(b"FT", Object::Name(b"Sig".to_vec()));
        w.set(b"T", Object::String(field.as_bytes().to_vec()));
        w.set(b"P", Object::Reference(page));
        w.set(b"StructParent", Object::Integer(key));
        w.set(
            b"Rect",
            Object::Array([300, 100, 500, 210].map(Object::Integer).to_vec()),
        );
        update.put_object(widget, &Object::Dict(w));
        let add = |d: &mut Dict, key: &[u8]| {
            let mut a = d
                .get(key)
                .and_then(Object::as_array)
                .map(<[Object]>::to_vec)
                .unwrap_or_default();
            a.push(Object::Reference(widget));
            d.set(key, Object::Array(a));
        };
        let mut p = doc
            .resolve_dict(&Object::Reference(page), "page")
            .expect("page");
        add(&mut p, b"Annots");
        update.put_object(page, &Object::Dict(p));
        match catalog.get(b"AcroForm") {
            Some(Object::Reference(f)) => {
                let mut form = doc
                    .resolve_dict(&Object::Reference(*f), "form")
                    .expect("form");
                add(&mut form, b"Fields");
                update.put_object(*f, &Object::Dict(form));
            }
            _ => {
                let mut c = catalog.clone();
                let mut form = c
                    .get(b"AcroForm")
                    .and_then(Object::as_dict)
                    .cloned()
                    .unwrap_or_default();
                add(&mut form, b"Fields");
                c.set(b"AcroForm", Object::Dict(form));
                update.put_object(ObjRef::new(1, 0), &Object::Dict(c));
            }
        }
        let tail = update.finish([3; 16]).expect("update");
        let mut out = data.to_vec();
        out.extend_from_slice(&tail.bytes);
        out
    }

    #[test]
    fn what_the_signer_adds_to_the_structure_tree_keeps_earlier_signatures_valid() {
        use crate::time::UnixTime;
        let key =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2030, 1, 1);
        let cert = params.self_signed(&key).expect("cert");
        let signer = crate::RsaKeySigner::from_der(
            &key.serialize_der(),
            crate::SignatureAlgorithm::RsaPkcs1Sha256,
        )
        .expect("signer");
        let identity = crate::SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
        let now = UnixTime(1_795_942_800);
        let sign = |data: &[u8], field: &str| {
            let mut req = crate::SignatureRequest::new(now);
            req.field = Some(field.into());
            crate::sign(data, &req, &signer, &identity)
                .expect("signs")
                .to_vec()
        };
        let verified = |data: &[u8]| {
            crate::verify(
                data,
                &crate::VerifyOptions {
                    trust_anchors: vec![cert.der().to_vec()],
                    time: now,
                },
            )
            .expect("reads")
        };
        for tree in [
            "/K 5 0 R /ParentTree 6 0 R /ParentTreeNextKey 1",
            "/K [5 0 R 7 0 R] /ParentTree 6 0 R",
            "/K 5 0 R /ParentTree 8 0 R /ParentTreeNextKey 1",
            "/K 5 0 R",
        ] {
            let input = tagged(
                tree,
                &[
                    (5, "<< /Type /StructElem /S /Document /P 4 0 R /K 9 0 R >>"),
                    (6, "<< /Nums [0 [7 0 R]] >>"),
                    (7, "<< /Type /StructElem /S /P /P 5 0 R /K 0 /Pg 3 0 R >>"),
                    (8, "<< /Kids [10 0 R] >>"),
                    (9, "[7 0 R]"),
                    (10, "<< /Limits [0 0] /Nums [0 [7 0 R]] >>"),
                ],
            );
            let reviewed = sign(&input, "Paraf");
            let sealed = sign(&with_tagged_seal(&reviewed, "Segel"), "Segel");
            let report = verified(&sealed);
            assert!(report.all_passed(), "{tree}: {report:#?}");
            let named = report.signatures[0]
                .changes
                .iter()
                .filter(|c| c.what.contains("joined the structure tree"))
                .count();
            assert!(named >= 2, "{tree}: {:#?}", report.signatures[0].changes);
            // A second seal is tagged after the first, and both earlier signatures stay valid.
            let twice = sign(&with_tagged_seal(&sealed, "Segel2"), "Segel2");
            let report = verified(&twice);
            assert!(report.all_passed(), "{tree}, twice: {report:#?}");
        }
    }

    #[test]
    fn a_negative_next_key_starts_at_zero() {
        let (key, _, _) = tag(&tagged("/ParentTreeNextKey -5", &[])).expect("tags");
        assert_eq!(key, Some(0));
    }
}
