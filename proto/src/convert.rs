//! Conversions between the wire's messages and the domain types they carry, in both directions,
//! so that the server, the client library and the CLI map them alike.

use crate::v1 as pb;

/// Empty text on the wire means "not given".
fn text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl From<&pb::SignOptions> for pades::SignOptions {
    fn from(o: &pb::SignOptions) -> Self {
        Self {
            field: text(&o.field_name),
            page: o.page.max(1),
            reason: text(&o.reason),
            location: text(&o.location),
            contact_info: text(&o.contact_info),
            pss: o.pss,
        }
    }
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
        }
    }
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
        };
        let wire = pb::SignOptions::from(&o);
        assert_eq!(wire.location, "");
        assert_eq!(pades::SignOptions::from(&wire), o);
        let empty = pades::SignOptions::from(&pb::SignOptions::default());
        assert_eq!(empty, pades::SignOptions::default());
    }
}
