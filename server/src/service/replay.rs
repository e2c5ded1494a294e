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
///
/// The options of a visible seal, certification and locking are appended only when one is
/// given, so that an invisible request keeps the fingerprint it had before they existed (and a
/// retry across an upgrade still finds its record).
pub(super) fn pdf_fingerprint(
    agency: &str,
    input_sha256: &[u8; 32],
    o: &pades::SignOptions,
    document_ref: &str,
) -> [u8; 32] {
    // An option not given is empty text, as on the wire.
    let text = |t: &Option<String>| t.as_deref().unwrap_or_default().as_bytes().to_vec();
    let (reason, location, contact, field) = (
        text(&o.reason),
        text(&o.location),
        text(&o.contact_info),
        text(&o.field),
    );
    let pss = [u8::from(o.pss)];
    let page = o.page.max(1).to_be_bytes();
    let mut parts: Vec<&[u8]> = vec![
        b"segel SignPdf v2",
        agency.as_bytes(),
        input_sha256,
        &reason,
        &location,
        &contact,
        &field,
        &pss,
        &page,
        document_ref.as_bytes(),
    ];
    let seal = seal_parts(o);
    if o.visible.is_some() || o.certify.is_some() || o.lock_fields {
        parts.extend(seal.iter().map(Vec::as_slice));
    }
    fields(&parts)
}

/// The fingerprint parts of the options a seal brings: certification, locking and every
/// choice of the visible seal (placement, fields, footer, the image's SHA-256).
fn seal_parts(o: &pades::SignOptions) -> Vec<Vec<u8>> {
    use pades::stamp::Placement;
    let mut v = vec![
        b"seal".to_vec(),
        vec![o.certify.unwrap_or(0), u8::from(o.lock_fields)],
    ];
    let Some(seal) = &o.visible else {
        v.push(b"invisible".to_vec());
        return v;
    };
    let num = |x: f64| x.to_bits().to_be_bytes().to_vec();
    match &seal.placement {
        Placement::Tag {
            text,
            width,
            height,
        } => v.extend([
            b"tag".to_vec(),
            text.as_bytes().to_vec(),
            num(*width),
            num(*height),
        ]),
        Placement::Rect {
            page,
            x,
            y,
            width,
            height,
        } => v.extend([
            b"rect".to_vec(),
            page.to_be_bytes().to_vec(),
            num(*x),
            num(*y),
            num(*width),
            num(*height),
        ]),
        Placement::Field => v.push(b"field".to_vec()),
    }
    v.push((seal.fields.len() as u64).to_be_bytes().to_vec());
    for (name, value) in &seal.fields {
        v.extend([name.as_bytes().to_vec(), value.as_bytes().to_vec()]);
    }
    v.push(vec![u8::from(seal.footer)]);
    v.push(
        seal.image
            .as_deref()
            .map_or_else(Vec::new, |i| pades::sha256(i).to_vec()),
    );
    v
}

/// What identifies a SignDigest request for a retry: the agency and everything that shapes the
/// CMS or the log entry (the document id only when one is given, as for
/// [`pdf_fingerprint`]'s seal options).
pub(super) fn digest_fingerprint(agency: &str, r: &SignDigest) -> [u8; 32] {
    let pss = [u8::from(r.pss)];
    let mut parts: Vec<&[u8]> = vec![
        b"segel SignDigest v2",
        agency.as_bytes(),
        &pss,
        &r.message_digest,
        &r.document_sha256,
        r.document_ref.as_bytes(),
    ];
    if let Some(id) = &r.document_id {
        parts.extend([b"document_id".as_slice(), id.as_str().as_bytes()]);
    }
    fields(&parts)
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
/// signing time `/M` of SignPdf, the caller's signing time of SignDigest), for a visible seal
/// its document id (u8 length, then the id), and the signature value. Signing is
/// deterministic given these and the request, so a retry gets the same bytes and the same id.
/// Whether the id is there follows from the request (a visible seal's options are part of its
/// fingerprint), so records of invisible signatures keep their earlier form.
pub(super) fn replay_record(
    time: i64,
    document_id: Option<&pades::stamp::DocumentId>,
    signature: &[u8],
) -> Vec<u8> {
    let id = document_id.map_or("", |d| d.as_str()).as_bytes();
    let mut v = Vec::with_capacity(9 + id.len() + signature.len());
    v.extend_from_slice(&time.to_be_bytes());
    if document_id.is_some() {
        // A document id has at most 64 bytes.
        v.push(id.len().min(255) as u8);
        v.extend_from_slice(id);
    }
    v.extend_from_slice(signature);
    v
}

/// A replay record's time, document id (read when `visible`) and signature value.
pub(super) fn split_replay(
    replay: &[u8],
    visible: bool,
) -> Result<(i64, Option<pades::stamp::DocumentId>, &[u8]), Status> {
    let malformed = || internal(&"a malformed idempotency record");
    let (t, rest) = replay.split_first_chunk::<8>().ok_or_else(malformed)?;
    let time = i64::from_be_bytes(*t);
    if !visible {
        return Ok((time, None, rest));
    }
    let (n, rest) = rest.split_first().ok_or_else(malformed)?;
    let id = rest.get(..usize::from(*n)).ok_or_else(malformed)?;
    let sig = rest.get(usize::from(*n)..).ok_or_else(malformed)?;
    let id = std::str::from_utf8(id)
        .ok()
        .and_then(|s| pades::stamp::DocumentId::parse(s).ok())
        .ok_or_else(malformed)?;
    Ok((time, Some(id), sig))
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

/// What a SignDigest record tells a caller whose retry does not match: the signing time and
/// the document id it was first used with, so that the caller can prepare the same document
/// again.
#[derive(Debug, Default)]
pub(super) struct StoredDigest {
    pub(super) time: Option<i64>,
    pub(super) document_id: Option<pades::stamp::DocumentId>,
}

/// The [`StoredDigest`] of a SignDigest record (whose entry says whether it holds a document
/// id).
pub(super) fn digest_stored(s: &StoredRequest, entry: &tlog::LogEntry) -> StoredDigest {
    let with_id = entry.document_id_sha256.hash().is_some();
    match split_replay(&s.replay, with_id) {
        Ok((t, id, _)) => StoredDigest {
            time: Some(t).filter(|&t| t != 0),
            document_id: id,
        },
        Err(_) => StoredDigest::default(),
    }
}

/// The stored document id must be the one logged (its SHA-256 in the entry).
fn check_replayed_document_id(
    entry: &tlog::LogEntry,
    document_id: Option<&pades::stamp::DocumentId>,
) -> Result<(), Status> {
    let stored = document_id.map(|d| pades::sha256(d.as_str().as_bytes()));
    if stored.as_ref() != entry.document_id_sha256.hash() {
        return Err(internal(&format!(
            "the idempotency record of entry {} holds another document id than the entry",
            entry.index
        )));
    }
    Ok(())
}

/// Rebuild the update of an earlier SignPdf from the retried document, its options and the
/// stored time, document id and signature value; it must give the very signed document the log
/// entry names. Returns the update and the visible seal's document id.
pub(super) fn rebuild_update(
    agency: &Agency,
    pdf: &[u8],
    opts: &pades::SignOptions,
    entry: &tlog::LogEntry,
    replay: &[u8],
) -> Result<(bytes::Bytes, Option<pades::stamp::DocumentId>), Status> {
    let (time, document_id, signature) = split_replay(replay, opts.visible.is_some())?;
    check_replayed_signature(entry, signature)?;
    check_replayed_document_id(entry, document_id.as_ref())?;
    let replayed = Replayed {
        key: agency.signer(opts.pss),
        signature,
    };
    let request = signature_request(agency, opts, pades::UnixTime(time), document_id.as_ref())?;
    let signed = pades::sign(pdf, &request, &replayed, &agency.identity)
        .map_err(|e| crate::status::engine_status(&e))?;
    if signed.document_sha256() != entry.document_sha256 {
        tracing::warn!(
            entry = entry.index,
            "a retry could not rebuild its signed document (the agency's certificate or seal \
             settings changed since)"
        );
        return Err(crate::status::retry_not_rebuildable(entry.index));
    }
    Ok((bytes::Bytes::from(signed.tail().to_vec()), document_id))
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
    use pades::stamp::{DocumentId, Placement, VisibleOptions};
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
            let domain = pades::SignOptions::try_from(&o).expect("valid options");
            assert_eq!(pdf_fingerprint("dev", &[9; 32], &domain, "ref-1"), wire);
        }
    }

    fn sealed() -> pades::SignOptions {
        pades::SignOptions {
            visible: Some(VisibleOptions {
                placement: Placement::Tag {
                    text: "#ttd#".into(),
                    width: 200.0,
                    height: 110.0,
                },
                fields: [("nama".to_string(), "Budi".to_string())].into(),
                footer: false,
                image: None,
            }),
            ..Default::default()
        }
    }

    /// Every choice of a seal changes the fingerprint: a retry with another one is another
    /// request.
    #[test]
    fn every_seal_option_is_part_of_the_fingerprint() {
        let fp = |o: &pades::SignOptions| pdf_fingerprint("dev", &[9; 32], o, "");
        let base = sealed();
        let mut seen = vec![fp(&pades::SignOptions::default()), fp(&base)];
        type Change = fn(&mut pades::SignOptions);
        let changes: [Change; 9] = [
            |o| o.certify = Some(2),
            |o| o.lock_fields = true,
            |o| o.visible.as_mut().expect("v").footer = true,
            |o| o.visible.as_mut().expect("v").image = Some(b"\x89PNG".to_vec()),
            |o| {
                o.visible
                    .as_mut()
                    .expect("v")
                    .fields
                    .insert("nip".into(), "1987".into());
            },
            |o| o.visible.as_mut().expect("v").placement = Placement::Field,
            |o| {
                o.visible.as_mut().expect("v").placement = Placement::Tag {
                    text: "#ttd#".into(),
                    width: 200.0,
                    height: 110.5,
                }
            },
            |o| {
                o.visible.as_mut().expect("v").placement = Placement::Rect {
                    page: 1,
                    x: 0.0,
                    y: 0.0,
                    width: 200.0,
                    height: 110.0,
                }
            },
            |o| {
                o.visible = None;
                o.lock_fields = true;
            },
        ];
        for change in changes {
            let mut o = base.clone();
            change(&mut o);
            let f = fp(&o);
            assert!(!seen.contains(&f), "{o:?}");
            seen.push(f);
        }
        // The same options give the same fingerprint.
        assert_eq!(fp(&sealed()), fp(&base));
    }

    #[test]
    fn visible_replay_records_keep_the_document_id() {
        let id = DocumentId::generate();
        let stored = replay_record(7, Some(&id), b"sig");
        let (t, got, sig) = split_replay(&stored, true).expect("split");
        assert_eq!((t, got.as_ref(), sig), (7, Some(&id), &b"sig"[..]));
        // The invisible layout is the one records had before document ids.
        assert_eq!(
            replay_record(7, None, b"sig"),
            [&7i64.to_be_bytes()[..], b"sig"].concat()
        );
        // A length past the end, or an id of the wrong form, is refused.
        let mut long = stored.clone();
        long[8] = 200;
        assert!(split_replay(&long, true).is_err());
        let mut bad = stored.clone();
        bad[9] = b'/';
        assert!(split_replay(&bad, true).is_err());
        assert!(split_replay(&7i64.to_be_bytes(), true).is_err());
    }

    proptest! {
        /// What a request keeps for its replay gives back its time and signature value.
        #[test]
        fn replay_records_round_trip(time in any::<i64>(), sig in proptest::collection::vec(any::<u8>(), 0..600)) {
            let stored = replay_record(time, None, &sig);
            let (t, id, s) = split_replay(&stored, false).expect("split");
            prop_assert_eq!(t, time);
            prop_assert_eq!(id, None);
            prop_assert_eq!(s, &sig[..]);
        }

        /// Stored bytes too short for a time are refused, never a panic; arbitrary bytes read
        /// as a visible record never panic.
        #[test]
        fn short_replay_records_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..8), any_bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert!(split_replay(&bytes, false).is_err());
            prop_assert!(split_replay(&bytes, true).is_err());
            let _ = split_replay(&any_bytes, true);
        }
    }
}
