//! PEM text (RFC 7468) to DER: certificates and private keys. Key bytes live only in
//! zeroizing buffers.

use base64::Engine as _;
use zeroize::Zeroizing;

/// What is wrong with a PEM text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PemError(pub String);

/// All `label` blocks of a PEM text, decoded.
fn blocks(text: &[u8], label: &str) -> Result<Vec<Zeroizing<Vec<u8>>>, PemError> {
    let text = std::str::from_utf8(text).map_err(|_| PemError("not a text (PEM) file".into()))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(b) = rest.find(&begin) {
        let after = &rest[b + begin.len()..];
        let e = after
            .find(&end)
            .ok_or_else(|| PemError(format!("a {label} block has no END line")))?;
        let body: Zeroizing<String> =
            Zeroizing::new(after[..e].chars().filter(|c| !c.is_whitespace()).collect());
        let mut der = Zeroizing::new(Vec::with_capacity(body.len() * 3 / 4 + 3));
        base64::engine::general_purpose::STANDARD
            .decode_vec(body.as_bytes(), &mut der)
            .map_err(|e| PemError(format!("bad base64 in a {label} block: {e}")))?;
        out.push(der);
        rest = &after[e + end.len()..];
    }
    Ok(out)
}

/// Every certificate of a PEM text (DER each), in order.
///
/// # Errors
/// No `CERTIFICATE` block, or a malformed one.
pub fn certificates(text: &[u8]) -> Result<Vec<Vec<u8>>, PemError> {
    let certs: Vec<Vec<u8>> = blocks(text, "CERTIFICATE")?
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    if certs.is_empty() {
        return Err(PemError("no -----BEGIN CERTIFICATE----- block".into()));
    }
    Ok(certs)
}

/// The DER of an `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2) block, if the text holds one.
///
/// # Errors
/// A malformed block.
pub fn encrypted_private_key(text: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, PemError> {
    Ok(blocks(text, "ENCRYPTED PRIVATE KEY")?.pop())
}

/// The private key of a PEM text (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), as DER.
///
/// # Errors
/// Encrypted keys (decrypt them first), or no key block.
pub fn private_key(text: &[u8]) -> Result<Zeroizing<Vec<u8>>, PemError> {
    if text.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY")
        || text.windows(9).any(|w| w == b"Proc-Type")
    {
        return Err(PemError(
            "the private key is encrypted; this version needs an unencrypted key in a 0600 file"
                .into(),
        ));
    }
    for label in ["PRIVATE KEY", "RSA PRIVATE KEY"] {
        if let Some(k) = blocks(text, label)?.pop() {
            return Ok(k);
        }
    }
    Err(PemError(
        "no -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- block".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_and_rejects_bad_base64() {
        let t = b"junk\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAw==\n-----END CERTIFICATE-----\n";
        let b = certificates(t).expect("decodes");
        assert_eq!(b, vec![vec![0, 1, 2], vec![3]]);
        assert!(
            certificates(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----").is_err()
        );
        assert!(certificates(b"-----BEGIN CERTIFICATE-----\nAAEC\n").is_err());
        assert!(certificates(b"nothing").is_err());
        assert!(private_key(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----"
        )
        .is_err());
    }
}
