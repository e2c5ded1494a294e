//! Filling the form: what counts as filling an empty field (allowed after an approval
//! signature) and what only looks like it (appearance and state swaps, values on widgets or
//! annotations).

use super::*;

#[test]
fn the_signed_form_passes_as_signed() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    assert_passes(&seal, "as signed", &pdf);
}

#[test]
fn appearance_swap_is_not_form_filling() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // The filled amount keeps /V (100.000) but shows 900.000.
    let swapped = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "900.000");
        edit_dict(doc, u, 5, |d| d.set(b"AP", ap));
    });
    assert_refused(
        &seal,
        "/AP of a filled field",
        &swapped,
        ChangeLevel::Annotations,
        "appearance (/AP) of field amount (object 5)",
    );
    // The same through the appearance stream object itself.
    let restreamed = append(&pdf, |_, u| {
        u.put(
            ObjRef::new(16, 0),
            stream("BT /F1 10 Tf 2 5 Td (900.000) Tj ET").into_bytes(),
        );
    });
    assert_refused(
        &seal,
        "appearance stream",
        &restreamed,
        ChangeLevel::Annotations,
        "object 16",
    );
    // An empty field's appearance painted without a value.
    let painted = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "disetujui");
        edit_dict(doc, u, 6, |d| d.set(b"AP", ap));
    });
    assert_refused(
        &seal,
        "/AP of an empty field without a value",
        &painted,
        ChangeLevel::Annotations,
        "field note",
    );
    // The widget's appearance characteristics.
    let mk = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| {
            let mut mk = Dict::new();
            mk.set(b"CA", Object::String(b"8".to_vec()));
            d.set(b"MK", Object::Dict(mk));
        });
    });
    assert_refused(&seal, "/MK", &mk, ChangeLevel::Annotations, "/MK changed");
}

#[test]
fn check_box_and_radio_state_swaps_are_not_form_filling() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let ticked = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| d.set(b"AS", name("Yes")))
    });
    assert_refused(
        &seal,
        "check box /AS without /V",
        &ticked,
        ChangeLevel::Annotations,
        "appearance (/AS) of field agree",
    );
    let unticked = append(&pdf, |doc, u| {
        edit_dict(doc, u, 12, |d| d.set(b"AS", name("Off")))
    });
    assert_refused(
        &seal,
        "a ticked box shown empty",
        &unticked,
        ChangeLevel::Annotations,
        "appearance (/AS) of field checked",
    );
    let moved = append(&pdf, |doc, u| {
        edit_dict(doc, u, 10, |d| d.set(b"AS", name("Off")));
        edit_dict(doc, u, 11, |d| d.set(b"AS", name("B")));
    });
    assert_refused(
        &seal,
        "radio /AS without the group's /V",
        &moved,
        ChangeLevel::Annotations,
        "appearance (/AS) of field choice",
    );
    // A value that says one thing and a state that shows another, filled in one revision.
    let mismatched = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| {
            d.set(b"V", name("Yes"));
            d.set(b"AS", name("Maybe"));
        });
    });
    assert_refused(
        &seal,
        "state other than the value",
        &mismatched,
        ChangeLevel::Annotations,
        "shows the state /Maybe but its value is /Yes",
    );
    // Changing the group's value with its states is a form change, not form filling.
    let rechosen = append(&pdf, |doc, u| {
        edit_dict(doc, u, 9, |d| d.set(b"V", name("B")));
        edit_dict(doc, u, 10, |d| d.set(b"AS", name("Off")));
        edit_dict(doc, u, 11, |d| d.set(b"AS", name("B")));
    });
    assert_refused(
        &seal,
        "radio value changed",
        &rechosen,
        ChangeLevel::FormChanges,
        "form field choice changed its value",
    );
}

#[test]
fn benign_changes_after_an_approval_signature_pass() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // Filling the empty text field, value and new appearance.
    let filled = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "lengkap");
        edit_dict(doc, u, 6, |d| {
            d.set(b"V", Object::String(b"lengkap".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_passes(&seal, "text field filled", &filled);
    let r = report(&seal, &filled);
    assert_eq!(
        r.signatures[0].changes.iter().map(|c| c.level).max(),
        Some(ChangeLevel::FormFilling),
        "{r:#?}"
    );
    // Ticking the empty check box: value and state together.
    let ticked = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| {
            d.set(b"V", name("Yes"));
            d.set(b"AS", name("Yes"));
        });
    });
    assert_passes(&seal, "check box ticked", &ticked);
    // A later signature, then validation data.
    let twice = signed(&seal, &filled, "Second");
    assert_passes(&seal, "a later signature", &twice);
    let with_dss = append(&twice, |doc, u| {
        let dss = u.allocate();
        u.put(dss, b"<< /Type /DSS /Certs [] >>".to_vec());
        edit_dict(doc, u, 1, |d| d.set(b"DSS", Object::Reference(dss)));
    });
    assert_passes(&seal, "DSS added", &with_dss);
}

#[test]
fn a_value_on_a_kid_widget_or_an_annotation_is_not_a_fill() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // The kid widget of the filled `total` gets a value of its own and shows 900.000.
    let kid = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "900.000");
        edit_dict(doc, u, 21, |d| {
            d.set(b"V", Object::String(b"x".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_refused(
        &seal,
        "kid widget /V",
        &kid,
        ChangeLevel::Annotations,
        "object 21",
    );
    // A markup annotation has an author in /T, which does not make it a field.
    let markup = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "DITOLAK");
        edit_dict(doc, u, 23, |d| {
            d.set(b"V", Object::String(b"DITOLAK".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_refused(
        &seal,
        "annotation /V",
        &markup,
        ChangeLevel::Annotations,
        "annotation object 23",
    );
}

#[test]
fn annotations_listed_among_fields_are_not_filled() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let out = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "DITOLAK");
        edit_dict(doc, u, 23, |d| {
            d.set(b"V", Object::String(b"DITOLAK".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_refused(
        &seal,
        "FreeText in /Fields",
        &out,
        ChangeLevel::Annotations,
        "annotation object 23",
    );
}
