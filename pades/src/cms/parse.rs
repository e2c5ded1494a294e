//! Reading CMS SignedData (RFC 5652 §5) as found in a PDF `/Contents`.
//!
//! Only what verification needs is decoded; every piece keeps its raw bytes. Signed attributes in
//! particular are kept exactly as they appear, since the signature covers that encoding.

use super::der::{oid, tag, Element, Reader};
use super::oids;
use crate::error::{Error, Result};

/// A parsed SignedData with its one signer.
#[derive(Debug, Clone)]
pub struct SignedData<'a> {
    /// Embedded certificates (DER).
    pub certificates: Vec<&'a [u8]>,
    /// Encapsulated content (`adbe.pkcs7.sha1` puts the digest here), if any.
    pub econtent: Option<&'a [u8]>,
    /// The signer.
    pub signer: SignerInfo<'a>,
    /// Number of SignerInfos in the structure (PAdES wants exactly one).
    pub signer_count: usize,
}

/// How a SignerInfo names its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerId<'a> {
    /// IssuerAndSerialNumber: raw issuer Name and raw serial INTEGER content.
    IssuerSerial {
        /// DER Name.
        issuer: &'a [u8],
        /// INTEGER content bytes.
        serial: &'a [u8],
    },
    /// `[0] SubjectKeyIdentifier`.
    SubjectKeyId(&'a [u8]),
}

/// Digest algorithms we recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DigestAlgorithm {
    /// SHA-1 (legacy only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    fn from_oid(content: &[u8]) -> Option<Self> {
        [
            (oids::SHA1, Self::Sha1),
            (oids::SHA256, Self::Sha256),
            (oids::SHA384, Self::Sha384),
            (oids::SHA512, Self::Sha512),
        ]
        .into_iter()
        .find(|(o, _)| oid(o)[2..] == *content)
        .map(|(_, a)| a)
    }

    /// The aws-lc-rs algorithm.
    pub(crate) fn ring(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::Sha1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &aws_lc_rs::digest::SHA256,
            Self::Sha384 => &aws_lc_rs::digest::SHA384,
            Self::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

/// One SignerInfo.
#[derive(Debug, Clone)]
pub struct SignerInfo<'a> {
    /// Which certificate signed.
    pub sid: SignerId<'a>,
    /// Digest algorithm for the content and attributes.
    pub digest_algorithm: Option<DigestAlgorithm>,
    /// The signed attributes, raw, with their `[0]` tag (replace it by SET to verify).
    pub signed_attrs_raw: Option<&'a [u8]>,
    /// Parsed signed attributes: (OID content, values).
    pub(crate) signed_attrs: Vec<(&'a [u8], Vec<Element<'a>>)>,
    /// signatureAlgorithm OID content.
    pub signature_algorithm: &'a [u8],
    /// signatureAlgorithm parameters (raw), if any.
    pub signature_params: Option<&'a [u8]>,
    /// The signature value.
    pub signature: &'a [u8],
}

impl<'a> SignerInfo<'a> {
    /// Values of the signed attribute `arcs`, if present exactly once.
    pub(crate) fn attribute(&self, arcs: &[u64]) -> Option<&[Element<'a>]> {
        let want = oid(arcs);
        let mut found = self.signed_attrs.iter().filter(|(o, _)| **o == want[2..]);
        let first = found.next()?;
        if found.next().is_some() {
            return None;
        }
        Some(&first.1)
    }

    /// The signed attributes re-tagged as `SET OF` for signature verification.
    pub fn signed_attrs_for_verification(&self) -> Option<Vec<u8>> {
        self.signed_attrs_raw.map(|raw| {
            let mut v = raw.to_vec();
            v[0] = tag::SET;
            v
        })
    }
}

/// Parse a DER `ContentInfo` holding SignedData. Trailing zero padding must be cut first.
///
/// # Errors
/// [`Error::Der`] with the offset of the first malformed element.
pub fn parse(der: &[u8]) -> Result<SignedData<'_>> {
    let mut top = Reader::new(der);
    let ci = top.expect(tag::SEQUENCE, "ContentInfo is not a SEQUENCE")?;
    let mut r = Reader::inside(&ci);
    let ct = r.expect(tag::OID, "ContentInfo has no contentType")?;
    if ct.content != &oid(oids::SIGNED_DATA)[2..] {
        return Err(der_err(ct.offset, "contentType is not id-signedData"));
    }
    let explicit = r.expect(tag::ctx(0), "ContentInfo has no [0] content")?;
    let sd = Reader::inside(&explicit).expect(tag::SEQUENCE, "SignedData is not a SEQUENCE")?;
    let mut s = Reader::inside(&sd);
    s.expect(tag::INTEGER, "SignedData has no version")?;
    s.expect(tag::SET, "SignedData has no digestAlgorithms")?;
    let eci = s.expect(tag::SEQUENCE, "SignedData has no encapContentInfo")?;
    let mut e = Reader::inside(&eci);
    e.expect(tag::OID, "encapContentInfo has no eContentType")?;
    let econtent = match e.optional(tag::ctx(0))? {
        Some(x) => Some(
            Reader::inside(&x)
                .expect(tag::OCTET_STRING, "eContent is not an OCTET STRING")?
                .content,
        ),
        None => None,
    };
    let mut certificates = Vec::new();
    if let Some(certs) = s.optional(tag::ctx(0))? {
        let mut c = Reader::inside(&certs);
        while !c.is_empty() {
            let cert = c.read()?;
            if cert.tag == tag::SEQUENCE {
                certificates.push(cert.raw);
            }
        }
    }
    // crls [1] IMPLICIT — skipped.
    s.optional(tag::ctx(1))?;
    let infos = s.expect(tag::SET, "SignedData has no signerInfos")?;
    let mut i = Reader::inside(&infos);
    let first = i.expect(tag::SEQUENCE, "SignerInfo is not a SEQUENCE")?;
    let mut signer_count = 1;
    while !i.is_empty() {
        i.read()?;
        signer_count += 1;
    }
    let signer = parse_signer_info(&first)?;
    Ok(SignedData {
        certificates,
        econtent,
        signer,
        signer_count,
    })
}

fn parse_signer_info<'a>(si: &Element<'a>) -> Result<SignerInfo<'a>> {
    let mut r = Reader::inside(si);
    r.expect(tag::INTEGER, "SignerInfo has no version")?;
    let sid_el = r.read()?;
    let sid = match sid_el.tag {
        tag::SEQUENCE => {
            let mut x = Reader::inside(&sid_el);
            let issuer = x.expect(tag::SEQUENCE, "issuer is not a Name")?.raw;
            let serial = x
                .expect(tag::INTEGER, "serialNumber is not an INTEGER")?
                .content;
            SignerId::IssuerSerial { issuer, serial }
        }
        t if t == tag::ctx_prim(0) => SignerId::SubjectKeyId(sid_el.content),
        _ => return Err(der_err(sid_el.offset, "unknown SignerIdentifier")),
    };
    let dalg = r.expect(tag::SEQUENCE, "SignerInfo has no digestAlgorithm")?;
    let doid = Reader::inside(&dalg).expect(tag::OID, "digestAlgorithm has no OID")?;
    let digest_algorithm = DigestAlgorithm::from_oid(doid.content);
    let mut signed_attrs_raw = None;
    let mut signed_attrs = Vec::new();
    if let Some(attrs) = r.optional(tag::ctx(0))? {
        signed_attrs_raw = Some(attrs.raw);
        let mut a = Reader::inside(&attrs);
        while !a.is_empty() {
            let attr = a.expect(tag::SEQUENCE, "Attribute is not a SEQUENCE")?;
            let mut ar = Reader::inside(&attr);
            let o = ar.expect(tag::OID, "Attribute has no type")?;
            let vals = ar.expect(tag::SET, "Attribute has no values")?;
            let mut vr = Reader::inside(&vals);
            let mut values = Vec::new();
            while !vr.is_empty() {
                values.push(vr.read()?);
            }
            signed_attrs.push((o.content, values));
        }
    }
    let salg = r.expect(tag::SEQUENCE, "SignerInfo has no signatureAlgorithm")?;
    let mut sr = Reader::inside(&salg);
    let soid = sr.expect(tag::OID, "signatureAlgorithm has no OID")?;
    let signature_params = if sr.is_empty() {
        None
    } else {
        Some(sr.read()?.raw)
    };
    let signature = r
        .expect(tag::OCTET_STRING, "SignerInfo has no signature")?
        .content;
    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attrs_raw,
        signed_attrs,
        signature_algorithm: soid.content,
        signature_params,
        signature,
    })
}

fn der_err(offset: usize, what: &'static str) -> Error {
    Error::Der { offset, what }
}
