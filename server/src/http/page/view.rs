//! What a page shows, built from a [`Verification`] or [`DocumentEntries`]: plain words in the
//! page's language, and every string read from the document cleaned for display (the templates
//! escape it too). No HTML here: the templates lay the view out.

use pades::verify::{Coverage, SignatureReport};
use pades::{Indication, UnixTime};

use super::text::Lang;
use crate::service::Segel;
use crate::verification::{CheckedSignature, DocumentEntries, LogMatch, Verification};

/// Changes listed one by one per signature; the rest are counted.
const MAX_SHOWN_CHANGES: usize = 50;

/// The longest string from a document the page repeats (characters); longer ones are cut.
const MAX_SHOWN_CHARS: usize = 300;

/// A string read from a document, fit for display: control characters and bidirectional
/// overrides and isolates removed (they could make text read backwards, e.g. a file name
/// `fdp.exe` shown as `exe.pdf`), at most [`MAX_SHOWN_CHARS`] characters. Escaping for HTML
/// is the template's part.
pub(super) fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                )
        })
        .take(MAX_SHOWN_CHARS + 1)
        .collect();
    if out.chars().count() > MAX_SHOWN_CHARS {
        out = out.chars().take(MAX_SHOWN_CHARS).collect();
        out.push('…');
    }
    out
}

/// A verdict's look: the CSS class, the icon and the words (never the colour alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
    /// Genuine, verified.
    Good,
    /// Not genuine, failed.
    Bad,
    /// Cannot be decided, or worth attention.
    Unsure,
}

impl Tone {
    /// The CSS class (`tone-good`…).
    pub(super) fn class(self) -> &'static str {
        match self {
            Tone::Good => "tone-good",
            Tone::Bad => "tone-bad",
            Tone::Unsure => "tone-unsure",
        }
    }

    /// The icon's path under `/static/`.
    pub(super) fn icon(self) -> &'static str {
        match self {
            Tone::Good => "/static/icon-good.svg",
            Tone::Bad => "/static/icon-bad.svg",
            Tone::Unsure => "/static/icon-unsure.svg",
        }
    }

    fn of(indication: Indication) -> Tone {
        match indication {
            Indication::TotalPassed => Tone::Good,
            Indication::TotalFailed => Tone::Bad,
            Indication::Indeterminate => Tone::Unsure,
        }
    }
}

/// A verification's result page.
#[derive(Debug)]
pub(super) struct ResultView {
    /// `TOTAL-PASSED`, `TOTAL-FAILED` or `INDETERMINATE` (`data-overall`).
    pub(super) overall: String,
    /// The overall look.
    pub(super) tone: Tone,
    /// The overall verdict in words.
    pub(super) headline: &'static str,
    /// How many signatures (`data-signatures`) and the sentence saying so.
    pub(super) count: usize,
    /// The sentence about the count (or the lack of signatures).
    pub(super) count_words: String,
    /// The uploaded file's name, cleaned (shown, never stored).
    pub(super) file_name: Option<String>,
    /// One per signature, in field order.
    pub(super) signatures: Vec<SignatureView>,
    /// On `/d/{id}`: whether the upload is the recorded document (`data-match`).
    pub(super) matches: Option<Match>,
}

/// One signature.
#[derive(Debug)]
pub(super) struct SignatureView {
    /// 1-based position, for the heading.
    pub(super) number: usize,
    /// The indication (`data-indication`).
    pub(super) indication: String,
    /// The look.
    pub(super) tone: Tone,
    /// Asli / Tidak asli / Tidak dapat dipastikan.
    pub(super) verdict: &'static str,
    /// The sub-indication in plain words, when not passed.
    pub(super) plain_reason: Option<&'static str>,
    /// The engine's one-line reason (from the engine, about the document: cleaned).
    pub(super) reason: String,
    /// Whether the signature covers the whole file.
    pub(super) whole: bool,
    /// The coverage sentence.
    pub(super) coverage: &'static str,
    /// The changes after the signature, in words.
    pub(super) changes: Vec<ChangeView>,
    /// The line about changes not listed.
    pub(super) more_changes: Option<String>,
    /// The signer's common name.
    pub(super) signer: Option<String>,
    /// The signer's organisation.
    pub(super) organization: Option<String>,
    /// The agency's configured name (or id), when the signature is in the log.
    pub(super) agency: Option<String>,
    /// The claimed signing time, WIB.
    pub(super) signed_at: Option<String>,
    /// The chain's look and sentence.
    pub(super) chain_tone: Tone,
    /// The chain sentence.
    pub(super) chain: &'static str,
    /// The log entry, when recorded.
    pub(super) log: Option<LogView>,
    /// The technical detail.
    pub(super) tech: TechView,
}

/// One change after a signature.
#[derive(Debug)]
pub(super) struct ChangeView {
    /// The level in words.
    pub(super) level: &'static str,
    /// `content`, `signatures`…: the CSS hook.
    pub(super) level_name: &'static str,
    /// The engine's description (cleaned).
    pub(super) what: String,
    /// The field concerned (cleaned), e.g. a later seal's name.
    pub(super) field: Option<String>,
}

/// A log entry as the page shows it.
#[derive(Debug)]
pub(super) struct LogView {
    /// Its index (`data-log-index`).
    pub(super) index: u64,
    /// "entri nomor N".
    pub(super) entry: String,
    /// When it was logged, WIB.
    pub(super) logged_at: String,
    /// Whether the inclusion proof was verified against the checkpoint.
    pub(super) proof_verified: bool,
    /// The tree size of the proof, in words.
    pub(super) tree_size: String,
    /// The agency, configured name or id.
    pub(super) agency: String,
    /// The document's SHA-256, hex.
    pub(super) document_sha256: String,
}

/// The technical detail of one signature.
#[derive(Debug)]
pub(super) struct TechView {
    /// The signature field's name (cleaned).
    pub(super) field: String,
    /// The sub-indication's ETSI name.
    pub(super) sub_indication: Option<&'static str>,
    /// Checks: name, passed, detail (cleaned).
    pub(super) checks: Vec<(&'static str, bool, String)>,
    /// The certificate's subject.
    pub(super) subject: Option<String>,
    /// The certificate's issuer.
    pub(super) issuer: Option<String>,
    /// The serial number.
    pub(super) serial: Option<String>,
    /// Valid from, to (WIB).
    pub(super) validity: Option<(String, String)>,
    /// The certificate's SHA-256.
    pub(super) cert_sha256: Option<String>,
    /// SHA-256 of the signed bytes.
    pub(super) message_digest: Option<String>,
    /// SHA-256 of the signature value.
    pub(super) signature_sha256: Option<String>,
    /// Digest and signature algorithms.
    pub(super) algorithms: String,
    /// The `/SubFilter` (cleaned).
    pub(super) sub_filter: String,
}

impl ResultView {
    /// The result of `v` in `lang`; `matches` after a compare on `/d/{id}`.
    pub(super) fn new(
        v: &Verification,
        segel: &Segel,
        lang: Lang,
        file_name: Option<&str>,
        matches: Option<Match>,
    ) -> ResultView {
        let t = lang.texts();
        let count = v.signatures.len();
        let (tone, headline) = if count == 0 {
            (Tone::Unsure, t.no_signature)
        } else {
            match v.overall {
                // "Unchanged" only when a signature covers the file to its last byte.
                Indication::TotalPassed
                    if v.signatures
                        .iter()
                        .any(|s| s.report.coverage == Coverage::WholeFile) =>
                {
                    (Tone::Good, t.overall_passed)
                }
                Indication::TotalPassed => (Tone::Good, t.overall_passed_changed),
                Indication::TotalFailed => (Tone::Bad, t.overall_failed),
                Indication::Indeterminate => (Tone::Unsure, t.overall_unknown),
            }
        };
        // No signature is INDETERMINATE whatever the engine said: nothing vouches for it.
        let overall = if count == 0 {
            Indication::Indeterminate
        } else {
            v.overall
        };
        ResultView {
            overall: overall.to_string(),
            tone,
            headline,
            count,
            count_words: if count == 0 {
                t.no_signature_detail.to_string()
            } else {
                lang.signature_count(count)
            },
            file_name: file_name.map(clean).filter(|n| !n.is_empty()),
            signatures: v
                .signatures
                .iter()
                .enumerate()
                .map(|(i, s)| SignatureView::new(i + 1, s, segel, lang))
                .collect(),
            matches,
        }
    }
}

impl SignatureView {
    fn new(number: usize, s: &CheckedSignature, segel: &Segel, lang: Lang) -> SignatureView {
        let t = lang.texts();
        let r = &s.report;
        let tone = Tone::of(r.indication);
        let verdict = match r.indication {
            Indication::TotalPassed => t.genuine,
            Indication::TotalFailed => t.not_genuine,
            Indication::Indeterminate => t.undecided,
        };
        let whole = matches!(r.coverage, Coverage::WholeFile)
            && r.check_passed("message-digest") == Some(true);
        let coverage = match (r.check_passed("message-digest"), r.coverage) {
            // Whatever the byte ranges say, the bytes they cover are not the signed ones.
            (Some(false), _) => t.altered,
            (Some(true), Coverage::WholeFile) => t.whole,
            (None, Coverage::WholeFile) => t.whole_unchecked,
            (_, Coverage::Invalid) => t.coverage_invalid,
            (_, Coverage::Revision { .. }) if r.changes.is_empty() => t.later_revision,
            (_, Coverage::Revision { .. }) => t.changed_after,
        };
        let changes = r
            .changes
            .iter()
            .take(MAX_SHOWN_CHANGES)
            .map(|c| ChangeView {
                level: lang.change_level(c.level),
                level_name: c.level.as_str(),
                what: clean(&c.what),
                field: c.field.as_deref().map(clean),
            })
            .collect();
        let more = r.changes.len().saturating_sub(MAX_SHOWN_CHANGES);
        let (chain_tone, chain) = match r.check_passed("chain") {
            Some(true) => (Tone::Good, t.chain_trusted),
            Some(false) => (Tone::Bad, t.chain_untrusted),
            None => (Tone::Unsure, t.chain_unchecked),
        };
        let log = s.log.as_ref().map(|m| LogView::new(m, segel, lang));
        let cert = r.certificate.as_ref();
        SignatureView {
            number,
            indication: r.indication.to_string(),
            tone,
            verdict,
            plain_reason: r.sub_indication.map(|x| lang.sub_indication(x)),
            reason: clean(&r.reason),
            whole,
            coverage,
            changes,
            more_changes: (more > 0).then(|| lang.more_changes(more)),
            signer: cert
                .and_then(|c| c.common_name.as_deref())
                .or(r.signer.as_deref())
                .map(clean),
            organization: cert.and_then(|c| c.organization.as_deref()).map(clean),
            agency: log.as_ref().map(|l| l.agency.clone()),
            signed_at: r.claimed_time.map(|u| lang.wib(u.0.saturating_mul(1000))),
            chain_tone,
            chain,
            log,
            tech: TechView::new(r, lang),
        }
    }
}

impl LogView {
    /// The entry `m` as the page shows it.
    pub(super) fn new(m: &LogMatch, segel: &Segel, lang: Lang) -> LogView {
        LogView {
            index: m.index,
            entry: lang.entry_number(m.index),
            logged_at: lang.wib(m.entry.time_ms),
            proof_verified: m.proof_verified,
            tree_size: lang.tree_size(m.proof.tree_size),
            agency: clean(
                segel
                    .agency_name(&m.entry.agency)
                    .unwrap_or(&m.entry.agency),
            ),
            document_sha256: hex::encode(m.entry.document_sha256),
        }
    }
}

impl TechView {
    fn new(r: &SignatureReport, lang: Lang) -> TechView {
        let cert = r.certificate.as_ref();
        let at = |u: UnixTime| lang.wib(u.0.saturating_mul(1000));
        let algorithms = [r.digest_algorithm, r.signature_algorithm]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        TechView {
            field: clean(&r.field),
            sub_indication: r.sub_indication.map(|s| s.as_str()),
            checks: r
                .checks
                .iter()
                .map(|c| (c.name, c.passed, clean(&c.detail)))
                .collect(),
            subject: cert.map(|c| clean(&c.subject)),
            issuer: cert.map(|c| clean(&c.issuer)),
            serial: cert.map(|c| clean(&c.serial)),
            validity: cert.map(|c| (at(c.not_before), at(c.not_after))),
            cert_sha256: cert.map(|c| hex::encode(c.sha256)),
            message_digest: r.message_digest.map(hex::encode),
            signature_sha256: r.signature_sha256.map(hex::encode),
            algorithms,
            sub_filter: clean(&r.sub_filter),
        }
    }
}

/// What `/d/{id}` shows for a recorded document.
#[derive(Debug)]
pub(super) struct DocumentView {
    /// The document id (checked: `[A-Za-z0-9_-]`).
    pub(super) id: String,
    /// Its entries (usually one).
    pub(super) entries: Vec<LogView>,
    /// The index of the first entry (`data-entry-index`).
    pub(super) first_index: u64,
    /// The checkpoint's tree size, in words.
    pub(super) size: String,
    /// The signed checkpoint note, verbatim (the server's own).
    pub(super) note: String,
    /// The log's verifier key.
    pub(super) verifier_key: String,
}

impl DocumentView {
    /// The view of `d`; `None` when the log holds no entry for it.
    pub(super) fn new(d: &DocumentEntries, segel: &Segel, lang: Lang) -> Option<DocumentView> {
        let first = d.entries.first()?;
        Some(DocumentView {
            id: d.id.as_str().to_string(),
            entries: d
                .entries
                .iter()
                .map(|m| LogView::new(m, segel, lang))
                .collect(),
            first_index: first.index,
            size: lang.tree_size(d.size),
            note: d.checkpoint.note.clone(),
            verifier_key: d.checkpoint.verifier_key.clone(),
        })
    }
}

/// How an upload compares with the document a seal's id records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Match {
    /// A signature recorded for the id is in the upload and passed: it is that document (with
    /// only the later changes its signature allows, which the page lists).
    Yes,
    /// A signature recorded for the id is in the upload, but it did not pass: the recorded
    /// document, changed after it was sealed.
    Changed,
    /// No signature of the upload is recorded for the id.
    No,
}

impl Match {
    /// `data-match`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Match::Yes => "yes",
            Match::Changed => "changed",
            Match::No => "no",
        }
    }
}

/// How `v` compares with the document id `id`: only a recorded signature that passed makes the
/// upload the recorded document.
pub(super) fn records_document(v: &Verification, id: &pades::stamp::DocumentId) -> Match {
    let want = tlog::DocumentIdHash::Present(pades::sha256(id.as_str().as_bytes()));
    let recorded = v.signatures.iter().filter(|s| {
        s.log
            .as_ref()
            .is_some_and(|m| m.entry.document_id_sha256 == want)
    });
    let mut found = Match::No;
    for s in recorded {
        if s.report.indication == Indication::TotalPassed {
            return Match::Yes;
        }
        found = Match::Changed;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_removes_direction_overrides_and_controls_and_cuts() {
        assert_eq!(clean("Budi\u{202e}gpj.exe"), "Budigpj.exe");
        assert_eq!(clean("a\u{2066}b\u{2069}\u{200f}c\r\n"), "abc");
        let long = clean(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(clean("<script>"), "<script>", "escaping is the template's");
    }
}
