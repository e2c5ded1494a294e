//! `segel.v1.Signer`: thin handlers turning requests into the signing core's calls.

use std::sync::Arc;

use segel_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::status::{internal, invalid};

use super::*;

/// `segel.v1.Signer`.
#[derive(Debug, Clone)]
pub struct SignerService(pub Arc<Segel>);

#[tonic::async_trait]
impl pb::signer_server::Signer for SignerService {
    #[tracing::instrument(skip_all, fields(agency = %req.get_ref().agency_id, bytes = req.get_ref().pdf.len()))]
    async fn sign_pdf(
        &self,
        req: Request<pb::SignPdfRequest>,
    ) -> Result<Response<pb::SignPdfResponse>, Status> {
        let caller = caller_cn(&req, "signing");
        let agency = req.get_ref().agency_id.clone();
        let update_only = req.get_ref().update_only;
        let started = std::time::Instant::now();
        let result = match caller {
            Ok(caller) => self.0.sign(caller, req.into_inner()).await,
            Err(e) => Err(e),
        };
        record(&agency, started, result.as_ref().err());
        let signed = result?;
        let mut meta = signed.meta;
        if update_only {
            // The caller has the document: the update alone, not the document back.
            meta.update = signed.update;
        } else {
            let mut pdf = Vec::with_capacity(signed.pdf.len() + signed.update.len());
            pdf.extend_from_slice(&signed.pdf);
            pdf.extend_from_slice(&signed.update);
            meta.signed_pdf = pdf.into();
        }
        Ok(Response::new(meta))
    }

    type SignPdfStreamStream = std::pin::Pin<
        Box<dyn tokio_stream::Stream<Item = Result<pb::SignPdfStreamResponse, Status>> + Send>,
    >;

    #[tracing::instrument(skip_all)]
    async fn sign_pdf_stream(
        &self,
        req: Request<tonic::Streaming<pb::SignPdfStreamRequest>>,
    ) -> Result<Response<Self::SignPdfStreamStream>, Status> {
        use pb::sign_pdf_stream_request::Part;
        let caller = caller_cn(&req, "signing")?;
        let mut stream = req.into_inner();
        let mut meta = match stream.message().await?.and_then(|m| m.part) {
            Some(Part::Metadata(m)) if m.pdf.is_empty() => m,
            _ => {
                return Err(invalid(
                    "the stream must start with the request metadata (without pdf)",
                ))
            }
        };
        // Refuse before receiving the document.
        check_sign_request(&caller, &meta)?;
        self.0.authorize(&caller, &meta.agency_id)?;
        if meta.size_hint > self.0.max_document_bytes as u64 {
            return Err(crate::status::document_too_large(
                Some(meta.size_hint),
                self.0.max_document_bytes,
            ));
        }
        // One allocation for the document and the update that will follow it, when the size
        // is announced: peak memory stays the document plus a constant.
        let mut pdf = Vec::with_capacity(
            usize::try_from(meta.size_hint)
                .unwrap_or(0)
                .saturating_add(64 * 1024),
        );
        while let Some(msg) = stream.message().await? {
            match msg.part {
                Some(Part::Chunk(c)) => {
                    if pdf.len() + c.len() > self.0.max_document_bytes {
                        return Err(crate::status::document_too_large(
                            None,
                            self.0.max_document_bytes,
                        ));
                    }
                    pdf.extend_from_slice(&c);
                }
                _ => return Err(invalid("only chunks may follow the metadata")),
            }
        }
        meta.pdf = pdf.into();
        let update_only = meta.update_only;
        let signed = self.0.sign(caller, meta).await?;
        if update_only {
            // The caller has the document: the update alone, in the metadata, and no chunks.
            let mut m = signed.meta;
            m.update = signed.update;
            let only = pb::SignPdfStreamResponse {
                part: Some(pb::sign_pdf_stream_response::Part::Metadata(m)),
            };
            return Ok(Response::new(Box::pin(tokio_stream::once(Ok(only)))));
        }
        let signed = Arc::new(signed);
        // Metadata first, then the signed document in chunks: slices of the two buffers, no
        // copies.
        const CHUNK: usize = 1 << 20;
        let n_pdf = signed.pdf.len().div_ceil(CHUNK);
        let n = n_pdf + signed.update.len().div_ceil(CHUNK) + 1;
        let out = tokio_stream::StreamExt::map(tokio_stream::iter(0..n), move |i| {
            use pb::sign_pdf_stream_response::Part as Out;
            let part = if i == 0 {
                Out::Metadata(signed.meta.clone())
            } else if i <= n_pdf {
                let from = (i - 1) * CHUNK;
                Out::Chunk(signed.pdf.slice(from..(from + CHUNK).min(signed.pdf.len())))
            } else {
                let from = (i - 1 - n_pdf) * CHUNK;
                Out::Chunk(
                    signed
                        .update
                        .slice(from..(from + CHUNK).min(signed.update.len())),
                )
            };
            Ok(pb::SignPdfStreamResponse { part: Some(part) })
        });
        Ok(Response::new(Box::pin(out)))
    }

    #[tracing::instrument(skip_all, fields(agency = %req.get_ref().agency_id))]
    async fn sign_digest(
        &self,
        req: Request<pb::SignDigestRequest>,
    ) -> Result<Response<pb::SignDigestResponse>, Status> {
        let s = self.0.clone();
        let caller = caller_cn(&req, "signing")?;
        let r = req.into_inner();
        check_digest_request(&caller, &r)?;
        let agency = s.authorize(&caller, &r.agency_id)?;
        let digest: [u8; 32] = r.message_digest.as_slice().try_into().map_err(|_| {
            invalid("message_digest must be the 32-byte SHA-256 of the byte ranges")
        })?;
        let document_sha256: [u8; 32] = if r.document_sha256.is_empty() {
            [0; 32]
        } else {
            r.document_sha256
                .as_slice()
                .try_into()
                .map_err(|_| invalid("document_sha256 must be 32 bytes"))?
        };
        // On a task of its own: a caller that goes away cannot end the attempt between the
        // signature and its durable log entry.
        let reply = tokio::spawn(async move {
            s.sign_digest_task(caller, agency, r, digest, document_sha256)
                .await
        })
        .await
        .map_err(|e| internal(&e))??;
        Ok(Response::new(reply))
    }

    async fn list_agencies(
        &self,
        req: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        let caller = caller_cn(&req, "listing agencies")?;
        let allowed = self.0.allow.get(&caller).cloned().unwrap_or_default();
        let mut agencies: Vec<pb::Agency> = self
            .0
            .agencies
            .values()
            .filter(|a| allowed.contains(&a.id))
            .map(|a| pb::Agency {
                id: a.id.clone(),
                name: a.name.clone(),
                certificate_chain: a.chain.clone(),
            })
            .collect();
        agencies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Response::new(pb::ListAgenciesResponse { agencies }))
    }
}
