//! `segel.v1.Verifier`, and the verification every edge shares
//! ([`Segel::verify_document`], [`Segel::document_entries`]).

use std::sync::Arc;

use segel_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::command::VerifyPdf;
use crate::reply::InclusionProof;
use crate::verification::{
    CheckedSignature, DocumentEntries, LogMatch, Verification, VerifyError, Via,
};

use super::*;

/// `segel.v1.Verifier`.
#[derive(Debug, Clone)]
pub struct VerifierService(pub Arc<Segel>);

impl Segel {
    /// The largest document a verification takes (`max_document_bytes`).
    pub fn max_document_bytes(&self) -> usize {
        self.max_document_bytes
    }

    /// The verification limits (running and queued), shared by every edge: an edge takes its
    /// slot with [`crate::limits::VerifyLimit::admit`] before it reads the document.
    pub fn verify_limit(&self) -> &Arc<crate::limits::VerifyLimit> {
        &self.verify_limit
    }

    /// The log.
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    /// The configured name of agency `id` (for people reading a verdict), if it is configured.
    pub fn agency_name(&self, id: &str) -> Option<&str> {
        self.agencies.get(id).map(|a| a.name.as_str())
    }

    /// Verify `pdf` with the engine (on the blocking pool, under the verification limits, given
    /// up when the returned future is dropped) and find each signature's log entry, with an
    /// inclusion proof checked against the checkpoint read before the lookups. Counted in
    /// `segel_verifications_total{via, outcome}`.
    ///
    /// The caller holds its admission slot ([`crate::limits::VerifyLimit::admit`]) while it
    /// receives the document and until this returns.
    ///
    /// # Errors
    /// [`VerifyError`]: too large, refused (busy, shutting down), unreadable, or the log failed.
    pub async fn verify_document(
        &self,
        pdf: bytes::Bytes,
        via: Via,
    ) -> Result<Verification, VerifyError> {
        let result = self.verify_inner(pdf).await;
        let outcome = match &result {
            Ok(v) => v.outcome(),
            Err(e) => e.outcome(),
        };
        metrics::counter!(
            "segel_verifications_total",
            "via" => via.as_str(),
            "outcome" => outcome.as_str()
        )
        .increment(1);
        result
    }

    async fn verify_inner(&self, pdf: bytes::Bytes) -> Result<Verification, VerifyError> {
        if pdf.len() > self.max_document_bytes {
            return Err(VerifyError::TooLarge {
                bytes: pdf.len() as u64,
                limit: self.max_document_bytes as u64,
            });
        }
        let anchors = self.trust_anchors.clone();
        // Bounded per core; abandoned at once when the caller goes away or at shutdown, and
        // the engine's work stops soon after (it asks the cancellation flag as it goes).
        let report = self
            .verify_limit
            .run(move |cancel| {
                pades::verify::verify_until(
                    &pdf,
                    &pades::VerifyOptions {
                        trust_anchors: anchors.to_vec(),
                        time: now().0,
                    },
                    &|| cancel.is_cancelled(),
                )
            })
            .await??;
        let overall = report.overall();
        let (checkpoint, size) = self.checkpoint_and_size();
        let root = checkpoint_root(&checkpoint.note);
        let mut signatures = Vec::with_capacity(report.signatures.len());
        for sig in report.signatures {
            let mut log = None;
            if let (Some(h), Some(md)) = (&sig.signature_sha256, &sig.message_digest) {
                for i in self.log.find_by_signature(h)? {
                    if i >= size {
                        continue;
                    }
                    if let Some(m) = self.log_match(i, size, root)? {
                        if m.entry.message_digest == *md {
                            log = Some(m);
                            break;
                        }
                    }
                }
            }
            signatures.push(CheckedSignature { report: sig, log });
        }
        Ok(Verification {
            overall,
            signatures,
            checkpoint,
            size,
        })
    }

    /// What the log holds for the visible seal's document id `id`: its entries (usually one)
    /// with proofs at the latest checkpoint. None is an empty list.
    ///
    /// # Errors
    /// The log could not be read.
    pub fn document_entries(
        &self,
        id: &pades::stamp::DocumentId,
    ) -> Result<DocumentEntries, crate::store::StoreError> {
        let (checkpoint, size) = self.checkpoint_and_size();
        let root = checkpoint_root(&checkpoint.note);
        let mut entries = Vec::new();
        for i in self
            .log
            .find_by_document_id(&pades::sha256(id.as_str().as_bytes()))?
        {
            if i < size {
                entries.extend(self.log_match(i, size, root)?);
            }
        }
        Ok(DocumentEntries {
            id: id.clone(),
            entries,
            checkpoint,
            size,
        })
    }

    /// Entry `index` with its inclusion proof in the tree of `size`, checked against `root`
    /// (the checkpoint's; a proof is never called verified without it).
    fn log_match(
        &self,
        index: u64,
        size: u64,
        root: Option<tlog::Hash>,
    ) -> Result<Option<LogMatch>, crate::store::StoreError> {
        let Some(entry) = self.log.entry(index)? else {
            return Ok(None);
        };
        let record = entry.encode()?;
        let document_id = match entry.document_id_sha256.hash() {
            Some(h) => self.log.document_id(h)?,
            None => None,
        };
        let hashes = self.log.inclusion_proof(index, size)?;
        let proof_verified = root.is_some_and(|r| {
            tlog::verify_inclusion(&tlog::leaf_hash(&record), index, size, &hashes, &r).is_ok()
        });
        Ok(Some(LogMatch {
            index,
            entry,
            record,
            document_id,
            proof: InclusionProof {
                leaf_index: index,
                tree_size: size,
                hashes,
            },
            proof_verified,
        }))
    }
}

/// The root hash a signed checkpoint note names (none if it does not parse: never expected of
/// the log's own note).
fn checkpoint_root(note: &str) -> Option<tlog::Hash> {
    let signed = tlog::SignedNote::parse(note).ok()?;
    tlog::Checkpoint::parse(&signed.text).ok().map(|c| c.root)
}

#[tonic::async_trait]
impl pb::verifier_server::Verifier for VerifierService {
    #[tracing::instrument(skip_all, fields(bytes = req.get_ref().pdf.len()))]
    async fn verify_pdf(
        &self,
        req: Request<pb::VerifyPdfRequest>,
    ) -> Result<Response<pb::VerifyPdfResponse>, Status> {
        let VerifyPdf { pdf } = req.into_inner().into();
        // The shared verification slot, taken once the message is in (the call's own place,
        // held since its headers, is the Admitted layer's).
        let _slot = self
            .0
            .verify_limit
            .admit()
            .map_err(|e| crate::status::verify_refused(&e))?;
        let v = self
            .0
            .verify_document(pdf, Via::Grpc)
            .await
            .map_err(|e| crate::status::verify_error(&e))?;
        let signatures = v
            .signatures
            .into_iter()
            .map(
                |CheckedSignature { report: sig, log }| pb::SignatureVerdict {
                    field: sig.field.clone(),
                    indication: sig.indication.to_string(),
                    sub_indication: sig
                        .sub_indication
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                    signer: sig.signer.clone().unwrap_or_default(),
                    reason: sig.reason.clone(),
                    report_json: serde_json::to_string(&sig).unwrap_or_default(),
                    log_entry: log.as_ref().map(|m| {
                        crate::reply::LoggedEntry {
                            index: m.index,
                            record: m.record.clone(),
                        }
                        .into()
                    }),
                    inclusion_proof: log.map(|m| m.proof.into()),
                },
            )
            .collect();
        Ok(Response::new(pb::VerifyPdfResponse {
            overall: v.overall.to_string(),
            signatures,
            checkpoint: Some(v.checkpoint.into()),
        }))
    }
}
