//! Later signatures, certifications and field locks.

use super::*;

#[test]
fn signatures_in_any_field_order_compare_each_revision_once() {
    // Eight signatures, then the form's /Fields reversed (the last signature is asked about
    // first): the revisions are compared once, not once per signature.
    let seal = seal();
    let mut pdf = form_pdf();
    for i in 0..8 {
        pdf = signed(&seal, &pdf, &format!("S{i}"));
    }
    let reversed = append(&pdf, |doc, u| {
        edit_dict(doc, u, 3, |d| {
            let mut f = d
                .get(b"Fields")
                .and_then(Object::as_array)
                .expect("fields")
                .to_vec();
            f.reverse();
            d.set(b"Fields", Object::Array(f));
        });
    });
    let objects = |data: &[u8]| {
        let before = pades::fuzzing::work().objects;
        let r = report(&seal, data);
        (r, pades::fuzzing::work().objects - before)
    };
    let (r, in_order) = objects(&pdf);
    assert!(r.all_passed(), "{r:#?}");
    let (r, any_order) = objects(&reversed);
    assert!(!r.all_passed(), "the reordering itself is a form change");
    assert!(
        any_order < 2 * in_order,
        "{any_order} objects read in reverse order, {in_order} in order"
    );
}

#[test]
fn field_locks_cover_form_wide_changes_and_renamed_fields() {
    let seal = seal();
    // P=2 with `amount` locked: a form-wide redraw (/DR, /NeedAppearances) touches it.
    let p2 = certified(&seal, "Locked", 2);
    assert_passes(&seal, "certified with a lock", &p2);
    let redrawn = append(&p2, |doc, u| {
        edit_dict(doc, u, 3, |f| {
            f.set(b"NeedAppearances", Object::Bool(true));
            let mut dr = Dict::new();
            dr.set(b"Font", Object::Dict(Dict::new()));
            f.set(b"DR", Object::Dict(dr));
        });
    });
    assert_locked(&seal, "/DR under a lock", &redrawn, "fields are locked");
    // P=3 with the same lock: renaming `amount` does not free it.
    let p3 = certified(&seal, "Locked", 3);
    let renamed = append(&p3, |doc, u| {
        let ap = new_appearance(u, "900.000");
        edit_dict(doc, u, 5, |d| {
            d.set(b"T", Object::String(b"amount ".to_vec()));
            d.set(b"V", Object::String(b"900.000".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_locked(
        &seal,
        "renamed locked field",
        &renamed,
        "field amount is locked",
    );
}
