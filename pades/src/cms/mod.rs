//! CMS SignedData for PAdES (RFC 5652 §5, ETSI EN 319 122-1 CAdES baseline B-B as profiled by
//! ETSI EN 319 142-1 §6.3).
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
//! SignedData ::= SEQUENCE {
//!   version 1, digestAlgorithms SET OF { sha256 },
//!   encapContentInfo SEQUENCE { id-data },            -- detached: no eContent
//!   certificates [0] IMPLICIT SET OF Certificate,     -- signer + intermediates, no root
//!   signerInfos SET OF SignerInfo }
//! SignerInfo ::= SEQUENCE {
//!   version 1, sid IssuerAndSerialNumber, digestAlgorithm sha256,
//!   signedAttrs [0] IMPLICIT SET OF Attribute,        -- contentType, messageDigest,
//!                                                     -- signingCertificateV2 (RFC 5035)
//!   signatureAlgorithm rsaEncryption | RSASSA-PSS, signature OCTET STRING }
//! ```
//! No signing-time attribute: PAdES puts the claimed time in the signature dictionary's `/M`.

pub(crate) mod der;
pub mod parse;

use aws_lc_rs::digest;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};
use crate::signer::SignatureAlgorithm;
use der::{cons, oid, tag, tlv, uint};

/// Object identifiers used here, as DER content bytes (arcs).
pub(crate) mod oids {
    pub(crate) const SIGNED_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 2];
    pub(crate) const DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
    pub(crate) const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
    pub(crate) const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
    pub(crate) const SHA384: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
    pub(crate) const SHA512: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];
    pub(crate) const RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
    pub(crate) const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
    pub(crate) const SHA384_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 12];
    pub(crate) const SHA512_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 13];
    pub(crate) const RSASSA_PSS: &[u64] = &[1, 2, 840, 113549, 1, 1, 10];
    pub(crate) const MGF1: &[u64] = &[1, 2, 840, 113549, 1, 1, 8];
    pub(crate) const ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
    pub(crate) const ECDSA_SHA384: &[u64] = &[1, 2, 840, 10045, 4, 3, 3];
    pub(crate) const CONTENT_TYPE: &[u64] = &[1, 2, 840, 113549, 1, 9, 3];
    pub(crate) const MESSAGE_DIGEST: &[u64] = &[1, 2, 840, 113549, 1, 9, 4];
    pub(crate) const SIGNING_CERTIFICATE_V2: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 2, 47];
    pub(crate) const SIGNING_CERTIFICATE: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 2, 12];
}

/// `AlgorithmIdentifier` of SHA-256 (parameters absent, RFC 5754 §2).
fn sha256_alg() -> Vec<u8> {
    cons(tag::SEQUENCE, &[&oid(oids::SHA256)])
}

fn signature_alg(alg: SignatureAlgorithm) -> Vec<u8> {
    match alg {
        SignatureAlgorithm::RsaPkcs1Sha256 => cons(
            tag::SEQUENCE,
            &[&oid(oids::RSA_ENCRYPTION), &tlv(tag::NULL, &[])],
        ),
        SignatureAlgorithm::RsaPssSha256 => {
            // RSASSA-PSS-params (RFC 4055 §3.1): SHA-256, MGF1 with SHA-256, salt 32.
            let hash = cons(tag::ctx(0), &[&sha256_alg()]);
            let mgf = cons(
                tag::ctx(1),
                &[&cons(tag::SEQUENCE, &[&oid(oids::MGF1), &sha256_alg()])],
            );
            let salt = cons(tag::ctx(2), &[&uint(32)]);
            let params = cons(tag::SEQUENCE, &[&hash, &mgf, &salt]);
            cons(tag::SEQUENCE, &[&oid(oids::RSASSA_PSS), &params])
        }
    }
}

/// The signer's certificate and chain, checked and ready to be embedded.
#[derive(Debug, Clone)]
pub struct SignerIdentity {
    /// DER certificates to embed: signer first, then intermediates (self-signed roots dropped).
    certs: Vec<Vec<u8>>,
    issuer: Vec<u8>,
    serial: Vec<u8>,
    cert_hash: [u8; 32],
    public_key: Vec<u8>,
    subject: String,
}

impl SignerIdentity {
    /// Check a chain given as DER certificates, signer first.
    ///
    /// Self-signed certificates (roots) are not embedded (ETSI EN 319 142-1 leaves them out; the
    /// verifier must have the root as a trust anchor anyway).
    ///
    /// # Errors
    /// [`Error::Certificate`] if a certificate does not parse or the chain is empty.
    pub fn new(chain: Vec<Vec<u8>>) -> Result<Self> {
        let first = chain.first().ok_or(Error::Certificate {
            index: 0,
            reason: "no signer certificate given".into(),
        })?;
        let (issuer, serial, public_key, subject) = {
            let cert = parse_cert(first, 0)?;
            (
                cert.tbs_certificate.issuer.as_raw().to_vec(),
                tlv(tag::INTEGER, cert.tbs_certificate.raw_serial()),
                cert.public_key().subject_public_key.data.to_vec(),
                cert.subject().to_string(),
            )
        };
        let mut certs = Vec::new();
        for (i, der) in chain.iter().enumerate() {
            let c = parse_cert(der, i)?;
            let self_signed = c.subject().as_raw() == c.issuer().as_raw();
            if i == 0 || !self_signed {
                certs.push(der.clone());
            }
        }
        let cert_hash = sha256(first);
        Ok(Self {
            certs,
            issuer,
            serial,
            cert_hash,
            public_key,
            subject,
        })
    }

    /// The signer certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.certs[0]
    }

    /// The signer's subject, RFC 4514 style.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The signer's public key (the `subjectPublicKey` bits, for RSA an `RSAPublicKey`).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The DER `SET OF Attribute` that gets signed, for a document digest.
    pub fn signed_attributes(&self, message_digest: &[u8; 32]) -> Vec<u8> {
        let content_type = cons(
            tag::SEQUENCE,
            &[
                &oid(oids::CONTENT_TYPE),
                &cons(tag::SET, &[&oid(oids::DATA)]),
            ],
        );
        let md = cons(
            tag::SEQUENCE,
            &[
                &oid(oids::MESSAGE_DIGEST),
                &cons(tag::SET, &[&tlv(tag::OCTET_STRING, message_digest)]),
            ],
        );
        // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (omitted), certHash,
        //   issuerSerial IssuerSerial { issuer GeneralNames { [4] directoryName }, serial } }
        let general_names = cons(tag::SEQUENCE, &[&cons(tag::ctx(4), &[&self.issuer])]);
        let issuer_serial = cons(tag::SEQUENCE, &[&general_names, &self.serial]);
        let cert_id = cons(
            tag::SEQUENCE,
            &[&tlv(tag::OCTET_STRING, &self.cert_hash), &issuer_serial],
        );
        let signing_cert = cons(tag::SEQUENCE, &[&cons(tag::SEQUENCE, &[&cert_id])]);
        let sc = cons(
            tag::SEQUENCE,
            &[
                &oid(oids::SIGNING_CERTIFICATE_V2),
                &cons(tag::SET, &[&signing_cert]),
            ],
        );
        // DER SET OF: elements sorted by their encodings (X.690 §11.6).
        let mut attrs = [content_type, md, sc];
        attrs.sort();
        let parts: Vec<&[u8]> = attrs.iter().map(Vec::as_slice).collect();
        cons(tag::SET, &parts)
    }

    /// Assemble the DER `ContentInfo` around a signature over `signed_attrs`.
    pub fn content_info(
        &self,
        signed_attrs: &[u8],
        alg: SignatureAlgorithm,
        signature: &[u8],
    ) -> Vec<u8> {
        let sid = cons(tag::SEQUENCE, &[&self.issuer, &self.serial]);
        // [0] IMPLICIT: same content as the SET, context tag.
        let mut attrs = signed_attrs.to_vec();
        if let Some(t) = attrs.first_mut() {
            *t = tag::ctx(0);
        }
        let signer_info = cons(
            tag::SEQUENCE,
            &[
                &uint(1),
                &sid,
                &sha256_alg(),
                &attrs,
                &signature_alg(alg),
                &tlv(tag::OCTET_STRING, signature),
            ],
        );
        let cert_parts: Vec<&[u8]> = self.certs.iter().map(Vec::as_slice).collect();
        let signed_data = cons(
            tag::SEQUENCE,
            &[
                &uint(1),
                &cons(tag::SET, &[&sha256_alg()]),
                &cons(tag::SEQUENCE, &[&oid(oids::DATA)]),
                &cons(tag::ctx(0), &cert_parts),
                &cons(tag::SET, &[&signer_info]),
            ],
        );
        cons(
            tag::SEQUENCE,
            &[&oid(oids::SIGNED_DATA), &cons(tag::ctx(0), &[&signed_data])],
        )
    }

    /// Exact size of the `ContentInfo` for a signature of `signature_len` bytes.
    pub fn content_info_len(&self, alg: SignatureAlgorithm, signature_len: usize) -> usize {
        let attrs = self.signed_attributes(&[0; 32]);
        self.content_info(&attrs, alg, &vec![0; signature_len])
            .len()
    }
}

pub(crate) fn parse_cert(der: &[u8], index: usize) -> Result<X509Certificate<'_>> {
    match X509Certificate::from_der(der) {
        Ok(([], c)) => Ok(c),
        Ok(_) => Err(Error::Certificate {
            index,
            reason: "trailing bytes after the certificate".into(),
        }),
        Err(e) => Err(Error::Certificate {
            index,
            reason: format!("not a valid X.509 certificate: {e}"),
        }),
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}
