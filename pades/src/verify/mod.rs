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
mod checks;
mod crypto;
pub mod history;
mod later;
mod mdp;
mod report;

use byte_range::{check_byte_range, placement};
use checks::check_signature;
use crypto::{check_ess, find_signer, verify_raw};
pub use history::{Change, ChangeLevel};
use mdp::{certification, judge_changes};
pub use report::{
    CertificateInfo, Check, Coverage, Indication, Report, SignatureForm, SignatureReport,
    SubIndication, UnknownName,
};

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
    // The signature dictionary of each report, for the check of later signatures.
    let mut values = Vec::new();
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
                values.push(None);
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
        values.push(v.as_ref());
    }
    later::check_later_signatures(&mut signatures, &values, history.get());
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
                level: None,
                certification: None,
                changes: Vec::new(),
                indication: Indication::TotalPassed,
                sub_indication: None,
                reason: String::new(),
                checks: Vec::new(),
                message_digest: None,
                signature_sha256: None,
                certificate: None,
                digest_algorithm: None,
                signature_algorithm: None,
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
