//! PEM files (RFC 7468): certificates and private keys. Key bytes live only in zeroizing buffers.

use std::path::Path;

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::ClientError;

/// All `label` blocks of a PEM text, decoded.
fn blocks(text: &[u8], label: &str) -> Result<Vec<Zeroizing<Vec<u8>>>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not a text (PEM) file".to_string())?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(b) = rest.find(&begin) {
        let after = &rest[b + begin.len()..];
        let e = after
            .find(&end)
            .ok_or_else(|| format!("a {label} block has no END line"))?;
        let body: Zeroizing<String> =
            Zeroizing::new(after[..e].chars().filter(|c| !c.is_whitespace()).collect());
        let mut der = Zeroizing::new(Vec::with_capacity(body.len() * 3 / 4 + 3));
        base64::engine::general_purpose::STANDARD
            .decode_vec(body.as_bytes(), &mut der)
            .map_err(|e| format!("bad base64 in a {label} block: {e}"))?;
        out.push(der);
        rest = &after[e + end.len()..];
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| ClientError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Read every certificate of a PEM file (DER each), in file order.
///
/// # Errors
/// Unreadable file, or no `CERTIFICATE` block.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, ClientError> {
    let text = read(path)?;
    let pem_err = |what: String| ClientError::Pem {
        path: path.to_path_buf(),
        what,
    };
    let certs: Vec<Vec<u8>> = blocks(&text, "CERTIFICATE")
        .map_err(pem_err)?
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    if certs.is_empty() {
        return Err(pem_err("no -----BEGIN CERTIFICATE----- block".into()));
    }
    Ok(certs)
}

/// Read a private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) as DER.
///
/// # Errors
/// Unreadable file, encrypted key, or no key block.
pub fn read_private_key(path: &Path) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    let text = read(path)?;
    let pem_err = |what: String| ClientError::Pem {
        path: path.to_path_buf(),
        what,
    };
    if text.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY")
        || text.windows(9).any(|w| w == b"Proc-Type")
    {
        return Err(pem_err(
            "encrypted private keys are not supported by offline signing; decrypt the key into a 0600 file".into(),
        ));
    }
    for label in ["PRIVATE KEY", "RSA PRIVATE KEY"] {
        let mut found = blocks(&text, label).map_err(pem_err)?;
        if let Some(k) = found.pop() {
            return Ok(k);
        }
    }
    Err(pem_err(
        "no -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- block".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_and_rejects_bad_base64() {
        let t = b"junk\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAw==\n-----END CERTIFICATE-----\n";
        let b = blocks(t, "CERTIFICATE").expect("decodes");
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].as_slice(), &[0, 1, 2]);
        assert_eq!(b[1].as_slice(), &[3]);
        assert!(blocks(
            b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
            "CERTIFICATE"
        )
        .is_err());
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\nAAEC\n", "CERTIFICATE").is_err());
    }
}
