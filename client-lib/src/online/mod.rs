//! The online client: typed calls to a Segel server over (mutual) TLS, with every log answer
//! checked against the log's key and against the newest checkpoint this client has seen.
//!
//! ```no_run
//! # async fn demo() -> Result<(), segel_client::ClientError> {
//! use segel_client::online::{Client, SignRequest};
//! use segel_client::settings::Settings;
//! let client = Client::connect(&Settings::dev("certs-dev".as_ref())).await?;
//! let pdf = std::fs::read("letter.pdf").expect("read");
//! let sealed = client
//!     .sign_pdf(&SignRequest::new("dev"), pdf.into())
//!     .await?;
//! println!("log index {}", sealed.entry.index);
//! # Ok(()) }
//! ```

mod checkpoint;
mod types;
mod wire;

pub use types::{Agency, EntryKey, Sealed, SealedDigest, SignRequest, Verdict, Verification};

use bytes::Bytes;
use segel_proto::v1 as pb;
use segel_proto::v1::{
    log_client::LogClient, signer_client::SignerClient, verifier_client::VerifierClient,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::error::ClientError;
use crate::logcheck::{ConsistencyProof, LogView, ProvenEntry, VerifiedCheckpoint};
use crate::settings::{ServerTrust, Settings};
use checkpoint::{Checkpoints, Kept, SignedCheckpoint};

/// Documents above this size go by `SignPdfStream`, in chunks of [`CHUNK`].
pub const STREAM_ABOVE: usize = 4 << 20;
/// Chunk size of streamed documents.
pub const CHUNK: usize = 1 << 20;
/// Largest answer accepted in one message.
const MAX_MESSAGE: usize = 256 << 20;

/// What `signed` adds to `pdf`, when it extends it (the update, sharing `signed`'s buffer).
fn tail_of(what: &str, pdf: &[u8], signed: Bytes) -> Result<Bytes, ClientError> {
    if !signed.starts_with(pdf) || signed.len() == pdf.len() {
        return Err(bad(
            what,
            "the signed PDF does not extend the document sent",
        ));
    }
    Ok(signed.slice(pdf.len()..))
}

/// A connection to a Segel server.
///
/// Every checkpoint in an answer is checked and linked to the newest one seen (see
/// `online/checkpoint.rs`); the newest is kept in the state folder when the client is dropped.
pub struct Client {
    channel: Channel,
    server: String,
    checkpoints: Checkpoints,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

fn refused(what: &str, s: &tonic::Status) -> ClientError {
    ClientError::Refused {
        what: what.to_string(),
        code: s.code(),
        reason: wire::reason(s),
        message: s.message().to_string(),
    }
}

/// `req`, with a fresh request id ([`new_request_id`]) when it has none: the server requires
/// one.
fn with_request_id(req: &SignRequest) -> std::borrow::Cow<'_, SignRequest> {
    if req.request_id.is_empty() {
        let mut req = req.clone();
        req.request_id = new_request_id();
        std::borrow::Cow::Owned(req)
    } else {
        std::borrow::Cow::Borrowed(req)
    }
}

/// A request id of its own for one signing call: the time (milliseconds) and 128 random bits,
/// so that no two calls share one. Retrying with it returns the first answer; a call made with
/// a new id (as each call without an id gets) signs and logs anew.
pub fn new_request_id() -> String {
    let mut random = [0u8; 16];
    // The system's generator fails only when the OS has none to give; the time alone still
    // tells calls of one client apart then.
    let _ = aws_lc_rs::rand::fill(&mut random);
    format!("auto-{}-{}", pades::time::now_ms(), hex::encode(random))
}

/// The document id of a `SignPdf` answer: one of the right form for a visible seal, none for
/// an invisible signature.
fn answered_document_id(
    what: &str,
    req: &SignRequest,
    answered: &str,
) -> Result<Option<String>, ClientError> {
    match (req.options.visible.is_some(), answered.is_empty()) {
        (true, false) => pades::stamp::DocumentId::parse(answered)
            .map(|id| Some(id.to_string()))
            .map_err(|e| bad(what, format!("the answer's document id: {e}"))),
        (false, true) => Ok(None),
        (true, true) => Err(bad(
            what,
            "a visible seal was asked for, but the answer carries no document id (a server \
             without visible seals signs invisibly)",
        )),
        (false, false) => Err(bad(what, "a document id for an invisible signature")),
    }
}

fn bad(what: &str, detail: impl Into<String>) -> ClientError {
    ClientError::BadAnswer {
        what: what.to_string(),
        detail: detail.into(),
    }
}

impl Client {
    /// Connect with `settings` (server required; certificate and key for signing). The
    /// server's TLS certificate is checked against the `ca` file alone when one is set, else
    /// against the system's root certificates.
    ///
    /// The log key is the pinned one (`log_key`), else the one kept in the state folder for
    /// this server, else the server's own (trusted on first use and then kept). The newest
    /// checkpoint kept there is the starting point: the server's current one must be
    /// consistent with it.
    ///
    /// # Errors
    /// Incomplete settings, unreadable files, an unreachable server, or a log that does not
    /// check out.
    pub async fn connect(settings: &Settings) -> Result<Self, ClientError> {
        let server = settings.server.clone().ok_or_else(|| {
            ClientError::Settings(
                "no server: give --server URL, set SEGEL_SERVER, or use --dev".into(),
            )
        })?;
        let uri: tonic::transport::Uri = server
            .parse()
            .map_err(|e| ClientError::Settings(format!("server {server:?} is not a URL: {e}")))?;
        if uri.scheme_str() != Some("https") {
            return Err(ClientError::Settings(format!(
                "server {server:?}: only https:// is supported (the server speaks TLS only)"
            )));
        }
        let host = uri.host().unwrap_or("localhost").to_string();
        let trust = settings.server_trust();
        let mut tls = ClientTlsConfig::new().domain_name(host);
        tls = match trust.clone() {
            ServerTrust::CaFile(ca) => {
                tls.ca_certificate(Certificate::from_pem(crate::read_file(&ca)?))
            }
            ServerTrust::System => tls.with_native_roots(),
        };
        match (&settings.cert, &settings.key) {
            (Some(c), Some(k)) => {
                let key = zeroize::Zeroizing::new(crate::read_file(k)?);
                tls = tls.identity(Identity::from_pem(crate::read_file(c)?, key.as_slice()));
            }
            (None, None) => {}
            _ => {
                return Err(ClientError::Settings(
                    "a client certificate needs its key and the other way round: give both \
                     --client-cert and --client-key (or SEGEL_CLIENT_CERT and SEGEL_CLIENT_KEY)"
                        .into(),
                ))
            }
        }
        let connect_err = |detail: String| ClientError::Connect {
            server: server.clone(),
            detail,
        };
        let channel = Channel::builder(uri)
            .tls_config(tls)
            .map_err(|e| connect_err(format!("TLS settings: {e}")))?
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(16 << 20))
            .connect_timeout(std::time::Duration::from_secs(10))
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| {
                let mut detail = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    detail = format!("{detail}: {s}");
                    src = s.source();
                }
                let trusted = match &trust {
                    ServerTrust::CaFile(ca) => format!("the CA file {}", ca.display()),
                    _ => "the system's root certificates (give --ca FILE for a server whose \
                          certificate comes from a private CA)"
                        .into(),
                };
                connect_err(format!(
                    "{detail} (is the server running? for the development server: \
                     `cargo run -p segel-server -- --dev`; its TLS certificate is checked \
                     against {trusted})"
                ))
            })?;
        let state_file = settings
            .state_dir()
            .map(|d| checkpoint::state_file(&d, &server));
        let kept = Kept::read(state_file)?;
        let mut log = LogClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        let cp = wire::checkpoint(
            log.get_checkpoint(pb::GetCheckpointRequest {})
                .await
                .map_err(|s| refused("GetCheckpoint", &s))?
                .into_inner(),
        );
        let checkpoints = Checkpoints::new(settings.log_key.as_deref(), kept, &cp)?;
        let client = Self {
            channel,
            server,
            checkpoints,
        };
        client.observe("GetCheckpoint", &cp, None).await?;
        Ok(client)
    }

    /// How many consistency proofs this client has fetched (one per new checkpoint it had
    /// to link to the newest it knew).
    pub fn consistency_proofs_fetched(&self) -> u64 {
        self.checkpoints.proofs_fetched()
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The trusted log key and the newest checkpoint accepted.
    pub async fn view(&self) -> LogView {
        self.checkpoints.view().await
    }

    fn signer(&self) -> SignerClient<Channel> {
        SignerClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    fn log(&self) -> LogClient<Channel> {
        LogClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE)
    }

    /// Check a checkpoint from the server (signature; consistency with the newest seen,
    /// fetching a proof when needed and `offered` does not give it) and accept it.
    async fn observe(
        &self,
        what: &str,
        cp: &SignedCheckpoint,
        offered: Option<&ConsistencyProof>,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        self.checkpoints
            .observe(what, cp, offered, |old, new| self.consistency(old, new))
            .await
    }

    /// Write the newest checkpoint accepted to the state file now (it is also written at most
    /// every second while answers arrive, and when the client is dropped).
    pub async fn save_state(&self) {
        self.checkpoints.save_state().await;
    }

    async fn prove(
        &self,
        what: &str,
        entry: Option<pb::LogEntry>,
        checkpoint: Option<pb::Checkpoint>,
        proof: Option<pb::InclusionProof>,
        offered: Option<pb::ConsistencyProof>,
    ) -> Result<ProvenEntry, ClientError> {
        let (Some(entry), Some(cp), Some(proof)) = (entry, checkpoint, proof) else {
            return Err(bad(
                what,
                "the entry, checkpoint or inclusion proof is missing",
            ));
        };
        let offered = offered.map(wire::consistency);
        let verified = self
            .observe(what, &wire::checkpoint(cp), offered.as_ref())
            .await?;
        self.checkpoints
            .check_entry(
                what,
                &wire::entry(entry),
                &wire::inclusion(proof),
                &verified,
            )
            .await
    }

    /// The agencies this client may seal for, with their certificate chains (DER).
    ///
    /// # Errors
    /// Refusals (no client certificate: UNAUTHENTICATED).
    pub async fn agencies(&self) -> Result<Vec<Agency>, ClientError> {
        Ok(self
            .signer()
            .list_agencies(pb::ListAgenciesRequest {})
            .await
            .map_err(|s| refused("ListAgencies", &s))?
            .into_inner()
            .agencies
            .into_iter()
            .map(wire::agency)
            .collect())
    }

    /// The agency `id` among those this client may seal for.
    ///
    /// # Errors
    /// [`ClientError::AgencyNotAllowed`] listing the agencies this client may use, when `id`
    /// is not one of them; refusals of `ListAgencies`.
    pub async fn agency(&self, id: &str) -> Result<Agency, ClientError> {
        let mut agencies = self.agencies().await?;
        match agencies.iter().position(|a| a.id == id) {
            Some(i) => Ok(agencies.swap_remove(i)),
            None => Err(ClientError::AgencyNotAllowed {
                agency: id.to_string(),
                allowed: agencies.into_iter().map(|a| a.id).collect(),
            }),
        }
    }

    /// Sign a whole PDF on the server (unary up to [`STREAM_ABOVE`], streamed above). The
    /// answer is checked: the signed PDF extends the input, the log entry names this agency
    /// and hashes the signed PDF, and it is proven in a checkpoint consistent with the newest.
    ///
    /// # Errors
    /// Refusals (with the server's reason) and answers that do not check out.
    pub async fn sign_pdf(&self, req: &SignRequest, pdf: Bytes) -> Result<Sealed, ClientError> {
        let (update, entry, document_id) = self.sign_pdf_update(req, pdf.clone(), None).await?;
        let mut signed = Vec::with_capacity(pdf.len() + update.len());
        signed.extend_from_slice(&pdf);
        signed.extend_from_slice(&update);
        Ok(Sealed {
            pdf: signed.into(),
            entry,
            document_id,
        })
    }

    /// [`Client::sign_pdf`] answering with the incremental update alone (the signed PDF is `pdf`
    /// followed by it), given (when the caller has it) the SHA-256 state after `pdf`, so the
    /// signed PDF's hash continues from it instead of reading the input again. A unary request
    /// asks the server for the update alone (`update_only`), so the document does not travel
    /// back; a server that sends the whole signed PDF anyway is understood too. With a visible
    /// seal, the document id the server assigned comes third.
    pub(crate) async fn sign_pdf_update(
        &self,
        req: &SignRequest,
        pdf: Bytes,
        input_state: Option<aws_lc_rs::digest::Context>,
    ) -> Result<(Bytes, ProvenEntry, Option<String>), ClientError> {
        let what = "SignPdf";
        let meta = wire::sign_pdf_metadata(&with_request_id(req), pdf.len());
        // Unary for most documents, streamed above STREAM_ABOVE; either way the update alone is
        // asked for (a server that sends the whole signed PDF anyway is understood too).
        let (signed, mut r) = if pdf.len() <= STREAM_ABOVE {
            let mut r = self
                .signer()
                .sign_pdf(pb::SignPdfRequest {
                    pdf: pdf.clone(),
                    update_only: true,
                    ..meta
                })
                .await
                .map_err(|s| refused(what, &s))?
                .into_inner();
            (std::mem::take(&mut r.signed_pdf), r)
        } else {
            self.sign_stream(
                pb::SignPdfRequest {
                    update_only: true,
                    ..meta
                },
                pdf.clone(),
            )
            .await?
        };
        let update = std::mem::take(&mut r.update);
        let (update, meta) = match (update.is_empty(), signed.is_empty()) {
            (false, true) => (update, r),
            (true, false) => (tail_of(what, &pdf, signed)?, r),
            _ => {
                return Err(bad(
                    what,
                    "the answer holds neither the update nor the signed PDF alone",
                ))
            }
        };
        let entry = self
            .prove(
                what,
                meta.entry,
                meta.checkpoint,
                meta.inclusion_proof,
                meta.consistency_proof,
            )
            .await?;
        if entry.record.agency != req.agency {
            return Err(bad(
                what,
                format!("the log entry names agency {:?}", entry.record.agency),
            ));
        }
        // The signed PDF is the input followed by the update: its hash continues from the
        // input's.
        let mut whole = input_state.unwrap_or_else(|| crate::sha256_state(&pdf));
        whole.update(&update);
        if entry.record.document_sha256[..] != *whole.finish().as_ref() {
            return Err(bad(what, "the log entry does not hash the signed PDF"));
        }
        let document_id = answered_document_id(what, req, &meta.document_id)?;
        Ok((update, entry, document_id))
    }

    async fn sign_stream(
        &self,
        meta: pb::SignPdfRequest,
        pdf: Bytes,
    ) -> Result<(Bytes, pb::SignPdfResponse), ClientError> {
        use pb::sign_pdf_stream_request::Part;
        use pb::sign_pdf_stream_response::Part as Out;
        let what = "SignPdfStream";
        let mut parts = vec![pb::SignPdfStreamRequest {
            part: Some(Part::Metadata(meta)),
        }];
        let mut at = 0;
        while at < pdf.len() {
            let end = (at + CHUNK).min(pdf.len());
            parts.push(pb::SignPdfStreamRequest {
                part: Some(Part::Chunk(pdf.slice(at..end))),
            });
            at = end;
        }
        let mut answer = self
            .signer()
            .sign_pdf_stream(tokio_stream::iter(parts))
            .await
            .map_err(|s| refused(what, &s))?
            .into_inner();
        let first = answer
            .message()
            .await
            .map_err(|s| refused(what, &s))?
            .ok_or_else(|| bad(what, "the answer is empty"))?;
        let Some(Out::Metadata(m)) = first.part else {
            return Err(bad(what, "the answer does not start with its metadata"));
        };
        // Chunks follow only when the whole signed PDF comes back (not with `update_only`,
        // whose update rides in the metadata).
        let mut out = Vec::new();
        while let Some(msg) = answer.message().await.map_err(|s| refused(what, &s))? {
            match msg.part {
                Some(Out::Chunk(c)) => {
                    if out.len() + c.len() > MAX_MESSAGE {
                        return Err(bad(what, "the signed PDF is far larger than the input"));
                    }
                    if out.is_empty() {
                        out.reserve_exact(pdf.len() + 64 * 1024);
                    }
                    out.extend_from_slice(&c);
                }
                _ => return Err(bad(what, "metadata after the first message")),
            }
        }
        Ok((out.into(), m))
    }

    /// Remote signing: the server signs `digest` (SHA-256 of the byte ranges of a PDF this
    /// client prepared with `signing_time`, Unix seconds) and logs it; the CMS comes back to
    /// be embedded.
    ///
    /// # Errors
    /// Refusals and answers that do not check out (the entry must record this digest);
    /// [`ClientError::EarlierSigningTime`] when the request id was first used for the file
    /// prepared with another time (prepare it with that time and ask again).
    pub async fn sign_digest(
        &self,
        req: &SignRequest,
        digest: [u8; 32],
        signing_time: i64,
    ) -> Result<SealedDigest, ClientError> {
        self.sign_digest_with(req, digest, signing_time, None).await
    }

    /// [`Client::sign_digest`] for a document whose visible seal, drawn here, links to
    /// `document_id`: the server checks its form and records it with the entry. A retry must
    /// send the same id (and prepare with the same time): the digest covers the seal.
    ///
    /// # Errors
    /// As [`Client::sign_digest`].
    pub async fn sign_digest_with(
        &self,
        req: &SignRequest,
        digest: [u8; 32],
        signing_time: i64,
        document_id: Option<&pades::stamp::DocumentId>,
    ) -> Result<SealedDigest, ClientError> {
        let what = "SignDigest";
        let req = with_request_id(req);
        let req = req.as_ref();
        let r = self
            .signer()
            .sign_digest(pb::SignDigestRequest {
                agency_id: req.agency.clone(),
                message_digest: digest.to_vec(),
                document_ref: req.document_ref.clone(),
                pss: req.options.pss,
                document_sha256: Vec::new(),
                request_id: req.request_id.clone(),
                signing_time,
                document_id: document_id.map(ToString::to_string).unwrap_or_default(),
            })
            .await
            .map_err(|s| {
                // ALREADY_EXISTS naming the first signing time: the same file, prepared anew.
                let first = (s.code() == tonic::Code::AlreadyExists)
                    .then(|| s.metadata().get(segel_proto::SIGNING_TIME_METADATA))
                    .flatten()
                    .and_then(|v| v.to_str().ok()?.parse::<i64>().ok());
                match first {
                    Some(time) => ClientError::EarlierSigningTime {
                        request_id: req.request_id.clone(),
                        time,
                        document_id: s
                            .metadata()
                            .get(wire::DOCUMENT_ID_METADATA)
                            .and_then(|v| v.to_str().ok())
                            .filter(|v| !v.is_empty())
                            .map(str::to_string),
                    },
                    None => refused(what, &s),
                }
            })?
            .into_inner();
        let entry = self
            .prove(
                what,
                r.entry,
                r.checkpoint,
                r.inclusion_proof,
                r.consistency_proof,
            )
            .await?;
        if entry.record.message_digest != digest || entry.record.agency != req.agency {
            return Err(bad(what, "the log entry is not for this digest and agency"));
        }
        if entry.record.signature_sha256 == [0; 32] || r.cms.is_empty() {
            return Err(bad(what, "no CMS"));
        }
        Ok(SealedDigest {
            cms: r.cms,
            entry,
            document_id: document_id.map(ToString::to_string),
        })
    }

    /// Verify a PDF on the server; each log entry it reports is proven here.
    ///
    /// # Errors
    /// Refusals (a document that is not a PDF: INVALID_ARGUMENT) and answers that do not
    /// check out.
    pub async fn verify_pdf(&self, pdf: Bytes) -> Result<Verification, ClientError> {
        let what = "VerifyPdf";
        let r = VerifierClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
            .verify_pdf(pb::VerifyPdfRequest { pdf })
            .await
            .map_err(|s| refused(what, &s))?
            .into_inner();
        let cp = r
            .checkpoint
            .ok_or_else(|| bad(what, "no checkpoint in the answer"))?;
        let checkpoint = self.observe(what, &wire::checkpoint(cp), None).await?;
        let mut signatures = Vec::new();
        for v in r.signatures {
            let entry = match (v.log_entry, v.inclusion_proof) {
                (Some(e), Some(p)) => Some(
                    self.checkpoints
                        .check_entry(what, &wire::entry(e), &wire::inclusion(p), &checkpoint)
                        .await?,
                ),
                (None, None) => None,
                _ => return Err(bad(what, "a log entry without its proof")),
            };
            let indication = v
                .indication
                .parse()
                .map_err(|e| bad(what, format!("signature {:?}: {e}", v.field)))?;
            let sub_indication = match v.sub_indication.as_str() {
                "" => None,
                s => Some(
                    s.parse()
                        .map_err(|e| bad(what, format!("signature {:?}: {e}", v.field)))?,
                ),
            };
            signatures.push(Verdict {
                field: v.field,
                indication,
                sub_indication,
                signer: v.signer,
                reason: v.reason,
                report_json: v.report_json,
                entry,
            });
        }
        Ok(Verification {
            overall: r
                .overall
                .parse()
                .map_err(|e| bad(what, format!("overall: {e}")))?,
            signatures,
            checkpoint,
        })
    }

    /// The server's current checkpoint, checked and accepted.
    ///
    /// # Errors
    /// Refusals and checkpoints that do not check out.
    pub async fn checkpoint(&self) -> Result<VerifiedCheckpoint, ClientError> {
        let cp = self
            .log()
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await
            .map_err(|s| refused("GetCheckpoint", &s))?
            .into_inner();
        self.observe("GetCheckpoint", &wire::checkpoint(cp), None)
            .await
    }

    /// Entries by index, document hash or signature hash, each proven in the current
    /// checkpoint.
    ///
    /// # Errors
    /// Refusals (an index beyond the log: NOT_FOUND) and answers that do not check out.
    pub async fn entries(&self, key: EntryKey) -> Result<Vec<ProvenEntry>, ClientError> {
        let what = "GetEntry";
        let found = self
            .log()
            .get_entry(pb::GetEntryRequest {
                key: Some(wire::entry_key(key.clone())),
            })
            .await
            .map_err(|s| refused(what, &s))?
            .into_inner()
            .entries;
        let cp = self.checkpoint().await?;
        let mut out = Vec::new();
        for e in found {
            let proof = self
                .log()
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    index: e.index,
                    tree_size: cp.checkpoint.size,
                })
                .await
                .map_err(|s| refused("GetInclusionProof", &s))?
                .into_inner();
            let entry = self
                .checkpoints
                .check_entry(what, &wire::entry(e), &wire::inclusion(proof), &cp)
                .await?;
            if !key.matches(&entry) {
                return Err(ClientError::BadAnswer {
                    what: what.into(),
                    detail: format!("entry {} is not one asked for ({key:?})", entry.index),
                });
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// The server's consistency proof between two sizes (`new` 0: the current size), as
    /// given; check it with `tlog::verify_consistency` against two verified checkpoints.
    ///
    /// # Errors
    /// Refusals.
    pub async fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, ClientError> {
        Ok(wire::consistency(
            self.log()
                .get_consistency_proof(pb::GetConsistencyProofRequest {
                    old_size: old,
                    new_size: new,
                })
                .await
                .map_err(|s| refused("GetConsistencyProof", &s))?
                .into_inner(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_id_comes_back_exactly_for_a_visible_seal() {
        let invisible = SignRequest::new("dev");
        let mut visible = SignRequest::new("dev");
        visible.options.visible = Some(pades::stamp::VisibleOptions {
            placement: pades::stamp::Placement::Field,
            fields: Default::default(),
            footer: false,
            image: None,
        });
        let id = "AbCdEfGhIjKlMnOpQrStUv";
        assert_eq!(
            answered_document_id("SignPdf", &visible, id).expect("ok"),
            Some(id.to_string())
        );
        assert_eq!(
            answered_document_id("SignPdf", &invisible, "").expect("ok"),
            None
        );
        for (req, answered, want) in [
            (&visible, "", "carries no document id"),
            (&visible, "short", "document id"),
            (&visible, "../../etc/passwd/xxxxxxxx", "document id"),
            (&invisible, id, "invisible"),
        ] {
            let e = answered_document_id("SignPdf", req, answered)
                .expect_err(answered)
                .to_string();
            assert!(e.contains(want), "{answered:?}: {e}");
        }
    }

    #[test]
    fn a_whole_signed_pdf_in_the_answer_gives_its_update() {
        let pdf = b"%PDF-1.7 body %%EOF";
        let mut whole = pdf.to_vec();
        whole.extend_from_slice(b"\nupdate\n%%EOF");
        let signed = Bytes::from(whole);
        let update = tail_of("SignPdf", pdf, signed).expect("extends");
        assert_eq!(&update[..], b"\nupdate\n%%EOF");
        for wrong in [
            &b"%PDF-1.7 body %%EOF"[..],
            b"%PDF-1.7 other %%EOF more",
            b"",
        ] {
            let e = tail_of("SignPdf", pdf, Bytes::copy_from_slice(wrong)).expect_err("refused");
            assert!(e.to_string().contains("does not extend"), "{e}");
        }
    }
}
