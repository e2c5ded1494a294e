//! What a caller chooses about a signature, apart from its time: the one domain form of the
//! API's sign options, the CLI's flags and a batch's settings.

use crate::stamp::VisibleOptions;
use crate::{SignatureRequest, UnixTime};

/// A caller's choices for one signature: everything of a [`SignatureRequest`] but its time,
/// and the RSA padding of the signature value.
#[derive(Debug, Clone, PartialEq)]
pub struct SignOptions {
    /// Name of the signature field (`None`: a new field `Signature1`, `Signature2`, …).
    pub field: Option<String>,
    /// Page (1-based) that carries a new field's widget; 0 is read as 1.
    pub page: u32,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// RSASSA-PSS instead of PKCS#1 v1.5.
    pub pss: bool,
    /// A visible seal (`None`: an invisible signature).
    pub visible: Option<VisibleOptions>,
    /// Certify with DocMDP permissions `/P` 1, 2 or 3 (first signature only).
    pub certify: Option<u8>,
    /// Lock the document's signed signature fields, this one included (FieldMDP).
    pub lock_fields: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            field: None,
            page: 1,
            reason: None,
            location: None,
            contact_info: None,
            pss: false,
            visible: None,
            certify: None,
            lock_fields: false,
        }
    }
}

impl SignOptions {
    /// The engine's request for these options at `time`, without an appearance: a caller with
    /// [`SignOptions::visible`] composes one ([`crate::stamp::compose`]) and sets
    /// [`SignatureRequest::appearance`].
    pub fn request(&self, time: UnixTime) -> SignatureRequest {
        let mut request = SignatureRequest::new(time);
        request.field.clone_from(&self.field);
        request.page = self.page.max(1);
        request.reason.clone_from(&self.reason);
        request.location.clone_from(&self.location);
        request.contact_info.clone_from(&self.contact_info);
        request.certify = self.certify;
        request.lock_fields = self.lock_fields;
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_zero_is_page_one_and_texts_carry_over() {
        let o = SignOptions {
            field: Some("Approval".into()),
            page: 0,
            reason: Some("Disetujui".into()),
            location: None,
            contact_info: Some("tu@example.go.id".into()),
            pss: true,
            visible: None,
            certify: Some(2),
            lock_fields: true,
        };
        let r = o.request(UnixTime(7));
        assert_eq!(r.page, 1);
        assert_eq!(r.field.as_deref(), Some("Approval"));
        assert_eq!(r.reason.as_deref(), Some("Disetujui"));
        assert_eq!(r.location, None);
        assert_eq!(r.contact_info.as_deref(), Some("tu@example.go.id"));
        assert_eq!(r.time, UnixTime(7));
        assert_eq!(r.certify, Some(2));
        assert!(r.lock_fields);
        assert_eq!(SignOptions::default().request(UnixTime(0)).page, 1);
    }
}
