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

pub mod chain;
pub mod history;

pub use history::{Change, ChangeLevel};

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::prelude::X509Certificate;

use crate::cms::der::{tag, Reader};
use crate::cms::parse::{DigestAlgorithm, SignedData, SignerId};
use crate::cms::{der, oids, parse_cert};
use crate::error::Result;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::{Document, XrefEntry};
use crate::sign::{collect_fields, FormLocation};
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

/// Main indication (ETSI EN 319 102-1 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Indication {
    /// Every check passed.
    TotalPassed,
    /// A check failed for good: the signature is not valid.
    TotalFailed,
    /// Not enough to decide (untrusted chain, expired certificate, unsupported form…).
    Indeterminate,
}

impl std::fmt::Display for Indication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TotalPassed => "TOTAL-PASSED",
            Self::TotalFailed => "TOTAL-FAILED",
            Self::Indeterminate => "INDETERMINATE",
        })
    }
}

/// Sub-indication (ETSI EN 319 102-1 §5.1.3, table 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// The signature is not in a form that can be processed.
    FormatFailure,
    /// The digest of the signed data does not match.
    HashFailure,
    /// The cryptographic signature does not verify.
    SigCryptoFailure,
    /// The signing certificate could not be identified.
    NoSigningCertificateFound,
    /// No chain to a trust anchor.
    NoCertificateChainFound,
    /// A certificate of the chain is outside its validity period.
    OutOfBoundsNoPoe,
    /// The signing certificate is not yet valid.
    NotYetValid,
    /// The algorithm or key size is not accepted.
    CryptoConstraintsFailure,
    /// A certificate of the chain breaks a constraint: key usage, extended key usage, CA flag,
    /// path length, or a critical extension that is not understood.
    ChainConstraintsFailure,
    /// The document was changed after signing beyond what the signature allows.
    SigConstraintsFailure,
}

/// How much of the file a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Coverage {
    /// Up to the last byte.
    WholeFile,
    /// Up to the end of an earlier revision; `end` is the byte where it stops.
    Revision {
        /// First byte not covered.
        end: usize,
    },
    /// The byte range is unusable.
    Invalid,
}

/// One check and its outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// Short name.
    pub name: &'static str,
    /// Did it pass?
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// The verdict for one signature.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignatureReport {
    /// Fully qualified field name.
    pub field: String,
    /// `/SubFilter`.
    pub sub_filter: String,
    /// Signer subject, if the certificate was found.
    pub signer: Option<String>,
    /// Claimed signing time from `/M`, RFC 3339.
    pub claimed_time: Option<String>,
    /// `/ByteRange` as written.
    pub byte_range: Vec<i64>,
    /// What the signature covers.
    pub coverage: Coverage,
    /// Signature form: PAdES (CAdES detached), PKCS#7 detached, or PKCS#7 SHA-1 (legacy).
    pub level: String,
    /// DocMDP `/P` when this is a certification signature.
    pub certification: Option<i64>,
    /// Every change made to the document after this signature, classified.
    pub changes: Vec<Change>,
    /// Main indication.
    pub indication: Indication,
    /// Sub-indication when not passed.
    pub sub_indication: Option<SubIndication>,
    /// One-line reason.
    pub reason: String,
    /// Every check made.
    pub checks: Vec<Check>,
    /// Hex SHA-256 of the signed byte ranges (what a signature log records), when computed.
    pub message_digest: Option<String>,
    /// Hex SHA-256 of the signature value, when the CMS was read.
    pub signature_sha256: Option<String>,
}

/// The verdict for a whole document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// One entry per signature, in field order.
    pub signatures: Vec<SignatureReport>,
}

impl Report {
    /// The overall indication: TOTAL-PASSED if every signature passed (and there is one),
    /// TOTAL-FAILED if any failed, INDETERMINATE otherwise.
    pub fn overall(&self) -> Indication {
        if self.all_passed() {
            Indication::TotalPassed
        } else if self
            .signatures
            .iter()
            .any(|s| s.indication == Indication::TotalFailed)
        {
            Indication::TotalFailed
        } else {
            Indication::Indeterminate
        }
    }

    /// True if there is at least one signature and every one is TOTAL-PASSED.
    pub fn all_passed(&self) -> bool {
        !self.signatures.is_empty()
            && self
                .signatures
                .iter()
                .all(|s| s.indication == Indication::TotalPassed)
    }
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

/// The certification signature (catalog `/Perms /DocMDP`) and its `/P` (default 2).
fn certification(doc: &Document<'_>, catalog: &Dict) -> Option<(ObjRef, i64)> {
    let perms = doc.resolve_dict(catalog.get(b"Perms")?, "/Perms").ok()?;
    let r = perms.get(b"DocMDP")?.as_ref()?;
    let sig = doc.resolve_dict(&Object::Reference(r), "/DocMDP").ok()?;
    let p = transforms(doc, &sig)
        .into_iter()
        .find(|(m, _)| m.as_slice() == b"DocMDP")
        .and_then(|(_, params)| params.get(b"P").and_then(Object::as_i64))
        .unwrap_or(2);
    Some((r, p))
}

/// `/Reference` entries of a signature dictionary: (TransformMethod, TransformParams).
fn transforms(doc: &Document<'_>, sig: &Dict) -> Vec<(Vec<u8>, Dict)> {
    let refs = match sig.get(b"Reference").map(|r| doc.deref(r)) {
        Some(Ok(Object::Array(a))) => a,
        _ => return Vec::new(),
    };
    refs.iter()
        .filter_map(|r| doc.resolve_dict(r, "a signature reference").ok())
        .filter_map(|sr| {
            let method = sr.get(b"TransformMethod")?.as_name()?.to_vec();
            let params = sr
                .get(b"TransformParams")
                .and_then(|p| doc.resolve_dict(p, "/TransformParams").ok())
                .unwrap_or_default();
            Some((method, params))
        })
        .collect()
}

/// A FieldMDP lock: does it cover the field `name`?
fn locks(params: &Dict, name: &str) -> bool {
    let listed = || {
        params
            .get(b"Fields")
            .and_then(Object::as_array)
            .is_some_and(|a| {
                a.iter().filter_map(Object::as_string).any(|s| {
                    // A listed field locks its descendants too (`a` locks `a.b`).
                    let listed = crate::sign::decode_text(s);
                    name == listed
                        || name
                            .strip_prefix(listed.as_str())
                            .is_some_and(|rest| rest.starts_with('.'))
                })
            })
    };
    match params.get(b"Action").and_then(Object::as_name) {
        Some(b"All") => true,
        Some(b"Include") => listed(),
        Some(b"Exclude") => !listed(),
        _ => false,
    }
}

/// Does a FieldMDP lock cover any field at all?
fn locks_any(params: &Dict) -> bool {
    match params.get(b"Action").and_then(Object::as_name) {
        Some(b"All" | b"Exclude") => true,
        Some(b"Include") => params
            .get(b"Fields")
            .and_then(Object::as_array)
            .is_some_and(|a| !a.is_empty()),
        _ => false,
    }
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

    ctx.report.signature_sha256 = Some(hex(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        si.signature,
    )
    .as_ref()));
    if dalg == DigestAlgorithm::Sha256 && form != Form::Pkcs7Sha1 {
        ctx.report.message_digest = Some(hex(content_digest.as_ref()));
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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

/// Judge the later changes against what this signature allows.
fn judge_changes(ctx: &mut SigCtx, about: &Signature<'_>, doc: &Document<'_>, sig: &Dict) {
    let allowed = match about.certification {
        Some(1) => ChangeLevel::Ltv,
        Some(2) => ChangeLevel::FormChanges,
        Some(3) => ChangeLevel::Annotations,
        _ => ChangeLevel::FormFilling,
    };
    let policy = match about.certification {
        Some(p) => format!("certification DocMDP /P {p}"),
        None => "approval signature".into(),
    };
    let mut lock_params: Vec<Dict> = transforms(doc, sig)
        .into_iter()
        .filter(|(m, _)| m.as_slice() == b"FieldMDP")
        .map(|(_, p)| p)
        .collect();
    if let Some(l) = about
        .field
        .get(b"Lock")
        .and_then(|l| doc.resolve_dict(l, "/Lock").ok())
    {
        lock_params.push(l);
    }
    let changes = ctx.report.changes.clone();
    if let Some(c) = changes.iter().find(|c| c.level > allowed) {
        ctx.fail(
            Indication::Indeterminate,
            SubIndication::SigConstraintsFailure,
            "changes-after-signing",
            format!("{} (not allowed after an {policy})", c.what),
        );
        return;
    }
    for c in &changes {
        if c.every_field && c.level >= ChangeLevel::FormFilling && lock_params.iter().any(locks_any)
        {
            ctx.fail(
                Indication::Indeterminate,
                SubIndication::SigConstraintsFailure,
                "changes-after-signing",
                format!(
                    "fields are locked by this signature (FieldMDP) but {}",
                    c.what
                ),
            );
            return;
        }
        if c.level >= ChangeLevel::FormFilling {
            if let Some(name) = &c.field {
                if lock_params.iter().any(|p| locks(p, name)) {
                    ctx.fail(
                        Indication::Indeterminate,
                        SubIndication::SigConstraintsFailure,
                        "changes-after-signing",
                        format!(
                            "field {name} is locked by this signature (FieldMDP) but {}",
                            c.what
                        ),
                    );
                    return;
                }
            }
        }
    }
    if !changes.is_empty() {
        ctx.pass(
            "changes-after-signing",
            format!(
                "{} later change(s), all allowed after an {policy}",
                changes.len()
            ),
        );
    }
}

/// The revision a signature covers: the final document, one of the history's revisions, or a
/// prefix opened for it.
enum Signed<'h, 'a> {
    Known(&'h Document<'a>),
    Opened(Document<'a>),
}

impl<'a> std::ops::Deref for Signed<'_, 'a> {
    type Target = Document<'a>;
    fn deref(&self) -> &Document<'a> {
        match self {
            Self::Known(d) => d,
            Self::Opened(d) => d,
        }
    }
}

/// The signature dictionary must sit, unchanged, in the revision its byte range closes, and its
/// `/Contents` string must be the gap: inside that object, not a copy elsewhere.
fn placement<'h, 'a, 's>(
    doc: &'h Document<'a>,
    history: &'h std::cell::OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
    r: Option<ObjRef>,
    sig: &Dict,
    ranges: &[std::ops::Range<usize>],
) -> Result<Signed<'h, 'a>, String> {
    let r = r.ok_or("the signature dictionary is a direct object; it must be indirect")?;
    let end = ranges[1].end;
    let gap = ranges[0].end..ranges[1].start;
    let known = if end == doc.data().len() {
        Some(doc)
    } else {
        // The covered part ends with `%%EOF` and at most one end-of-line (checked already).
        let covered = &doc.data()[..end];
        let eol = covered
            .iter()
            .rev()
            .take(2)
            .filter(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let marker = end.saturating_sub(eol + 5);
        history
            .get_or_init(|| History::new(doc, stop))
            .revision_at_marker(marker)
            .filter(|d| d.data().len() >= end)
    };
    let signed = match known {
        Some(d) => Signed::Known(d),
        None => Signed::Opened(
            Document::open(&doc.data()[..end])
                .map_err(|e| format!("the revision the signature covers does not read: {e}"))?,
        ),
    };
    let then = signed
        .resolve(r)
        .ok()
        .and_then(|o| o.as_dict().cloned())
        .ok_or("the signature dictionary is not part of the revision it signs")?;
    if then.get(b"Contents") != sig.get(b"Contents")
        || then.get(b"ByteRange") != sig.get(b"ByteRange")
    {
        return Err(
            "the signature dictionary differs from the one in the revision it signs".into(),
        );
    }
    if let Some(XrefEntry::InFile { offset, .. }) = signed.entry(r.num) {
        let inside = offset < gap.start
            && !doc.data()[offset..gap.start]
                .windows(6)
                .any(|w| w == b"endobj");
        if !inside {
            return Err(
                "the /ByteRange gap is not inside the signature dictionary (signature wrapping?)"
                    .into(),
            );
        }
    }
    Ok(signed)
}

type Ranges = Vec<std::ops::Range<usize>>;

fn check_byte_range(
    input: &[u8],
    br: &[i64],
    contents: &[u8],
) -> Result<(Ranges, Coverage), String> {
    let u: Vec<usize> = br.iter().filter_map(|&v| usize::try_from(v).ok()).collect();
    if br.len() != 4 || u.len() != 4 {
        return Err(format!(
            "/ByteRange {br:?} is not four non-negative integers"
        ));
    }
    let (a, b, c, d) = (u[0], u[1], u[2], u[3]);
    if a != 0 {
        return Err("/ByteRange does not start at byte 0".into());
    }
    let end = c
        .checked_add(d)
        .filter(|&e| e <= input.len())
        .ok_or(format!(
            "/ByteRange ends at {} but the file has {} bytes",
            c.saturating_add(d),
            input.len()
        ))?;
    if b >= c || b < 2 {
        return Err("/ByteRange parts overlap or are empty".into());
    }
    if input[b] != b'<' || input[c - 1] != b'>' {
        return Err("the /ByteRange gap is not a hexadecimal string".into());
    }
    let gap = &input[b + 1..c - 1];
    let hex: Vec<u8> = gap
        .iter()
        .copied()
        .filter(|x| !crate::pdf::object::is_whitespace(*x))
        .collect();
    if hex.len() % 2 != 0 || hex.len() / 2 != contents.len() {
        return Err("the /ByteRange gap is not the /Contents string".into());
    }
    let decoded = hex.chunks(2).map(|p| {
        let s = std::str::from_utf8(p).ok()?;
        u8::from_str_radix(s, 16).ok()
    });
    if !decoded.zip(contents).all(|(x, y)| x == Some(*y)) {
        return Err(
            "the /ByteRange gap holds other bytes than /Contents (signature wrapping?)".into(),
        );
    }
    let coverage = if end == input.len() {
        Coverage::WholeFile
    } else {
        // The covered part must end a revision: `%%EOF` and at most an end-of-line.
        let covered = &input[..end];
        let trimmed = covered
            .strip_suffix(b"\r\n")
            .or_else(|| covered.strip_suffix(b"\n"))
            .or_else(|| covered.strip_suffix(b"\r"))
            .unwrap_or(covered);
        if !trimmed.ends_with(b"%%EOF") {
            return Err(format!(
                "the signed range ends at byte {end}, which is not the end of a revision"
            ));
        }
        Coverage::Revision { end }
    };
    Ok((vec![0..b, c..end], coverage))
}

fn find_signer<'a>(sd: &SignedData<'a>) -> Option<(&'a [u8], X509Certificate<'a>)> {
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

fn oid_is(content: &[u8], arcs: &[u64]) -> bool {
    der::oid(arcs)[2..] == *content
}

fn verify_raw(
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
fn check_ess(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(action: &str, fields: &[&str]) -> Dict {
        let mut d = Dict::new();
        d.set(b"Action", Object::Name(action.as_bytes().to_vec()));
        d.set(
            b"Fields",
            Object::Array(
                fields
                    .iter()
                    .map(|f| Object::String(f.as_bytes().to_vec()))
                    .collect(),
            ),
        );
        d
    }

    #[test]
    fn a_listed_field_locks_its_descendants() {
        let l = lock("Include", &["person"]);
        assert!(locks(&l, "person"));
        assert!(locks(&l, "person.name"));
        assert!(!locks(&l, "personnel"));
        let x = lock("Exclude", &["person"]);
        assert!(!locks(&x, "person.name"));
        assert!(locks(&x, "amount"));
        assert!(locks_any(&x));
        assert!(!locks_any(&lock("Include", &[])));
    }
}
