//! `segel.v1.Signer`: thin handlers turning requests into the signing core's calls.

use std::sync::Arc;

use segel_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::command::{self, Caller, SignDigest, SignPdf};

use super::*;

/// `segel.v1.Signer`.
#[derive(Debug, Clone)]
pub struct SignerService(pub Arc<Segel>);

impl SignerService {
    /// The metrics label of a requested agency: its id when it is configured, `unknown`
    /// otherwise (a caller cannot create label values).
    fn agency_label(&self, id: &str) -> String {
        if self.0.agencies.contains_key(id) {
            id.to_string()
        } else {
            "unknown".to_string()
        }
    }

    /// The streamed document received and signed.
    async fn sign_stream_for(
        &self,
        caller: Caller,
        mut r: SignPdf,
        mut stream: tonic::Streaming<pb::SignPdfStreamRequest>,
    ) -> Result<SignedPdf, Status> {
        // Refuse before receiving the document.
        let agency = self.0.authorize(&caller, &r.agency)?;
        check_stamp(&agency, &r.options)?;
        self.0.check_document_size(r.size_hint)?;
        // One allocation for the document and the update that will follow it, when the size
        // is announced: peak memory stays the document plus a constant.
        let mut pdf = Vec::with_capacity(
            usize::try_from(r.size_hint)
                .unwrap_or(0)
                .saturating_add(64 * 1024),
        );
        while let Some(msg) = stream.message().await? {
            let chunk = command::stream_chunk(msg)?;
            if pdf.len() + chunk.len() > self.0.max_document_bytes {
                return Err(crate::status::document_too_large(
                    None,
                    self.0.max_document_bytes,
                ));
            }
            pdf.extend_from_slice(&chunk);
        }
        r.pdf = pdf.into();
        self.0.sign(caller, r, Answer::Stream).await
    }

    /// SignPdf from the caller's identity to the signed document.
    async fn sign_pdf_for(
        &self,
        caller: Result<String, Status>,
        r: pb::SignPdfRequest,
    ) -> Result<pb::SignPdfResponse, Status> {
        let caller = Caller::new(caller?)?;
        let r = SignPdf::try_from(r)?;
        let update_only = r.update_only;
        let signed = self.0.sign(caller, r, Answer::Unary).await?;
        Ok(signed.into_reply(update_only))
    }
}

#[tonic::async_trait]
impl pb::signer_server::Signer for SignerService {
    #[tracing::instrument(skip_all, fields(agency = %req.get_ref().agency_id, bytes = req.get_ref().pdf.len()))]
    async fn sign_pdf(
        &self,
        req: Request<pb::SignPdfRequest>,
    ) -> Result<Response<pb::SignPdfResponse>, Status> {
        let caller = caller_cn(&req, "signing");
        let agency = self.agency_label(&req.get_ref().agency_id);
        let started = std::time::Instant::now();
        let result = self.sign_pdf_for(caller, req.into_inner()).await;
        record(&agency, started, result.as_ref().err());
        result.map(Response::new)
    }

    type SignPdfStreamStream = std::pin::Pin<
        Box<dyn tokio_stream::Stream<Item = Result<pb::SignPdfStreamResponse, Status>> + Send>,
    >;

    #[tracing::instrument(skip_all)]
    async fn sign_pdf_stream(
        &self,
        req: Request<tonic::Streaming<pb::SignPdfStreamRequest>>,
    ) -> Result<Response<Self::SignPdfStreamStream>, Status> {
        let caller = caller_cn(&req, "signing")?;
        let mut stream = req.into_inner();
        let meta = command::stream_metadata(stream.message().await?)?;
        let caller = Caller::new(caller)?;
        let r = SignPdf::try_from(meta)?;
        let agency = self.agency_label(&r.agency);
        let update_only = r.update_only;
        let started = std::time::Instant::now();
        let result = self.sign_stream_for(caller, r, stream).await;
        record(&agency, started, result.as_ref().err());
        let signed = result?;
        let out = tokio_stream::StreamExt::map(signed.into_stream(update_only), Ok);
        Ok(Response::new(Box::pin(out)))
    }

    #[tracing::instrument(skip_all, fields(agency = %req.get_ref().agency_id))]
    async fn sign_digest(
        &self,
        req: Request<pb::SignDigestRequest>,
    ) -> Result<Response<pb::SignDigestResponse>, Status> {
        let caller = Caller::new(caller_cn(&req, "signing")?)?;
        let r = SignDigest::try_from(req.into_inner())?;
        let agency = self.agency_label(&r.agency);
        let started = std::time::Instant::now();
        let result = self.0.sign_digest(caller, r).await;
        record(&agency, started, result.as_ref().err());
        Ok(Response::new(result?.into()))
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
            .map(|a| pb::Agency::from(a.as_ref()))
            .collect();
        agencies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Response::new(pb::ListAgenciesResponse { agencies }))
    }
}
