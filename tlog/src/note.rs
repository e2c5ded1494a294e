//! C2SP `signed-note`: text, a blank line, then signature lines
//! `— <key name> <base64(key ID ‖ signature)>`. Ed25519 keys (signature type 0x01).
//!
//! A note verifies when at least one signature is by a known key and every signature by a
//! known key verifies; signatures by unknown keys (witness cosignatures, say) are kept and
//! ignored.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use base64::Engine as _;

use crate::error::NoteError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const ED25519_TYPE: u8 = 0x01;
const EM_DASH_LINE: &str = "\u{2014} ";

/// Key ID: the first 4 bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key).
fn key_id(name: &str, public: &[u8]) -> [u8; 4] {
    let mut m = name.as_bytes().to_vec();
    m.push(b'\n');
    m.push(ED25519_TYPE);
    m.extend_from_slice(public);
    let d = digest(&SHA256, &m);
    let mut id = [0; 4];
    id.copy_from_slice(&d.as_ref()[..4]);
    id
}

fn check_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A verifier key: `<name>+<hex key ID>+<base64(0x01 ‖ Ed25519 public key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    public: [u8; 32],
}

impl NoteVerifier {
    /// Parse a verifier key string, checking that the key ID matches the key.
    ///
    /// # Errors
    /// [`NoteError::BadKey`] saying what is wrong.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadKey("expected name+keyid+key"));
        };
        if !check_name(name) {
            return Err(NoteError::BadKey("bad key name"));
        }
        if id_hex.len() != 8 {
            return Err(NoteError::BadKey("the key ID is not 8 hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16)
            .map_err(|_| NoteError::BadKey("the key ID is not 8 hex digits"))?
            .to_be_bytes();
        let key = B64
            .decode(key_b64)
            .map_err(|_| NoteError::BadKey("the key is not base64"))?;
        let (Some(&ED25519_TYPE), Ok(public)) =
            (key.first(), <[u8; 32]>::try_from(&key[1.min(key.len())..]))
        else {
            return Err(NoteError::BadKey(
                "not an Ed25519 (type 0x01) key of 32 bytes",
            ));
        };
        if key_id(name, &public) != id {
            return Err(NoteError::BadKey("the key ID does not match the key"));
        }
        Ok(Self {
            name: name.to_string(),
            id,
            public,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        let mut k = vec![ED25519_TYPE];
        k.extend_from_slice(&self.public);
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(k))
    }
}

/// An Ed25519 note signer (the log key). Key material stays inside aws-lc-rs.
pub struct NoteSigner {
    name: String,
    id: [u8; 4],
    key: Ed25519KeyPair,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A signer from a PKCS#8 Ed25519 key.
    ///
    /// # Errors
    /// [`NoteError::BadKey`] for a bad name or key.
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<Self, NoteError> {
        if !check_name(name) {
            return Err(NoteError::BadKey("bad key name"));
        }
        let key = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| NoteError::BadKey("not a PKCS#8 Ed25519 key"))?;
        let id = key_id(name, key.public_key().as_ref());
        Ok(Self {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// Generate a new key; returns the signer and its PKCS#8 document (to store, mode 0600).
    ///
    /// # Errors
    /// [`NoteError::BadKey`] for a bad name.
    pub fn generate(name: &str) -> Result<(Self, Vec<u8>), NoteError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| NoteError::BadKey("key generation failed"))?;
        let pkcs8 = doc.as_ref().to_vec();
        Ok((Self::from_pkcs8(name, &pkcs8)?, pkcs8))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        let mut public = [0; 32];
        public.copy_from_slice(self.key.public_key().as_ref());
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            public,
        }
    }

    /// Sign `text` (must end with a newline) into a signed note.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] if the text is not a valid note text.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_vec();
        blob.extend_from_slice(sig.as_ref());
        Ok(format!(
            "{text}\n{EM_DASH_LINE}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline",
        ));
    }
    Ok(())
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub id: [u8; 4],
    /// Signature bytes (after the key ID).
    pub signature: Vec<u8>,
}

/// A parsed signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, with its final newline.
    pub text: String,
    /// All signature lines, known keys or not.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parse a signed note.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] saying what is wrong.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if !note.ends_with('\n') {
            return Err(NoteError::Malformed("the note does not end with a newline"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let text = &note[..=split];
        check_text(text)?;
        let block = &note[split + 2..];
        let mut signatures = Vec::new();
        for line in block.strip_suffix('\n').unwrap_or(block).split('\n') {
            let rest = line.strip_prefix(EM_DASH_LINE).ok_or(NoteError::Malformed(
                "a signature line does not start with an em dash and a space",
            ))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("a signature line lacks its signature"))?;
            if !check_name(name) {
                return Err(NoteError::Malformed("bad key name in a signature line"));
            }
            let blob = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
            if blob.len() < 5 {
                return Err(NoteError::Malformed("a signature is too short"));
            }
            let mut id = [0; 4];
            id.copy_from_slice(&blob[..4]);
            signatures.push(NoteSignature {
                name: name.to_string(),
                id,
                signature: blob[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signature lines"));
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// Verify against known keys: returns the names of the keys whose signatures verified.
    ///
    /// # Errors
    /// [`NoteError::BadSignature`] if any signature by a known key fails;
    /// [`NoteError::NoKnownSignature`] if none is by a known key.
    pub fn verify(&self, known: &[NoteVerifier]) -> Result<Vec<String>, NoteError> {
        let mut ok = Vec::new();
        for s in &self.signatures {
            let Some(v) = known.iter().find(|v| v.name == s.name && v.id == s.id) else {
                continue;
            };
            UnparsedPublicKey::new(&ED25519, v.public)
                .verify(self.text.as_bytes(), &s.signature)
                .map_err(|_| NoteError::BadSignature(s.name.clone()))?;
            ok.push(s.name.clone());
        }
        if ok.is_empty() {
            Err(NoteError::NoKnownSignature)
        } else {
            Ok(ok)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_parse_verify_round_trip_and_cosignatures() {
        let (signer, _) = NoteSigner::generate("segel.test/log").expect("key");
        let v = signer.verifier();
        assert_eq!(NoteVerifier::parse(&v.to_vkey()).expect("vkey"), v);
        let note = signer
            .sign("segel.test/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .expect("sign");
        let parsed = SignedNote::parse(&note).expect("parse");
        assert_eq!(
            parsed.verify(std::slice::from_ref(&v)).expect("verify"),
            vec!["segel.test/log".to_string()]
        );
        // A witness cosignature appended by someone else is kept and ignored.
        let (witness, _) = NoteSigner::generate("witness.example").expect("key");
        let cosigned = format!(
            "{note}{}",
            witness
                .sign(&parsed.text)
                .expect("w")
                .rsplit_once("\n\n")
                .expect("split")
                .1
        );
        let p2 = SignedNote::parse(&cosigned).expect("parse");
        assert_eq!(p2.signatures.len(), 2);
        assert!(p2.verify(std::slice::from_ref(&v)).is_ok());
        assert_eq!(p2.verify(&[v, witness.verifier()]).expect("both").len(), 2);
        assert!(signer.sign("no newline").is_err());
    }
}
