//! The log's leaf: one record per signature Segel makes. Hashes and identifiers only, never
//! document content. The encoding is versioned and canonical (one byte string per record), so
//! anyone holding a record can recompute its leaf hash.
//!
//! ```text
//! version 1:
//!   u8   version = 1
//!   u64  index                      big-endian, position in the log
//!   i64  time_ms                    Unix milliseconds, UTC
//!   u8   len, agency id             UTF-8, 1..=64 bytes
//!   [32] certificate SHA-256        of the signer certificate (DER)
//!   u16  len, caller identity       UTF-8, 1..=1024 bytes (e.g. the TLS client subject)
//!   [32] message digest             SHA-256 of the signed byte ranges (CMS messageDigest)
//!   [32] signature value SHA-256
//!   [32] signed PDF SHA-256
//!   u16  len, document reference    UTF-8, 0..=256 bytes (0: none), e.g. a letter number
//! ```

use crate::hash::{leaf_hash, Hash};

/// Current encoding version.
pub const VERSION: u8 = 1;
const MAX_AGENCY: usize = 64;
const MAX_CALLER: usize = 1024;
const MAX_REF: usize = 256;

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the log.
    pub index: u64,
    /// When it was logged, Unix milliseconds (UTC).
    pub time_ms: i64,
    /// Agency whose key signed.
    pub agency: String,
    /// SHA-256 of the signer certificate.
    pub certificate_sha256: Hash,
    /// Who asked for the signature (TLS client identity).
    pub caller: String,
    /// SHA-256 of the signed byte ranges (the CMS messageDigest).
    pub message_digest: Hash,
    /// SHA-256 of the signature value.
    pub signature_sha256: Hash,
    /// SHA-256 of the signed PDF.
    pub document_sha256: Hash,
    /// Optional document reference (a letter number, say).
    pub document_ref: Option<String>,
}

/// Why a record does not encode or decode.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Unknown version byte.
    #[error("unknown log entry version {0}")]
    Version(u8),
    /// The bytes end early or run on.
    #[error("log entry is {0}")]
    Length(&'static str),
    /// A text field is empty, too long or not UTF-8.
    #[error("log entry field {0} is empty, too long or not UTF-8")]
    Field(&'static str),
}

impl LogEntry {
    /// Check the field limits.
    ///
    /// # Errors
    /// [`EntryError::Field`] naming the field.
    pub fn check(&self) -> Result<(), EntryError> {
        if self.agency.is_empty() || self.agency.len() > MAX_AGENCY {
            return Err(EntryError::Field("agency"));
        }
        if self.caller.is_empty() || self.caller.len() > MAX_CALLER {
            return Err(EntryError::Field("caller"));
        }
        if self
            .document_ref
            .as_ref()
            .is_some_and(|r| r.is_empty() || r.len() > MAX_REF)
        {
            return Err(EntryError::Field("document_ref"));
        }
        Ok(())
    }

    /// The canonical encoding.
    ///
    /// # Errors
    /// As [`LogEntry::check`].
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        self.check()?;
        let r = self.document_ref.as_deref().unwrap_or("");
        let mut v = Vec::with_capacity(
            1 + 8 + 8 + 1 + self.agency.len() + 32 + 2 + self.caller.len() + 96 + 2 + r.len(),
        );
        v.push(VERSION);
        v.extend_from_slice(&self.index.to_be_bytes());
        v.extend_from_slice(&self.time_ms.to_be_bytes());
        v.push(self.agency.len() as u8);
        v.extend_from_slice(self.agency.as_bytes());
        v.extend_from_slice(&self.certificate_sha256);
        v.extend_from_slice(&(self.caller.len() as u16).to_be_bytes());
        v.extend_from_slice(self.caller.as_bytes());
        v.extend_from_slice(&self.message_digest);
        v.extend_from_slice(&self.signature_sha256);
        v.extend_from_slice(&self.document_sha256);
        v.extend_from_slice(&(r.len() as u16).to_be_bytes());
        v.extend_from_slice(r.as_bytes());
        Ok(v)
    }

    /// The leaf hash of this record.
    ///
    /// # Errors
    /// As [`LogEntry::check`].
    pub fn leaf_hash(&self) -> Result<Hash, EntryError> {
        Ok(leaf_hash(&self.encode()?))
    }

    /// Decode a record; the encoding must be exactly canonical.
    ///
    /// # Errors
    /// [`EntryError`] saying what is wrong.
    pub fn decode(b: &[u8]) -> Result<Self, EntryError> {
        let mut r = Cursor { b, at: 0 };
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(EntryError::Version(version));
        }
        let index = u64::from_be_bytes(r.array()?);
        let time_ms = i64::from_be_bytes(r.array()?);
        let n = usize::from(r.take(1)?[0]);
        let agency = r.text(n, "agency")?;
        let certificate_sha256 = r.array()?;
        let n = usize::from(u16::from_be_bytes(r.array()?));
        let caller = r.text(n, "caller")?;
        let message_digest = r.array()?;
        let signature_sha256 = r.array()?;
        let document_sha256 = r.array()?;
        let n = usize::from(u16::from_be_bytes(r.array()?));
        let document_ref = if n == 0 {
            None
        } else {
            Some(r.text(n, "document_ref")?)
        };
        if r.at != b.len() {
            return Err(EntryError::Length("followed by extra bytes"));
        }
        let e = Self {
            index,
            time_ms,
            agency,
            certificate_sha256,
            caller,
            message_digest,
            signature_sha256,
            document_sha256,
            document_ref,
        };
        e.check()?;
        Ok(e)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EntryError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(EntryError::Length("truncated"))?;
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EntryError> {
        let s = self.take(N)?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn text(&mut self, n: usize, field: &'static str) -> Result<String, EntryError> {
        std::str::from_utf8(self.take(n)?)
            .map(str::to_string)
            .map_err(|_| EntryError::Field(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LogEntry {
        LogEntry {
            index: 7,
            time_ms: 1_795_942_800_123,
            agency: "dev".into(),
            certificate_sha256: [1; 32],
            caller: "CN=siola-dev".into(),
            message_digest: [2; 32],
            signature_sha256: [3; 32],
            document_sha256: [4; 32],
            document_ref: Some("B-123/SIOLA/XI/2026".into()),
        }
    }

    #[test]
    fn round_trip_and_strictness() {
        let e = sample();
        let b = e.encode().expect("encodes");
        assert_eq!(LogEntry::decode(&b).expect("decodes"), e);
        let mut longer = b.clone();
        longer.push(0);
        assert!(LogEntry::decode(&longer).is_err());
        assert!(LogEntry::decode(&b[..b.len() - 1]).is_err());
        let mut v2 = b.clone();
        v2[0] = 2;
        assert_eq!(LogEntry::decode(&v2), Err(EntryError::Version(2)));
        let none = LogEntry {
            document_ref: None,
            ..sample()
        };
        assert_eq!(
            LogEntry::decode(&none.encode().expect("enc")).expect("dec"),
            none
        );
        let bad = LogEntry {
            agency: String::new(),
            ..sample()
        };
        assert!(bad.encode().is_err());
    }
}
