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

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use bytes::Bytes;
use segel_proto::v1 as pb;
use segel_proto::v1::{
    log_client::LogClient, signer_client::SignerClient, verifier_client::VerifierClient,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::error::ClientError;
use crate::logcheck::{LogCheckError, LogView, Need, ProvenEntry, VerifiedCheckpoint};
use crate::settings::Settings;

/// Documents above this size go by `SignPdfStream`, in chunks of [`CHUNK`].
pub const STREAM_ABOVE: usize = 4 << 20;
/// Chunk size of streamed documents.
pub const CHUNK: usize = 1 << 20;
/// Largest answer accepted in one message.
const MAX_MESSAGE: usize = 256 << 20;
/// Checkpoints remembered as verified (consistent with the newest), so that answers carrying
/// one of them need no further proof.
const REMEMBERED: usize = 4096;
/// Consistency proofs carried by answers that are kept for older checkpoints arriving later.
const OFFERS_KEPT: usize = 1024;
/// How often, at most, the state file is rewritten while answers arrive.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What to sign and how.
#[derive(Debug, Clone, Default)]
pub struct SignRequest {
    /// The agency whose key seals the document.
    pub agency: String,
    /// Idempotency key: a retry with the same id returns the same signature and log entry.
    pub request_id: String,
    /// The document's reference (e.g. the letter number), recorded in the log.
    pub document_ref: String,
    /// Reason, location, field, page, PSS.
    pub options: pb::SignOptions,
}

impl SignRequest {
    /// A request for `agency` with default options and no request id.
    pub fn new(agency: &str) -> Self {
        Self {
            agency: agency.to_string(),
            ..Self::default()
        }
    }
}

/// A signed document and its log entry, proven in a checkpoint.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The signed PDF: the input followed by the incremental update.
    pub pdf: Bytes,
    /// The log entry, with its inclusion proof checked.
    pub entry: ProvenEntry,
}

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

/// A CMS for a locally prepared PDF, and its log entry.
#[derive(Debug, Clone)]
pub struct SealedDigest {
    /// DER CMS `SignedData` to embed in `/Contents`.
    pub cms: Vec<u8>,
    /// The log entry, with its inclusion proof checked.
    pub entry: ProvenEntry,
}

/// The server's verdict on one signature.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Signature field.
    pub field: String,
    /// TOTAL-PASSED, TOTAL-FAILED or INDETERMINATE.
    pub indication: String,
    /// Why, when not passed.
    pub sub_indication: String,
    /// Signer's subject.
    pub signer: String,
    /// Human-readable reason.
    pub reason: String,
    /// The engine's full report (JSON).
    pub report_json: String,
    /// The log entry of this signature, proven in the answer's checkpoint; `None`: not in
    /// this log.
    pub entry: Option<ProvenEntry>,
}

/// The server's verification of a PDF.
#[derive(Debug, Clone)]
pub struct Verification {
    /// TOTAL-PASSED only if every signature passed.
    pub overall: String,
    /// Per signature.
    pub signatures: Vec<Verdict>,
    /// The checkpoint the entries are proven against.
    pub checkpoint: VerifiedCheckpoint,
}

struct ViewState {
    view: LogView,
    /// Checkpoint notes already verified and known consistent with the newest (by their
    /// text), so that answers carrying one need neither a signature check nor a proof.
    known: HashMap<String, VerifiedCheckpoint>,
    /// Their order of arrival, to forget the oldest.
    order: VecDeque<String>,
    /// Consistency proofs that answers carried, by the size they start from, each with the
    /// checkpoint (known consistent) it leads to: an answer that arrives later with an older
    /// checkpoint of that size is linked through it, without a request.
    offers: std::collections::BTreeMap<u64, (pb::ConsistencyProof, VerifiedCheckpoint)>,
    /// The last note whose signature was checked (not yet known consistent, perhaps): the
    /// answers of one log commit all carry the same note and arrive together, so the ones
    /// behind the first need not check its signature again.
    signed: Option<(String, VerifiedCheckpoint)>,
    /// Size of the newest checkpoint in the state file, and when it was written.
    saved_size: Option<u64>,
    saved_at: std::time::Instant,
}

/// Keep the consistency proof an answer carried when it leads to `linked` (a checkpoint known
/// consistent with the newest), for an older checkpoint of its starting size that comes later.
fn keep_offer(
    st: &mut ViewState,
    offered: Option<&pb::ConsistencyProof>,
    linked: &VerifiedCheckpoint,
) {
    let Some(p) = offered else { return };
    if p.new_size != linked.checkpoint.size || p.old_size >= p.new_size {
        return;
    }
    st.offers.insert(p.old_size, (p.clone(), linked.clone()));
    while st.offers.len() > OFFERS_KEPT {
        st.offers.pop_first();
    }
}

/// A checkpoint already known consistent (by its note), keeping the proof its answer carried.
fn known(
    st: &mut ViewState,
    note: &str,
    offered: Option<&pb::ConsistencyProof>,
) -> Option<VerifiedCheckpoint> {
    let v = st.known.get(note).cloned()?;
    keep_offer(st, offered, &v);
    Some(v)
}

/// A connection to a Segel server.
pub struct Client {
    channel: Channel,
    server: String,
    state_file: Option<PathBuf>,
    view: tokio::sync::Mutex<ViewState>,
    /// Held while a consistency proof is fetched and checked.
    proving: tokio::sync::Mutex<()>,
    /// Consistency proofs fetched so far.
    proofs: std::sync::atomic::AtomicU64,
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(st) = self.view.try_lock() {
            if st.view.newest().map(|n| n.checkpoint.size) != st.saved_size {
                self.save(&st.view);
            }
        }
    }
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
        message: s.message().to_string(),
    }
}

fn bad(what: &str, detail: impl Into<String>) -> ClientError {
    ClientError::BadAnswer {
        what: what.to_string(),
        detail: detail.into(),
    }
}

fn log_err(what: &str, source: LogCheckError) -> ClientError {
    ClientError::Log {
        what: what.to_string(),
        source,
    }
}

/// What the state file holds for one server.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Stored {
    log_key: String,
    checkpoint: Option<String>,
}

impl Client {
    /// Connect with `settings` (server and CA required; certificate and key for signing).
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
        let ca = settings.ca.as_ref().ok_or_else(|| {
            ClientError::Settings(
                "no CA for the server's certificate: give --ca FILE, set SEGEL_CA, or use --dev"
                    .into(),
            )
        })?;
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(crate::read_file(ca)?))
            .domain_name(host);
        match (&settings.cert, &settings.key) {
            (Some(c), Some(k)) => {
                let key = zeroize::Zeroizing::new(crate::read_file(k)?);
                tls = tls.identity(Identity::from_pem(crate::read_file(c)?, key.as_slice()));
            }
            (None, None) => {}
            _ => {
                return Err(ClientError::Settings(
                    "a client certificate needs its key and the other way round: give both \
                     --cert and --key (or SEGEL_CERT and SEGEL_KEY)"
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
                connect_err(format!(
                    "{detail} (is the server running? for the development server: \
                     `cargo run -p segel-server -- --dev`)"
                ))
            })?;
        let state_file = settings.state_dir().map(|d| {
            let name: String = server
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            d.join(format!("{name}.json"))
        });
        let stored = match &state_file {
            Some(f) if f.exists() => {
                let text = std::fs::read_to_string(f).map_err(|source| ClientError::Read {
                    path: f.clone(),
                    source,
                })?;
                Some(serde_json::from_str::<Stored>(&text).map_err(|e| {
                    ClientError::Settings(format!(
                        "{}: {e} (remove the file to start afresh)",
                        f.display()
                    ))
                })?)
            }
            _ => None,
        };
        let mut log = LogClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        let cp = log
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await
            .map_err(|s| refused("GetCheckpoint", &s))?
            .into_inner();
        let key = match (&settings.log_key, &stored) {
            (Some(k), _) => k.clone(),
            (None, Some(s)) => s.log_key.clone(),
            (None, None) => cp.verifier_key.clone(),
        };
        let newest = stored
            .as_ref()
            .filter(|s| s.log_key == key)
            .and_then(|s| s.checkpoint.clone());
        let view = LogView::new(&key, newest.as_deref()).map_err(|e| log_err("the log key", e))?;
        view.check_key(&cp.verifier_key).map_err(|e| {
            let what = match (&settings.log_key, &state_file) {
                (Some(_), _) => "GetCheckpoint (the key is pinned by --log-key, SEGEL_LOG_KEY \
                                 or the settings file)"
                    .to_string(),
                (None, Some(f)) => format!(
                    "GetCheckpoint (the key was trusted on first use and kept in {}; remove that \
                     file only if this server's log was deliberately replaced, e.g. a new \
                     development data folder)",
                    f.display()
                ),
                (None, None) => "GetCheckpoint".to_string(),
            };
            log_err(&what, e)
        })?;
        let client = Self {
            channel,
            server,
            state_file,
            view: tokio::sync::Mutex::new(ViewState {
                view,
                known: HashMap::new(),
                order: VecDeque::new(),
                offers: std::collections::BTreeMap::new(),
                signed: None,
                saved_size: None,
                saved_at: std::time::Instant::now() - SAVE_EVERY,
            }),
            proving: tokio::sync::Mutex::new(()),
            proofs: std::sync::atomic::AtomicU64::new(0),
        };
        client.observe("GetCheckpoint", &cp).await?;
        Ok(client)
    }

    /// How many consistency proofs this client has fetched (one per new checkpoint it had
    /// to link to the newest it knew).
    pub fn consistency_proofs_fetched(&self) -> u64 {
        self.proofs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The trusted log key and the newest checkpoint accepted.
    pub async fn view(&self) -> LogView {
        self.view.lock().await.view.clone()
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
    /// fetching a proof when needed) and accept it.
    async fn observe(
        &self,
        what: &str,
        cp: &pb::Checkpoint,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        self.observe_with(what, cp, None).await
    }

    /// [`Client::observe`], with the consistency proof the answer carried (`offered`, from
    /// the log's previous checkpoint to `cp`): used instead of a request when it links exactly
    /// the sizes needed, and kept for older checkpoints of its starting size that arrive later;
    /// checked like any fetched proof.
    async fn observe_with(
        &self,
        what: &str,
        cp: &pb::Checkpoint,
        offered: Option<&pb::ConsistencyProof>,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        let verified = {
            let mut st = self.view.lock().await;
            st.view
                .check_key(&cp.verifier_key)
                .map_err(|e| log_err(what, e))?;
            if let Some(v) = known(&mut st, &cp.note, offered) {
                return Ok(v);
            }
            match &st.signed {
                Some((note, v)) if *note == cp.note => v.clone(),
                _ => {
                    let v = st.view.check_note(&cp.note).map_err(|e| log_err(what, e))?;
                    st.signed = Some((cp.note.clone(), v.clone()));
                    v
                }
            }
        };
        // Only advancing the newest checkpoint is serialized (`proving`), so the newest cannot
        // move while its proof is fetched. A checkpoint not newer than the newest is linked to
        // it concurrently: the newest of that moment (`anchor`) stays a prefix of every later
        // newest, so a checkpoint that is a prefix of the anchor is a prefix of the log.
        loop {
            let (anchor, need, offer) = {
                let mut st = self.view.lock().await;
                if let Some(v) = known(&mut st, &cp.note, offered) {
                    return Ok(v);
                }
                let need = st.view.needs(&verified).map_err(|e| log_err(what, e))?;
                let offer = st.offers.get(&verified.checkpoint.size).cloned();
                (st.view.newest().cloned(), need, offer)
            };
            if let Some(anchor) = anchor.filter(|a| verified.checkpoint.size <= a.checkpoint.size) {
                // An older checkpoint. A newer answer may have carried the proof from its size
                // to a checkpoint known consistent (a prefix of the newest, so an anchor too).
                let (proof, anchor) = match offer {
                    Some((proof, linked)) => (Some(proof), linked),
                    None => (self.fetch_consistency(need, offered).await?, anchor),
                };
                let empty = pb::ConsistencyProof::default();
                let mut st = self.view.lock().await;
                st.view
                    .check_prefix(&verified, &anchor, proof.as_ref().unwrap_or(&empty))
                    .map_err(|e| log_err(what, e))?;
                self.remember(&mut st, &cp.note, &verified, offered);
                return Ok(verified);
            }
            // Newer than the newest (or the first): advance, one at a time.
            let _proving = self.proving.lock().await;
            let need = {
                let mut st = self.view.lock().await;
                if let Some(v) = known(&mut st, &cp.note, offered) {
                    return Ok(v);
                }
                if st
                    .view
                    .newest()
                    .is_some_and(|n| verified.checkpoint.size <= n.checkpoint.size)
                {
                    // Another answer advanced past it meanwhile: link it as an older one.
                    continue;
                }
                st.view.needs(&verified).map_err(|e| log_err(what, e))?
            };
            let proof = self.fetch_consistency(need, offered).await?;
            let mut st = self.view.lock().await;
            st.view
                .accept(verified.clone(), proof.as_ref())
                .map_err(|e| log_err(what, e))?;
            self.remember(&mut st, &cp.note, &verified, offered);
            return Ok(verified);
        }
    }

    async fn fetch_consistency(
        &self,
        need: Need,
        offered: Option<&pb::ConsistencyProof>,
    ) -> Result<Option<pb::ConsistencyProof>, ClientError> {
        let Need::Consistency { old, new } = need else {
            return Ok(None);
        };
        if let Some(p) = offered.filter(|p| p.old_size == old && p.new_size == new) {
            return Ok(Some(p.clone()));
        }
        self.proofs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Some(
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

    /// Record an accepted checkpoint (and the consistency proof its answer carried); keep the
    /// newest in the state file now and then.
    fn remember(
        &self,
        st: &mut ViewState,
        note: &str,
        verified: &VerifiedCheckpoint,
        offered: Option<&pb::ConsistencyProof>,
    ) {
        keep_offer(st, offered, verified);
        st.known.insert(note.to_string(), verified.clone());
        st.order.push_back(note.to_string());
        if st.order.len() > REMEMBERED {
            if let Some(old) = st.order.pop_front() {
                st.known.remove(&old);
            }
        }
        let newest = st.view.newest().map(|n| n.checkpoint.size);
        if newest != st.saved_size && st.saved_at.elapsed() >= SAVE_EVERY {
            self.save(&st.view);
            st.saved_size = newest;
            st.saved_at = std::time::Instant::now();
        }
    }

    /// Write the newest checkpoint accepted to the state file now (it is also written at most
    /// every second while answers arrive, and when the client is dropped).
    pub async fn save_state(&self) {
        let mut st = self.view.lock().await;
        let newest = st.view.newest().map(|n| n.checkpoint.size);
        if newest != st.saved_size {
            self.save(&st.view);
            st.saved_size = newest;
            st.saved_at = std::time::Instant::now();
        }
    }

    /// Keep the newest checkpoint in the state file (best effort: a read-only state folder
    /// only loses the memory between runs).
    fn save(&self, view: &LogView) {
        let Some(f) = &self.state_file else { return };
        let stored = Stored {
            log_key: view.verifier_key(),
            checkpoint: view.newest().map(|n| n.note.clone()),
        };
        let Ok(text) = serde_json::to_vec_pretty(&stored) else {
            return;
        };
        if let Some(d) = f.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        // Not fsynced: losing the last second of it only makes the next run trust an older
        // checkpoint (and still demand consistency with it).
        if let Err(e) = crate::offline::write_atomically_unsynced(f, &[&text]) {
            eprintln!("segel: warning: {e}");
        }
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
        let verified = self.observe_with(what, &cp, offered.as_ref()).await?;
        let st = self.view.lock().await;
        st.view
            .check_entry(&entry, &proof, &verified)
            .map_err(|e| log_err(what, e))
    }

    /// The agencies this client may seal for, with their certificate chains (DER).
    ///
    /// # Errors
    /// Refusals (no client certificate: UNAUTHENTICATED).
    pub async fn agencies(&self) -> Result<Vec<pb::Agency>, ClientError> {
        Ok(self
            .signer()
            .list_agencies(pb::ListAgenciesRequest {})
            .await
            .map_err(|s| refused("ListAgencies", &s))?
            .into_inner()
            .agencies)
    }

    /// Sign a whole PDF on the server (unary up to [`STREAM_ABOVE`], streamed above). The
    /// answer is checked: the signed PDF extends the input, the log entry names this agency
    /// and hashes the signed PDF, and it is proven in a checkpoint consistent with the newest.
    ///
    /// # Errors
    /// Refusals (with the server's reason) and answers that do not check out.
    pub async fn sign_pdf(&self, req: &SignRequest, pdf: Bytes) -> Result<Sealed, ClientError> {
        let (update, entry) = self.sign_pdf_update(req, pdf.clone(), None).await?;
        let mut signed = Vec::with_capacity(pdf.len() + update.len());
        signed.extend_from_slice(&pdf);
        signed.extend_from_slice(&update);
        Ok(Sealed {
            pdf: signed.into(),
            entry,
        })
    }

    /// [`Client::sign_pdf`] answering with the incremental update alone (the signed PDF is `pdf`
    /// followed by it), given (when the caller has it) the SHA-256 state after `pdf`, so the
    /// signed PDF's hash continues from it instead of reading the input again. A unary request
    /// asks the server for the update alone (`update_only`), so the document does not travel
    /// back; a server that sends the whole signed PDF anyway is understood too.
    pub(crate) async fn sign_pdf_update(
        &self,
        req: &SignRequest,
        pdf: Bytes,
        input_state: Option<aws_lc_rs::digest::Context>,
    ) -> Result<(Bytes, ProvenEntry), ClientError> {
        let what = "SignPdf";
        let meta = pb::SignPdfRequest {
            agency_id: req.agency.clone(),
            pdf: Bytes::new(),
            request_id: req.request_id.clone(),
            document_ref: req.document_ref.clone(),
            options: Some(req.options.clone()),
            size_hint: pdf.len() as u64,
            update_only: false,
        };
        // Unary for most documents, streamed above STREAM_ABOVE; either way the update alone is
        // asked for (a server from before `update_only` sends the whole signed PDF instead).
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
        Ok((update, entry))
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
        let what = "SignDigest";
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
        Ok(SealedDigest { cms: r.cms, entry })
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
        let checkpoint = self.observe(what, &cp).await?;
        let mut signatures = Vec::new();
        for v in r.signatures {
            let entry = match (v.log_entry, v.inclusion_proof) {
                (Some(e), Some(p)) => {
                    let st = self.view.lock().await;
                    Some(
                        st.view
                            .check_entry(&e, &p, &checkpoint)
                            .map_err(|e| log_err(what, e))?,
                    )
                }
                (None, None) => None,
                _ => return Err(bad(what, "a log entry without its proof")),
            };
            signatures.push(Verdict {
                field: v.field,
                indication: v.indication,
                sub_indication: v.sub_indication,
                signer: v.signer,
                reason: v.reason,
                report_json: v.report_json,
                entry,
            });
        }
        Ok(Verification {
            overall: r.overall,
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
        self.observe("GetCheckpoint", &cp).await
    }

    /// Entries by index, document hash or signature hash, each proven in the current
    /// checkpoint.
    ///
    /// # Errors
    /// Refusals (an index beyond the log: NOT_FOUND) and answers that do not check out.
    pub async fn entries(
        &self,
        key: pb::get_entry_request::Key,
    ) -> Result<Vec<ProvenEntry>, ClientError> {
        let what = "GetEntry";
        let found = self
            .log()
            .get_entry(pb::GetEntryRequest { key: Some(key) })
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
            let st = self.view.lock().await;
            out.push(
                st.view
                    .check_entry(&e, &proof, &cp)
                    .map_err(|e| log_err(what, e))?,
            );
        }
        Ok(out)
    }

    /// The server's consistency proof between two sizes (`new` 0: the current size), as
    /// given; check it with `tlog::verify_consistency` against two verified checkpoints.
    ///
    /// # Errors
    /// Refusals.
    pub async fn consistency(
        &self,
        old: u64,
        new: u64,
    ) -> Result<pb::ConsistencyProof, ClientError> {
        Ok(self
            .log()
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                old_size: old,
                new_size: new,
            })
            .await
            .map_err(|s| refused("GetConsistencyProof", &s))?
            .into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_signed_pdf_from_an_older_server_gives_its_update() {
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
