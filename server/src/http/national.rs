//! `POST /api/v2/verify/pdf`: the verdict in the shape of the national e-signature client
//! service's verification answer (BSrE `esign-client-service`), so that an integration written
//! for that service switches to Segel by changing its URL.
//!
//! The request is JSON `{"file": "<base64 PDF>", "password": "…"}`; the answer keeps the
//! service's spellings, typos included (`timestampInfomation`, `signatureAlgoritm`). What Segel
//! cannot fill is `null` (or `false` for `ltv`), never invented; `docs/http-api.md` maps every
//! field and says why. Refusals are Segel's JSON refusals (`{"error", "reason"}`), like v1.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use pades::verify::{Coverage, SignatureForm, SignatureReport};
use pades::{Indication, UnixTime};

use super::api::only;
use super::upload::{
    admit, declared_length, drained_on_refusal, paced, read_limited, receiving, Upload,
};
use super::HttpState;
use crate::status::{HttpRefusal, Reason};
use crate::verification::{Verification, Via};

/// The routes of this module.
pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new().route("/api/v2/verify/pdf", only("POST", post(verify_pdf)))
}

/// The request body's limit: the upload limit in base64 (4/3 of it) plus 64 KiB for the JSON
/// around it.
fn body_limit(max_upload_bytes: usize) -> usize {
    (max_upload_bytes / 3)
        .saturating_add(1)
        .saturating_mul(4)
        .saturating_add(64 * 1024)
}

/// The request as the national service takes it.
#[derive(Debug, serde::Deserialize)]
struct VerifyRequest {
    /// The PDF, base64 (standard alphabet, padded).
    file: String,
    /// The password of an encrypted PDF (refused: Segel does not open encrypted PDFs).
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/v2/verify/pdf`.
async fn verify_pdf(
    State(state): State<Arc<HttpState>>,
    req: Request,
) -> Result<Json<wire::VerifyResponse>, HttpRefusal> {
    let cap = body_limit(state.max_upload_bytes);
    drained_on_refusal(req, cap, |req| verify_body(&state, req)).await
}

/// The verification of one request, its body read here.
async fn verify_body(
    state: &HttpState,
    req: Request,
) -> Result<Json<wire::VerifyResponse>, HttpRefusal> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(HttpRefusal::new(
            Reason::InvalidRequest,
            "send Content-Type: application/json with {\"file\": \"<base64 PDF>\"}",
        ));
    }
    let max = state.max_upload_bytes;
    let limit = body_limit(max);
    let too_large = || {
        HttpRefusal::new(
            Reason::DocumentTooLarge,
            format!("the document exceeds the limit of {max} bytes"),
        )
    };
    if declared_length(req.headers()).is_some_and(|d| d > limit as u64) {
        return Err(too_large());
    }
    // A place among the uploads being received (busy: 429 at once), the body at its pace,
    // then a verification slot (upload.rs).
    let place = receiving(state, &req)?;
    let (req, pace) = paced(req);
    let body = read_limited(req.into_body(), limit)
        .await
        .map_err(|e| pace.explain(e.refusal(too_large)))?;
    // Parsing and decoding tens of megabytes is CPU work: off the async threads, still under
    // the upload's place (the body, the JSON string and the PDF are all in memory meanwhile).
    let pdf = tokio::task::spawn_blocking(move || decode(&body))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "decoding a v2 request failed");
            HttpRefusal::new(Reason::Internal, "internal error; see the server log")
        })??;
    drop(place);
    if pdf.is_empty() {
        return Err(HttpRefusal::new(
            Reason::NotAPdf,
            "`file` is empty: send a PDF",
        ));
    }
    if pdf.len() > max {
        return Err(too_large());
    }
    let upload = Upload {
        pdf,
        file_name: None,
        _slot: admit(state)?,
    };
    let v = upload.verify(state, Via::Api).await?;
    Ok(Json(wire::VerifyResponse::new(&v)))
}

/// The PDF of a v2 request body: `{"file": base64, "password": …}`, decoded strictly.
fn decode(body: &[u8]) -> Result<Vec<u8>, HttpRefusal> {
    let request: VerifyRequest = serde_json::from_slice(body).map_err(|e| {
        HttpRefusal::new(
            Reason::InvalidRequest,
            format!("the body is not {{\"file\": \"<base64 PDF>\", \"password\": …}}: {e}"),
        )
    })?;
    if request.password.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(HttpRefusal::new(
            Reason::InvalidRequest,
            "Segel does not open encrypted PDFs: send the document without `password`",
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(request.file.as_bytes())
        .map_err(|e| {
            HttpRefusal::new(
                Reason::InvalidRequest,
                format!("`file` is not base64 (standard alphabet, padded, no line breaks): {e}"),
            )
        })
}

/// `2024-03-23T06:56:15.000+00:00`, the service's form of a time.
fn service_time(t: UnixTime) -> String {
    let (y, mo, d, h, mi, s) = t.civil();
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000+00:00")
}

/// An upper-case hex serial number in decimal, as the service writes it; `None` if `hex` is
/// not hex. Quadratic in the length, which a certificate bounds (RFC 5280: at most 20 octets;
/// the parser keeps what it read, so this is only ever a few dozen digits).
fn decimal_serial(hex: &str) -> Option<String> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // Little-endian decimal digits of the value read so far.
    let mut digits: Vec<u8> = Vec::new();
    for nibble in hex.bytes() {
        let mut carry = u32::from(match nibble {
            b'0'..=b'9' => nibble - b'0',
            b'a'..=b'f' => nibble - b'a' + 10,
            _ => nibble - b'A' + 10,
        });
        for d in &mut digits {
            let v = u32::from(*d) * 16 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    if digits.is_empty() {
        return Some("0".into());
    }
    Some(digits.iter().rev().map(|d| char::from(b'0' + d)).collect())
}

/// The wire shapes of the national service (camelCase, its spellings).
pub(super) mod wire {
    use super::*;

    /// The verification answer.
    #[derive(Debug, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct VerifyResponse {
        /// `VALID`, `INVALID`, `WARNING` or `NO_SIGNATURE`.
        pub(crate) conclusion: &'static str,
        /// The conclusion in Indonesian, for people.
        pub(crate) description: &'static str,
        /// How many signatures the document carries.
        pub(crate) signature_count: usize,
        /// One per signature, in field order.
        pub(crate) signature_informations: Vec<SignatureInformation>,
    }

    impl VerifyResponse {
        /// The national form of `v`.
        pub(crate) fn new(v: &Verification) -> Self {
            let (conclusion, description) = conclusion(v);
            // The last signature, in field order, that covers the whole file.
            let last = v
                .signatures
                .iter()
                .rposition(|s| s.report.coverage == Coverage::WholeFile);
            Self {
                conclusion,
                description,
                signature_count: v.signatures.len(),
                signature_informations: v
                    .signatures
                    .iter()
                    .enumerate()
                    .map(|(i, s)| SignatureInformation::new(i, &s.report, last == Some(i)))
                    .collect(),
            }
        }
    }

    /// Whether the document is as this signature signed it, with only the changes it allows:
    /// the signed bytes match, the signature value verifies, and no failure is about the
    /// document (a change after signing that is not allowed, a digest or a broken form).
    fn integrity_valid(r: &SignatureReport) -> bool {
        use pades::SubIndication as S;
        r.check_passed("message-digest") == Some(true)
            && r.check_passed("signature") == Some(true)
            && !matches!(
                r.sub_indication,
                Some(
                    S::SigConstraintsFailure
                        | S::HashFailure
                        | S::SigCryptoFailure
                        | S::FormatFailure
                )
            )
    }

    /// The conclusion and its description.
    fn conclusion(v: &Verification) -> (&'static str, &'static str) {
        if v.signatures.is_empty() {
            return (
                "NO_SIGNATURE",
                "Dokumen tidak memiliki tandatangan elektronik",
            );
        }
        // A document changed after a signature (or a signature that does not verify) is
        // INVALID, whatever else is undecided: never a mere warning about trust.
        if v.signatures.iter().any(|s| !integrity_valid(&s.report)) {
            return (
                "INVALID",
                "Dokumen tidak valid: dokumen diubah setelah ditandatangani atau tanda tangan \
                 tidak sah",
            );
        }
        match v.overall {
            Indication::TotalPassed => (
                "VALID",
                "Dokumen valid, Sertifikat yang digunakan terpercaya",
            ),
            Indication::TotalFailed => (
                "INVALID",
                "Dokumen tidak valid: tanda tangan tidak sah atau dokumen diubah setelah \
                 ditandatangani",
            ),
            Indication::Indeterminate => (
                "WARNING",
                "Keabsahan tanda tangan tidak dapat dipastikan: sertifikat tidak terpercaya, \
                 di luar masa berlaku, atau bentuk tanda tangan tidak didukung",
            ),
        }
    }

    /// One signature.
    #[derive(Debug, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct SignatureInformation {
        /// `S-` and the SHA-256 of the signature value, upper-case hex.
        pub(crate) id: String,
        /// `PAdES-BASELINE-B`, `PKCS7-B` or `UNKNOWN`.
        pub(crate) signature_format: &'static str,
        /// The signer certificate's common name (else its subject).
        pub(crate) signer_name: Option<String>,
        /// The claimed signing time (`/M`).
        pub(crate) signature_date: Option<String>,
        /// The signature field's name.
        pub(crate) field_name: String,
        /// The signature's `/Reason` (not reported by Segel's engine: null).
        pub(crate) reason: Option<String>,
        /// The signature's `/Location` (not reported by Segel's engine: null).
        pub(crate) location: Option<String>,
        /// DocMDP `/P` of a certification signature; 0 for an approval signature.
        pub(crate) cert_level_code: i64,
        /// The signature algorithm, when the signature value verified.
        pub(crate) signature_algorithm: Option<&'static str>,
        /// The digest algorithm of the signer info.
        pub(crate) digest_algorithm: Option<&'static str>,
        /// RFC 3161 timestamp (Segel reads none yet: null).
        pub(crate) timestamp_infomation: Option<()>,
        /// The signer's certificate (the chain is not reported).
        pub(crate) certificate_details: Vec<CertificateDetail>,
        /// The signed bytes' digest and the signature value both verified.
        pub(crate) integrity_valid: bool,
        /// The certificate chains to one of the server's trust anchors.
        pub(crate) certificate_trusted: bool,
        /// The last signature in field order covering the whole file.
        pub(crate) last_signature: bool,
        /// Long-term validation data (Segel adds and reads none yet: false).
        pub(crate) ltv: bool,
    }

    impl SignatureInformation {
        fn new(i: usize, r: &SignatureReport, last: bool) -> Self {
            let passed = |name| r.check_passed(name) == Some(true);
            Self {
                id: match r.signature_sha256 {
                    Some(h) => format!("S-{}", hex::encode_upper(h)),
                    None => format!("S-{}", i + 1),
                },
                signature_format: match r.level {
                    Some(SignatureForm::Cades) => "PAdES-BASELINE-B",
                    Some(SignatureForm::Pkcs7Detached | SignatureForm::Pkcs7Sha1) => "PKCS7-B",
                    None => "UNKNOWN",
                },
                signer_name: r
                    .certificate
                    .as_ref()
                    .map(|c| c.common_name.clone().unwrap_or_else(|| c.subject.clone())),
                signature_date: r.claimed_time.map(service_time),
                field_name: r.field.clone(),
                reason: None,
                location: None,
                cert_level_code: r.certification.unwrap_or(0),
                signature_algorithm: r.signature_algorithm,
                digest_algorithm: r.digest_algorithm,
                timestamp_infomation: None,
                certificate_details: r
                    .certificate
                    .iter()
                    .map(|c| CertificateDetail {
                        id: format!("C-{}", hex::encode_upper(c.sha256)),
                        common_name: c.common_name.clone(),
                        issuer_name: c.issuer.clone(),
                        serial_number: decimal_serial(&c.serial)
                            .unwrap_or_else(|| c.serial.clone()),
                        not_after_date: service_time(c.not_after),
                        not_before_date: service_time(c.not_before),
                        signature_algoritm: None,
                        key_usages: None,
                    })
                    .collect(),
                integrity_valid: integrity_valid(r),
                certificate_trusted: passed("chain"),
                last_signature: last,
                ltv: false,
            }
        }
    }

    /// A certificate.
    #[derive(Debug, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct CertificateDetail {
        /// `C-` and the SHA-256 of the certificate, upper-case hex.
        pub(crate) id: String,
        /// The subject's common name.
        pub(crate) common_name: Option<String>,
        /// The issuer's distinguished name.
        pub(crate) issuer_name: String,
        /// The serial number in decimal.
        pub(crate) serial_number: String,
        /// Valid until.
        pub(crate) not_after_date: String,
        /// Valid from.
        pub(crate) not_before_date: String,
        /// The certificate's own signature algorithm (not reported by Segel's engine: null).
        pub(crate) signature_algoritm: Option<&'static str>,
        /// Key usages (not reported by Segel's engine: null).
        pub(crate) key_usages: Option<Vec<String>>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_read_as_decimal() {
        assert_eq!(decimal_serial("00").as_deref(), Some("0"));
        assert_eq!(decimal_serial("FF").as_deref(), Some("255"));
        assert_eq!(decimal_serial("0100").as_deref(), Some("256"));
        assert_eq!(
            decimal_serial("0DE0B6B3A7640000").as_deref(),
            Some("1000000000000000000")
        );
        // 2^160 - 1: the largest 20-octet serial.
        assert_eq!(
            decimal_serial(&"F".repeat(40)).as_deref(),
            Some("1461501637330902918203684832716283019655932542975")
        );
        assert_eq!(decimal_serial("xyz"), None);
        assert_eq!(decimal_serial(""), None);
    }

    #[test]
    fn times_and_limits_take_the_service_form() {
        assert_eq!(
            service_time(UnixTime(1_711_176_975)),
            "2024-03-23T06:56:15.000+00:00"
        );
        // 25 MiB of PDF is at most 34,952,536 base64 characters.
        let max = 25 * 1024 * 1024;
        assert!(body_limit(max) >= max.div_ceil(3) * 4 + 64 * 1024);
        assert_eq!(body_limit(usize::MAX), usize::MAX);
    }
}
