//! The caller's identity: the one common name (CN) of the client certificate's subject.
//!
//! Rule: the subject holds exactly one CN attribute (in all its RDNs together), a UTF8String,
//! PrintableString or IA5String of 1–64 characters without control characters. A subject with
//! no CN or several (`CN=siola-dev, CN=unauthorised-dev`) is refused: which one a policy
//! or a log reader would take is not for the certificate to decide.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

/// Why a caller has no identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// No client certificate was presented.
    #[error("no client certificate")]
    NoCertificate,
    /// The certificate does not parse (it passed the TLS checks, so this is unexpected).
    #[error("the client certificate does not parse: {0}")]
    Unparsable(String),
    /// The subject holds no CN.
    #[error("the client certificate's subject has no common name (CN); exactly one is required")]
    NoCommonName,
    /// The subject holds several CNs.
    #[error("the client certificate's subject has {0} common names (CN); exactly one is required")]
    SeveralCommonNames(usize),
    /// The CN is not a usable name.
    #[error("the client certificate's common name {0}")]
    BadCommonName(&'static str),
}

/// The caller identity of a connection's peer certificates (leaf first).
///
/// # Errors
/// See [`IdentityError`].
pub fn caller(certs: Option<&Arc<Vec<CertificateDer<'static>>>>) -> Result<String, IdentityError> {
    let leaf = certs
        .and_then(|c| c.first())
        .ok_or(IdentityError::NoCertificate)?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    let cns: Vec<_> = cert.subject().iter_common_name().collect();
    let cn = match cns.as_slice() {
        [] => return Err(IdentityError::NoCommonName),
        [one] => one,
        several => return Err(IdentityError::SeveralCommonNames(several.len())),
    };
    let name = cn
        .as_str()
        .map_err(|_| IdentityError::BadCommonName("is not a UTF8, printable or IA5 string"))?;
    if name.is_empty() || name.chars().count() > 64 {
        return Err(IdentityError::BadCommonName("must have 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(IdentityError::BadCommonName("holds control characters"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    fn cert(attrs: &[(DnType, &str)]) -> Arc<Vec<CertificateDer<'static>>> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (t, v) in attrs {
            dn.push(t.clone(), *v);
        }
        p.distinguished_name = dn;
        let key = KeyPair::generate().expect("key");
        Arc::new(vec![p.self_signed(&key).expect("cert").der().clone()])
    }

    /// CN's own OID under another name: rcgen keeps one value per attribute type.
    fn cn2() -> DnType {
        DnType::CustomDnType(vec![2, 5, 4, 3])
    }

    #[test]
    fn the_identity_is_the_one_common_name() {
        let one = cert(&[
            (DnType::OrganizationName, "X"),
            (DnType::CommonName, "siola-dev"),
        ]);
        assert_eq!(caller(Some(&one)), Ok("siola-dev".to_string()));
        assert_eq!(caller(None), Err(IdentityError::NoCertificate));
        let none = cert(&[(DnType::OrganizationName, "siola-dev")]);
        assert_eq!(caller(Some(&none)), Err(IdentityError::NoCommonName));
        let two = cert(&[
            (DnType::CommonName, "siola-dev"),
            (cn2(), "unauthorised-dev"),
        ]);
        assert_eq!(
            caller(Some(&two)),
            Err(IdentityError::SeveralCommonNames(2))
        );
        let control = cert(&[(DnType::CommonName, "siola-dev\nCN=x")]);
        assert!(matches!(
            caller(Some(&control)),
            Err(IdentityError::BadCommonName(_))
        ));
        let long = "x".repeat(65);
        let long = cert(&[(DnType::CommonName, long.as_str())]);
        assert!(matches!(
            caller(Some(&long)),
            Err(IdentityError::BadCommonName(_))
        ));
    }
}
