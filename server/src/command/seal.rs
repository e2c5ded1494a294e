//! The shape of a visible seal's options: the limits of [`super::limits`] on the tag, the
//! image and the fields, and finite sizes and positions; checked before the options become the
//! engine's ([`pades::SignOptions`]).

use segel_proto::v1 as pb;

use super::{bounded, limits, CommandError};

/// The limits of a visible seal's options ([`limits`]): the tag, the image, the fields, and
/// finite sizes and positions within the page sizes PDF allows (the engine checks the
/// placement on the page).
pub(super) fn check_visible(v: &pb::VisibleSeal) -> Result<(), CommandError> {
    bounded("options.visible.tag", v.tag.clone(), limits::TAG)?;
    if v.image.len() > limits::IMAGE {
        return Err(CommandError::TooLong {
            field: "options.visible.image",
            len: v.image.len(),
            limit: limits::IMAGE,
        });
    }
    if !v.image.is_empty() && !crate::config::is_png_or_jpeg(&v.image) {
        return Err(CommandError::Options {
            field: "options.visible.image",
            message: "the image is neither a PNG nor a JPEG".into(),
        });
    }
    if v.fields.len() > limits::FIELDS {
        return Err(CommandError::Options {
            field: "options.visible.fields",
            message: format!(
                "{} fields given; at most {}",
                v.fields.len(),
                limits::FIELDS
            ),
        });
    }
    for (name, value) in &v.fields {
        if name.len() > 32 || value.len() > limits::FIELD_VALUE {
            return Err(CommandError::Options {
                field: "options.visible.fields",
                message: format!(
                    "field {:?}: names have at most 32 bytes, values at most {} (this one has {})",
                    name.chars().take(40).collect::<String>(),
                    limits::FIELD_VALUE,
                    value.len()
                ),
            });
        }
    }
    // 0 means the default size of a tag's stamp.
    for (field, x) in [
        ("options.visible.width", v.width),
        ("options.visible.height", v.height),
    ] {
        if x != 0.0 {
            check_points(field, x, false)?;
        }
    }
    if let Some(r) = &v.rect {
        check_points("options.visible.rect.x", r.x, true)?;
        check_points("options.visible.rect.y", r.y, true)?;
        check_points("options.visible.rect.width", r.width, false)?;
        check_points("options.visible.rect.height", r.height, false)?;
    }
    Ok(())
}

/// A stamp size (positive) or position (`zero_ok`: not negative): finite, at most
/// [`limits::STAMP_POINTS`].
fn check_points(field: &'static str, x: f64, zero_ok: bool) -> Result<(), CommandError> {
    let low_ok = if zero_ok { x >= 0.0 } else { x > 0.0 };
    if x.is_finite() && low_ok && x <= limits::STAMP_POINTS {
        return Ok(());
    }
    Err(CommandError::Options {
        field,
        message: format!(
            "{x} is not a usable number of points: {} and at most {}",
            if zero_ok { "0 or more" } else { "more than 0" },
            limits::STAMP_POINTS
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::*;

    /// Hostile seal options are refused at the edge, each naming its option.
    #[test]
    fn visible_seal_options_are_bounded_and_finite() {
        let with = |v: pb::VisibleSeal| pb::SignPdfRequest {
            agency_id: "dev".into(),
            request_id: "r".into(),
            options: Some(pb::SignOptions {
                visible: Some(v),
                ..Default::default()
            }),
            ..Default::default()
        };
        let tag = |t: &str| pb::VisibleSeal {
            tag: t.into(),
            ..Default::default()
        };
        let ok = SignPdf::try_from(with(tag("#ttd#"))).expect("a tag");
        assert!(ok.options.visible.is_some());
        SignPdf::try_from(with(tag(&"t".repeat(64)))).expect("a 64-byte tag");
        let field_of = |r: pb::SignPdfRequest| match SignPdf::try_from(r).expect_err("refused") {
            CommandError::Options { field, .. } | CommandError::TooLong { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field_of(with(tag(&"t".repeat(65)))), "options.visible.tag");
        let rect = |x: f64, y: f64, w: f64, h: f64| pb::VisibleSeal {
            page: 1,
            rect: Some(pb::Rect {
                x,
                y,
                width: w,
                height: h,
            }),
            ..Default::default()
        };
        SignPdf::try_from(with(rect(0.0, 0.0, 200.0, 110.0))).expect("a rectangle");
        for (r, want) in [
            (rect(f64::NAN, 0.0, 200.0, 110.0), "options.visible.rect.x"),
            (rect(-1.0, 0.0, 200.0, 110.0), "options.visible.rect.x"),
            (
                rect(0.0, f64::INFINITY, 200.0, 110.0),
                "options.visible.rect.y",
            ),
            (rect(0.0, 0.0, 0.0, 110.0), "options.visible.rect.width"),
            (rect(0.0, 0.0, 1e300, 110.0), "options.visible.rect.width"),
            (
                rect(0.0, 0.0, 200.0, f64::NEG_INFINITY),
                "options.visible.rect.height",
            ),
            (rect(0.0, 0.0, 200.0, -0.0), "options.visible.rect.height"),
        ] {
            assert_eq!(field_of(with(r)), want);
        }
        let sized = |w: f64, h: f64| pb::VisibleSeal {
            width: w,
            height: h,
            ..tag("#ttd#")
        };
        assert_eq!(
            field_of(with(sized(f64::NAN, 0.0))),
            "options.visible.width"
        );
        assert_eq!(field_of(with(sized(0.0, -5.0))), "options.visible.height");
        let image = |b: Vec<u8>| pb::VisibleSeal {
            image: b,
            ..tag("#ttd#")
        };
        assert_eq!(
            SignPdf::try_from(with(image(vec![0; limits::IMAGE + 1]))).expect_err("huge"),
            CommandError::TooLong {
                field: "options.visible.image",
                len: limits::IMAGE + 1,
                limit: limits::IMAGE
            }
        );
        assert_eq!(
            field_of(with(image(b"GIF89a".to_vec()))),
            "options.visible.image"
        );
        SignPdf::try_from(with(image(vec![0xff, 0xd8, 0xff, 0xe0]))).expect("a JPEG");
        let fields = |n: usize, value: usize| pb::VisibleSeal {
            fields: (0..n)
                .map(|i| (format!("f{i}"), "v".repeat(value)))
                .collect(),
            ..tag("#ttd#")
        };
        SignPdf::try_from(with(fields(16, 200))).expect("16 fields of 200 bytes");
        assert_eq!(field_of(with(fields(17, 1))), "options.visible.fields");
        assert_eq!(field_of(with(fields(1, 201))), "options.visible.fields");
        // Two placements, none at all, or a certification beyond 3.
        let both = pb::VisibleSeal {
            ..rect(0.0, 0.0, 200.0, 110.0)
        };
        let both = pb::VisibleSeal {
            tag: "#ttd#".into(),
            ..both
        };
        assert_eq!(field_of(with(both)), "options.visible");
        assert_eq!(
            field_of(with(pb::VisibleSeal::default())),
            "options.visible"
        );
        let mut certify = with(tag("#ttd#"));
        certify.options.as_mut().expect("o").certify = 4;
        assert_eq!(field_of(certify), "options.certify");
    }

    #[test]
    fn document_ids_are_checked_where_they_come_in() {
        use pb::get_entry_request::Key;
        let id = "AbCdEfGhIjKlMnOpQrStUv";
        let q = |key| EntryQuery::try_from(pb::GetEntryRequest { key });
        assert_eq!(
            q(Some(Key::DocumentId(id.into()))),
            Ok(EntryQuery::DocumentId(
                pades::stamp::DocumentId::parse(id).expect("id")
            ))
        );
        let bad = CommandError::DocumentId {
            field: "document_id",
        };
        for b in [
            "",
            "short",
            "has a space in it 123",
            &"a".repeat(65),
            "ÀbCdEfGhIjKlMnOpQrSt",
        ] {
            assert_eq!(
                q(Some(Key::DocumentId(b.into()))),
                Err(bad.clone()),
                "{b:?}"
            );
        }
        let digest = |document_id: &str| pb::SignDigestRequest {
            agency_id: "dev".into(),
            request_id: "r".into(),
            message_digest: vec![7; 32],
            document_id: document_id.into(),
            ..Default::default()
        };
        assert_eq!(
            SignDigest::try_from(digest("")).expect("none").document_id,
            None
        );
        assert_eq!(
            SignDigest::try_from(digest(id))
                .expect("an id")
                .document_id
                .map(|d| d.to_string()),
            Some(id.to_string())
        );
        assert_eq!(SignDigest::try_from(digest("x/y")).expect_err("bad"), bad);
    }
}
