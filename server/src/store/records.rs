//! What the store keeps beside the log entries: new entries, idempotency records and their
//! keys, and the keyed hash of document references.

use tlog::{Hash, LogEntry};

use super::{StoreError, MAX_REPLAY, MAX_REQUEST_VALUE};

/// The secret that keys the reference hashes of the log (`ref.key`, 32 random bytes).
#[derive(Clone)]
pub struct RefKey(aws_lc_rs::hmac::Key);

impl std::fmt::Debug for RefKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefKey")
    }
}

impl RefKey {
    pub(super) fn new(secret: &[u8]) -> Self {
        Self(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            secret,
        ))
    }

    /// The keyed hash logged for `reference` given for `agency`:
    /// HMAC-SHA256(key, "segel document_ref v1" ‖ 0 ‖ u64 len(agency) ‖ agency ‖ reference).
    /// Bound to the agency, so the same reference in two agencies cannot be linked.
    pub fn hmac(&self, agency: &str, reference: &str) -> Hash {
        let mut c = aws_lc_rs::hmac::Context::with_key(&self.0);
        c.update(b"segel document_ref v1\0");
        c.update(&(agency.len() as u64).to_be_bytes());
        c.update(agency.as_bytes());
        c.update(reference.as_bytes());
        let mut h = [0; 32];
        h.copy_from_slice(c.sign().as_ref());
        h
    }
}

/// What a caller gives to be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The record; its `index` is ignored and assigned by the log.
    pub record: LogEntry,
    /// Idempotency record written atomically with the entry, if the caller gave a request id.
    pub request: Option<RequestRecord>,
    /// A visible seal's document id, whose SHA-256 the record carries: kept beside the entry
    /// (the record holds only the hash) so that a verifier can name it and link to its page.
    pub document_id: Option<String>,
}

/// The longest document id stored beside an entry (what `DocumentId` allows).
pub(super) const MAX_DOCUMENT_ID: usize = 64;

/// The key of the document id whose SHA-256 is `hash`.
pub(super) fn d_key(hash: &Hash) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(b'd');
    k.extend_from_slice(hash);
    k
}

/// What a retry with the same request id gets back: written in the same atomic batch as the
/// entry, so it exists exactly when the entry is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Caller identity and request id (the key; stored as its SHA-256).
    pub key: Vec<u8>,
    /// What identifies the request: a hash of the agency, the document or digest and every
    /// option that shapes the signature. The same key with another fingerprint is refused.
    pub fingerprint: Hash,
    /// What rebuilds the answer together with the retried request and the log entry (at most
    /// [`MAX_REPLAY`] bytes): the signing time and the signature value, say.
    pub replay: Vec<u8>,
}

/// The format byte of idempotency records under `i`.
pub(super) const REQUEST_FORMAT: u8 = 2;

pub(super) fn i_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(b'i');
    k.extend_from_slice(&pades::sha256(key));
    k
}

/// A stored idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    /// The first request's fingerprint ([`RequestRecord::fingerprint`]).
    pub fingerprint: Hash,
    /// The entry it produced.
    pub index: u64,
    /// What rebuilds the answer ([`RequestRecord::replay`]).
    pub replay: Vec<u8>,
}

impl StoredRequest {
    pub(super) fn encode(fingerprint: &Hash, index: u64, replay: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(41 + replay.len());
        v.push(REQUEST_FORMAT);
        v.extend_from_slice(fingerprint);
        v.extend_from_slice(&index.to_be_bytes());
        v.extend_from_slice(replay);
        v
    }

    pub(super) fn decode(v: &[u8]) -> Option<Self> {
        if v.first() != Some(&REQUEST_FORMAT) || v.len() > MAX_REQUEST_VALUE {
            return None;
        }
        Some(Self {
            fingerprint: v.get(1..33)?.try_into().ok()?,
            index: u64::from_be_bytes(v.get(33..41)?.try_into().ok()?),
            replay: v.get(41..)?.to_vec(),
        })
    }
}

impl NewEntry {
    /// The entry's field limits, and an idempotency record small enough to be stored.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        self.record.check()?;
        if let Some(id) = &self.document_id {
            let matches =
                self.record.document_id_sha256.hash() == Some(&pades::sha256(id.as_bytes()));
            if id.is_empty() || id.len() > MAX_DOCUMENT_ID || !matches {
                return Err(StoreError::Request(
                    "a document id kept beside an entry must be 1 to 64 bytes and be the one \
                     whose SHA-256 the record carries"
                        .into(),
                ));
            }
        }
        if let Some(r) = &self.request {
            if r.replay.len() > MAX_REPLAY {
                return Err(StoreError::TooLarge(format!(
                    "an idempotency record of {} bytes exceeds the limit of {MAX_REPLAY}",
                    r.replay.len()
                )));
            }
        }
        Ok(())
    }

    pub(super) fn at(&self, index: u64) -> LogEntry {
        LogEntry {
            index,
            ..self.record.clone()
        }
    }
}
