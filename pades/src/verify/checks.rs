//! The checks of one signature, in order: its form, its byte range, its CMS, the digest of the
//! signed bytes, the signer and the signature value, the ESS signing certificate, the chain,
//! and what later revisions changed. Each step records its outcome in the [`SigCtx`]; a step
//! whose failure leaves nothing for the later ones to check ends the run (`None`).

use std::cell::OnceCell;
use std::ops::Range;

use aws_lc_rs::digest::{Context, Digest};

use super::*;
use byte_range::Signed;
use report::{CertificateInfo, SignatureForm};

use Indication::{Indeterminate, TotalFailed};
use SubIndication as S;

/// Check the signature dictionary `sig`, recording every check and the verdict in `ctx`.
pub(super) fn check_signature<'a, 's>(
    ctx: &mut SigCtx,
    doc: &Document<'a>,
    sig: &Dict,
    about: &Signature<'_>,
    opts: &VerifyOptions,
    history: &OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
) {
    // `None`: a step ended the run, its failure (or the stop) already recorded.
    let _ = run_checks(ctx, doc, sig, about, opts, history, stop);
}

fn run_checks<'a, 's>(
    ctx: &mut SigCtx,
    doc: &Document<'a>,
    sig: &Dict,
    about: &Signature<'_>,
    opts: &VerifyOptions,
    history: &OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
) -> Option<()> {
    let form = describe(ctx, sig, about)?;
    let Covered {
        contents,
        ranges,
        revision,
    } = check_coverage(ctx, doc, sig, about, history, stop)?;
    let sd = read_cms(ctx, contents)?;
    let dalg = digest_algorithm(ctx, &sd)?;
    let (content_digest, content) = digest_content(ctx, doc, form, &sd, dalg, &ranges, stop)?;
    let message = check_message_digest(ctx, form, &sd, dalg, &content_digest, content)?;
    refuse_sha1(ctx, form, dalg);
    record_hashes(ctx, form, &sd, dalg, &content_digest);
    let (signer_der, signer) = check_signer(ctx, &sd, dalg, &message)?;
    check_signing_certificate(ctx, form, &sd, signer_der);
    check_chain(ctx, &sd, signer_der, &signer, opts);
    record_later_changes(ctx, doc, &ranges, &revision, history, stop);
    judge_changes(ctx, about, doc, sig);
    Some(())
}

/// Record what the dictionary says about itself (`/SubFilter`, `/M`, the certification) and
/// decide the signature form; an unknown `/SubFilter` is INDETERMINATE / FORMAT_FAILURE.
fn describe(ctx: &mut SigCtx, sig: &Dict, about: &Signature<'_>) -> Option<SignatureForm> {
    let sub_filter = sig
        .get(b"SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    ctx.report.sub_filter.clone_from(&sub_filter);
    ctx.report.certification = about.certification;
    ctx.report.claimed_time = sig
        .get(b"M")
        .and_then(Object::as_string)
        .and_then(UnixTime::parse_pdf_date);
    let form = match sub_filter.as_str() {
        "ETSI.CAdES.detached" => SignatureForm::Cades,
        "adbe.pkcs7.detached" => SignatureForm::Pkcs7Detached,
        "adbe.pkcs7.sha1" => SignatureForm::Pkcs7Sha1,
        other => {
            ctx.fail(
                Indeterminate,
                S::FormatFailure,
                "sub-filter",
                format!("/SubFilter /{other} is not a PDF signature form this verifier knows"),
            );
            return None;
        }
    };
    ctx.report.level = Some(form);
    Some(form)
}

/// What a valid `/ByteRange` leads to.
struct Covered<'d, 'h, 'a> {
    /// The `/Contents` bytes (the gap).
    contents: &'d [u8],
    /// The two signed ranges.
    ranges: Vec<Range<usize>>,
    /// The revision the signature covers.
    revision: Signed<'h, 'a>,
}

/// The `/ByteRange`: its gap is exactly this dictionary's `/Contents`, it ends a revision, and
/// that revision holds this very dictionary.
fn check_coverage<'h, 'a, 's, 'd>(
    ctx: &mut SigCtx,
    doc: &'h Document<'a>,
    sig: &'d Dict,
    about: &Signature<'_>,
    history: &'h OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
) -> Option<Covered<'d, 'h, 'a>> {
    let Some(contents) = sig.get(b"Contents").and_then(Object::as_string) else {
        ctx.fail(
            TotalFailed,
            S::FormatFailure,
            "contents",
            "/Contents is missing or not a string".into(),
        );
        return None;
    };
    let br: Vec<i64> = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(Object::as_i64).collect())
        .unwrap_or_default();
    ctx.report.byte_range.clone_from(&br);
    let (ranges, coverage) = match check_byte_range(doc.data(), &br, contents) {
        Ok(x) => x,
        Err(why) => {
            ctx.fail(TotalFailed, S::FormatFailure, "byte-range", why);
            return None;
        }
    };
    ctx.report.coverage = coverage;
    let signed_doc = match placement(doc, history, stop, about.r, sig, &ranges) {
        Ok(d) => d,
        Err(why) => {
            ctx.fail(TotalFailed, S::FormatFailure, "byte-range", why);
            return None;
        }
    };
    ctx.pass("byte-range", format!("{br:?}: its gap is exactly this signature's /Contents, its end closes the revision that holds it"));
    Some(Covered {
        contents,
        ranges,
        revision: signed_doc,
    })
}

/// `/Contents` holds one DER CMS SignedData, zero-padded, with exactly one SignerInfo.
fn read_cms<'c>(ctx: &mut SigCtx, contents: &'c [u8]) -> Option<SignedData<'c>> {
    let cms_len = match der::element_len(contents) {
        Ok(l) => l,
        Err(e) => {
            ctx.fail(
                TotalFailed,
                S::FormatFailure,
                "cms",
                format!("/Contents is not DER: {e}"),
            );
            return None;
        }
    };
    if contents[cms_len..].iter().any(|&b| b != 0) {
        ctx.fail(
            TotalFailed,
            S::FormatFailure,
            "cms",
            "non-zero bytes after the CMS structure in /Contents".into(),
        );
        return None;
    }
    let sd = match crate::cms::parse::parse(&contents[..cms_len]) {
        Ok(sd) => sd,
        Err(e) => {
            ctx.fail(TotalFailed, S::FormatFailure, "cms", e.to_string());
            return None;
        }
    };
    if sd.signer_count != 1 {
        ctx.fail(
            TotalFailed,
            S::FormatFailure,
            "cms",
            format!(
                "{} SignerInfos; a PDF signature has exactly one",
                sd.signer_count
            ),
        );
        return None;
    }
    Some(sd)
}

/// The SignerInfo's digest algorithm; an unknown one is INDETERMINATE /
/// CRYPTO_CONSTRAINTS_FAILURE.
fn digest_algorithm(ctx: &mut SigCtx, sd: &SignedData<'_>) -> Option<DigestAlgorithm> {
    let dalg = sd.signer.digest_algorithm;
    ctx.report.digest_algorithm = dalg.map(|d| match d {
        DigestAlgorithm::Sha1 => "SHA-1",
        DigestAlgorithm::Sha256 => "SHA-256",
        DigestAlgorithm::Sha384 => "SHA-384",
        DigestAlgorithm::Sha512 => "SHA-512",
    });
    if dalg.is_none() {
        ctx.fail(
            Indeterminate,
            S::CryptoConstraintsFailure,
            "digest",
            "unknown digest algorithm".into(),
        );
    }
    dalg
}

/// Hash the signed bytes (within the work budget) into the digest the CMS signs: for the
/// detached forms, the byte ranges' digest (and, without signed attributes, the bytes
/// themselves, which are then what is signed); for `adbe.pkcs7.sha1`, the encapsulated
/// SHA-1, which must match the ranges' SHA-1.
fn digest_content(
    ctx: &mut SigCtx,
    doc: &Document<'_>,
    form: SignatureForm,
    sd: &SignedData<'_>,
    dalg: DigestAlgorithm,
    ranges: &[Range<usize>],
    stop: &dyn Fn() -> bool,
) -> Option<(Digest, Vec<u8>)> {
    let input = doc.data();
    if let Err(e) = doc.charge_hash(ranges.iter().map(ExactSizeIterator::len).sum()) {
        ctx.fail(
            Indeterminate,
            S::FormatFailure,
            "work budget",
            e.to_string(),
        );
        return None;
    }
    match form {
        SignatureForm::Pkcs7Sha1 => {
            let mut h = Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
            if !hash_ranges(&mut h, input, ranges, stop) {
                return None;
            }
            let sha1 = h.finish();
            match sd.econtent {
                Some(e) if e == sha1.as_ref() => {
                    ctx.pass("digest", "the encapsulated SHA-1 matches the signed bytes");
                }
                Some(_) => ctx.fail(
                    TotalFailed,
                    S::HashFailure,
                    "digest",
                    "the encapsulated SHA-1 does not match the signed bytes (document changed)"
                        .into(),
                ),
                None => {
                    ctx.fail(
                        TotalFailed,
                        S::FormatFailure,
                        "cms",
                        "adbe.pkcs7.sha1 without encapsulated content".into(),
                    );
                    return None;
                }
            }
            let content = sd.econtent.unwrap_or_default().to_vec();
            Some((aws_lc_rs::digest::digest(dalg.ring(), &content), content))
        }
        SignatureForm::Cades | SignatureForm::Pkcs7Detached => {
            if sd.econtent.is_some() {
                ctx.fail(
                    TotalFailed,
                    S::FormatFailure,
                    "cms",
                    "a detached signature must not encapsulate content".into(),
                );
                return None;
            }
            let mut h = Context::new(dalg.ring());
            if !hash_ranges(&mut h, input, ranges, stop) {
                return None;
            }
            let content = if sd.signer.signed_attrs_raw.is_none() {
                ranges
                    .iter()
                    .flat_map(|r| input[r.clone()].iter().copied())
                    .collect()
            } else {
                Vec::new()
            };
            Some((h.finish(), content))
        }
    }
}

/// With signed attributes, their messageDigest must be the content digest, and the
/// attributes are what is signed; without (not allowed for PAdES), the content is.
fn check_message_digest(
    ctx: &mut SigCtx,
    form: SignatureForm,
    sd: &SignedData<'_>,
    dalg: DigestAlgorithm,
    content_digest: &Digest,
    content: Vec<u8>,
) -> Option<Vec<u8>> {
    let si = &sd.signer;
    let Some(attrs) = si.signed_attrs_for_verification() else {
        if form == SignatureForm::Cades {
            ctx.fail(
                TotalFailed,
                S::FormatFailure,
                "cms",
                "PAdES requires signed attributes".into(),
            );
            return None;
        }
        return Some(content);
    };
    let md = si
        .attribute(oids::MESSAGE_DIGEST)
        .and_then(|v| v.first())
        .filter(|e| e.tag == tag::OCTET_STRING);
    match md {
        Some(md) if md.content == content_digest.as_ref() => {
            ctx.pass(
                "message-digest",
                format!("{dalg:?} messageDigest attribute matches"),
            );
        }
        Some(_) => ctx.fail(
            TotalFailed,
            S::HashFailure,
            "message-digest",
            "the signed bytes do not match the messageDigest attribute (document changed)".into(),
        ),
        None => {
            ctx.fail(
                TotalFailed,
                S::FormatFailure,
                "message-digest",
                "no single messageDigest signed attribute".into(),
            );
            return None;
        }
    }
    Some(attrs)
}

/// SHA-1, as the digest or as the `adbe.pkcs7.sha1` form, is INDETERMINATE /
/// CRYPTO_CONSTRAINTS_FAILURE.
fn refuse_sha1(ctx: &mut SigCtx, form: SignatureForm, dalg: DigestAlgorithm) {
    if dalg == DigestAlgorithm::Sha1 || form == SignatureForm::Pkcs7Sha1 {
        ctx.fail(
            Indeterminate,
            S::CryptoConstraintsFailure,
            "digest",
            "SHA-1 is not accepted for signatures (collisions are practical)".into(),
        );
    }
}

/// Record what a signature log knows the signature by: the SHA-256 of the signature value,
/// and the SHA-256 of the signed byte ranges when that is the content digest.
fn record_hashes(
    ctx: &mut SigCtx,
    form: SignatureForm,
    sd: &SignedData<'_>,
    dalg: DigestAlgorithm,
    content_digest: &Digest,
) {
    ctx.report.signature_sha256 = Some(crate::cms::sha256(sd.signer.signature));
    if dalg == DigestAlgorithm::Sha256 && form != SignatureForm::Pkcs7Sha1 {
        let mut md = [0; 32];
        md.copy_from_slice(content_digest.as_ref());
        ctx.report.message_digest = Some(md);
    }
}

/// Find the signer's certificate in the CMS (none: INDETERMINATE /
/// NO_SIGNING_CERTIFICATE_FOUND, which ends the run), then check its key strength and the
/// signature value over `message`.
fn check_signer<'c>(
    ctx: &mut SigCtx,
    sd: &SignedData<'c>,
    dalg: DigestAlgorithm,
    message: &[u8],
) -> Option<(&'c [u8], X509Certificate<'c>)> {
    let Some((signer_der, signer)) = find_signer(sd) else {
        ctx.fail(
            Indeterminate,
            S::NoSigningCertificateFound,
            "signer",
            "the signer's certificate is not in the CMS".into(),
        );
        return None;
    };
    ctx.report.signer = Some(signer.subject().to_string());
    ctx.report.certificate = Some(certificate_info(signer_der, &signer));
    let si = &sd.signer;
    // A key too weak (or of a kind not accepted) is a crypto constraint, not a broken signature.
    if let Err(f) = chain::key_strength(&signer, "the signer certificate") {
        ctx.fail(f.indication, f.sub, f.check, f.detail);
    } else {
        match verify_raw(si.signature_algorithm, dalg, &signer, message, si.signature) {
            Ok(alg) => {
                ctx.report.signature_algorithm = Some(alg);
                ctx.pass("signature", format!("{alg} signature verifies"));
            }
            Err(why) => ctx.fail(TotalFailed, S::SigCryptoFailure, "signature", why),
        }
    }
    Some((signer_der, signer))
}

/// What the report says of the signer's certificate.
fn certificate_info(der: &[u8], cert: &X509Certificate<'_>) -> CertificateInfo {
    // One value of the attribute, as a string; none when absent, repeated or not a string.
    fn single<'a>(
        mut values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
    ) -> Option<String> {
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        first.as_str().ok().map(str::to_owned)
    }
    let subject = cert.subject();
    CertificateInfo {
        subject: subject.to_string(),
        common_name: single(subject.iter_common_name()),
        organization: single(subject.iter_organization()),
        issuer: cert.issuer().to_string(),
        serial: hex::encode_upper(cert.raw_serial()),
        not_before: UnixTime(cert.validity().not_before.timestamp()),
        not_after: UnixTime(cert.validity().not_after.timestamp()),
        sha256: crate::cms::sha256(der),
    }
}

/// The ESS signing-certificate(-v2) attribute names the signer; PAdES requires it, the PKCS#7
/// forms may omit it.
fn check_signing_certificate(
    ctx: &mut SigCtx,
    form: SignatureForm,
    sd: &SignedData<'_>,
    signer_der: &[u8],
) {
    match check_ess(&sd.signer, signer_der) {
        Ok(Some(d)) => ctx.pass("signing-certificate", d),
        Ok(None) if form == SignatureForm::Cades => ctx.fail(
            TotalFailed,
            S::FormatFailure,
            "signing-certificate",
            "PAdES requires the ESS signing-certificate-v2 attribute; it is missing".into(),
        ),
        Ok(None) => ctx.pass(
            "signing-certificate",
            "absent (allowed for legacy PKCS#7 signatures)",
        ),
        Err(why) => ctx.fail(
            Indeterminate,
            S::NoSigningCertificateFound,
            "signing-certificate",
            why,
        ),
    }
}

/// The signer's chain leads to a trust anchor, valid at the claimed signing time and at the
/// validation time ([`chain::check`]).
fn check_chain<'c>(
    ctx: &mut SigCtx,
    sd: &SignedData<'c>,
    signer_der: &'c [u8],
    signer: &X509Certificate<'c>,
    opts: &'c VerifyOptions,
) {
    match chain::check(
        signer_der,
        signer,
        &sd.certificates,
        &opts.trust_anchors,
        opts.time,
        ctx.report.claimed_time,
    ) {
        Ok(path) => ctx.pass("chain", path),
        Err(f) => ctx.fail(f.indication, f.sub, f.check, f.detail),
    }
}

/// Compare every later revision with the signed one, object by object ([`history`]), when
/// the signature does not cover the whole file as it is.
fn record_later_changes<'a, 's>(
    ctx: &mut SigCtx,
    doc: &Document<'a>,
    ranges: &[Range<usize>],
    revision: &Document<'_>,
    history: &OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
) {
    let end = ranges[1].end;
    if end < doc.data().len() || revision.startxref() != doc.startxref() {
        let history = history.get_or_init(|| History::new(doc, stop));
        ctx.report.changes = history.changes_after(revision, doc);
    }
}

/// Feed `ranges` of `input` to `h` in slices, asking `stop` between them; false if stopped.
fn hash_ranges(
    h: &mut Context,
    input: &[u8],
    ranges: &[Range<usize>],
    stop: &dyn Fn() -> bool,
) -> bool {
    const SLICE: usize = 4 * 1024 * 1024;
    for r in ranges {
        for part in input[r.clone()].chunks(SLICE) {
            if stop() {
                return false;
            }
            h.update(part);
        }
    }
    true
}
