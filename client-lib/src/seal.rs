//! Visible seals drawn on this side: offline (`segel sign --visible` with the agency's key
//! file) and in digest-only mode (with the agency's stamp settings from `ListAgencies`). The
//! server draws the seal itself for `SignPdf`; there only [`pades::SignOptions::visible`]
//! travels.
//!
//! A seal is composed once per document, with the document id and the signing time the
//! document is prepared with: a retry that prepares the same document again reuses both, so
//! the bytes, and the digest, are the same.

use pades::stamp::{compose, Appearance, DocumentId, StampSettings, VisibleOptions};
use pades::UnixTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::ClientError;

/// A visible seal to draw here: the agency's settings, the caller's choices and the document
/// id its QR code links to.
#[derive(Debug, Clone, PartialEq)]
pub struct Seal {
    /// The agency's settings. Offline, an empty [`StampSettings::agency_name`] is filled from
    /// the signer certificate ([`organisation`]).
    pub settings: StampSettings,
    /// Placement, values, footer, image.
    pub visible: VisibleOptions,
    /// The document id (`{verify_url}/d/{document_id}`).
    pub document_id: DocumentId,
}

impl Seal {
    /// The finished seal for a signature made at `time`.
    ///
    /// # Errors
    /// [`ClientError::Seal`]: bad values, a required template line without its value, an
    /// unusable tag.
    pub fn appearance(&self, time: UnixTime) -> Result<Appearance, ClientError> {
        Ok(compose(
            &self.settings,
            &self.visible,
            &self.document_id,
            time,
        )?)
    }

    /// The verification link the QR code carries.
    pub fn link(&self) -> String {
        self.settings.link(&self.document_id)
    }
}

/// The name a seal shows for `{instansi}` by default when signing offline: the signer
/// certificate's organisation (O), else its common name (CN); `None` when the certificate
/// does not parse or names neither.
pub fn organisation(cert_der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    let subject = cert.subject();
    first_text(subject.iter_organization()).or_else(|| first_text(subject.iter_common_name()))
}

/// The first attribute value of `values` that is text and not blank, trimmed.
fn first_text<'a, 'b: 'a>(
    values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'b>>,
) -> Option<String> {
    values
        .filter_map(|a| a.as_str().ok())
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organisation_comes_from_o_then_cn() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Segel Dev Agency");
        let cn_only = params.self_signed(&key).expect("cert");
        assert_eq!(
            organisation(cn_only.der()).as_deref(),
            Some("Segel Dev Agency")
        );
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Kementerian Contoh");
        let with_o = params.self_signed(&key).expect("cert");
        assert_eq!(
            organisation(with_o.der()).as_deref(),
            Some("Kementerian Contoh")
        );
        assert_eq!(organisation(b"not a certificate"), None);
        assert_eq!(organisation(&[]), None);
    }
}
