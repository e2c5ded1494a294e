//! Idempotency: the fingerprint of a signing request, the record kept for it, and the
//! rebuilding of a retried request's answer, byte for byte, from that record.

use tonic::Status;

use crate::command::{Caller, SignDigest};
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

/// What identifies a SignPdf request for a retry: the agency, the input document and every
/// option that shapes the signature (`update_only` shapes only the reply).
pub(super) fn pdf_fingerprint(
    agency: &str,
    input_sha256: &[u8; 32],
    o: &pades::SignOptions,
    document_ref: &str,
) -> [u8; 32] {
    // An option not given is empty text, as on the wire.
    let text = |t: &Option<String>| t.as_deref().unwrap_or_default().as_bytes().to_vec();
    fields(&[
        b"segel SignPdf v2",
        agency.as_bytes(),
        input_sha256,
        &text(&o.reason),
        &text(&o.location),
        &text(&o.contact_info),
        &text(&o.field),
        &[u8::from(o.pss)],
        &o.page.max(1).to_be_bytes(),
        document_ref.as_bytes(),
    ])
}

/// What identifies a SignDigest request for a retry: the agency and everything that shapes the
/// CMS or the log entry.
pub(super) fn digest_fingerprint(agency: &str, r: &SignDigest) -> [u8; 32] {
    fields(&[
        b"segel SignDigest v2",
        agency.as_bytes(),
        &[u8::from(r.pss)],
        &r.message_digest,
        &r.document_sha256,
        r.document_ref.as_bytes(),
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
    if pades::sha256(signature) != entry.signature_sha256 {
        return Err(internal(&format!(
            "the idempotency record of entry {} holds another signature than the entry",
            entry.index
        )));
    }
    Ok(())
}

/// The signing time a SignDigest record tells a caller whose retry does not match.
pub(super) fn digest_stored_time(s: &StoredRequest) -> Option<i64> {
    split_replay(&s.replay)
        .ok()
        .map(|(t, _)| t)
        .filter(|&t| t != 0)
}

/// Rebuild the update of an earlier SignPdf from the retried document, its options and the
/// stored time and signature value; it must give the very signed document the log entry names.
pub(super) fn rebuild_update(
    agency: &Agency,
    pdf: &[u8],
    opts: &pades::SignOptions,
    entry: &tlog::LogEntry,
    replay: &[u8],
) -> Result<bytes::Bytes, Status> {
    let (time, signature) = split_replay(replay)?;
    check_replayed_signature(entry, signature)?;
    let replayed = Replayed {
        key: agency.signer(opts.pss),
        signature,
    };
    let request = opts.request(pades::UnixTime(time));
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

/// The idempotency key of a request: caller identity and request id (none without an id).
pub(super) fn request_key(caller: &Caller, request_id: &str) -> Option<Vec<u8>> {
    (!request_id.is_empty()).then(|| {
        let mut k = caller.as_str().as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(request_id.as_bytes());
        k
    })
}

#[cfg(test)]
mod tests {
    use super::{fields, pdf_fingerprint, replay_record, split_replay};
    use proptest::prelude::*;
    use segel_proto::v1 as pb;

    /// The fingerprint of a request's domain options is the one of its wire fields (empty text
    /// for an option not given, page 0 read as 1), so that records made from either match.
    #[test]
    fn pdf_fingerprints_hash_the_options_as_the_wire_carries_them() {
        let given = pb::SignOptions {
            reason: "Disetujui".into(),
            location: "Jakarta".into(),
            field_name: "Approval".into(),
            pss: true,
            contact_info: "tu@example.go.id".into(),
            page: 2,
            ..Default::default()
        };
        for o in [given, pb::SignOptions::default()] {
            let wire = fields(&[
                b"segel SignPdf v2",
                b"dev",
                &[9; 32],
                o.reason.as_bytes(),
                o.location.as_bytes(),
                o.contact_info.as_bytes(),
                o.field_name.as_bytes(),
                &[u8::from(o.pss)],
                &o.page.max(1).to_be_bytes(),
                b"ref-1",
            ]);
            let domain = pades::SignOptions::try_from(&o).unwrap();
            assert_eq!(pdf_fingerprint("dev", &[9; 32], &domain, "ref-1"), wire);
        }
    }

    proptest! {
        /// What a request keeps for its replay gives back its time and signature value.
        #[test]
        fn replay_records_round_trip(time in any::<i64>(), sig in proptest::collection::vec(any::<u8>(), 0..600)) {
            let stored = replay_record(time, &sig);
            let (t, s) = split_replay(&stored).expect("split");
            prop_assert_eq!(t, time);
            prop_assert_eq!(s, &sig[..]);
        }

        /// Stored bytes too short for a time are refused, never a panic.
        #[test]
        fn short_replay_records_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
            prop_assert!(split_replay(&bytes).is_err());
        }
    }
}
