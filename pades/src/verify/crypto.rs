//! The CMS signature itself: which certificate signed, does the signature verify with its
//! key, does the ESS signing-certificate attribute name it.

use super::*;

pub(super) fn find_signer<'a>(sd: &SignedData<'a>) -> Option<(&'a [u8], X509Certificate<'a>)> {
    sd.certificates.iter().find_map(|der| {
        let c = parse_cert(der, 0).ok()?;
        let hit = match &sd.signer.sid {
            SignerId::IssuerSerial { issuer, serial } => {
                c.issuer().as_raw() == *issuer && c.tbs_certificate.raw_serial() == *serial
            }
            SignerId::SubjectKeyId(ski) => c.extensions().iter().any(|e| {
                matches!(e.parsed_extension(), x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) if k.0 == *ski)
            }),
        };
        hit.then_some((*der, c))
    })
}

pub(super) fn oid_is(content: &[u8], arcs: &[u64]) -> bool {
    der::oid(arcs)[2..] == *content
}

pub(super) fn verify_raw(
    sig_oid: &[u8],
    dalg: DigestAlgorithm,
    signer: &X509Certificate<'_>,
    message: &[u8],
    sig: &[u8],
) -> Result<&'static str, String> {
    let key = signer.public_key().subject_public_key.data.as_ref();
    crate::pdf::budget::charge_signature_check(chain::rsa_bits(signer.public_key()).unwrap_or(0))
        .map_err(|e| format!("not checked: {e}"))?;
    let rsa = oid_is(sig_oid, oids::RSA_ENCRYPTION)
        || oid_is(sig_oid, oids::SHA256_WITH_RSA)
        || oid_is(sig_oid, oids::SHA384_WITH_RSA)
        || oid_is(sig_oid, oids::SHA512_WITH_RSA);
    let (alg, name): (&'static dyn VerificationAlgorithm, &'static str) = if rsa {
        match dalg {
            DigestAlgorithm::Sha256 => (
                &signature::RSA_PKCS1_2048_8192_SHA256,
                "RSA PKCS#1 v1.5 SHA-256",
            ),
            DigestAlgorithm::Sha384 => (
                &signature::RSA_PKCS1_2048_8192_SHA384,
                "RSA PKCS#1 v1.5 SHA-384",
            ),
            DigestAlgorithm::Sha512 => (
                &signature::RSA_PKCS1_2048_8192_SHA512,
                "RSA PKCS#1 v1.5 SHA-512",
            ),
            DigestAlgorithm::Sha1 => (
                &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                "RSA PKCS#1 v1.5 SHA-1",
            ),
        }
    } else if oid_is(sig_oid, oids::RSASSA_PSS) {
        match dalg {
            DigestAlgorithm::Sha256 => (&signature::RSA_PSS_2048_8192_SHA256, "RSASSA-PSS SHA-256"),
            DigestAlgorithm::Sha384 => (&signature::RSA_PSS_2048_8192_SHA384, "RSASSA-PSS SHA-384"),
            DigestAlgorithm::Sha512 => (&signature::RSA_PSS_2048_8192_SHA512, "RSASSA-PSS SHA-512"),
            DigestAlgorithm::Sha1 => return Err("RSASSA-PSS with SHA-1 is not accepted".into()),
        }
    } else if oid_is(sig_oid, oids::ECDSA_SHA256) {
        (&signature::ECDSA_P256_SHA256_ASN1, "ECDSA P-256 SHA-256")
    } else if oid_is(sig_oid, oids::ECDSA_SHA384) {
        (&signature::ECDSA_P384_SHA384_ASN1, "ECDSA P-384 SHA-384")
    } else {
        return Err("unsupported signature algorithm".into());
    };
    UnparsedPublicKey::new(alg, key)
        .verify(message, sig)
        .map(|()| name)
        .map_err(|_| format!("the {name} signature does not verify with the signer's key"))
}

/// Check the ESS signing-certificate(-v2) attribute against the signer certificate.
/// `Ok(None)` when the attribute is absent.
pub(super) fn check_ess(
    si: &crate::cms::parse::SignerInfo<'_>,
    signer_der: &[u8],
) -> Result<Option<String>, String> {
    let (values, v2) = match (
        si.attribute(oids::SIGNING_CERTIFICATE_V2),
        si.attribute(oids::SIGNING_CERTIFICATE),
    ) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => return Ok(None),
    };
    let bad = |w: &str| format!("malformed signing-certificate attribute: {w}");
    let value = values.first().ok_or_else(|| bad("no value"))?;
    let mut r = Reader::inside(value);
    let certs = r
        .expect(tag::SEQUENCE, "certs")
        .map_err(|e| bad(&e.to_string()))?;
    let mut cr = Reader::inside(&certs);
    let first = cr
        .expect(tag::SEQUENCE, "ESSCertID")
        .map_err(|e| bad(&e.to_string()))?;
    let mut fr = Reader::inside(&first);
    let mut alg = if v2 {
        DigestAlgorithm::Sha256
    } else {
        DigestAlgorithm::Sha1
    };
    if v2 && fr.peek_tag() == Some(tag::SEQUENCE) {
        let a = fr.read().map_err(|e| bad(&e.to_string()))?;
        let o = Reader::inside(&a)
            .expect(tag::OID, "hashAlgorithm")
            .map_err(|e| bad(&e.to_string()))?;
        alg = [
            (oids::SHA256, DigestAlgorithm::Sha256),
            (oids::SHA384, DigestAlgorithm::Sha384),
            (oids::SHA512, DigestAlgorithm::Sha512),
        ]
        .into_iter()
        .find(|(arcs, _)| oid_is(o.content, arcs))
        .map(|(_, a)| a)
        .ok_or_else(|| bad("unknown hash algorithm"))?;
    }
    let hash = fr
        .expect(tag::OCTET_STRING, "certHash")
        .map_err(|e| bad(&e.to_string()))?;
    let actual = aws_lc_rs::digest::digest(alg.ring(), signer_der);
    if hash.content == actual.as_ref() {
        Ok(Some(format!(
            "signing-certificate{} ({alg:?}) names the signer certificate",
            if v2 { "-v2" } else { "" }
        )))
    } else {
        Err("the signing-certificate attribute names another certificate than the signer's".into())
    }
}
