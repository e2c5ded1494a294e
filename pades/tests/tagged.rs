//! Visible seals on a tagged letter (PDF/UA): the seal's widget joins the structure tree (a
//! `/Form` element under the document element, its key in the parent tree, the next key
//! raised), and the earlier signatures accept exactly those additions. Anything else done to
//! the structure tree in a seal's revision is a content change: elements that are not the new
//! widget's, object references to existing annotations, replaced or reused keys, wrong
//! `/StructParent` or `/Limits`, other keys of the root, changed existing elements.

mod common;
#[path = "several_signers/letter.rs"]
mod letter;

use letter::*;
use pades::pdf::{Dict, ObjRef, Object};
use pades::verify::ChangeLevel;
use pades::Indication;

use common::Seal;

fn seal() -> Seal {
    common::seal("Sekretariat Jenderal")
}

/// How the structure tree is extended for the seal.
#[derive(Clone, Copy)]
struct Tagging {
    /// The parent tree key.
    key: i64,
    /// The widget's `/StructParent` (normally `key`).
    struct_parent: i64,
    /// The element's `/S`.
    role: &'static str,
    /// What the element's object reference points at (`None`: the new widget).
    object: Option<ObjRef>,
}

const TAGGED: Tagging = Tagging {
    key: 2,
    struct_parent: 2,
    role: "Form",
    object: None,
};

/// A new structure element for widget `w` under the document element (21), mapped from
/// `t.key` in the parent tree: as a signer of a tagged document does, into a root node's
/// `/Nums` (`leaf` None) or as a new leaf with `/Limits` `leaf` under its `/Kids`.
fn tag(rev: &mut Revision<'_, '_, '_>, w: ObjRef, t: Tagging, leaf: Option<[i64; 2]>) -> ObjRef {
    let e = rev.u.allocate();
    let mut objr = Dict::new();
    objr.set(b"Type", name("OBJR"));
    objr.set(b"Obj", Object::Reference(t.object.unwrap_or(w)));
    objr.set(b"Pg", Object::Reference(PAGE));
    let mut d = Dict::new();
    d.set(b"Type", name("StructElem"));
    d.set(b"S", name(t.role));
    d.set(b"P", Object::Reference(r(21)));
    d.set(b"Pg", Object::Reference(PAGE));
    d.set(b"K", Object::Dict(objr));
    d.set(
        b"Alt",
        Object::String(b"Segel elektronik Sekretaris Jenderal".to_vec()),
    );
    rev.u.put_object(e, &Object::Dict(d));
    rev.edit(21, |d| Revision::push(d, b"K", Object::Reference(e)));
    let pair = [Object::Integer(t.key), Object::Reference(e)];
    match leaf {
        None => rev.edit(22, |d| {
            for p in pair {
                Revision::push(d, b"Nums", p);
            }
        }),
        Some(limits) => {
            let l = rev.u.allocate();
            let mut node = Dict::new();
            node.set(
                b"Limits",
                Object::Array(limits.map(Object::Integer).to_vec()),
            );
            node.set(b"Nums", Object::Array(pair.to_vec()));
            rev.u.put_object(l, &Object::Dict(node));
            rev.edit(22, |d| Revision::push(d, b"Kids", Object::Reference(l)));
        }
    }
    rev.edit(20, |d| {
        d.set(b"ParentTreeNextKey", Object::Integer(t.key + 1));
    });
    e
}

/// The seal `field` added with the tagging `t` (and `more` done in the same revision), then
/// signed.
fn tagged_seal(
    seal: &Seal,
    data: &[u8],
    field: &str,
    t: Tagging,
    more: impl FnOnce(&mut Revision<'_, '_, '_>, ObjRef),
) -> Vec<u8> {
    let with_field = revise(data, |rev| {
        let w = rev.add_seal(field, [350, 100, 550, 210], |d| {
            d.set(b"StructParent", Object::Integer(t.struct_parent));
        });
        tag(rev, w, t, None);
        more(rev, w);
    });
    signed(seal, &with_field, field, None)
}

fn reviewed(seal: &Seal) -> Vec<u8> {
    signed(seal, &letter(true), "Paraf", None)
}

fn refused(seal: &Seal, what: &str, data: &[u8], needle: &str) {
    let r = report(seal, data);
    let s = &r.signatures[0];
    assert_ne!(s.indication, Indication::TotalPassed, "{what}: {s:#?}");
    assert!(
        s.changes
            .iter()
            .any(|c| c.level == ChangeLevel::Content && c.what.contains(needle)),
        "{what}: no content change saying {needle:?}: {:#?}",
        s.changes
    );
}

#[test]
fn a_tagged_seal_after_initials_passes() {
    let seal = seal();
    let data = tagged_seal(&seal, &reviewed(&seal), "Segel", TAGGED, |_, _| {});
    let r = report(&seal, &data);
    assert!(r.all_passed(), "{r:#?}");
    let tree: Vec<_> = r.signatures[0]
        .changes
        .iter()
        .filter(|c| c.what.contains("joined the structure tree"))
        .collect();
    assert_eq!(
        tree.len(),
        3,
        "root, document element, parent tree: {tree:#?}"
    );
    assert!(tree.iter().all(|c| c.level == ChangeLevel::Signatures));
    // A second seal: its key must be above the first one's.
    let again = tagged_seal(
        &seal,
        &data,
        "Segel2",
        Tagging {
            key: 3,
            struct_parent: 3,
            ..TAGGED
        },
        |_, _| {},
    );
    let r = report(&seal, &again);
    assert!(r.all_passed(), "{r:#?}");
}

#[test]
fn a_tagged_seal_in_a_new_parent_tree_leaf_passes_with_right_limits_only() {
    let seal = seal();
    let base = signed(&seal, &letter_with_tree_kids(), "Paraf", None);
    let with = |limits: [i64; 2]| {
        let with_field = revise(&base, |rev| {
            let w = rev.add_seal("Segel", [350, 100, 550, 210], |d| {
                d.set(b"StructParent", Object::Integer(2));
            });
            tag(rev, w, TAGGED, Some(limits));
        });
        signed(&seal, &with_field, "Segel", None)
    };
    let r = report(&seal, &with([2, 2]));
    assert!(r.all_passed(), "{r:#?}");
    // Limits that cover the older keys would send a lookup of key 0 to the new leaf.
    refused(&seal, "wide limits", &with([0, 2]), "wrong /Limits");
}

#[test]
fn the_element_must_be_a_form_for_the_new_signature_widget() {
    let seal = seal();
    let base = reviewed(&seal);
    let paragraph = Tagging {
        role: "P",
        ..TAGGED
    };
    refused(
        &seal,
        "a paragraph",
        &tagged_seal(&seal, &base, "Segel", paragraph, |_, _| {}),
        "not a /Form structure element",
    );
    let existing = Tagging {
        object: Some(r(6)),
        ..TAGGED
    };
    refused(
        &seal,
        "an existing widget",
        &tagged_seal(&seal, &base, "Segel", existing, |_, _| {}),
        "not a new signature widget",
    );
    // A form element for an empty (unsigned) signature field added alongside.
    let empty = revise(&base, |rev| {
        let w = rev.add_seal("Segel", [350, 100, 550, 210], |d| {
            d.set(b"StructParent", Object::Integer(2));
        });
        tag(rev, w, TAGGED, None);
        let e = rev.u.allocate();
        rev.u.put(
            e,
            b"<< /FT /Sig /T (Kosong) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 4 0 R >>"
                .to_vec(),
        );
        rev.add_annot(e);
        rev.add_field(e);
        let t = Tagging {
            key: 3,
            struct_parent: 3,
            object: Some(e),
            ..TAGGED
        };
        tag(rev, e, t, None);
    });
    let empty = signed(&seal, &empty, "Segel", None);
    refused(
        &seal,
        "an empty field",
        &empty,
        "not a new signature widget",
    );
}

#[test]
fn parent_tree_keys_must_be_new_and_match_the_widget() {
    let seal = seal();
    let base = reviewed(&seal);
    let reused = Tagging {
        key: 1,
        struct_parent: 1,
        ..TAGGED
    };
    refused(
        &seal,
        "reused key",
        &tagged_seal(&seal, &base, "Segel", reused, |_, _| {}),
        "not above the keys in use",
    );
    let mismatch = Tagging {
        struct_parent: 7,
        ..TAGGED
    };
    refused(
        &seal,
        "other /StructParent",
        &tagged_seal(&seal, &base, "Segel", mismatch, |_, _| {}),
        "/StructParent differs",
    );
    let replaced = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        // Key 1 (the text field's element) re-pointed at the paragraph.
        rev.u
            .put(r(22), b"<< /Nums [0 [23 0 R] 1 23 0 R] >>".to_vec());
    });
    refused(
        &seal,
        "replaced entry",
        &replaced,
        "existing entries removed or reordered",
    );
    let lowered = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        rev.edit(20, |d| d.set(b"ParentTreeNextKey", Object::Integer(1)));
    });
    refused(&seal, "lowered next key", &lowered, "went down");
}

#[test]
fn other_structure_changes_are_content() {
    let seal = seal();
    let base = reviewed(&seal);
    let role_map = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        rev.edit(20, |d| {
            d.set(b"ParentTreeNextKey", Object::Integer(3));
            let mut m = Dict::new();
            m.set(b"Surat", name("P"));
            d.set(b"RoleMap", Object::Dict(m));
        });
    });
    refused(&seal, "role map", &role_map, "/RoleMap changed");
    let alt = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        rev.edit(24, |d| {
            d.set(b"Alt", Object::String(b"Nomor palsu".to_vec()))
        });
    });
    refused(&seal, "an existing element's /Alt", &alt, "object 24");
    let reordered = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        rev.edit(21, |d| {
            let mut k = d.get(b"K").and_then(Object::as_array).expect("K").to_vec();
            k.swap(0, 1);
            d.set(b"K", Object::Array(k));
        });
    });
    refused(
        &seal,
        "reordered kids",
        &reordered,
        "existing entries removed or reordered",
    );
    // The paragraph's content marked as something else under the new element.
    let stolen = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        let e = rev.u.allocate();
        rev.u.put(
            e,
            b"<< /Type /StructElem /S /Form /P 21 0 R /Pg 4 0 R /K 0 >>".to_vec(),
        );
        rev.edit(21, |d| Revision::push(d, b"K", Object::Reference(e)));
    });
    refused(
        &seal,
        "marked content claimed",
        &stolen,
        "does not hold one object reference",
    );
}

#[test]
fn tab_order_may_be_set_with_the_first_widget_of_a_page_only() {
    let seal = seal();
    // A tagged letter whose page has no /Tabs yet.
    let base = revise(&letter(true), |rev| {
        rev.page.remove(b"Tabs");
    });
    let base = signed(&seal, &base, "Paraf", None);
    let with_tabs = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        rev.page.set(b"Tabs", name("S"));
    });
    let r = report(&seal, &with_tabs);
    assert!(r.all_passed(), "{r:#?}");
    // Another order, or /Tabs without a new annotation, is a change of the page.
    let rows = tagged_seal(&seal, &base, "Segel", TAGGED, |rev, _| {
        rev.page.set(b"Tabs", name("R"));
    });
    refused(&seal, "row order", &rows, "/Tabs changed");
    let alone = revise(&base, |rev| {
        rev.page.set(b"Tabs", name("S"));
    });
    refused(&seal, "/Tabs alone", &alone, "/Tabs changed");
}

#[test]
fn hostile_parent_trees_are_examined_within_limits() {
    let seal = seal();
    // `nodes` replaces the parent tree's root node 22; then a seal adds a new leaf under it.
    let sealed_on = |nodes: &dyn Fn(&mut Revision<'_, '_, '_>)| {
        let base = revise(&letter(true), |rev| nodes(rev));
        let base = signed(&seal, &base, "Paraf", None);
        let with_field = revise(&base, |rev| {
            let w = rev.add_seal("Segel", [350, 100, 550, 210], |d| {
                d.set(b"StructParent", Object::Integer(2));
            });
            tag(rev, w, TAGGED, Some([2, 2]));
        });
        signed(&seal, &with_field, "Segel", None)
    };
    // 100 levels of /Kids above the keys: deeper than the verifier walks, so the new leaf
    // cannot be shown to hold new keys.
    let deep = sealed_on(&|rev| {
        let leaf = rev.u.allocate();
        rev.u.put(
            leaf,
            b"<< /Limits [0 1] /Nums [0 [23 0 R] 1 24 0 R] >>".to_vec(),
        );
        let mut below = leaf;
        for _ in 0..100 {
            let n = rev.u.allocate();
            rev.u.put(
                n,
                format!("<< /Limits [0 1] /Kids [{below}] >>").into_bytes(),
            );
            below = n;
        }
        rev.u
            .put(r(22), format!("<< /Kids [{below}] >>").into_bytes());
    });
    refused(&seal, "deep parent tree", &deep, "larger than examined");
    // A cycle of /Kids: walked once, and the seal's new key is still checked.
    let cyclic = sealed_on(&|rev| {
        let a = rev.u.allocate();
        let leaf = rev.u.allocate();
        rev.u.put(
            leaf,
            b"<< /Limits [0 1] /Nums [0 [23 0 R] 1 24 0 R] >>".to_vec(),
        );
        rev.u.put(
            a,
            format!("<< /Limits [0 1] /Kids [22 0 R {leaf}] >>").into_bytes(),
        );
        rev.u.put(r(22), format!("<< /Kids [{a}] >>").into_bytes());
    });
    let r = report(&seal, &cyclic);
    assert!(r.all_passed(), "{r:#?}");
}
