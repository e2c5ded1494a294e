//! Human and JSON renderings of a verification report.

use std::fmt::Write as _;

use pades::verify::{Coverage, Report};

/// The report as text: one line per signature (field, verdict, signer, reason), then details.
pub fn text(file: &str, report: &Report) -> String {
    let mut s = String::new();
    if report.signatures.is_empty() {
        let _ = writeln!(s, "{file}: no signatures");
        return s;
    }
    for (i, sig) in report.signatures.iter().enumerate() {
        let signer = sig.signer.as_deref().unwrap_or("unknown signer");
        let verdict = match sig.sub_indication {
            Some(sub) => format!("{}/{sub}", sig.indication),
            None => sig.indication.to_string(),
        };
        let _ = writeln!(
            s,
            "#{} {}: {} — {} — {}",
            i + 1,
            sig.field,
            verdict,
            signer,
            sig.reason
        );
    }
    for (i, sig) in report.signatures.iter().enumerate() {
        let _ = writeln!(s, "\n#{} {}", i + 1, sig.field);
        let _ = writeln!(s, "  sub-filter:   {}", sig.sub_filter);
        if let Some(t) = sig.claimed_time {
            let _ = writeln!(
                s,
                "  claimed time: {} (from /M, not a trusted time)",
                t.rfc3339()
            );
        }
        let _ = writeln!(s, "  byte range:   {:?}", sig.byte_range);
        let cov = match sig.coverage {
            Coverage::WholeFile => "whole file".to_string(),
            Coverage::Revision { end } => format!("up to byte {end} (later revisions follow)"),
            Coverage::Invalid => "invalid".to_string(),
        };
        let _ = writeln!(s, "  coverage:     {cov}");
        let form = sig.level.map_or("", pades::verify::SignatureForm::describe);
        let _ = writeln!(s, "  form:         {form}");
        if let Some(p) = sig.certification {
            let _ = writeln!(s, "  certifies:    DocMDP /P {p}");
        }
        for c in &sig.changes {
            let _ = writeln!(s, "  later change ({}): {}", c.level.as_str(), c.what);
        }
        for c in &sig.checks {
            let _ = writeln!(
                s,
                "  [{}] {}: {}",
                if c.passed { "ok" } else { "FAIL" },
                c.name,
                c.detail
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{file}: {} ({})",
        report.overall(),
        if report.all_passed() {
            "every signature TOTAL-PASSED"
        } else {
            "NOT every signature passed"
        }
    );
    s
}

/// The report as JSON.
pub fn json(file: &str, report: &Report) -> String {
    let v = serde_json::json!({
        "file": file,
        "all_passed": report.all_passed(),
        "overall": report.overall(),
        "signatures": report.signatures,
    });
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
