//! Conversions between the wire's messages and the domain types they carry, in both directions,
//! so that the server, the client library and the CLI map them alike.

use std::collections::BTreeMap;

use pades::stamp::{Placement, StampError, VisibleOptions, DEFAULT_HEIGHT, DEFAULT_WIDTH};

use crate::v1 as pb;

/// Empty text on the wire means "not given".
fn text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl TryFrom<&pb::SignOptions> for pades::SignOptions {
    type Error = StampError;

    /// # Errors
    /// A visible seal with more than one placement, or a `certify` above 3.
    fn try_from(o: &pb::SignOptions) -> Result<Self, StampError> {
        let certify = match o.certify {
            0 => None,
            p @ 1..=3 => Some(p as u8),
            p => {
                return Err(StampError::Placement(format!(
                    "certify is 0 (none) or a DocMDP permission 1, 2 or 3, not {p}"
                )))
            }
        };
        let field = text(&o.field_name);
        let visible = o
            .visible
            .as_ref()
            .map(|v| visible_options(v, field.is_some()))
            .transpose()?;
        Ok(Self {
            field,
            page: o.page.max(1),
            reason: text(&o.reason),
            location: text(&o.location),
            contact_info: text(&o.contact_info),
            pss: o.pss,
            visible,
            certify,
            lock_fields: o.lock_fields,
        })
    }
}

/// The domain form of a visible seal's options: exactly one placement.
fn visible_options(v: &pb::VisibleSeal, named_field: bool) -> Result<VisibleOptions, StampError> {
    let size = |w: f64, h: f64| {
        (
            if w == 0.0 { DEFAULT_WIDTH } else { w },
            if h == 0.0 { DEFAULT_HEIGHT } else { h },
        )
    };
    let placement = match (v.tag.is_empty(), &v.rect) {
        (false, Some(_)) => {
            return Err(StampError::Placement(
                "give a tag or a rectangle for the stamp, not both".into(),
            ))
        }
        (false, None) => {
            let (width, height) = size(v.width, v.height);
            Placement::Tag {
                text: v.tag.clone(),
                width,
                height,
            }
        }
        (true, Some(r)) => Placement::Rect {
            page: v.page.max(1),
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        },
        (true, None) if named_field => Placement::Field,
        (true, None) => {
            return Err(StampError::Placement(
                "a visible seal needs a tag, a page and rectangle, or the name of an existing \
                 empty signature field"
                    .into(),
            ))
        }
    };
    Ok(VisibleOptions {
        placement,
        fields: v
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        footer: v.footer,
        image: (!v.image.is_empty()).then(|| v.image.clone()),
    })
}

impl From<&pades::SignOptions> for pb::SignOptions {
    fn from(o: &pades::SignOptions) -> Self {
        Self {
            reason: o.reason.clone().unwrap_or_default(),
            location: o.location.clone().unwrap_or_default(),
            field_name: o.field.clone().unwrap_or_default(),
            pss: o.pss,
            contact_info: o.contact_info.clone().unwrap_or_default(),
            page: o.page.max(1),
            visible: o.visible.as_ref().map(pb::VisibleSeal::from),
            certify: o.certify.map_or(0, u32::from),
            lock_fields: o.lock_fields,
        }
    }
}

impl From<&VisibleOptions> for pb::VisibleSeal {
    fn from(v: &VisibleOptions) -> Self {
        let mut seal = pb::VisibleSeal {
            fields: v
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            footer: v.footer,
            image: v.image.clone().unwrap_or_default(),
            ..Default::default()
        };
        match &v.placement {
            Placement::Tag {
                text,
                width,
                height,
            } => {
                seal.tag.clone_from(text);
                seal.width = *width;
                seal.height = *height;
            }
            Placement::Rect {
                page,
                x,
                y,
                width,
                height,
            } => {
                seal.page = *page;
                seal.rect = Some(pb::Rect {
                    x: *x,
                    y: *y,
                    width: *width,
                    height: *height,
                });
            }
            Placement::Field => {}
        }
        seal
    }
}

impl From<&pades::stamp::StampSettings> for pb::StampSettings {
    fn from(s: &pades::stamp::StampSettings) -> Self {
        Self {
            template: s.template.sources(),
            verify_url: s.verify_url.clone(),
            footer: s.footer.clone(),
            image: s.image.clone().unwrap_or_default(),
        }
    }
}

/// The domain form of an agency's stamp settings as `ListAgencies` sends them.
///
/// # Errors
/// A template, verify URL or footer that does not parse.
pub fn stamp_settings(
    agency_name: &str,
    s: &pb::StampSettings,
) -> Result<pades::stamp::StampSettings, StampError> {
    let mut settings = pades::stamp::StampSettings::new(agency_name, &s.verify_url)?;
    settings.template = pades::stamp::StampTemplate::parse(&s.template)?;
    pades::stamp::StampTemplate::parse(&[s.footer.as_str()])?;
    settings.footer.clone_from(&s.footer);
    settings.image = (!s.image.is_empty()).then(|| s.image.clone());
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_options_round_trip_and_empty_is_none() {
        let o = pades::SignOptions {
            field: Some("Approval".into()),
            page: 3,
            reason: Some("Disetujui".into()),
            location: None,
            contact_info: None,
            pss: true,
            visible: Some(VisibleOptions {
                placement: Placement::Tag {
                    text: "#ttd#".into(),
                    width: 180.0,
                    height: 90.0,
                },
                fields: BTreeMap::from([("nama".to_string(), "Budi".to_string())]),
                footer: true,
                image: None,
            }),
            certify: Some(2),
            lock_fields: true,
        };
        let wire = pb::SignOptions::from(&o);
        assert_eq!(wire.location, "");
        assert_eq!(pades::SignOptions::try_from(&wire).unwrap(), o);
        let empty = pades::SignOptions::try_from(&pb::SignOptions::default()).unwrap();
        assert_eq!(empty, pades::SignOptions::default());
    }

    #[test]
    fn a_seal_has_one_placement() {
        let mut wire = pb::SignOptions {
            visible: Some(pb::VisibleSeal {
                tag: "#ttd#".into(),
                rect: Some(pb::Rect::default()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(pades::SignOptions::try_from(&wire).is_err());
        wire.visible = Some(pb::VisibleSeal::default());
        let e = pades::SignOptions::try_from(&wire).unwrap_err().to_string();
        assert!(e.contains("needs a tag"), "{e}");
        wire.field_name = "Pejabat".into();
        let o = pades::SignOptions::try_from(&wire).unwrap();
        assert_eq!(o.visible.unwrap().placement, Placement::Field);
        wire.certify = 4;
        assert!(pades::SignOptions::try_from(&wire).is_err());
    }
}
