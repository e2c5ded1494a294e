//! The signer's certificate path: from the signer certificate through the certificates of the
//! CMS to a trust anchor (RFC 5280 §6, as much of it as a document verifier needs).
//!
//! The signer certificate itself:
//! - key usage, when present, allows digitalSignature or nonRepudiation;
//! - extended key usage, when present, allows document signing: emailProtection,
//!   id-kp-documentSigning (RFC 9336), Adobe Authentic Documents Trust, Microsoft document
//!   signing, or anyExtendedKeyUsage;
//! - a trust anchor itself (byte for byte) is trusted directly; otherwise a path is searched.
//!
//! Every link (a certificate and the certificate whose key signed it):
//! - the signature algorithm is one of RSA PKCS#1 v1.5 or RSASSA-PSS with SHA-256/384/512,
//!   ECDSA with SHA-256/384/512, or Ed25519; SHA-1, MD5, MD2, MD4 and anything else are
//!   INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, with the certificate named;
//! - the signing key is RSA of 2048 to 8192 bits, ECDSA on P-256, P-384 or P-521, or Ed25519
//!   (the same rule applies to the signer's own key). A trust anchor's key counts too, since it
//!   signs the first link; a trust anchor's own self-signature is never looked at;
//! - the issuer (an intermediate or a trust anchor) is a CA: basicConstraints cA set, keyUsage
//!   (if present) includes keyCertSign, its pathLenConstraint is not smaller than the number
//!   of intermediate certificates below it, and its extended key usage (if present) allows
//!   document signing;
//! - each certificate is valid at the claimed signing time and at the validation time.
//!
//! Every certificate of the path (signer, intermediates and the trust anchor that ends it) must
//! not carry a critical extension this verifier does not process (name constraints, policy
//! constraints, certificate policies, any unknown OID), an extension twice, or a malformed
//! basicConstraints, keyUsage or extendedKeyUsage.
//!
//! Bounded work: a CMS with more than [`MAX_CMS_CERTIFICATES`] certificates is refused before
//! any is read; duplicates are dropped; a path has at most [`MAX_PATH_LEN`] certificates and
//! never uses one twice (no loops, and the signer cannot issue itself); the search backtracks
//! over issuers of the same name (cross-certificates, renewed CAs) but verifies at most
//! [`MAX_SIGNATURE_CHECKS`] certificate signatures in all.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::extensions::{ExtendedKeyUsage, ParsedExtension};
use x509_parser::prelude::X509Certificate;
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{Indication, SubIndication};
use crate::cms::parse_cert;
use crate::time::UnixTime;

/// Most certificates a signature's CMS may carry; more is refused before any is parsed.
pub const MAX_CMS_CERTIFICATES: usize = 32;
/// Longest certificate path, signer and trust anchor included.
pub const MAX_PATH_LEN: usize = 8;
/// Most certificate signatures verified while searching for a path.
pub const MAX_SIGNATURE_CHECKS: usize = 64;
/// Smallest RSA modulus accepted in the chain, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted in the chain, in bits (what the verification library supports).
pub const MAX_RSA_BITS: usize = 8192;

/// Extended key usages that allow signing documents, with their names.
const DOCUMENT_EKUS: [(&str, &str); 4] = [
    ("1.3.6.1.5.5.7.3.36", "id-kp-documentSigning"),
    ("1.2.840.113583.1.1.5", "Adobe Authentic Documents Trust"),
    ("1.3.6.1.4.1.311.10.3.12", "Microsoft document signing"),
    // emailProtection and anyExtendedKeyUsage are parsed into flags by x509-parser.
    ("1.3.6.1.5.5.7.3.4", "emailProtection"),
];

/// Extensions this module processes (or that impose nothing to process); any other critical
/// extension fails the chain.
const UNDERSTOOD: [(&str, &str); 6] = [
    ("2.5.29.19", "basicConstraints"),
    ("2.5.29.15", "keyUsage"),
    ("2.5.29.37", "extendedKeyUsage"),
    ("2.5.29.17", "subjectAltName"),
    ("2.5.29.14", "subjectKeyIdentifier"),
    ("2.5.29.35", "authorityKeyIdentifier"),
];

/// Names of extensions that are known but not processed, for the messages.
const NOT_PROCESSED: [(&str, &str); 6] = [
    ("2.5.29.30", "nameConstraints"),
    ("2.5.29.36", "policyConstraints"),
    ("2.5.29.32", "certificatePolicies"),
    ("2.5.29.33", "policyMappings"),
    ("2.5.29.54", "inhibitAnyPolicy"),
    ("2.5.29.18", "issuerAltName"),
];

/// Why the chain was not accepted.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) indication: Indication,
    pub(super) sub: SubIndication,
    /// The name of the check (as in the report's checks).
    pub(super) check: &'static str,
    pub(super) detail: String,
}

fn failure(sub: SubIndication, check: &'static str, detail: String) -> Failure {
    let indication = if sub == SubIndication::NotYetValid {
        Indication::TotalFailed
    } else {
        Indication::Indeterminate
    };
    Failure {
        indication,
        sub,
        check,
        detail,
    }
}

fn crypto(detail: String) -> Failure {
    failure(SubIndication::CryptoConstraintsFailure, "chain", detail)
}

fn constraint(detail: String) -> Failure {
    failure(SubIndication::ChainConstraintsFailure, "chain", detail)
}

fn no_chain(detail: String) -> Failure {
    failure(SubIndication::NoCertificateChainFound, "chain", detail)
}

/// Check the signer certificate and find a path from it to one of `anchors` (DER) through the
/// CMS `certificates`. `Ok` holds the path for the report.
pub(super) fn check<'a>(
    signer_der: &'a [u8],
    signer: &X509Certificate<'a>,
    certificates: &[&'a [u8]],
    anchors: &'a [Vec<u8>],
    now: UnixTime,
    claimed: Option<UnixTime>,
) -> Result<String, Failure> {
    signer_usage(signer)?;
    extensions(signer, "the signer certificate")?;
    key_strength(signer, "the signer certificate")?;
    validity(signer, now, claimed)?;
    if anchors.iter().any(|a| a.as_slice() == signer_der) {
        return Ok(format!("trusted: {} (a trust anchor)", name(signer)));
    }
    if certificates.len() > MAX_CMS_CERTIFICATES {
        return Err(failure(
            SubIndication::FormatFailure,
            "chain",
            format!(
                "the CMS carries {} certificates; at most {MAX_CMS_CERTIFICATES} are accepted",
                certificates.len()
            ),
        ));
    }
    // Node 0 is the signer; then the trust anchors; then the other CMS certificates, each once.
    let mut nodes = vec![Node {
        cert: signer.clone(),
        anchor: false,
    }];
    for der in anchors {
        if let Ok(cert) = parse_cert(der, 0) {
            nodes.push(Node { cert, anchor: true });
        }
    }
    for (i, der) in certificates.iter().enumerate() {
        let seen = *der == signer_der
            || certificates[..i].contains(der)
            || anchors.iter().any(|a| a.as_slice() == *der);
        if seen {
            continue;
        }
        if let Ok(cert) = parse_cert(der, i) {
            nodes.push(Node {
                cert,
                anchor: false,
            });
        }
    }
    let mut search = Search {
        nodes: &nodes,
        now,
        claimed,
        signature_checks: 0,
        exhausted: false,
        reason: None,
    };
    let mut path = vec![0];
    if search.extend(&mut path) {
        let names: Vec<String> = path.iter().map(|&i| name(&nodes[i].cert)).collect();
        Ok(format!("trusted: {}", names.join(" <- ")))
    } else {
        let cut_short = || {
            no_chain(format!(
                "no trust anchor reached within {MAX_SIGNATURE_CHECKS} certificate signature checks"
            ))
        };
        Err(match search.reason {
            // That the search was cut short says more than a plain "no chain" on the way.
            Some(r) if search.exhausted && r.sub == SubIndication::NoCertificateChainFound => {
                cut_short()
            }
            Some(r) => r,
            None if search.exhausted => cut_short(),
            None => no_chain(format!("no trust anchor issued {}", name(signer))),
        })
    }
}

struct Node<'a> {
    cert: X509Certificate<'a>,
    anchor: bool,
}

struct Search<'n, 'a> {
    nodes: &'n [Node<'a>],
    now: UnixTime,
    claimed: Option<UnixTime>,
    signature_checks: usize,
    /// The search stopped at [`MAX_SIGNATURE_CHECKS`].
    exhausted: bool,
    /// The most telling reason found so far why a path failed.
    reason: Option<Failure>,
}

impl Search<'_, '_> {
    /// Keep the first failure that says more than "no chain" (a constraint, an algorithm, a
    /// validity period), else the first "no chain".
    fn note(&mut self, f: Failure) {
        let better = match &self.reason {
            None => true,
            Some(old) => {
                old.sub == SubIndication::NoCertificateChainFound
                    && f.sub != SubIndication::NoCertificateChainFound
            }
        };
        if better {
            self.reason = Some(f);
        }
    }

    /// Extend `path` (node indices, signer first, never a trust anchor last) up to a trust
    /// anchor; on `false`, `path` is as it was.
    fn extend(&mut self, path: &mut Vec<usize>) -> bool {
        let Some(&last) = path.last() else {
            return false;
        };
        let child = &self.nodes[last].cert;
        let alg = match certificate_signature(child) {
            Ok(alg) => alg,
            Err(f) => {
                self.note(f);
                return false;
            }
        };
        let (mut named, mut looped) = (false, false);
        for (i, node) in self.nodes.iter().enumerate() {
            if node.cert.subject().as_raw() != child.issuer().as_raw() {
                continue;
            }
            if path.contains(&i) {
                looped = true;
                continue;
            }
            named = true;
            if path.len() >= MAX_PATH_LEN {
                self.note(no_chain(format!(
                    "no path of at most {MAX_PATH_LEN} certificates reaches a trust anchor"
                )));
                return false;
            }
            if self.signature_checks >= MAX_SIGNATURE_CHECKS {
                self.exhausted = true;
                return false;
            }
            self.signature_checks += 1;
            // Intermediate certificates below this issuer: the path without the signer.
            if let Err(f) = link(child, alg, node, path.len() - 1, self.now, self.claimed) {
                self.note(f);
                continue;
            }
            path.push(i);
            if node.anchor || self.extend(path) {
                return true;
            }
            path.pop();
        }
        if !named {
            let names: Vec<String> = path.iter().map(|&i| name(&self.nodes[i].cert)).collect();
            let why = if child.subject().as_raw() == child.issuer().as_raw() {
                format!("{} is self-issued and is not a trust anchor", name(child))
            } else if looped {
                format!(
                    "the chain loops back to {}, and no trust anchor issued it",
                    child.issuer()
                )
            } else {
                format!("no trust anchor issued {}", child.issuer())
            };
            self.note(no_chain(format!("{why} (chain: {})", names.join(" <- "))));
        }
        false
    }
}

/// Is `issuer` the issuer of `child` (signed with `alg`), and may it be, with `below`
/// intermediate certificates under it in this path?
fn link(
    child: &X509Certificate<'_>,
    alg: CertAlg,
    issuer: &Node<'_>,
    below: usize,
    now: UnixTime,
    claimed: Option<UnixTime>,
) -> Result<(), Failure> {
    let what = if issuer.anchor {
        "the trust anchor"
    } else {
        "the intermediate certificate"
    };
    let cert = &issuer.cert;
    key_strength(cert, what)?;
    let verification = verification(alg, cert.public_key()).ok_or_else(|| {
        no_chain(format!(
            "{} is signed with {}, which the key of {} cannot make",
            name(child),
            alg.name(),
            name(cert)
        ))
    })?;
    crate::pdf::budget::charge_signature_check(rsa_bits(cert.public_key()).unwrap_or(0))
        .map_err(|e| crypto(format!("not checked: {e}")))?;
    UnparsedPublicKey::new(verification, &cert.public_key().subject_public_key.data)
        .verify(child.tbs_certificate.as_ref(), &child.signature_value.data)
        .map_err(|_| {
            no_chain(format!(
                "the signature on {} does not verify with the key of {}",
                name(child),
                name(cert)
            ))
        })?;
    extensions(cert, what)?;
    ca_constraints(cert, below)?;
    validity(cert, now, claimed)
}

/// The signer certificate's key usage and extended key usage.
fn signer_usage(signer: &X509Certificate<'_>) -> Result<(), Failure> {
    let usage =
        |detail: String| failure(SubIndication::ChainConstraintsFailure, "key-usage", detail);
    match signer.key_usage() {
        Ok(Some(ku)) if !(ku.value.digital_signature() || ku.value.non_repudiation()) => {
            return Err(usage(
                "the signer certificate allows neither digitalSignature nor nonRepudiation".into(),
            ));
        }
        Ok(_) => {}
        Err(e) => {
            return Err(usage(format!(
                "the signer certificate's key usage does not read: {e}"
            )))
        }
    }
    let eku = |detail: String| {
        failure(
            SubIndication::ChainConstraintsFailure,
            "extended-key-usage",
            detail,
        )
    };
    match signer.extended_key_usage() {
        Ok(Some(e)) if !allows_documents(e.value) => Err(eku(format!(
            "the signer certificate's extended key usage allows only {}, not document signing",
            describe(e.value)
        ))),
        Ok(_) => Ok(()),
        Err(e) => Err(eku(format!(
            "the signer certificate's extended key usage does not read: {e}"
        ))),
    }
}

fn allows_documents(eku: &ExtendedKeyUsage<'_>) -> bool {
    eku.any
        || eku.email_protection
        || eku.other.iter().any(|o| {
            let o = o.to_id_string();
            DOCUMENT_EKUS.iter().any(|(oid, _)| *oid == o)
        })
}

fn describe(eku: &ExtendedKeyUsage<'_>) -> String {
    let flags = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    let mut names: Vec<String> = flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| (*n).to_string())
        .collect();
    names.extend(eku.other.iter().map(|o| {
        let o = o.to_id_string();
        match DOCUMENT_EKUS.iter().find(|(oid, _)| *oid == o) {
            Some((_, n)) => (*n).to_string(),
            None => o,
        }
    }));
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

/// The extensions of `cert` (`what` says which certificate it is): no duplicate, no malformed
/// extension this module reads, no critical extension it does not process.
fn extensions(cert: &X509Certificate<'_>, what: &str) -> Result<(), Failure> {
    if cert.extensions_map().is_err() {
        return Err(constraint(format!(
            "{what} {} carries the same extension twice",
            name(cert)
        )));
    }
    for e in cert.extensions() {
        let oid = e.oid.to_id_string();
        let understood = UNDERSTOOD.iter().find(|(o, _)| *o == oid);
        if let ParsedExtension::ParseError { .. } = e.parsed_extension() {
            if e.critical || understood.is_some() {
                return Err(constraint(format!(
                    "{what} {}: its {} extension is malformed",
                    name(cert),
                    extension_name(&oid)
                )));
            }
        }
        if e.critical && understood.is_none() {
            return Err(constraint(format!(
                "{what} {} carries the critical extension {}, which this verifier does not process",
                name(cert),
                extension_name(&oid)
            )));
        }
    }
    Ok(())
}

fn extension_name(oid: &str) -> String {
    match UNDERSTOOD
        .iter()
        .chain(NOT_PROCESSED.iter())
        .find(|(o, _)| *o == oid)
    {
        Some((_, n)) => format!("{n} ({oid})"),
        None => oid.to_string(),
    }
}

/// basicConstraints, keyUsage, pathLenConstraint and extended key usage of an issuer with
/// `below` intermediate certificates under it.
fn ca_constraints(cert: &X509Certificate<'_>, below: usize) -> Result<(), Failure> {
    let n = name(cert);
    let bc = cert
        .basic_constraints()
        .map_err(|e| constraint(format!("{n}: basicConstraints does not read: {e}")))?;
    let Some(bc) = bc.filter(|b| b.value.ca) else {
        return Err(constraint(format!(
            "{n} issues certificates but is not a CA (basicConstraints cA is not set)"
        )));
    };
    match cert.key_usage() {
        Ok(Some(ku)) if !ku.value.key_cert_sign() => {
            return Err(constraint(format!(
                "{n} issues certificates but its key usage does not include keyCertSign"
            )));
        }
        Ok(_) => {}
        Err(e) => return Err(constraint(format!("{n}: keyUsage does not read: {e}"))),
    }
    if let Some(limit) = bc.value.path_len_constraint {
        if u32::try_from(below).map_or(true, |b| b > limit) {
            return Err(constraint(format!(
                "{n} allows at most {limit} intermediate certificate(s) below it \
                 (pathLenConstraint), this path has {below}"
            )));
        }
    }
    match cert.extended_key_usage() {
        Ok(Some(e)) if !allows_documents(e.value) => Err(constraint(format!(
            "{n} is restricted to the extended key usage {}; it cannot issue document-signing \
             certificates",
            describe(e.value)
        ))),
        Ok(_) => Ok(()),
        Err(e) => Err(constraint(format!(
            "{n}: extendedKeyUsage does not read: {e}"
        ))),
    }
}

/// Validity at the claimed signing time (from `/M`: not proven, but a certificate that was not
/// valid even then cannot have made this signature in good standing) and at `now`.
fn validity(
    cert: &X509Certificate<'_>,
    now: UnixTime,
    claimed: Option<UnixTime>,
) -> Result<(), Failure> {
    let validity = cert.validity();
    let (from, to) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if let Some(t) = claimed {
        if t.0 < from {
            return Err(failure(
                SubIndication::NotYetValid,
                "chain",
                format!(
                    "{} was not yet valid at the claimed signing time {}",
                    cert.subject(),
                    t.rfc3339()
                ),
            ));
        }
        if t.0 > to {
            return Err(failure(
                SubIndication::OutOfBoundsNoPoe,
                "chain",
                format!(
                    "{} had expired at the claimed signing time {}",
                    cert.subject(),
                    t.rfc3339()
                ),
            ));
        }
    }
    if now.0 < from {
        return Err(failure(
            SubIndication::NotYetValid,
            "chain",
            format!(
                "{} is not valid before {}",
                cert.subject(),
                validity.not_before
            ),
        ));
    }
    if now.0 > to {
        return Err(failure(
            SubIndication::OutOfBoundsNoPoe,
            "chain",
            format!(
                "{} expired on {} and there is no proof of existence before then",
                cert.subject(),
                validity.not_after
            ),
        ));
    }
    Ok(())
}

/// Hash functions accepted in certificate signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// Certificate signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertAlg {
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ecdsa(Hash),
    Ed25519,
}

impl CertAlg {
    fn name(self) -> &'static str {
        match self {
            Self::RsaPkcs1(Hash::Sha256) => "sha256WithRSAEncryption",
            Self::RsaPkcs1(Hash::Sha384) => "sha384WithRSAEncryption",
            Self::RsaPkcs1(Hash::Sha512) => "sha512WithRSAEncryption",
            Self::RsaPss(Hash::Sha256) => "RSASSA-PSS with SHA-256",
            Self::RsaPss(Hash::Sha384) => "RSASSA-PSS with SHA-384",
            Self::RsaPss(Hash::Sha512) => "RSASSA-PSS with SHA-512",
            Self::Ecdsa(Hash::Sha256) => "ecdsa-with-SHA256",
            Self::Ecdsa(Hash::Sha384) => "ecdsa-with-SHA384",
            Self::Ecdsa(Hash::Sha512) => "ecdsa-with-SHA512",
            Self::Ed25519 => "Ed25519",
        }
    }
}

const SHA1_OID: &str = "1.3.14.3.2.26";

fn hash_of(oid: &str) -> Option<Hash> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Some(Hash::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(Hash::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(Hash::Sha512),
        _ => None,
    }
}

/// Signature algorithms refused by name: (OID, name, why).
const WEAK: [(&str, &str, &str); 9] = [
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption", SHA1_WHY),
    ("1.3.14.3.2.29", "sha1WithRSASignature", SHA1_WHY),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1", SHA1_WHY),
    ("1.2.840.10040.4.3", "dsa-with-sha1", SHA1_WHY),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption", MD5_WHY),
    ("1.3.14.3.2.3", "md5WithRSA", MD5_WHY),
    (
        "1.2.840.113549.1.1.2",
        "md2WithRSAEncryption",
        "MD2 is broken",
    ),
    (
        "1.2.840.113549.1.1.3",
        "md4WithRSAEncryption",
        "MD4 is broken",
    ),
    (
        "1.2.840.113549.1.1.14",
        "sha224WithRSAEncryption",
        "SHA-224 is not accepted",
    ),
];
const SHA1_WHY: &str = "SHA-1 is not accepted (collisions are practical)";
const MD5_WHY: &str = "MD5 is not accepted (collisions are trivial)";

/// The algorithm `cert` is signed with, if accepted.
fn certificate_signature(cert: &X509Certificate<'_>) -> Result<CertAlg, Failure> {
    let n = name(cert);
    let alg = &cert.signature_algorithm;
    if cert.tbs_certificate.signature != *alg {
        return Err(crypto(format!(
            "{n}: the signature algorithm inside the certificate differs from the one outside"
        )));
    }
    let oid = alg.algorithm.to_id_string();
    if let Some((_, alg_name, why)) = WEAK.iter().find(|(o, _, _)| *o == oid) {
        return Err(crypto(format!("{n} is signed with {alg_name}: {why}")));
    }
    let accepted = match oid.as_str() {
        "1.2.840.113549.1.1.11" => Some(CertAlg::RsaPkcs1(Hash::Sha256)),
        "1.2.840.113549.1.1.12" => Some(CertAlg::RsaPkcs1(Hash::Sha384)),
        "1.2.840.113549.1.1.13" => Some(CertAlg::RsaPkcs1(Hash::Sha512)),
        "1.2.840.10045.4.3.2" => Some(CertAlg::Ecdsa(Hash::Sha256)),
        "1.2.840.10045.4.3.3" => Some(CertAlg::Ecdsa(Hash::Sha384)),
        "1.2.840.10045.4.3.4" => Some(CertAlg::Ecdsa(Hash::Sha512)),
        "1.3.101.112" => Some(CertAlg::Ed25519),
        "1.2.840.113549.1.1.10" => {
            let params = alg
                .parameters
                .as_ref()
                .and_then(|p| RsaSsaPssParams::try_from(p).ok())
                .ok_or_else(|| {
                    crypto(format!(
                        "{n} is signed with RSASSA-PSS without readable parameters"
                    ))
                })?;
            let hash = params.hash_algorithm_oid().to_id_string();
            if hash == SHA1_OID {
                return Err(crypto(format!(
                    "{n} is signed with RSASSA-PSS using SHA-1: {SHA1_WHY}"
                )));
            }
            let mgf_hash = params
                .mask_gen_algorithm()
                .ok()
                .map(|m| m.hash.to_id_string());
            match hash_of(&hash) {
                Some(h) if mgf_hash.as_deref() == Some(hash.as_str()) => Some(CertAlg::RsaPss(h)),
                _ => None,
            }
        }
        _ => None,
    };
    accepted.ok_or_else(|| {
        crypto(format!(
            "{n} is signed with the algorithm {oid}, which is not accepted"
        ))
    })
}

const RSA_KEY: &str = "1.2.840.113549.1.1.1";
const EC_KEY: &str = "1.2.840.10045.2.1";
const ED25519_KEY: &str = "1.3.101.112";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const P521: &str = "1.3.132.0.35";

/// The curve of an EC key, as an OID string.
fn curve(spki: &SubjectPublicKeyInfo<'_>) -> Option<String> {
    spki.algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
}

/// Bits of an RSA key's modulus, leading zeros not counted.
pub(super) fn rsa_bits(spki: &SubjectPublicKeyInfo<'_>) -> Option<usize> {
    match spki.parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(k) => {
            let m = k.modulus;
            let start = m.iter().position(|&b| b != 0)?;
            let top = 8 - m[start].leading_zeros() as usize;
            Some((m.len() - start - 1) * 8 + top)
        }
        _ => None,
    }
}

/// `cert`'s own key is of an accepted type and size.
pub(super) fn key_strength(cert: &X509Certificate<'_>, what: &str) -> Result<(), Failure> {
    let spki = cert.public_key();
    let n = name(cert);
    match spki.algorithm.algorithm.to_id_string().as_str() {
        RSA_KEY => match rsa_bits(spki) {
            Some(bits) if bits < MIN_RSA_BITS => Err(crypto(format!(
                "{what} {n} has an RSA-{bits} key; at least {MIN_RSA_BITS} bits are required"
            ))),
            Some(bits) if bits > MAX_RSA_BITS => Err(crypto(format!(
                "{what} {n} has an RSA-{bits} key; at most {MAX_RSA_BITS} bits are supported"
            ))),
            Some(_) => Ok(()),
            None => Err(crypto(format!("{what} {n}: its RSA key does not read"))),
        },
        EC_KEY => match curve(spki).as_deref() {
            Some(P256 | P384 | P521) => Ok(()),
            Some(other) => Err(crypto(format!(
                "{what} {n} has an EC key on the curve {other}; only P-256, P-384 and P-521 are accepted"
            ))),
            None => Err(crypto(format!(
                "{what} {n} has an EC key without a named curve"
            ))),
        },
        ED25519_KEY => Ok(()),
        other => Err(crypto(format!(
            "{what} {n} has a key of the algorithm {other}, which is not accepted"
        ))),
    }
}

/// The verification algorithm for `alg` with the issuer key `spki`, if they fit together.
fn verification(
    alg: CertAlg,
    spki: &SubjectPublicKeyInfo<'_>,
) -> Option<&'static dyn VerificationAlgorithm> {
    let key = spki.algorithm.algorithm.to_id_string();
    Some(match (alg, key.as_str()) {
        (CertAlg::RsaPkcs1(h), RSA_KEY) => match h {
            Hash::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        },
        (CertAlg::RsaPss(h), RSA_KEY) => match h {
            Hash::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
            Hash::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
            Hash::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
        },
        (CertAlg::Ecdsa(h), EC_KEY) => match (curve(spki).as_deref()?, h) {
            (P256, Hash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (P256, Hash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (P256, Hash::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (P384, Hash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (P384, Hash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (P384, Hash::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (P521, Hash::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (P521, Hash::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (P521, Hash::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
            _ => return None,
        },
        (CertAlg::Ed25519, ED25519_KEY) => &signature::ED25519,
        _ => return None,
    })
}

/// A certificate's name for messages: its subject.
fn name(cert: &X509Certificate<'_>) -> String {
    let s = cert.subject().to_string();
    if s.is_empty() {
        "(a certificate with an empty subject)".into()
    } else {
        s
    }
}
