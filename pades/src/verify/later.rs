//! Later signatures must be real: a revision after a signature that adds a signed signature
//! field is an allowed change for it only if the verifier checked that very signature and it
//! passed, covering the revision that added it. Otherwise a "signature" whose value is never
//! checked (a field outside the form's terminal fields, or one that fails) could draw over the
//! signed page, and the earlier signature would still read TOTAL-PASSED.

use super::history::History;
use super::{Check, Indication, SignatureReport, SubIndication};
use crate::pdf::object::ObjRef;

/// Downgrade every passed signature after which a later revision adds a signed field that is
/// not one of `reports` (whose signature dictionaries are `values`, in the same order), not
/// passed, or not covering the revision that added it.
pub(super) fn check_later_signatures(
    reports: &mut [SignatureReport],
    values: &[Option<ObjRef>],
    history: Option<&History<'_, '_>>,
) {
    let Some(history) = history else { return };
    let covered: Vec<usize> = reports.iter().map(covered_end).collect();
    let passed: Vec<bool> = reports
        .iter()
        .map(|r| r.indication == Indication::TotalPassed)
        .collect();
    for i in 0..reports.len() {
        if !passed[i] {
            continue;
        }
        let unproven: Vec<String> = history
            .claims_after(covered[i].saturating_add(EOL))
            .into_iter()
            .filter(|c| {
                // The same signature dictionary (or, written directly in its field, the same
                // field's), passed, covering the revision that added it.
                !(0..reports.len()).any(|j| {
                    j != i
                        && values[j] == c.value
                        && passed[j]
                        && covered[j].saturating_add(EOL) >= c.end
                        && c.field.as_deref() == Some(reports[j].field.as_str())
                })
            })
            .map(|c| {
                format!(
                    "the {} signature field {} added after this signature (revision ending at \
                     byte {}) is not a signature that verifies and covers that revision",
                    if c.visible { "visible" } else { "invisible" },
                    c.field
                        .as_deref()
                        .map_or("(unnamed)".into(), |f| format!("{f:?}")),
                    c.end
                )
            })
            .collect();
        if let Some(first) = unproven.first() {
            let r = &mut reports[i];
            for detail in &unproven {
                r.checks.push(Check {
                    name: "later signatures",
                    passed: false,
                    detail: detail.clone(),
                });
            }
            r.indication = Indication::Indeterminate;
            r.sub_indication = Some(SubIndication::SigConstraintsFailure);
            r.reason = format!("later signatures: {first}");
        }
    }
}

/// A revision ends after its `%%EOF` and the end-of-line that follows it (up to two bytes),
/// which a signature's byte range may leave out: a signature covers a revision when it covers
/// all of it but those.
const EOL: usize = 2;

/// Where the signed bytes end (0 when the byte range is unknown).
fn covered_end(r: &SignatureReport) -> usize {
    match r.byte_range.as_slice() {
        [_, _, c, d] => usize::try_from(c.saturating_add(*d)).unwrap_or(0),
        _ => 0,
    }
}
