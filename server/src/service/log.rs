//! `segel.v1.Log`: checkpoints, entries (by index, hash, document reference or document id)
//! and proofs.

use std::sync::Arc;

use segel_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::command::{ConsistencyQuery, EntryQuery, InclusionQuery};
use crate::status::store_status;

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
        caller: &str,
        reference: &str,
    ) -> Result<Vec<u64>, Status> {
        let mut agencies: Vec<&String> = self
            .allow
            .get(caller)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if agencies.is_empty() {
            return Err(crate::status::agency_not_allowed(
                None,
                format!(
                    "client {caller:?} may not seal for any agency, so it may not look up \
                     references"
                ),
            ));
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

    /// The indices of the entries `query` asks for; `caller` is needed only for a lookup by
    /// document reference (the rest of the log is public).
    fn find(&self, caller: Result<String, Status>, query: &EntryQuery) -> Result<Vec<u64>, Status> {
        match query {
            EntryQuery::DocumentRef(reference) => self.find_by_reference(&caller?, reference),
            EntryQuery::Index(i) => Ok(vec![*i]),
            EntryQuery::DocumentSha256(h) => self.log.find_by_document(h).map_err(store_status),
            EntryQuery::SignatureSha256(h) => self.log.find_by_signature(h).map_err(store_status),
            EntryQuery::DocumentId(id) => self
                .log
                .find_by_document_id(&pades::sha256(id.as_str().as_bytes()))
                .map_err(store_status),
        }
    }
}

#[tonic::async_trait]
impl pb::log_server::Log for LogService {
    async fn get_checkpoint(
        &self,
        _req: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        Ok(Response::new(self.0.checkpoint().into()))
    }

    async fn get_entry(
        &self,
        req: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        let caller = caller_cn(&req, "looking up by document_ref");
        let query = EntryQuery::try_from(req.into_inner())?;
        let entries = self
            .0
            .find(caller, &query)?
            .into_iter()
            .map(|i| self.0.entry_pb(i))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::GetEntryResponse { entries }))
    }

    async fn get_inclusion_proof(
        &self,
        req: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        let q = InclusionQuery::from(req.into_inner());
        let size = q.tree_size.unwrap_or_else(|| self.0.log.size());
        self.0.proof_pb(q.index, size).map(Response::new)
    }

    async fn get_consistency_proof(
        &self,
        req: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        let q = ConsistencyQuery::from(req.into_inner());
        let new = q.new_size.unwrap_or_else(|| self.0.log.size());
        let proof = self.0.consistency(q.old_size, new)?;
        Ok(Response::new(proof.into()))
    }
}
