//! Widgets added after signing: which are signature fields, and which are visible.

use super::*;

#[test]
fn widgets_added_to_a_signed_field_or_without_a_field_are_not_signatures() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let doc = Document::open(&pdf).expect("opens");
    let approval = field_ref(&doc, "Approval");
    // A page-sized widget of the signed field, painting "DIBATALKAN".
    let kid = append(&pdf, |doc, u| {
        let rect = Object::Array([50, 50, 550, 800].map(Object::Integer).to_vec());
        let w = banner_widget(u, rect, |d| d.set(b"Parent", Object::Reference(approval)));
        with_annot(doc, u, w);
    });
    assert_refused(
        &seal,
        "widget of the signed field",
        &kid,
        ChangeLevel::Annotations,
        "was added",
    );
    // A widget that says it is a signed signature field, with no name and a fake value.
    let fake = append(&pdf, |doc, u| {
        let rect = Object::Array([50, 50, 550, 800].map(Object::Integer).to_vec());
        let w = banner_widget(u, rect, |d| {
            d.set(b"FT", name("Sig"));
            d.set(b"V", Object::Integer(1));
        });
        with_annot(doc, u, w);
    });
    assert_refused(
        &seal,
        "fake signature widget",
        &fake,
        ChangeLevel::Annotations,
        "was added",
    );
}

#[test]
fn an_indirect_or_malformed_rect_is_visible() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    for (what, rect) in [
        ("indirect", None),
        ("five numbers", Some(vec![0, 0, 595, 842, 1])),
    ] {
        let out = append(&pdf, |doc, u| {
            let rect = match &rect {
                Some(v) => Object::Array(v.iter().map(|&i| Object::Integer(i)).collect()),
                None => {
                    let r = u.allocate();
                    u.put(r, b"[0 0 595 842]".to_vec());
                    Object::Reference(r)
                }
            };
            let w = banner_widget(u, rect, |d| {
                d.set(b"FT", name("Sig"));
                d.set(b"T", Object::String(b"Kosong".to_vec()));
            });
            with_annot(doc, u, w);
            edit_dict(doc, u, 3, |f| {
                let mut a = f
                    .get(b"Fields")
                    .and_then(Object::as_array)
                    .expect("fields")
                    .to_vec();
                a.push(Object::Reference(w));
                f.set(b"Fields", Object::Array(a));
            });
        });
        assert_refused(
            &seal,
            what,
            &out,
            ChangeLevel::Annotations,
            "unsigned visible signature widget",
        );
    }
}

#[test]
fn an_empty_signature_field_with_an_invisible_widget_may_be_added() {
    // A placeholder for the next signer, as a field with a separate kid widget of no area and
    // no appearance: allowed. The same widget with an appearance that draws is not invisible
    // (Ghostscript draws it, unscaled, at the rectangle's corner): refused.
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let placeholder = |drawn: bool| {
        append(&pdf, |doc, u| {
            let f = u.allocate();
            let w = banner_widget(
                u,
                Object::Array([0, 0, 0, 0].map(Object::Integer).to_vec()),
                |d| {
                    d.set(b"Parent", Object::Reference(f));
                    if !drawn {
                        d.remove(b"AP");
                    }
                },
            );
            let mut field = Dict::new();
            field.set(b"FT", name("Sig"));
            field.set(b"T", Object::String(b"Berikutnya".to_vec()));
            field.set(b"Kids", Object::Array(vec![Object::Reference(w)]));
            u.put_object(f, &Object::Dict(field));
            with_annot(doc, u, w);
            edit_dict(doc, u, 3, |d| {
                let mut a = d
                    .get(b"Fields")
                    .and_then(Object::as_array)
                    .expect("fields")
                    .to_vec();
                a.push(Object::Reference(f));
                d.set(b"Fields", Object::Array(a));
            });
        })
    };
    assert_passes(&seal, "empty signature field added", &placeholder(false));
    assert_refused(
        &seal,
        "empty signature field of no area that draws",
        &placeholder(true),
        ChangeLevel::Annotations,
        "unsigned visible signature widget",
    );
}
