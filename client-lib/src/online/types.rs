//! What the online calls take and give: requests, sealed documents and verdicts, agencies and
//! the keys entries are looked up by. Plain domain types: the wire's messages stay in
//! [`super::wire`].

use bytes::Bytes;

use crate::logcheck::{ProvenEntry, VerifiedCheckpoint};

/// What to sign and how.
#[derive(Debug, Clone, Default)]
pub struct SignRequest {
    /// The agency whose key seals the document.
    pub agency: String,
    /// Idempotency key: a retry with the same id returns the same signature and log entry.
    /// Empty: each call makes one of its own ([`super::new_request_id`]), so a second call is a
    /// new signature; set it to make retries of one document safe.
    pub request_id: String,
    /// The document's reference (e.g. the letter number), recorded in the log.
    pub document_ref: String,
    /// Reason, location, field, page, PSS, certification, field locking, and a visible seal
    /// (which the server draws with the agency's template; in digest-only mode this client
    /// draws it with the agency's stamp settings).
    pub options: pades::SignOptions,
}

impl SignRequest {
    /// A request for `agency` with default options and no request id of its own (each call
    /// then makes one).
    pub fn new(agency: &str) -> Self {
        Self {
            agency: agency.to_string(),
            ..Self::default()
        }
    }
}

/// A signed document and its log entry, proven in a checkpoint.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The signed PDF: the input followed by the incremental update.
    pub pdf: Bytes,
    /// The log entry, with its inclusion proof checked.
    pub entry: ProvenEntry,
    /// With a visible seal: the document id its QR code links to (`{verify_url}/d/{id}`),
    /// assigned by the server; `None` for an invisible signature.
    pub document_id: Option<String>,
}

/// A CMS for a locally prepared PDF, and its log entry.
#[derive(Debug, Clone)]
pub struct SealedDigest {
    /// DER CMS `SignedData` to embed in `/Contents`.
    pub cms: Vec<u8>,
    /// The log entry, with its inclusion proof checked.
    pub entry: ProvenEntry,
    /// The document id sent with the digest (the one the locally drawn seal links to);
    /// `None` for an invisible signature.
    pub document_id: Option<String>,
}

/// The server's verdict on one signature.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Signature field.
    pub field: String,
    /// TOTAL-PASSED, TOTAL-FAILED or INDETERMINATE.
    pub indication: pades::Indication,
    /// Why, when not passed.
    pub sub_indication: Option<pades::SubIndication>,
    /// Signer's subject.
    pub signer: String,
    /// Human-readable reason.
    pub reason: String,
    /// The engine's full report (JSON).
    pub report_json: String,
    /// The log entry of this signature, proven in the answer's checkpoint; `None`: not in
    /// this log.
    pub entry: Option<ProvenEntry>,
}

/// The server's verification of a PDF.
#[derive(Debug, Clone)]
pub struct Verification {
    /// TOTAL-PASSED only if every signature passed.
    pub overall: pades::Indication,
    /// Per signature.
    pub signatures: Vec<Verdict>,
    /// The checkpoint the entries are proven against.
    pub checkpoint: VerifiedCheckpoint,
}

/// An agency this client may seal for.
#[derive(Debug, Clone, PartialEq)]
pub struct Agency {
    /// Its id (what [`SignRequest::agency`] names).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its certificate chain, DER, signer first.
    pub certificate_chain: Vec<Vec<u8>>,
    /// How its visible seals look (template, verification URL, footer, image), for drawing
    /// the stamp here in digest-only mode: `Ok(None)` when the server sends none (a server
    /// without visible seals), an error when what it sends does not parse.
    pub stamp: Result<Option<pades::stamp::StampSettings>, pades::stamp::StampError>,
}

impl Agency {
    /// The agency's stamp settings, for a seal drawn here.
    ///
    /// # Errors
    /// [`crate::ClientError::BadAnswer`] when the server sent none or unusable ones.
    pub fn stamp_settings(&self) -> Result<&pades::stamp::StampSettings, crate::ClientError> {
        let bad = |detail: String| crate::ClientError::BadAnswer {
            what: "ListAgencies".into(),
            detail,
        };
        match &self.stamp {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(bad(format!(
                "the server gives no stamp settings for agency {:?}, so no visible seal can \
                 be drawn for it here (a server without visible seals?)",
                self.id
            ))),
            Err(e) => Err(bad(format!(
                "the stamp settings of agency {:?} are unusable: {e}",
                self.id
            ))),
        }
    }
}

/// What log entries are looked up by ([`super::Client::entries`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKey {
    /// The entry at this index.
    Index(u64),
    /// The entries of the signed document with this SHA-256.
    DocumentSha256(Vec<u8>),
    /// The entries of the signature value with this SHA-256.
    SignatureSha256(Vec<u8>),
    /// The entries recorded with this document reference.
    DocumentRef(String),
    /// The entries of the visible seal whose QR code links to this document id (the log
    /// holds its SHA-256).
    DocumentId(String),
}

impl EntryKey {
    /// Whether a proven entry is one this key asks for. A document reference is logged only
    /// as a keyed hash the server alone can compute, so any entry may answer it.
    pub fn matches(&self, e: &crate::logcheck::ProvenEntry) -> bool {
        match self {
            Self::Index(i) => e.index == *i,
            Self::DocumentSha256(h) => e.record.document_sha256.as_slice() == h.as_slice(),
            Self::SignatureSha256(h) => e.record.signature_sha256.as_slice() == h.as_slice(),
            Self::DocumentRef(_) => true,
            Self::DocumentId(id) => {
                e.record.document_id_sha256.hash() == Some(&pades::sha256(id.as_bytes()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_settings_are_usable_only_when_sent_and_valid() {
        let mut a = Agency {
            id: "dev".into(),
            name: "Kementerian Contoh".into(),
            certificate_chain: Vec::new(),
            stamp: Ok(None),
        };
        let e = a.stamp_settings().expect_err("none").to_string();
        assert!(e.contains("no stamp settings") && e.contains("dev"), "{e}");
        a.stamp = Err(pades::stamp::StampError::Template("line 1: bad".into()));
        let e = a.stamp_settings().expect_err("bad").to_string();
        assert!(e.contains("unusable") && e.contains("line 1"), "{e}");
        let settings =
            pades::stamp::StampSettings::new("Kementerian Contoh", "http://127.0.0.1:8080")
                .expect("settings");
        a.stamp = Ok(Some(settings.clone()));
        assert_eq!(a.stamp_settings().expect("usable"), &settings);
    }
}
