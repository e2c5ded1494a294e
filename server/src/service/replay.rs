//! Idempotency: the fingerprint of a signing request, the record kept for it, and the
//! rebuilding of a retried request's answer, byte for byte, from that record.

use segel_proto::v1 as pb;
use tonic::Status;

use crate::config::Agency;
use crate::status::internal;
use crate::store::StoredRequest;

use super::*;

/// An idempotent request's earlier result ([`Segel::earlier`]).
pub(super) struct Earlier {
    pub(super) stored: StoredRequest,
    pub(super) entry: tlog::LogEntry,
    pub(super) at: LoggedAt,
}

/// The signature request of SignPdf options at `time`.
pub(super) fn signature_request(
    opts: &pb::SignOptions,
    time: pades::UnixTime,
) -> pades::SignatureRequest {
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut request = pades::SignatureRequest::new(time);
    request.reason = text(&opts.reason);
    request.location = text(&opts.location);
    request.contact_info = text(&opts.contact_info);
    request.field = text(&opts.field_name);
    request.page = opts.page.max(1);
    request
}

/// What identifies a SignPdf request for a retry: the agency, the input document and every
/// option that shapes the signature (`update_only` shapes only the reply).
pub(super) fn pdf_fingerprint(
    agency: &str,
    input_sha256: &[u8; 32],
    o: &pb::SignOptions,
    document_ref: &str,
) -> [u8; 32] {
    fields(&[
        b"segel SignPdf v2",
        agency.as_bytes(),
        input_sha256,
        o.reason.as_bytes(),
        o.location.as_bytes(),
        o.contact_info.as_bytes(),
        o.field_name.as_bytes(),
        &[u8::from(o.pss)],
        &o.page.max(1).to_be_bytes(),
        document_ref.as_bytes(),
    ])
}

/// SHA-256 of fields, each preceded by its length (so no two field lists hash alike).
pub(super) fn fields(parts: &[&[u8]]) -> [u8; 32] {
    let mut c = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        c.update(&(p.len() as u64).to_be_bytes());
        c.update(p);
    }
    let mut h = [0; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

/// What an idempotency record keeps to rebuild its answer: a time (i64, big-endian: the
/// signing time `/M` of SignPdf, the caller's signing time of SignDigest) and the signature
/// value. Signing is deterministic given these and the request, so a retry gets the same bytes.
pub(super) fn replay_record(time: i64, signature: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + signature.len());
    v.extend_from_slice(&time.to_be_bytes());
    v.extend_from_slice(signature);
    v
}

pub(super) fn split_replay(replay: &[u8]) -> Result<(i64, &[u8]), Status> {
    match replay.split_first_chunk::<8>() {
        Some((t, sig)) => Ok((i64::from_be_bytes(*t), sig)),
        None => Err(internal(&"a malformed idempotency record")),
    }
}

/// The stored signature value must be the one logged.
pub(super) fn check_replayed_signature(
    entry: &tlog::LogEntry,
    signature: &[u8],
) -> Result<(), Status> {
    if sha256(&[signature]) != entry.signature_sha256 {
        return Err(internal(&format!(
            "the idempotency record of entry {} holds another signature than the entry",
            entry.index
        )));
    }
    Ok(())
}

/// The signing time a SignDigest record tells a caller whose retry does not match.
pub(super) fn digest_stored_time(s: &StoredRequest) -> Option<i64> {
    match s {
        StoredRequest::Current { replay, .. } => split_replay(replay)
            .ok()
            .map(|(t, _)| t)
            .filter(|&t| t != 0),
        StoredRequest::Legacy { update, .. } => digest_record_time(update),
    }
}

/// Rebuild the update of an earlier SignPdf from the retried document, its options and the
/// stored time and signature value; it must give the very signed document the log entry names.
pub(super) fn rebuild_update(
    agency: &Agency,
    pdf: &[u8],
    opts: &pb::SignOptions,
    entry: &tlog::LogEntry,
    replay: &[u8],
) -> Result<bytes::Bytes, Status> {
    let (time, signature) = split_replay(replay)?;
    check_replayed_signature(entry, signature)?;
    let replayed = Replayed {
        key: agency.signer(opts.pss),
        signature,
    };
    let request = signature_request(opts, pades::UnixTime(time));
    let signed = pades::sign(pdf, &request, &replayed, &agency.identity)
        .map_err(|e| crate::status::engine_status(&e))?;
    if signed.document_sha256() != entry.document_sha256 {
        return Err(internal(&format!(
            "the retry of entry {} did not rebuild the signed document",
            entry.index
        )));
    }
    Ok(bytes::Bytes::from(signed.tail().to_vec()))
}

/// A signer that gives back a signature value made earlier by `key` (checked by the caller
/// against the log entry and the rebuilt document).
pub(super) struct Replayed<'a> {
    pub(super) key: &'a dyn pades::Signer,
    pub(super) signature: &'a [u8],
}

impl pades::Signer for Replayed<'_> {
    fn algorithm(&self) -> pades::SignatureAlgorithm {
        self.key.algorithm()
    }

    fn signature_len(&self) -> usize {
        self.key.signature_len()
    }

    fn public_key(&self) -> &[u8] {
        self.key.public_key()
    }

    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, pades::error::SignerError> {
        Ok(self.signature.to_vec())
    }
}

/// What an idempotent SignDigest kept in older records: a format byte (1), the caller's signing
/// time (i64, big-endian), the CMS. (Records written before the time was kept hold the CMS
/// alone; a DER CMS starts with 0x30, never with 1.) Read for retries of those requests.
#[cfg(test)]
pub(super) fn digest_record(signing_time: i64, cms: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(9 + cms.len());
    v.push(1);
    v.extend_from_slice(&signing_time.to_be_bytes());
    v.extend_from_slice(cms);
    v
}

pub(super) fn digest_record_time(stored: &[u8]) -> Option<i64> {
    match stored {
        // 0: the caller did not say.
        [1, rest @ ..] => {
            Some(i64::from_be_bytes(rest.get(..8)?.try_into().ok()?)).filter(|&t| t != 0)
        }
        _ => None,
    }
}

pub(super) fn digest_record_cms(mut stored: Vec<u8>) -> Vec<u8> {
    if stored.first() == Some(&1) && stored.len() >= 9 {
        stored.drain(..9);
    }
    stored
}

/// The idempotency key of a request: caller identity and request id (none without an id).
pub(super) fn request_key(caller: &str, request_id: &str) -> Option<Vec<u8>> {
    (!request_id.is_empty()).then(|| {
        let mut k = caller.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(request_id.as_bytes());
        k
    })
}
