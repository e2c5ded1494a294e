//! The wire's messages as the client library's types, and back: the one place in the library
//! that knows the protobuf types besides the calls that send them.

use segel_proto::v1 as pb;

use super::checkpoint::SignedCheckpoint;
use super::types::{Agency, EntryKey, SignRequest};
use crate::logcheck::{ConsistencyProof, InclusionProof, UncheckedEntry};

/// Response metadata of a `SignDigest` refused as ALREADY_EXISTS, beside
/// [`segel_proto::SIGNING_TIME_METADATA`]: the document id the first request's visible seal
/// linked to, so that a client drawing the seal again links to the same one.
pub(super) use segel_proto::DOCUMENT_ID_METADATA;

pub(super) fn entry(e: pb::LogEntry) -> UncheckedEntry {
    UncheckedEntry {
        index: e.index,
        leaf_hash: e.leaf_hash,
        record: e.record,
    }
}

pub(super) fn inclusion(p: pb::InclusionProof) -> InclusionProof {
    InclusionProof {
        leaf_index: p.leaf_index,
        tree_size: p.tree_size,
        hashes: p.hashes,
    }
}

pub(super) fn consistency(p: pb::ConsistencyProof) -> ConsistencyProof {
    ConsistencyProof {
        old_size: p.old_size,
        new_size: p.new_size,
        hashes: p.hashes,
    }
}

pub(super) fn checkpoint(c: pb::Checkpoint) -> SignedCheckpoint {
    SignedCheckpoint {
        note: c.note,
        verifier_key: c.verifier_key,
    }
}

pub(super) fn agency(a: pb::Agency) -> Agency {
    let stamp = a
        .stamp
        .as_ref()
        .map(|s| segel_proto::stamp_settings(&a.name, s))
        .transpose();
    Agency {
        id: a.id,
        name: a.name,
        certificate_chain: a.certificate_chain,
        stamp,
    }
}

pub(super) fn entry_key(k: EntryKey) -> pb::get_entry_request::Key {
    use pb::get_entry_request::Key;
    match k {
        EntryKey::Index(i) => Key::Index(i),
        EntryKey::DocumentSha256(h) => Key::DocumentSha256(h),
        EntryKey::SignatureSha256(h) => Key::SignatureSha256(h),
        EntryKey::DocumentRef(r) => Key::DocumentRef(r),
        EntryKey::DocumentId(id) => Key::DocumentId(id),
    }
}

/// The metadata of a `SignPdf` request for `req` and a document of `size` bytes (the document
/// itself goes in the message or in the stream's chunks).
pub(super) fn sign_pdf_metadata(req: &SignRequest, size: usize) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: req.agency.clone(),
        pdf: bytes::Bytes::new(),
        request_id: req.request_id.clone(),
        document_ref: req.document_ref.clone(),
        options: Some(pb::SignOptions::from(&req.options)),
        size_hint: size as u64,
        update_only: false,
    }
}

/// The reason of a refusal: the `google.rpc.ErrorInfo` of domain
/// [`segel_proto::ERROR_DOMAIN`] in its details, if it carries one.
pub(super) fn reason(s: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    s.get_details_error_info()
        .filter(|i| i.domain == segel_proto::ERROR_DOMAIN)
        .map(|i| i.reason)
}
