//! `segel.v1.Verifier`: the engine's verdict per signature, with its log entry and proof.

use std::sync::Arc;

use segel_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::command::VerifyPdf;
use crate::status::store_status;

use super::*;

/// `segel.v1.Verifier`.
#[derive(Debug, Clone)]
pub struct VerifierService(pub Arc<Segel>);

#[tonic::async_trait]
impl pb::verifier_server::Verifier for VerifierService {
    #[tracing::instrument(skip_all, fields(bytes = req.get_ref().pdf.len()))]
    async fn verify_pdf(
        &self,
        req: Request<pb::VerifyPdfRequest>,
    ) -> Result<Response<pb::VerifyPdfResponse>, Status> {
        let s = self.0.clone();
        let VerifyPdf { pdf } = req.into_inner().into();
        s.check_document_size(pdf.len() as u64)?;
        let anchors = s.trust_anchors.clone();
        // Bounded per core; abandoned at once when the caller goes away or at shutdown, and
        // the engine's work stops soon after (it asks the cancellation flag as it goes).
        let report = s
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
            .await
            .map_err(|e| crate::status::verify_refused(&e))?
            .map_err(|e| crate::status::engine_status(&e))?;
        let (checkpoint, size) = s.checkpoint_and_size();
        let mut signatures = Vec::new();
        for sig in &report.signatures {
            let mut v = pb::SignatureVerdict {
                field: sig.field.clone(),
                indication: sig.indication.to_string(),
                sub_indication: sig
                    .sub_indication
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                signer: sig.signer.clone().unwrap_or_default(),
                reason: sig.reason.clone(),
                report_json: serde_json::to_string(sig).unwrap_or_default(),
                log_entry: None,
                inclusion_proof: None,
            };
            if let (Some(h), Some(md)) = (&sig.signature_sha256, &sig.message_digest) {
                for i in s.log.find_by_signature(h).map_err(store_status)? {
                    let e = s.log.entry(i).map_err(store_status)?;
                    if e.is_some_and(|e| e.message_digest == *md) && i < size {
                        v.log_entry = Some(s.entry_pb(i)?);
                        v.inclusion_proof = Some(s.proof_pb(i, size)?);
                        break;
                    }
                }
            }
            signatures.push(v);
        }
        Ok(Response::new(pb::VerifyPdfResponse {
            overall: report.overall().to_string(),
            signatures,
            checkpoint: Some(checkpoint.into()),
        }))
    }
}
