//! The verdict: ETSI EN 319 102-1 indications per signature, and for the document.

use super::history::Change;

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
