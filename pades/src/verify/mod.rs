//! Strict verification of every signature in a PDF, reported in the ETSI EN 319 102-1 vocabulary.
//!
//! For each signature field with a value:
//! - the `/ByteRange` starts at 0, has one gap that is exactly the `/Contents` hex string of this
//!   signature dictionary (no padding, no other bytes: signature wrapping), and ends at the end
//!   of a revision that already holds this very signature dictionary;
//! - the digest of the covered bytes matches the CMS message digest (or, for
//!   `adbe.pkcs7.sha1`, the encapsulated SHA-1), the CMS signature verifies with the signer's
//!   key, the ESS signing-certificate(-v2) attribute names the signer;
//! - the signer's chain leads to a trust anchor, with CA constraints, key usage, and validity at
//!   the claimed signing time and at the validation time;
//! - every later revision is compared object by object with the signed one ([`history`]): only
//!   validation data, new signatures and the filling of empty form fields are accepted after an
//!   approval signature; a certification signature (DocMDP `/P` 1, 2, 3) and field locks
//!   (FieldMDP) set their own limits. Anything else (page content, pages, resources, catalog,
//!   annotations, changed form values) makes the signature INDETERMINATE /
//!   SIG_CONSTRAINTS_FAILURE, with the change named in the reason.

mod byte_range;
pub mod chain;
mod crypto;
pub mod history;
mod mdp;
mod report;

use byte_range::{check_byte_range, placement};
use crypto::{check_ess, find_signer, verify_raw};
pub use history::{Change, ChangeLevel};
use mdp::{certification, judge_changes};
pub use report::{Check, Coverage, Indication, Report, SignatureReport, SubIndication};

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::prelude::X509Certificate;

use crate::cms::der::{tag, Reader};
use crate::cms::parse::{DigestAlgorithm, SignedData, SignerId};
use crate::cms::{der, oids, parse_cert};
use crate::error::Result;
use crate::pdf::form::{collect_fields, FormLocation};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::{Document, XrefEntry};
use crate::time::UnixTime;
use history::History;
/// What to verify against.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Trust anchors (DER certificates).
    pub trust_anchors: Vec<Vec<u8>>,
    /// The validation time.
    pub time: UnixTime,
}

/// Verify every signature in `input`.
///
/// # Errors
/// Only when the document cannot be read at all (not a PDF, broken cross-reference data) or
/// reading it needs more than its work budget ([`crate::pdf::budget`]); a bad signature is a
/// report entry, not an error.
pub fn verify(input: &[u8], opts: &VerifyOptions) -> Result<Report> {
    verify_until(input, opts, &|| false)
}

/// [`verify`], checking `stop` between steps of the work (every signature, every 4 MiB
/// hashed, every revision compared, every 64 objects visited): once it returns true the work
/// ends soon after. Reading itself is bounded by the call's work budget.
///
/// # Errors
/// As [`verify`], and [`Error::Cancelled`](crate::Error::Cancelled) when `stop` said so.
pub fn verify_until(input: &[u8], opts: &VerifyOptions, stop: &dyn Fn() -> bool) -> Result<Report> {
    let scope = crate::pdf::budget::Scope::enter(input.len());
    let report = verify_document(input, opts, stop)?;
    if stop() {
        return Err(crate::error::Error::Cancelled);
    }
    // A verdict built while some reading was cut short by the budget is not given.
    scope.check()?;
    Ok(report)
}

fn verify_document(input: &[u8], opts: &VerifyOptions, stop: &dyn Fn() -> bool) -> Result<Report> {
    let doc = Document::open(input)?;
    let root = doc
        .trailer()
        .get(b"Root")
        .cloned()
        .ok_or(crate::error::Error::Structure(
            crate::error::StructureError::NoRoot,
        ))?;
    let catalog = doc.resolve_dict(&root, "the catalog")?;
    let fields = FormLocation::find(&doc, &catalog)?.fields;
    let certifier = certification(&doc, &catalog);
    let history = std::cell::OnceCell::new();
    let mut signatures = Vec::new();
    // Each signature dictionary is checked once, for the first field that holds it.
    let mut checked: std::collections::HashMap<ObjRef, String> = std::collections::HashMap::new();
    for f in collect_fields(&doc, &fields)? {
        if !f.is_signature || !f.has_value {
            continue;
        }
        let field = doc.resolve_dict(&Object::Reference(f.r), "a signature field")?;
        let Some(v) = field.get(b"V") else { continue };
        if stop() {
            break;
        }
        let mut ctx = SigCtx::new(f.name.clone());
        if let Some(r) = v.as_ref() {
            if let Some(first) = checked.get(&r) {
                ctx.fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    "signature dictionary",
                    format!("{r} is already the value of field {first:?}; a signature belongs to one field"),
                );
                signatures.push(ctx.finish());
                continue;
            }
            checked.insert(r, f.name.clone());
        }
        let sig = Signature {
            r: v.as_ref(),
            field: &field,
            certification: certifier
                .filter(|(r, _)| Some(*r) == v.as_ref())
                .map(|(_, p)| p),
        };
        match doc.resolve_dict(v, "a signature dictionary") {
            Ok(dict) => check_signature(&mut ctx, &doc, &dict, &sig, opts, &history, stop),
            Err(e) => ctx.fail(
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                "signature dictionary",
                e.to_string(),
            ),
        }
        signatures.push(ctx.finish());
    }
    Ok(Report { signatures })
}

/// What is known about a signature besides its dictionary.
struct Signature<'d> {
    /// The signature dictionary's reference (`None`: direct, which PAdES does not allow).
    r: Option<ObjRef>,
    /// Its field dictionary (for `/Lock`).
    field: &'d Dict,
    /// DocMDP `/P` if this is the certification signature.
    certification: Option<i64>,
}

struct SigCtx {
    report: SignatureReport,
    verdict: Option<(Indication, SubIndication, String)>,
}

impl SigCtx {
    fn new(field: String) -> Self {
        Self {
            report: SignatureReport {
                field,
                sub_filter: String::new(),
                signer: None,
                claimed_time: None,
                byte_range: Vec::new(),
                coverage: Coverage::Invalid,
                level: String::new(),
                certification: None,
                changes: Vec::new(),
                indication: Indication::TotalPassed,
                sub_indication: None,
                reason: String::new(),
                checks: Vec::new(),
                message_digest: None,
                signature_sha256: None,
            },
            verdict: None,
        }
    }

    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.report.checks.push(Check {
            name,
            passed: true,
            detail: detail.into(),
        });
    }

    fn fail(&mut self, ind: Indication, sub: SubIndication, name: &'static str, detail: String) {
        self.report.checks.push(Check {
            name,
            passed: false,
            detail: detail.clone(),
        });
        // The first TOTAL-FAILED wins over any INDETERMINATE; otherwise the first failure.
        let replace = match &self.verdict {
            None => true,
            Some((Indication::Indeterminate, _, _)) => ind == Indication::TotalFailed,
            Some(_) => false,
        };
        if replace {
            self.verdict = Some((ind, sub, format!("{name}: {detail}")));
        }
    }

    fn finish(mut self) -> SignatureReport {
        match self.verdict {
            Some((ind, sub, reason)) => {
                self.report.indication = ind;
                self.report.sub_indication = Some(sub);
                self.report.reason = reason;
            }
            None => {
                self.report.reason = match self.report.coverage {
                    Coverage::WholeFile => "signature valid, covers the whole file".into(),
                    _ => {
                        let top = self.report.changes.iter().map(|c| c.level).max();
                        match top {
                            Some(l) => format!(
                                "signature valid; only allowed changes follow (up to {})",
                                l.as_str()
                            ),
                            None => "signature valid; later revisions change nothing".into(),
                        }
                    }
                };
            }
        }
        self.report
    }
}

#[allow(clippy::too_many_lines)]
fn check_signature<'a, 's>(
    ctx: &mut SigCtx,
    doc: &Document<'a>,
    sig: &Dict,
    about: &Signature<'_>,
    opts: &VerifyOptions,
    history: &std::cell::OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
) {
    use Indication::{Indeterminate, TotalFailed};
    use SubIndication as S;
    let input = doc.data();
    let sub_filter = sig
        .get(b"SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    ctx.report.sub_filter.clone_from(&sub_filter);
    ctx.report.certification = about.certification;
    let claimed = sig
        .get(b"M")
        .and_then(Object::as_string)
        .and_then(UnixTime::parse_pdf_date);
    ctx.report.claimed_time = claimed.map(UnixTime::rfc3339);
    let form = match sub_filter.as_str() {
        "ETSI.CAdES.detached" => Form::Cades,
        "adbe.pkcs7.detached" => Form::Pkcs7Detached,
        "adbe.pkcs7.sha1" => Form::Pkcs7Sha1,
        other => {
            ctx.fail(
                Indeterminate,
                S::FormatFailure,
                "sub-filter",
                format!("/SubFilter /{other} is not a PDF signature form this verifier knows"),
            );
            return;
        }
    };
    ctx.report.level = form.describe().into();

    // 1. ByteRange, and the revision it covers.
    let Some(contents) = sig.get(b"Contents").and_then(Object::as_string) else {
        ctx.fail(
            TotalFailed,
            S::FormatFailure,
            "contents",
            "/Contents is missing or not a string".into(),
        );
        return;
    };
    let br: Vec<i64> = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(Object::as_i64).collect())
        .unwrap_or_default();
    ctx.report.byte_range.clone_from(&br);
    let (ranges, coverage) = match check_byte_range(input, &br, contents) {
        Ok(x) => x,
        Err(why) => {
            ctx.fail(TotalFailed, S::FormatFailure, "byte-range", why);
            return;
        }
    };
    ctx.report.coverage = coverage;
    let end = ranges[1].end;
    let signed_doc = match placement(doc, history, stop, about.r, sig, &ranges) {
        Ok(d) => d,
        Err(why) => {
            ctx.fail(TotalFailed, S::FormatFailure, "byte-range", why);
            return;
        }
    };
    ctx.pass("byte-range", format!("{br:?}: its gap is exactly this signature's /Contents, its end closes the revision that holds it"));

    // 2. CMS.
    let cms_len = match der::element_len(contents) {
        Ok(l) => l,
        Err(e) => {
            ctx.fail(
                TotalFailed,
                S::FormatFailure,
                "cms",
                format!("/Contents is not DER: {e}"),
            );
            return;
        }
    };
    if contents[cms_len..].iter().any(|&b| b != 0) {
        ctx.fail(
            TotalFailed,
            S::FormatFailure,
            "cms",
            "non-zero bytes after the CMS structure in /Contents".into(),
        );
        return;
    }
    let sd = match crate::cms::parse::parse(&contents[..cms_len]) {
        Ok(sd) => sd,
        Err(e) => {
            ctx.fail(TotalFailed, S::FormatFailure, "cms", e.to_string());
            return;
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
        return;
    }
    let si = &sd.signer;
    let Some(dalg) = si.digest_algorithm else {
        ctx.fail(
            Indeterminate,
            S::CryptoConstraintsFailure,
            "digest",
            "unknown digest algorithm".into(),
        );
        return;
    };

    if let Err(e) = doc.charge_hash(ranges.iter().map(ExactSizeIterator::len).sum()) {
        ctx.fail(
            Indeterminate,
            S::FormatFailure,
            "work budget",
            e.to_string(),
        );
        return;
    }
    // 3. Digest: of the byte ranges, or (adbe.pkcs7.sha1) of the encapsulated SHA-1.
    let content: Vec<u8>;
    let content_digest = match form {
        Form::Pkcs7Sha1 => {
            let mut h =
                aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
            if !hash_ranges(&mut h, input, &ranges, stop) {
                return;
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
                    return;
                }
            }
            content = sd.econtent.unwrap_or_default().to_vec();
            aws_lc_rs::digest::digest(dalg.ring(), &content)
        }
        Form::Cades | Form::Pkcs7Detached => {
            if sd.econtent.is_some() {
                ctx.fail(
                    TotalFailed,
                    S::FormatFailure,
                    "cms",
                    "a detached signature must not encapsulate content".into(),
                );
                return;
            }
            let mut h = aws_lc_rs::digest::Context::new(dalg.ring());
            if !hash_ranges(&mut h, input, &ranges, stop) {
                return;
            }
            content = if si.signed_attrs_raw.is_none() {
                ranges
                    .iter()
                    .flat_map(|r| input[r.clone()].iter().copied())
                    .collect()
            } else {
                Vec::new()
            };
            h.finish()
        }
    };
    let message: Vec<u8> = match si.signed_attrs_for_verification() {
        Some(attrs) => {
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
                    "the signed bytes do not match the messageDigest attribute (document changed)"
                        .into(),
                ),
                None => {
                    ctx.fail(
                        TotalFailed,
                        S::FormatFailure,
                        "message-digest",
                        "no single messageDigest signed attribute".into(),
                    );
                    return;
                }
            }
            attrs
        }
        None if form == Form::Cades => {
            ctx.fail(
                TotalFailed,
                S::FormatFailure,
                "cms",
                "PAdES requires signed attributes".into(),
            );
            return;
        }
        None => content,
    };
    if dalg == DigestAlgorithm::Sha1 || form == Form::Pkcs7Sha1 {
        ctx.fail(
            Indeterminate,
            S::CryptoConstraintsFailure,
            "digest",
            "SHA-1 is not accepted for signatures (collisions are practical)".into(),
        );
    }

    ctx.report.signature_sha256 = Some(hex::encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, si.signature).as_ref(),
    ));
    if dalg == DigestAlgorithm::Sha256 && form != Form::Pkcs7Sha1 {
        ctx.report.message_digest = Some(hex::encode(content_digest.as_ref()));
    }

    // 4. Signer certificate and signature.
    let Some((signer_der, signer)) = find_signer(&sd) else {
        ctx.fail(
            Indeterminate,
            S::NoSigningCertificateFound,
            "signer",
            "the signer's certificate is not in the CMS".into(),
        );
        return;
    };
    ctx.report.signer = Some(signer.subject().to_string());
    // A key too weak (or of a kind not accepted) is a crypto constraint, not a broken signature.
    let key = chain::key_strength(&signer, "the signer certificate");
    if let Err(f) = key {
        ctx.fail(f.indication, f.sub, f.check, f.detail);
    } else {
        match verify_raw(
            si.signature_algorithm,
            dalg,
            &signer,
            &message,
            si.signature,
        ) {
            Ok(alg) => ctx.pass("signature", format!("{alg} signature verifies")),
            Err(why) => ctx.fail(TotalFailed, S::SigCryptoFailure, "signature", why),
        }
    }

    // 5. ESS signing certificate.
    match check_ess(si, signer_der) {
        Ok(Some(d)) => ctx.pass("signing-certificate", d),
        Ok(None) if form == Form::Cades => ctx.fail(
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

    // 6. Chain.
    match chain::check(
        signer_der,
        &signer,
        &sd.certificates,
        &opts.trust_anchors,
        opts.time,
        claimed,
    ) {
        Ok(path) => ctx.pass("chain", path),
        Err(f) => ctx.fail(f.indication, f.sub, f.check, f.detail),
    }

    // 7. What happened afterwards.
    if end < input.len() || signed_doc.startxref() != doc.startxref() {
        let history = history.get_or_init(|| History::new(doc, stop));
        ctx.report.changes = history.changes_after(&signed_doc, doc);
    }
    judge_changes(ctx, about, doc, sig);
}

/// Feed `ranges` of `input` to `h` in slices, asking `stop` between them; false if stopped.
fn hash_ranges(
    h: &mut aws_lc_rs::digest::Context,
    input: &[u8],
    ranges: &[std::ops::Range<usize>],
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

/// Signature forms (ISO 32000-2 §12.8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Cades,
    Pkcs7Detached,
    Pkcs7Sha1,
}

impl Form {
    fn describe(self) -> &'static str {
        match self {
            Self::Cades => "PAdES (ETSI.CAdES.detached)",
            Self::Pkcs7Detached => "PKCS#7 detached (adbe.pkcs7.detached)",
            Self::Pkcs7Sha1 => "PKCS#7 SHA-1 (adbe.pkcs7.sha1, legacy)",
        }
    }
}
