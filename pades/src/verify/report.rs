//! The verdict: ETSI EN 319 102-1 indications per signature, and for the document.

use serde::Serializer;

use super::history::Change;
use crate::time::UnixTime;

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

impl std::str::FromStr for Indication {
    type Err = UnknownName;

    /// The name as [`Display`](std::fmt::Display) writes it (`TOTAL-PASSED`, …).
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        [Self::TotalPassed, Self::TotalFailed, Self::Indeterminate]
            .into_iter()
            .find(|i| i.to_string() == s)
            .ok_or_else(|| UnknownName(s.chars().take(64).collect()))
    }
}

/// A string that names no indication or sub-indication (at most its first 64 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown indication {0:?}")]
pub struct UnknownName(pub String);

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

impl SubIndication {
    /// Every sub-indication.
    pub const ALL: [SubIndication; 10] = [
        Self::FormatFailure,
        Self::HashFailure,
        Self::SigCryptoFailure,
        Self::NoSigningCertificateFound,
        Self::NoCertificateChainFound,
        Self::OutOfBoundsNoPoe,
        Self::NotYetValid,
        Self::CryptoConstraintsFailure,
        Self::ChainConstraintsFailure,
        Self::SigConstraintsFailure,
    ];

    /// The name as ETSI EN 319 102-1 writes it, e.g. `HASH_FAILURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FormatFailure => "FORMAT_FAILURE",
            Self::HashFailure => "HASH_FAILURE",
            Self::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            Self::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            Self::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            Self::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            Self::NotYetValid => "NOT_YET_VALID",
            Self::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            Self::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            Self::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
        }
    }
}

impl std::str::FromStr for SubIndication {
    type Err = UnknownName;

    /// The name as [`SubIndication::as_str`] writes it (`HASH_FAILURE`, …).
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| UnknownName(s.chars().take(64).collect()))
    }
}

impl std::fmt::Display for SubIndication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signature forms this verifier knows, by `/SubFilter` (ISO 32000-2 §12.8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureForm {
    /// `ETSI.CAdES.detached`: PAdES.
    Cades,
    /// `adbe.pkcs7.detached`.
    Pkcs7Detached,
    /// `adbe.pkcs7.sha1` (SHA-1 of the byte ranges encapsulated and signed).
    Pkcs7Sha1,
}

impl SignatureForm {
    /// A human description, as the report writes it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Cades => "PAdES (ETSI.CAdES.detached)",
            Self::Pkcs7Detached => "PKCS#7 detached (adbe.pkcs7.detached)",
            Self::Pkcs7Sha1 => "PKCS#7 SHA-1 (adbe.pkcs7.sha1, legacy)",
        }
    }
}

impl std::fmt::Display for SignatureForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
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
    /// Claimed signing time from `/M` (serialised in RFC 3339 form).
    #[serde(serialize_with = "rfc3339")]
    pub claimed_time: Option<UnixTime>,
    /// `/ByteRange` as written.
    pub byte_range: Vec<i64>,
    /// What the signature covers.
    pub coverage: Coverage,
    /// Signature form: PAdES (CAdES detached), PKCS#7 detached, or PKCS#7 SHA-1 (legacy);
    /// `None` for a `/SubFilter` this verifier does not know (serialised as its description,
    /// or an empty string).
    #[serde(serialize_with = "form_description")]
    pub level: Option<SignatureForm>,
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
    /// SHA-256 of the signed byte ranges (what a signature log records), when computed
    /// (serialised as lower-case hex).
    #[serde(serialize_with = "lower_hex")]
    pub message_digest: Option<[u8; 32]>,
    /// SHA-256 of the signature value, when the CMS was read (serialised as lower-case hex).
    #[serde(serialize_with = "lower_hex")]
    pub signature_sha256: Option<[u8; 32]>,
    /// The signer's certificate, when it was found in the CMS.
    pub certificate: Option<CertificateInfo>,
    /// The digest algorithm of the signer info (`SHA-256`, …), when known.
    pub digest_algorithm: Option<&'static str>,
    /// The signature algorithm, when the signature value was checked and verifies
    /// (`RSA PKCS#1 v1.5 SHA-256`, `RSASSA-PSS SHA-256`, `ECDSA P-256 SHA-256`, …).
    pub signature_algorithm: Option<&'static str>,
}

impl SignatureReport {
    /// Did the check named `name` pass? `None` when it was not made (an earlier failure ended
    /// the run). The names are those of [`Check::name`]: `chain` for the trust path to an
    /// anchor, `message-digest` for the integrity of the signed bytes, `signature` for the
    /// signature value.
    pub fn check_passed(&self, name: &str) -> Option<bool> {
        let mut made = self.checks.iter().filter(|c| c.name == name).peekable();
        made.peek()?;
        Some(made.all(|c| c.passed))
    }
}

/// The signer's certificate, as a reader of a verdict needs it (names in RFC 4514 order as
/// the certificate writes them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateInfo {
    /// The subject's distinguished name.
    pub subject: String,
    /// The subject's common name (CN), when it has exactly one that is a string.
    pub common_name: Option<String>,
    /// The subject's organisation (O), when it has exactly one that is a string.
    pub organization: Option<String>,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The serial number as upper-case hex (no separators).
    pub serial: String,
    /// Valid from (serialised in RFC 3339 form).
    #[serde(serialize_with = "rfc3339_at")]
    pub not_before: UnixTime,
    /// Valid until (serialised in RFC 3339 form).
    #[serde(serialize_with = "rfc3339_at")]
    pub not_after: UnixTime,
    /// SHA-256 of the certificate's DER (serialised as lower-case hex).
    #[serde(serialize_with = "lower_hex_at")]
    pub sha256: [u8; 32],
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

/// A time as its RFC 3339 string.
fn rfc3339<S: Serializer>(t: &Option<UnixTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&t.rfc3339()),
        None => s.serialize_none(),
    }
}

/// A time as its RFC 3339 string.
fn rfc3339_at<S: Serializer>(t: &UnixTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.rfc3339())
}

/// A digest as lower-case hex.
fn lower_hex_at<S: Serializer>(d: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(d))
}

/// A signature form as its description; none as an empty string.
fn form_description<S: Serializer>(f: &Option<SignatureForm>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.map_or("", SignatureForm::describe))
}

/// A digest as lower-case hex.
fn lower_hex<S: Serializer>(d: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&hex::encode(d)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_indication_names_are_the_serialised_names_and_parse_back() {
        for sub in SubIndication::ALL {
            assert_eq!(
                serde_json::to_value(sub).expect("serialises"),
                serde_json::Value::from(sub.as_str())
            );
            assert_eq!(sub.as_str().parse::<SubIndication>(), Ok(sub));
        }
        assert!("hash_failure".parse::<SubIndication>().is_err());
    }

    #[test]
    fn indication_names_parse_back() {
        for i in [
            Indication::TotalPassed,
            Indication::TotalFailed,
            Indication::Indeterminate,
        ] {
            assert_eq!(i.to_string().parse::<Indication>(), Ok(i));
            assert_eq!(
                serde_json::to_value(i).expect("serialises"),
                serde_json::Value::from(i.to_string())
            );
        }
        assert!("PASSED".parse::<Indication>().is_err());
    }
}
