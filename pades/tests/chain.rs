//! The signer's certificate chain: accepted algorithms and key sizes, extended key usage, CA
//! constraints, critical extensions, and the bounds of the path search. One test per rule.
//!
//! Certificates rcgen cannot make (SHA-1 and MD5 signatures, RSA-1024 and secp256k1 keys) are
//! fixtures under `tests/chain/`, made once by `tests/chain/generate.sh`; the rest is made here
//! with rcgen. Every signer certificate, fixture or not, is for the same test-only throwaway
//! RSA-2048 key `tests/chain/throwaway-signer-key.pk8.der`.

use pades::testing::synthetic_pdf;
use pades::verify::SignatureReport;
use pades::{
    verify, Indication, RsaKeySigner, SignatureAlgorithm, SignatureRequest, SignerIdentity,
    SubIndication, UnixTime, VerifyOptions,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PKCS_ECDSA_P256_SHA256,
};

/// 2027-06-01: inside the validity of every certificate here.
const NOW: UnixTime = UnixTime(1_811_808_000);

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("chain/", $name, ".der")).to_vec()
    };
}

const SIGNER_KEY: &[u8] = include_bytes!("chain/throwaway-signer-key.pk8.der");

fn signer_key() -> KeyPair {
    KeyPair::try_from(SIGNER_KEY).expect("the throwaway signer key")
}

/// Sign a small PDF with the throwaway key; `chain` is the signer certificate and the other
/// certificates to put into the CMS (self-signed ones are left out by `SignerIdentity`).
fn sign_and_verify(chain: Vec<Vec<u8>>, anchors: Vec<Vec<u8>>) -> SignatureReport {
    let signer =
        RsaKeySigner::from_der(SIGNER_KEY, SignatureAlgorithm::RsaPkcs1Sha256).expect("signer");
    let identity = SignerIdentity::new(chain).expect("identity");
    let pdf = synthetic_pdf(1, 10);
    let signed = pades::sign(&pdf, &SignatureRequest::new(NOW), &signer, &identity)
        .expect("sign")
        .to_vec();
    let report = verify(
        &signed,
        &VerifyOptions {
            trust_anchors: anchors,
            time: NOW,
        },
    )
    .expect("reads");
    assert_eq!(report.signatures.len(), 1);
    report.signatures.into_iter().next().expect("one")
}

#[track_caller]
fn assert_passes(r: &SignatureReport) {
    assert_eq!(r.indication, Indication::TotalPassed, "{r:#?}");
}

#[track_caller]
fn assert_fails(r: &SignatureReport, sub: SubIndication, needles: &[&str]) {
    assert_eq!(r.indication, Indication::Indeterminate, "{r:#?}");
    assert_eq!(r.sub_indication, Some(sub), "{r:#?}");
    for n in needles {
        assert!(
            r.reason.contains(n),
            "the reason should name {n:?}: {}",
            r.reason
        );
    }
}

// --- Certificates made with rcgen --------------------------------------------------------

type Ca = CertifiedIssuer<'static, KeyPair>;

fn params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "Segel Test");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = rcgen::date_time_ymd(2026, 1, 1);
    p.not_after = rcgen::date_time_ymd(2030, 1, 1);
    p
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = params(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn ec_key() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("EC key")
}

fn root(p: CertificateParams) -> Ca {
    CertifiedIssuer::self_signed(p, ec_key()).expect("root")
}

fn issue_ca(p: CertificateParams, by: &Ca) -> Ca {
    CertifiedIssuer::signed_by(p, ec_key(), by).expect("CA")
}

fn signer_params() -> CertificateParams {
    let mut p = params("Chain Test Signer");
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    p
}

fn issue_signer(p: &CertificateParams, by: &Issuer<'_, impl rcgen::SigningKey>) -> Vec<u8> {
    p.signed_by(&signer_key(), by)
        .expect("signer")
        .der()
        .to_vec()
}

fn der(ca: &Ca) -> Vec<u8> {
    ca.der().to_vec()
}

/// Root -> intermediate -> signer, the signer made from `signer`.
fn three_levels(signer: &CertificateParams) -> SignatureReport {
    let root = root(ca_params("Test Root"));
    let inter = issue_ca(ca_params("Test Intermediate"), &root);
    let s = issue_signer(signer, &inter);
    sign_and_verify(vec![s, der(&inter)], vec![der(&root)])
}

// --- Algorithms and key sizes --------------------------------------------------------------

#[test]
fn sha1_signed_signer_certificate_is_crypto_constraints_failure() {
    let r = sign_and_verify(vec![fixture!("sha1-signer")], vec![fixture!("root")]);
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["Chain Test Signer", "sha1WithRSAEncryption", "SHA-1"],
    );
}

#[test]
fn md5_signed_signer_certificate_is_crypto_constraints_failure() {
    let r = sign_and_verify(vec![fixture!("md5-signer")], vec![fixture!("root")]);
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["Chain Test Signer", "md5WithRSAEncryption", "MD5"],
    );
}

#[test]
fn pss_sha1_signed_signer_certificate_is_crypto_constraints_failure() {
    let r = sign_and_verify(vec![fixture!("pss-sha1-signer")], vec![fixture!("root")]);
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["Chain Test Signer", "RSASSA-PSS", "SHA-1"],
    );
}

/// RSA PKCS#1 v1.5 (SHA-256, SHA-512), RSASSA-PSS (SHA-256), ECDSA P-256 and P-384, Ed25519:
/// each signs both links of a three-level chain that passes.
#[test]
fn every_accepted_certificate_algorithm_passes() {
    assert_passes(&sign_and_verify(
        vec![fixture!("pss-sha256-signer")],
        vec![fixture!("root")],
    ));
    let algorithms: [(&str, &rcgen::SignatureAlgorithm); 5] = [
        ("RSA SHA-256", &rcgen::PKCS_RSA_SHA256),
        ("RSA SHA-512", &rcgen::PKCS_RSA_SHA512),
        ("ECDSA P-256", &rcgen::PKCS_ECDSA_P256_SHA256),
        ("ECDSA P-384", &rcgen::PKCS_ECDSA_P384_SHA384),
        ("Ed25519", &rcgen::PKCS_ED25519),
    ];
    for (what, alg) in algorithms {
        let key = || {
            if alg == &rcgen::PKCS_RSA_SHA256 || alg == &rcgen::PKCS_RSA_SHA512 {
                KeyPair::generate_rsa_for(alg, rcgen::RsaKeySize::_2048)
            } else {
                KeyPair::generate_for(alg)
            }
            .expect("key")
        };
        let root = CertifiedIssuer::self_signed(ca_params("Alg Root"), key()).expect("root");
        let inter =
            CertifiedIssuer::signed_by(ca_params("Alg Intermediate"), key(), &root).expect("CA");
        let s = issue_signer(&signer_params(), &inter);
        let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root)]);
        assert_eq!(r.indication, Indication::TotalPassed, "{what}: {r:#?}");
    }
}

#[test]
fn sha1_signed_intermediate_is_crypto_constraints_failure() {
    let r = sign_and_verify(
        vec![
            fixture!("sha1-intermediate-signer"),
            fixture!("sha1-intermediate"),
        ],
        vec![fixture!("root")],
    );
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["CN=sha1-intermediate", "SHA-1"],
    );
}

#[test]
fn rsa_1024_intermediate_is_crypto_constraints_failure() {
    let r = sign_and_verify(
        vec![
            fixture!("rsa1024-intermediate-signer"),
            fixture!("rsa1024-intermediate"),
        ],
        vec![fixture!("root")],
    );
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["CN=rsa1024-intermediate", "RSA-1024", "2048"],
    );
}

/// A trust anchor whose RSA-1024 key signs the chain: the chain rests on a breakable key.
#[test]
fn rsa_1024_trust_anchor_is_crypto_constraints_failure() {
    let r = sign_and_verify(
        vec![fixture!("rsa1024-root-signer")],
        vec![fixture!("rsa1024-root")],
    );
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["trust anchor", "CN=rsa1024-root", "RSA-1024"],
    );
}

#[test]
fn weak_or_unknown_curve_is_crypto_constraints_failure() {
    let r = sign_and_verify(
        vec![
            fixture!("secp256k1-intermediate-signer"),
            fixture!("secp256k1-intermediate"),
        ],
        vec![fixture!("root")],
    );
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["CN=secp256k1-intermediate", "1.3.132.0.10", "P-256"],
    );
}

#[test]
fn unknown_signature_algorithm_is_crypto_constraints_failure() {
    let r = sign_and_verify(
        vec![
            fixture!("ecdsa-sha224-signer"),
            fixture!("p256-intermediate"),
        ],
        vec![fixture!("root")],
    );
    assert_fails(
        &r,
        SubIndication::CryptoConstraintsFailure,
        &["Chain Test Signer", "1.2.840.10045.4.3.1", "not accepted"],
    );
}

#[test]
fn sha1_self_signed_trust_anchor_signature_does_not_matter() {
    let r = sign_and_verify(
        vec![
            fixture!("sha1-root-signer"),
            fixture!("sha1-root-intermediate"),
        ],
        vec![fixture!("sha1-root")],
    );
    assert_passes(&r);
}

// --- Extended key usage --------------------------------------------------------------------

#[test]
fn tls_server_only_eku_cannot_sign_documents() {
    let mut p = signer_params();
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let r = three_levels(&p);
    assert_fails(&r, SubIndication::ChainConstraintsFailure, &["serverAuth"]);
    assert!(
        r.checks
            .iter()
            .any(|c| c.name == "extended-key-usage" && !c.passed),
        "{r:#?}"
    );
}

#[test]
fn eku_without_a_document_signing_purpose_cannot_sign_documents() {
    let mut p = signer_params();
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::CodeSigning,
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 99_999, 7]),
    ];
    let r = three_levels(&p);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["clientAuth", "codeSigning", "1.3.6.1.4.1.99999.7"],
    );
}

#[test]
fn each_document_signing_eku_passes() {
    let allowed = [
        ("emailProtection", ExtendedKeyUsagePurpose::EmailProtection),
        (
            "id-kp-documentSigning",
            ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36]),
        ),
        (
            "Adobe Authentic Documents Trust",
            ExtendedKeyUsagePurpose::Other(vec![1, 2, 840, 113_583, 1, 1, 5]),
        ),
        (
            "Microsoft document signing",
            ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 311, 10, 3, 12]),
        ),
        ("anyExtendedKeyUsage", ExtendedKeyUsagePurpose::Any),
    ];
    for (what, eku) in allowed {
        let mut p = signer_params();
        // Next to a purpose that does not allow documents: one allowed purpose is enough.
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, eku];
        let r = three_levels(&p);
        assert_eq!(r.indication, Indication::TotalPassed, "{what}: {r:#?}");
    }
}

#[test]
fn signer_key_usage_must_allow_signing() {
    let mut p = signer_params();
    p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    let r = three_levels(&p);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["digitalSignature", "nonRepudiation"],
    );
}

#[test]
fn intermediate_restricted_to_tls_cannot_issue_document_signers() {
    let root = root(ca_params("Test Root"));
    let mut ip = ca_params("TLS Intermediate");
    ip.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let inter = issue_ca(ip, &root);
    let s = issue_signer(&signer_params(), &inter);
    let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["TLS Intermediate", "serverAuth"],
    );
}

// --- CA constraints ------------------------------------------------------------------------

#[test]
fn normal_three_level_chain_passes() {
    let r = three_levels(&signer_params());
    assert_passes(&r);
    let chain = r.checks.iter().find(|c| c.name == "chain").expect("chain");
    assert!(
        chain.detail.contains("Test Intermediate") && chain.detail.contains("Test Root"),
        "{chain:?}"
    );
}

#[test]
fn intermediate_without_ca_flag_fails() {
    for is_ca in [IsCa::NoCa, IsCa::ExplicitNoCa] {
        let root = root(ca_params("Test Root"));
        let mut ip = ca_params("Not A CA");
        ip.is_ca = is_ca;
        let inter = issue_ca(ip, &root);
        let s = issue_signer(&signer_params(), &inter);
        let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root)]);
        assert_fails(
            &r,
            SubIndication::ChainConstraintsFailure,
            &["Not A CA", "is not a CA"],
        );
    }
}

#[test]
fn trust_anchor_without_ca_flag_cannot_issue() {
    let mut rp = ca_params("Anchor Not A CA");
    rp.is_ca = IsCa::ExplicitNoCa;
    let root = root(rp);
    let s = issue_signer(&signer_params(), &root);
    let r = sign_and_verify(vec![s], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Anchor Not A CA", "is not a CA"],
    );
}

#[test]
fn intermediate_without_keycertsign_fails() {
    let root = root(ca_params("Test Root"));
    let mut ip = ca_params("No KeyCertSign");
    ip.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
    let inter = issue_ca(ip, &root);
    let s = issue_signer(&signer_params(), &inter);
    let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["No KeyCertSign", "keyCertSign"],
    );
}

#[test]
fn path_len_constraint_is_enforced() {
    // Root (pathLen 0) -> intermediate -> signer: one intermediate below a root allowing none.
    let mut rp = ca_params("Root PathLen 0");
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root0 = root(rp);
    let inter = issue_ca(ca_params("Test Intermediate"), &root0);
    let s = issue_signer(&signer_params(), &inter);
    let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root0)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Root PathLen 0", "pathLenConstraint"],
    );

    // Root -> A (pathLen 0) -> B -> signer: B below A, which allows none.
    let root = root(ca_params("Test Root"));
    let mut ap = ca_params("Intermediate PathLen 0");
    ap.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let a = issue_ca(ap, &root);
    let b = issue_ca(ca_params("Intermediate B"), &a);
    let s = issue_signer(&signer_params(), &b);
    let r = sign_and_verify(vec![s, der(&b), der(&a)], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Intermediate PathLen 0", "pathLenConstraint"],
    );

    // Root (pathLen 1) -> A (pathLen 0) -> signer: within both limits.
    let mut rp = ca_params("Root PathLen 1");
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    let root1 = self::root(rp);
    let mut ap = ca_params("Intermediate PathLen 0");
    ap.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let a = issue_ca(ap, &root1);
    let s = issue_signer(&signer_params(), &a);
    assert_passes(&sign_and_verify(vec![s, der(&a)], vec![der(&root1)]));
}

fn unknown_critical() -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99_999, 42], vec![5, 0]);
    e.set_criticality(true);
    e
}

#[test]
fn unknown_critical_extension_fails_the_chain() {
    // In the signer certificate.
    let mut p = signer_params();
    p.custom_extensions = vec![unknown_critical()];
    let r = three_levels(&p);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Chain Test Signer", "1.3.6.1.4.1.99999.42"],
    );

    // In an intermediate.
    let root = root(ca_params("Test Root"));
    let mut ip = ca_params("Odd Intermediate");
    ip.custom_extensions = vec![unknown_critical()];
    let inter = issue_ca(ip, &root);
    let s = issue_signer(&signer_params(), &inter);
    let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Odd Intermediate", "1.3.6.1.4.1.99999.42"],
    );

    // In the trust anchor that signs the chain.
    let mut rp = ca_params("Odd Root");
    rp.custom_extensions = vec![unknown_critical()];
    let odd = self::root(rp);
    let s = issue_signer(&signer_params(), &odd);
    let r = sign_and_verify(vec![s], vec![der(&odd)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Odd Root", "1.3.6.1.4.1.99999.42"],
    );

    // The same extension, not critical, is ignored.
    let mut p = signer_params();
    let mut e = unknown_critical();
    e.set_criticality(false);
    p.custom_extensions = vec![e];
    assert_passes(&three_levels(&p));
}

#[test]
fn name_constraints_fail_the_chain() {
    let root = root(ca_params("Test Root"));
    let mut ip = ca_params("Constrained Intermediate");
    ip.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("example.id".into())],
        excluded_subtrees: Vec::new(),
    });
    let inter = issue_ca(ip, &root);
    let s = issue_signer(&signer_params(), &inter);
    let r = sign_and_verify(vec![s, der(&inter)], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::ChainConstraintsFailure,
        &["Constrained Intermediate", "nameConstraints", "2.5.29.30"],
    );
}

// --- The path search and its bounds --------------------------------------------------------

/// A self-signed signer certificate that claims to be a CA is not its own issuer.
#[test]
fn signer_cannot_be_its_own_issuer() {
    let root = root(ca_params("Test Root"));
    let mut p = ca_params("Self Made Signer");
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    let key = signer_key();
    let s = p.self_signed(&key).expect("self-signed").der().to_vec();
    let r = sign_and_verify(vec![s], vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::NoCertificateChainFound,
        &["Self Made Signer is self-issued and is not a trust anchor"],
    );
}

/// A and B issue each other; neither is a trust anchor: the search ends without a chain.
#[test]
fn certificate_loops_end_without_a_chain() {
    let root = root(ca_params("Test Root"));
    let (ka, kb) = (ec_key(), ec_key());
    let (pa, pb) = (ca_params("Loop A"), ca_params("Loop B"));
    let a = pa
        .signed_by(&ka, &Issuer::from_params(&pb, &kb))
        .expect("A");
    let b = pb
        .signed_by(&kb, &Issuer::from_params(&pa, &ka))
        .expect("B");
    let s = issue_signer(&signer_params(), &Issuer::from_params(&pa, &ka));
    let r = sign_and_verify(
        vec![s, a.der().to_vec(), b.der().to_vec()],
        vec![der(&root)],
    );
    assert_fails(
        &r,
        SubIndication::NoCertificateChainFound,
        &["loops back to O=Segel Test, CN=Loop A"],
    );
}

#[test]
fn duplicate_certificates_in_the_pool_are_harmless() {
    let root = root(ca_params("Test Root"));
    let inter = issue_ca(ca_params("Test Intermediate"), &root);
    let s = issue_signer(&signer_params(), &inter);
    let mut chain = vec![s.clone(), s];
    chain.extend(std::iter::repeat_n(der(&inter), 20));
    assert_passes(&sign_and_verify(chain, vec![der(&root)]));
}

/// A path of 8 certificates (signer, 6 intermediates, anchor) is accepted; one more is not.
#[test]
fn chain_depth_is_limited() {
    let build = |intermediates: usize| {
        let root = root(ca_params("Deep Root"));
        let mut cas: Vec<Ca> = Vec::new();
        for i in 0..intermediates {
            let p = ca_params(&format!("Deep CA {i}"));
            let ca = issue_ca(p, cas.last().unwrap_or(&root));
            cas.push(ca);
        }
        let s = issue_signer(&signer_params(), cas.last().unwrap_or(&root));
        let mut chain = vec![s];
        chain.extend(cas.iter().rev().map(der));
        sign_and_verify(chain, vec![der(&root)])
    };
    assert_passes(&build(6));
    assert_fails(
        &build(7),
        SubIndication::NoCertificateChainFound,
        &["at most 8 certificates"],
    );
}

/// The same intermediate, cross-certified by an untrusted CA and by the trust anchor, with
/// the untrusted copy first: the search backs out of the dead end and finds the trusted path.
#[test]
fn cross_certified_intermediate_finds_the_trusted_path() {
    let trusted = root(ca_params("Trusted Root"));
    let other = root(ca_params("Other Root"));
    let key = ec_key();
    let ip = ca_params("Cross Intermediate");
    let by_other = ip.signed_by(&key, &other).expect("cross").der().to_vec();
    let by_trusted = ip.signed_by(&key, &trusted).expect("main").der().to_vec();
    let s = issue_signer(&signer_params(), &Issuer::from_params(&ip, &key));
    let r = sign_and_verify(vec![s, by_other, by_trusted], vec![der(&trusted)]);
    assert_passes(&r);
    let chain = r.checks.iter().find(|c| c.name == "chain").expect("chain");
    assert!(chain.detail.contains("Trusted Root"), "{chain:?}");
}

/// Decoys with the intermediate's name but other keys cost one signature check each and do
/// not hide the real issuer.
#[test]
fn decoy_issuers_with_the_same_name_do_not_hide_the_real_one() {
    let root = root(ca_params("Test Root"));
    let inter = issue_ca(ca_params("Test Intermediate"), &root);
    let s = issue_signer(&signer_params(), &inter);
    let mut chain = vec![s];
    for _ in 0..29 {
        chain.push(der(&issue_ca(ca_params("Test Intermediate"), &root)));
    }
    chain.push(der(&inter));
    assert_passes(&sign_and_verify(chain, vec![der(&root)]));
}

/// Two CA names, A and B, with many certificates each: every A certificate is issued by
/// (and verifies with) every B certificate and the other way round, and no trust anchor is
/// reachable. A search over every ordering would verify millions of signatures; it stops at
/// the budget and says so.
#[test]
fn path_search_work_is_bounded() {
    let root = root(ca_params("Test Root"));
    let (ka, kb) = (ec_key(), ec_key());
    let (pa, pb) = (ca_params("Maze A"), ca_params("Maze B"));
    let (as_a, as_b) = (Issuer::from_params(&pa, &ka), Issuer::from_params(&pb, &kb));
    let mut chain = vec![issue_signer(&signer_params(), &as_a)];
    for i in 0..31_u8 {
        // Each certificate differs by its serial number.
        let cert = if i % 2 == 0 {
            let mut p = pa.clone();
            p.serial_number = Some(rcgen::SerialNumber::from_slice(&[1, i]));
            p.signed_by(&ka, &as_b)
        } else {
            let mut p = pb.clone();
            p.serial_number = Some(rcgen::SerialNumber::from_slice(&[1, i]));
            p.signed_by(&kb, &as_a)
        };
        chain.push(cert.expect("maze certificate").der().to_vec());
    }
    let r = sign_and_verify(chain, vec![der(&root)]);
    assert_fails(
        &r,
        SubIndication::NoCertificateChainFound,
        &["within 64 certificate signature checks"],
    );
}

/// A CMS with 10,000 certificates is refused at once (the count is checked before any
/// certificate is read), not searched.
#[test]
fn ten_thousand_certificates_are_refused_not_searched() {
    let root = root(ca_params("Test Root"));
    let inter = issue_ca(ca_params("Test Intermediate"), &root);
    let s = issue_signer(&signer_params(), &inter);
    let mut chain = vec![s];
    chain.extend(std::iter::repeat_n(der(&inter), 9_999));
    let r = sign_and_verify(chain, vec![der(&root)]);
    assert_eq!(r.indication, Indication::Indeterminate, "{r:#?}");
    assert_eq!(r.sub_indication, Some(SubIndication::FormatFailure));
    assert!(
        r.reason.contains("10000 certificates") && r.reason.contains("at most 32"),
        "{}",
        r.reason
    );
}

/// 32 certificates is within the limit.
#[test]
fn thirty_two_certificates_are_accepted() {
    let root = root(ca_params("Test Root"));
    let inter = issue_ca(ca_params("Test Intermediate"), &root);
    let s = issue_signer(&signer_params(), &inter);
    let mut chain = vec![s];
    chain.extend(std::iter::repeat_n(der(&inter), 31));
    assert_passes(&sign_and_verify(chain, vec![der(&root)]));
}

/// A signer certificate with an RSA-1024 key: a crypto constraint, not a broken signature (the
/// CMS is signed with another key here, which must not turn the verdict into TOTAL-FAILED).
#[test]
fn rsa_1024_signer_key_is_crypto_constraints_failure() {
    use pades::Signer as _;
    let weak = fixture!("rsa1024-intermediate");
    let identity = SignerIdentity::new(vec![weak.clone()]).expect("identity");
    let signer =
        RsaKeySigner::from_der(SIGNER_KEY, SignatureAlgorithm::RsaPkcs1Sha256).expect("signer");
    let pdf = synthetic_pdf(1, 10);
    let capacity = identity.content_info_len(signer.algorithm(), 256);
    let prepared = pades::prepare(&pdf, &SignatureRequest::new(NOW), capacity).expect("prepare");
    let attrs = identity.signed_attributes(&prepared.digest());
    let sig = signer.sign(&attrs).expect("sign");
    let cms = identity.content_info(&attrs, signer.algorithm(), &sig);
    let signed = prepared.embed(&cms).expect("embed").to_vec();
    let report = verify(
        &signed,
        &VerifyOptions {
            trust_anchors: vec![fixture!("root")],
            time: NOW,
        },
    )
    .expect("reads");
    assert_fails(
        &report.signatures[0],
        SubIndication::CryptoConstraintsFailure,
        &["RSA-1024", "2048"],
    );
}

#[test]
fn the_report_names_the_signer_certificate_and_the_algorithms() {
    let r = three_levels(&signer_params());
    assert_passes(&r);
    let c = r.certificate.as_ref().expect("certificate info");
    assert_eq!(c.common_name.as_deref(), Some("Chain Test Signer"), "{c:?}");
    assert_eq!(c.organization.as_deref(), Some("Segel Test"), "{c:?}");
    assert!(c.issuer.contains("Test Intermediate"), "{c:?}");
    assert!(!c.serial.is_empty() && c.serial.chars().all(|h| h.is_ascii_hexdigit()));
    assert!(c.not_before < c.not_after);
    assert_eq!(r.digest_algorithm, Some("SHA-256"));
    assert_eq!(r.signature_algorithm, Some("RSA PKCS#1 v1.5 SHA-256"));
    assert_eq!(r.check_passed("chain"), Some(true));
    assert_eq!(r.check_passed("message-digest"), Some(true));
    assert_eq!(r.check_passed("no-such-check"), None);

    // Untrusted: the chain check is made and fails; the certificate is still described.
    let untrusted = sign_and_verify(
        vec![issue_signer(
            &signer_params(),
            &root(ca_params("Other Root")),
        )],
        vec![],
    );
    assert_eq!(untrusted.check_passed("chain"), Some(false));
    assert!(untrusted.certificate.is_some());
}
