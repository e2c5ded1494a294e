//! `segel.v1.Log`: checkpoints, entries (by index, hash or document reference) and proofs.

use std::sync::Arc;

use segel_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::status::{invalid, store_status};

use super::*;

/// `segel.v1.Log`.
#[derive(Debug, Clone)]
pub struct LogService(pub Arc<Segel>);

impl Segel {
    /// The entries logged with the document reference `reference` for the agencies `caller`
    /// may seal for: only a client allowed for an agency may ask (the answer tells whether a
    /// reference, perhaps a citizen's number, was used).
    pub(super) fn find_by_reference(
        &self,
        caller: Result<String, Status>,
        reference: &str,
    ) -> Result<Vec<u64>, Status> {
        let caller = caller?;
        check_len("document_ref", reference, limits::DOCUMENT_REF)?;
        if reference.is_empty() {
            return Err(invalid("document_ref is empty"));
        }
        let mut agencies: Vec<&String> = self
            .allow
            .get(&caller)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if agencies.is_empty() {
            return Err(crate::status::not_allowed(format!(
                "client {caller:?} may not seal for any agency, so it may not look up references"
            )));
        }
        agencies.sort();
        let mut out = Vec::new();
        for a in agencies {
            out.extend(
                self.log
                    .find_by_reference(a, reference)
                    .map_err(store_status)?,
            );
        }
        out.sort_unstable();
        Ok(out)
    }
}

pub(super) fn hash32(b: &[u8], what: &str) -> Result<[u8; 32], Status> {
    b.try_into()
        .map_err(|_| invalid(&format!("{what} must be 32 bytes")))
}

#[tonic::async_trait]
impl pb::log_server::Log for LogService {
    async fn get_checkpoint(
        &self,
        _req: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        Ok(Response::new(self.0.checkpoint()))
    }

    async fn get_entry(
        &self,
        req: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        use pb::get_entry_request::Key;
        let s = &self.0;
        // Only a lookup by reference needs the caller; the rest of the log is public.
        let caller = caller_cn(&req, "looking up by document_ref");
        let indices = match req.into_inner().key {
            Some(Key::DocumentRef(reference)) => s.find_by_reference(caller, &reference)?,
            Some(Key::Index(i)) => vec![i],
            Some(Key::DocumentSha256(h)) => s
                .log
                .find_by_document(&hash32(&h, "document_sha256")?)
                .map_err(store_status)?,
            Some(Key::SignatureSha256(h)) => s
                .log
                .find_by_signature(&hash32(&h, "signature_sha256")?)
                .map_err(store_status)?,
            None => {
                return Err(invalid(
                    "give an index, a document_sha256, a signature_sha256 or a document_ref",
                ))
            }
        };
        let entries = indices
            .into_iter()
            .map(|i| s.entry_pb(i))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::GetEntryResponse { entries }))
    }

    async fn get_inclusion_proof(
        &self,
        req: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        let r = req.into_inner();
        let size = if r.tree_size == 0 {
            self.0.log.size()
        } else {
            r.tree_size
        };
        self.0.proof_pb(r.index, size).map(Response::new)
    }

    async fn get_consistency_proof(
        &self,
        req: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        let r = req.into_inner();
        let new = if r.new_size == 0 {
            self.0.log.size()
        } else {
            r.new_size
        };
        let hashes = self
            .0
            .log
            .consistency_proof(r.old_size, new)
            .map_err(store_status)?;
        Ok(Response::new(pb::ConsistencyProof {
            old_size: r.old_size,
            new_size: new,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }
}
