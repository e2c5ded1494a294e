//! The gRPC services ([`SignerService`], [`VerifierService`], [`LogService`], one file each)
//! and the signing core they share (here, with idempotency in `replay.rs`).
//!
//! Signing requires a client certificate (mutual TLS) whose subject CN the configuration allows
//! for the requested agency; verification and log reads are open. A signature is returned only
//! after its log entry is durable; a retry with the same request id (per caller) returns the
//! same entry and the same signed PDF.
//!
//! **Idempotency.** Every signing request carries a request id (INVALID_ARGUMENT,
//! REQUEST_ID_REQUIRED without one), scoped to the caller; its record is bound to a fingerprint
//! of the agency, the document (or digest) and every option that shapes the signature. The
//! same id again with the same fingerprint returns the first answer, byte for byte (rebuilt from
//! the request, the stored signing time and signature value, and checked against the log
//! entry); with another agency or other options it is ALREADY_EXISTS.
//!
//! **Certificate validity.** Every new signature is made only if the agency's certificate is
//! valid at its signing time (and, for `SignDigest`, at the time the caller's document claims),
//! checked on the same clock reading the signature and its log entry take; otherwise
//! FAILED_PRECONDITION ([`crate::expiry`]) and nothing is signed or logged. A retry of a request
//! signed while the certificate was valid still returns that first answer.
//!
//! **Bounded strings.** Every string of a signing request is bounded
//! ([`crate::command::limits`]); a longer one is INVALID_ARGUMENT naming the field and the
//! limit.
//!
//! **The edge.** Handlers turn each request into a checked command ([`crate::command`]), call
//! the signing core or the log, and turn the result ([`crate::reply`]) into the reply. The core
//! (authorisation, idempotency, signing and logging) takes commands and returns results, never
//! protobuf types; errors become statuses in [`crate::status`] only.

mod log;
mod replay;
mod signer;
mod verifier;

use std::collections::HashMap;
use std::sync::Arc;

use segel_proto::v1 as pb;
use tokio::sync::{Mutex, Semaphore};
use tonic::{Request, Status};

use crate::command::{Caller, SignDigest, SignPdf};
use crate::config::{Agency, Config};
use crate::reply::{
    Checkpoint, ConsistencyProof, InclusionProof, LoggedAt, LoggedEntry, SignedDigest, SignedPdf,
};
use crate::status::{internal, store_status};
use crate::store::{Log, NewEntry, RequestRecord, StoredRequest};
pub use log::LogService;
use replay::*;
pub use signer::SignerService;
pub use verifier::VerifierService;

/// Shared state of all services.
pub struct Segel {
    agencies: HashMap<String, Arc<Agency>>,
    allow: HashMap<String, std::collections::HashSet<String>>,
    trust_anchors: Arc<Vec<Vec<u8>>>,
    log: Arc<Log>,
    signing: Arc<Semaphore>,
    /// Private-key operations running at once: one per core.
    cpu: Arc<Semaphore>,
    max_document_bytes: usize,
    /// VerifyPdf's limits (open to anyone).
    pub(crate) verify_limit: Arc<crate::limits::VerifyLimit>,
    /// One lock per (caller, request id) in progress, so that concurrent retries do not both sign.
    requests: Mutex<HashMap<Vec<u8>, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for Segel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segel")
            .field("agencies", &self.agencies.len())
            .finish_non_exhaustive()
    }
}

impl Segel {
    /// Build the services over a checked configuration and an open log.
    pub fn new(config: Config, log: Arc<Log>) -> Arc<Self> {
        Arc::new(Self {
            agencies: config
                .agencies
                .into_iter()
                .map(|(k, v)| (k, Arc::new(v)))
                .collect(),
            allow: config.allow,
            trust_anchors: Arc::new(config.trust_anchors),
            log,
            signing: Arc::new(Semaphore::new(config.max_concurrent_signatures)),
            cpu: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from),
            )),
            max_document_bytes: config.max_document_bytes,
            verify_limit: crate::limits::VerifyLimit::new(
                config.max_concurrent_verifications,
                config.max_queued_verifications,
            ),
            requests: Mutex::new(HashMap::new()),
        })
    }

    fn checkpoint(&self) -> Checkpoint {
        self.checkpoint_and_size().0
    }

    /// The latest checkpoint and the tree size it names, read together, so that proofs made at
    /// that size check against that very note even while appends go on.
    fn checkpoint_and_size(&self) -> (Checkpoint, u64) {
        let note = self.log.checkpoint();
        let size = note
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        (
            Checkpoint {
                note,
                verifier_key: self.log.verifier().to_vkey(),
            },
            size,
        )
    }

    /// The entry at `index`; NOT_FOUND beyond the log.
    fn logged(&self, index: u64) -> Result<LoggedEntry, Status> {
        let e = self
            .log
            .entry(index)
            .map_err(store_status)?
            .ok_or_else(|| crate::status::entry_not_found(index))?;
        let record = e.encode().map_err(|e| internal(&e))?;
        Ok(LoggedEntry { index, record })
    }

    /// The consistency proof from `old` to `new`.
    fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, Status> {
        let hashes = self.log.consistency_proof(old, new).map_err(store_status)?;
        Ok(ConsistencyProof {
            old_size: old,
            new_size: new,
            hashes,
        })
    }

    /// The consistency proof from `old` to `new` of a log that just grew (none from an empty
    /// log, or between equal sizes: nothing to prove).
    fn growth(&self, old: u64, new: u64) -> Result<Option<ConsistencyProof>, Status> {
        if old == 0 || old >= new {
            return Ok(None);
        }
        self.consistency(old, new).map(Some)
    }

    /// The proof of entry `index` in the tree of `size` entries.
    fn inclusion(&self, index: u64, size: u64) -> Result<InclusionProof, Status> {
        let hashes = self
            .log
            .inclusion_proof(index, size)
            .map_err(store_status)?;
        Ok(InclusionProof {
            leaf_index: index,
            tree_size: size,
            hashes,
        })
    }

    /// [`Self::logged`] as the wire's entry (for the handlers).
    fn entry_pb(&self, index: u64) -> Result<pb::LogEntry, Status> {
        self.logged(index).map(Into::into)
    }

    /// [`Self::inclusion`] as the wire's proof (for the handlers).
    fn proof_pb(&self, index: u64, size: u64) -> Result<pb::InclusionProof, Status> {
        self.inclusion(index, size).map(Into::into)
    }

    /// RESOURCE_EXHAUSTED for a document of `bytes` bytes over the configured limit.
    fn check_document_size(&self, bytes: u64) -> Result<(), Status> {
        if bytes > self.max_document_bytes as u64 {
            return Err(crate::status::document_too_large(
                Some(bytes),
                self.max_document_bytes,
            ));
        }
        Ok(())
    }
}

impl Segel {
    /// Is `caller` allowed to seal for `agency_id`? NOT_FOUND for an unknown agency,
    /// PERMISSION_DENIED otherwise.
    fn authorize(&self, caller: &Caller, agency_id: &str) -> Result<Arc<Agency>, Status> {
        let caller = caller.as_str();
        let agency = self
            .agencies
            .get(agency_id)
            .cloned()
            .ok_or_else(|| crate::status::unknown_agency(agency_id))?;
        if !self
            .allow
            .get(caller)
            .is_some_and(|a| a.contains(agency_id))
        {
            tracing::warn!(%caller, agency = agency_id, "signing refused: not allowed for this agency");
            return Err(crate::status::agency_not_allowed(
                Some(agency_id),
                format!("client {caller:?} may not seal for agency {agency_id:?}"),
            ));
        }
        Ok(agency)
    }

    /// Authorise, sign, log durably; idempotent per (caller, request id). A unary answer
    /// (`answer`) that could exceed what stock gRPC clients receive is refused before signing
    /// ([`SignPdf::answer_fits_unary`]).
    ///
    /// The work runs in a task of its own: a caller that goes away (deadline, cancelled
    /// stream) does not release the request id's lock before the entry is durable, so a
    /// retry waits for it and returns it instead of signing a second time.
    async fn sign(
        self: &Arc<Self>,
        caller: Caller,
        r: SignPdf,
        answer: Answer,
    ) -> Result<SignedPdf, Status> {
        let agency = self.authorize(&caller, &r.agency)?;
        check_stamp(&agency, &r.options)?;
        self.check_document_size(r.pdf.len() as u64)?;
        if answer == Answer::Unary && !r.answer_fits_unary() {
            return Err(crate::status::answer_too_large(r.pdf.len()));
        }
        let unary = answer == Answer::Unary;
        let s = self.clone();
        tokio::spawn(async move { s.sign_task(caller, agency, r, unary).await })
            .await
            .map_err(|e| internal(&e))?
    }

    async fn sign_task(
        &self,
        caller: Caller,
        agency: Arc<Agency>,
        r: SignPdf,
        unary: bool,
    ) -> Result<SignedPdf, Status> {
        let key = request_key(&caller, &r.request_id);
        self.under_request_lock(key, |key| self.sign_once(caller, agency, r, key, unary))
            .await
    }

    /// `SignDigest`: authorise, then sign and log on a task of its own (a caller that goes
    /// away cannot end the attempt between the signature and its durable log entry).
    async fn sign_digest(
        self: &Arc<Self>,
        caller: Caller,
        r: SignDigest,
    ) -> Result<SignedDigest, Status> {
        let agency = self.authorize(&caller, &r.agency)?;
        let s = self.clone();
        tokio::spawn(async move { s.sign_digest_task(caller, agency, r).await })
            .await
            .map_err(|e| internal(&e))?
    }

    /// Idempotency: one attempt per (caller, request id) at a time, so that concurrent retries
    /// do not both sign; the attempt itself returns a durable earlier result as it was.
    async fn under_request_lock<T, F, Fut>(&self, key: Option<Vec<u8>>, attempt: F) -> T
    where
        F: FnOnce(Option<Vec<u8>>) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let lock = match &key {
            Some(k) => Some(
                self.requests
                    .lock()
                    .await
                    .entry(k.clone())
                    .or_default()
                    .clone(),
            ),
            None => None,
        };
        let guard = match &lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        let result = attempt(key.clone()).await;
        drop(guard);
        if let (Some(k), Some(l)) = (&key, &lock) {
            let mut map = self.requests.lock().await;
            // Forget the lock when nobody else waits on it (the map's and ours).
            if Arc::strong_count(l) <= 2 {
                map.remove(k);
            }
        }
        result
    }

    /// The durable earlier result of an idempotent request, if there is one: its record, its
    /// log entry, and the entry proven in the current checkpoint. The same request id for
    /// another agency, or whose record `same` does not accept (another document, digest or
    /// signing options), is ALREADY_EXISTS; `stored` gives the time and document id to tell
    /// the caller then (a SignDigest caller prepares its document again with them).
    fn earlier(
        &self,
        key: Option<&[u8]>,
        request_id: &str,
        agency: &str,
        same: impl FnOnce(&StoredRequest) -> bool,
        stored: fn(&StoredRequest, &tlog::LogEntry) -> StoredDigest,
    ) -> Result<Option<Earlier>, Status> {
        let Some(k) = key else { return Ok(None) };
        let Some(done) = self.log.request(k).map_err(store_status)? else {
            return Ok(None);
        };
        let entry = self
            .log
            .entry(done.index)
            .map_err(store_status)?
            .ok_or_else(|| internal(&"an idempotency record without its entry"))?;
        let other_agency = entry.agency != agency;
        if other_agency || !same(&done) {
            let what = if other_agency {
                format!("agency {:?}", entry.agency)
            } else {
                "another document, digest or other signing options".to_string()
            };
            let mut status = crate::status::request_id_reused(format!(
                "request_id {request_id:?} was already used with {what}; a new request needs a \
                 new request_id"
            ));
            let first = stored(&done, &entry);
            if let Some(t) = first.time {
                if let Ok(v) = t.to_string().parse() {
                    status
                        .metadata_mut()
                        .insert(segel_proto::SIGNING_TIME_METADATA, v);
                }
            }
            if let Some(id) = first.document_id {
                if let Ok(v) = id.as_str().parse() {
                    status
                        .metadata_mut()
                        .insert(segel_proto::DOCUMENT_ID_METADATA, v);
                }
            }
            return Err(status);
        }
        let (checkpoint, size) = self.checkpoint_and_size();
        let at = LoggedAt {
            entry: self.logged(done.index)?,
            checkpoint,
            proof: self.inclusion(done.index, size)?,
            consistency: None,
        };
        Ok(Some(Earlier {
            stored: done,
            entry,
            at,
        }))
    }

    /// Run `work` (the private-key operation, which also builds the log entry) on the blocking
    /// pool under the concurrency limits, then append its entry and wait until it is durable.
    async fn sign_and_log<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<(T, NewEntry), Status> + Send + 'static,
    ) -> Result<(T, LoggedAt), Status> {
        let shutting_down = |_| crate::status::shutting_down();
        let _permit = self
            .signing
            .clone()
            .acquire_owned()
            .await
            .map_err(shutting_down)?;
        // Tell the log an append is coming, so that a commit under load waits for it.
        let announced = self.log.announce();
        // At most one private-key operation per core at a time (more would only make the
        // network tasks wait behind them).
        let (out, entry) = {
            let _cpu = self
                .cpu
                .clone()
                .acquire_owned()
                .await
                .map_err(shutting_down)?;
            tokio::task::spawn_blocking(work)
                .await
                .map_err(|e| internal(&e))??
        };
        let appended = self
            .log
            .append_async(entry, Some(announced))
            .await
            .map_err(store_status)?;
        tracing::info!(index = appended.index, "signed and logged");
        let at = LoggedAt {
            entry: self.logged(appended.index)?,
            checkpoint: Checkpoint {
                note: appended.checkpoint.clone(),
                verifier_key: self.log.verifier().to_vkey(),
            },
            proof: self.inclusion(appended.index, appended.size)?,
            consistency: self.growth(appended.previous_size, appended.size)?,
        };
        Ok((out, at))
    }

    /// `SignDigest` after its checks: sign the digest, log it, under the request id's lock.
    async fn sign_digest_task(
        &self,
        caller: Caller,
        agency: Arc<Agency>,
        r: SignDigest,
    ) -> Result<SignedDigest, Status> {
        let key = request_key(&caller, &r.request_id);
        self.under_request_lock(key, |key| async move {
            let digest = r.message_digest;
            let fingerprint = digest_fingerprint(&agency.id, &r);
            let same = |s: &StoredRequest| s.fingerprint == fingerprint;
            if let Some(e) = self.earlier(
                key.as_deref(),
                &r.request_id,
                &agency.id,
                same,
                digest_stored,
            )? {
                let with_id = e.entry.document_id_sha256.hash().is_some();
                let (_, _, signature) = split_replay(&e.stored.replay, with_id)?;
                check_replayed_signature(&e.entry, signature)?;
                let attrs = agency.identity.signed_attributes(&digest);
                let cms = agency.identity.content_info(
                    &attrs,
                    agency.signer(r.pss).algorithm(),
                    signature,
                );
                return Ok(SignedDigest { cms, at: e.at });
            }
            // A document id links one seal: another request may not claim a logged one.
            if let Some(id) = &r.document_id {
                let logged = self
                    .log
                    .find_by_document_id(&pades::sha256(id.as_str().as_bytes()))
                    .map_err(store_status)?;
                if !logged.is_empty() {
                    return Err(crate::status::document_id_in_use());
                }
            }
            let signing_time = r.signing_time;
            let document_ref_hmac = self.reference_hmac(&agency.id, &r.document_ref);
            let (cms, at) = self
                .sign_and_log(move || {
                    let (t, ms) = now();
                    // The caller's document claims `signing_time` (0: none); the log says `t`.
                    agency.check_valid_at(t.0)?;
                    if signing_time != 0 {
                        agency.check_valid_at(signing_time)?;
                    }
                    let signer = agency.signer(r.pss);
                    let attrs = agency.identity.signed_attributes(&digest);
                    let signature = signer
                        .sign(&attrs)
                        .map_err(|e| crate::status::engine_status(&pades::Error::Signer(e)))?;
                    let cms = agency
                        .identity
                        .content_info(&attrs, signer.algorithm(), &signature);
                    let entry = NewEntry {
                        record: agency.record(
                            &caller,
                            ms,
                            digest,
                            &signature,
                            Document {
                                sha256: r.document_sha256,
                                source: tlog::DocumentSource::Caller,
                                ref_hmac: document_ref_hmac,
                                id: r.document_id.as_ref(),
                            },
                        ),
                        request: key.map(|k| RequestRecord {
                            key: k,
                            fingerprint,
                            replay: replay_record(signing_time, r.document_id.as_ref(), &signature),
                        }),
                        document_id: r.document_id.as_ref().map(|d| d.as_str().to_owned()),
                    };
                    Ok((cms, entry))
                })
                .await?;
            Ok(SignedDigest { cms, at })
        })
        .await
    }

    /// The keyed hash logged for a caller's document reference (none for an empty one).
    fn reference_hmac(&self, agency: &str, document_ref: &str) -> Option<[u8; 32]> {
        (!document_ref.is_empty()).then(|| self.log.reference_hmac(agency, document_ref))
    }

    /// One signing attempt under the request id's lock (if any); `unary`: the answer goes back
    /// in one message, which must fit what stock gRPC clients receive.
    async fn sign_once(
        &self,
        caller: Caller,
        agency: Arc<Agency>,
        r: SignPdf,
        key: Option<Vec<u8>>,
        unary: bool,
    ) -> Result<SignedPdf, Status> {
        // A whole signed document going back in one message is measured once signed, before
        // it is logged: nothing is logged that the caller could not receive.
        let must_fit = unary && !r.update_only;
        let opts = r.options;
        // The input's own hash identifies an idempotent request's document: computed here only
        // to compare with an earlier attempt's; a new attempt takes it from signing's own pass.
        let same = |s: &StoredRequest| {
            s.fingerprint
                == pdf_fingerprint(&agency.id, &pades::sha256(&r.pdf), &opts, &r.document_ref)
        };
        let nothing = |_: &StoredRequest, _: &tlog::LogEntry| StoredDigest::default();
        if let Some(e) = self.earlier(key.as_deref(), &r.request_id, &agency.id, same, nothing)? {
            let pdf = r.pdf.clone();
            let (entry, replay) = (e.entry, e.stored.replay);
            // Rebuilding parses the document like signing does: same CPU limit.
            let _cpu = self
                .cpu
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| crate::status::shutting_down())?;
            let (update, document_id) = tokio::task::spawn_blocking(move || {
                rebuild_update(&agency, &pdf, &opts, &entry, &replay)
            })
            .await
            .map_err(|e| internal(&e))??;
            return Ok(SignedPdf {
                pdf: r.pdf,
                update,
                at: e.at,
                document_id,
            });
        }
        let pdf = r.pdf;
        let document_ref_hmac = self.reference_hmac(&agency.id, &r.document_ref);
        let document_ref = r.document_ref;
        // A visible seal's QR link: chosen before signing, logged as its hash.
        let document_id = opts
            .visible
            .is_some()
            .then(pades::stamp::DocumentId::generate);
        let id = document_id.clone();
        let ((pdf, update), at) = self
            .sign_and_log(move || {
                let (t, ms) = now();
                agency.check_valid_at(t.0)?;
                let request = signature_request(&agency, &opts, t, id.as_ref())?;
                let signer = agency.signer(opts.pss);
                let signed = pades::sign(&pdf, &request, signer, &agency.identity)
                    .map_err(|e| crate::status::engine_status(&e))?;
                let update = bytes::Bytes::from(signed.tail().to_vec());
                if must_fit && !crate::command::signed_answer_fits_unary(pdf.len(), update.len()) {
                    return Err(crate::status::answer_too_large(pdf.len()));
                }
                let entry = NewEntry {
                    record: agency.record(
                        &caller,
                        ms,
                        signed.message_digest(),
                        signed.signature(),
                        Document {
                            sha256: signed.document_sha256(),
                            source: tlog::DocumentSource::Server,
                            ref_hmac: document_ref_hmac,
                            id: id.as_ref(),
                        },
                    ),
                    request: key.map(|k| RequestRecord {
                        key: k,
                        fingerprint: pdf_fingerprint(
                            &agency.id,
                            &signed.input_sha256(),
                            &opts,
                            &document_ref,
                        ),
                        replay: replay_record(t.0, id.as_ref(), signed.signature()),
                    }),
                    document_id: id.as_ref().map(|d| d.as_str().to_owned()),
                };
                Ok(((pdf, update), entry))
            })
            .await?;
        Ok(SignedPdf {
            pdf,
            update,
            at,
            document_id,
        })
    }
}

/// How a SignPdf answer travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// In one message (SignPdf).
    Unary,
    /// In chunks (SignPdfStream).
    Stream,
}

/// The document a log entry names: its hash, who vouches for it, the caller's reference, the
/// document id of its visible seal.
struct Document<'a> {
    sha256: [u8; 32],
    source: tlog::DocumentSource,
    ref_hmac: Option<[u8; 32]>,
    id: Option<&'a pades::stamp::DocumentId>,
}

/// FAILED_PRECONDITION for a visible seal asked of an agency without stamp settings.
fn check_stamp(agency: &Agency, options: &pades::SignOptions) -> Result<(), Status> {
    if options.visible.is_some() && agency.stamp.is_none() {
        return Err(crate::status::stamp_not_configured(&agency.id));
    }
    Ok(())
}

/// The engine's request for `opts` at `time`, with the visible seal composed from the agency's
/// stamp settings and `document_id` when the options ask for one.
fn signature_request(
    agency: &Agency,
    opts: &pades::SignOptions,
    time: pades::UnixTime,
    document_id: Option<&pades::stamp::DocumentId>,
) -> Result<pades::SignatureRequest, Status> {
    let mut request = opts.request(time);
    if let Some(visible) = &opts.visible {
        let settings = agency
            .stamp
            .as_ref()
            .ok_or_else(|| crate::status::stamp_not_configured(&agency.id))?;
        let id = document_id.ok_or_else(|| internal(&"a visible seal without its document id"))?;
        let appearance = pades::stamp::compose(settings, visible, id, time)
            .map_err(|e| crate::status::stamp_status(&e))?;
        request.appearance = Some(appearance);
    }
    Ok(request)
}

impl Agency {
    /// May this agency seal at `t` (Unix seconds)? Its certificate must be valid then;
    /// FAILED_PRECONDITION naming the agency and the expiry (or start) time otherwise.
    fn check_valid_at(&self, t: i64) -> Result<(), Status> {
        self.validity.check(t).map_err(|e| {
            tracing::error!(agency = %self.id, error = %e, "signing refused: the e-seal certificate is not valid");
            crate::status::certificate_not_valid(&self.id, &e)
        })
    }

    /// The key for PSS or PKCS#1 v1.5 signatures.
    fn signer(&self, pss: bool) -> &dyn pades::Signer {
        if pss {
            self.pss.as_ref()
        } else {
            self.pkcs1.as_ref()
        }
    }

    /// The log record of a signature by this agency's key for `caller` (a client CN).
    fn record(
        &self,
        caller: &Caller,
        time_ms: i64,
        message_digest: [u8; 32],
        signature: &[u8],
        document: Document<'_>,
    ) -> tlog::LogEntry {
        tlog::LogEntry {
            index: 0,
            time_ms,
            agency: self.id.clone(),
            certificate_sha256: self.cert_sha256,
            caller: format!("CN={}", caller.as_str()),
            message_digest,
            signature_sha256: pades::sha256(signature),
            document_sha256: document.sha256,
            document_source: document.source,
            document_ref: None,
            document_ref_hmac: document.ref_hmac,
            document_id_sha256: match document.id {
                Some(id) => tlog::DocumentIdHash::Present(pades::sha256(id.as_str().as_bytes())),
                None => tlog::DocumentIdHash::Absent,
            },
        }
    }
}

/// Count a signing request and, when it succeeded, its duration.
fn record(agency: &str, started: std::time::Instant, error: Option<&Status>) {
    let outcome = error.map_or_else(|| "ok".to_string(), |e| format!("{:?}", e.code()));
    metrics::counter!("segel_signatures_total", "agency" => agency.to_string(), "outcome" => outcome).increment(1);
    if error.is_none() {
        metrics::histogram!("segel_sign_seconds", "agency" => agency.to_string())
            .record(started.elapsed().as_secs_f64());
    }
}

/// The caller's identity (see [`crate::identity`]) for `what`, which requires one (its CN,
/// not yet bounded: see [`Caller`]).
fn caller_cn<T>(req: &Request<T>, what: &str) -> Result<String, Status> {
    crate::identity::caller(req.peer_certs().as_ref())
        .map_err(|e| crate::status::identity(&e, what))
}

/// Now, as the signing time (seconds) and the log time (milliseconds) of one clock reading.
fn now() -> (pades::UnixTime, i64) {
    let ms = pades::time::now_ms();
    (pades::UnixTime::from_ms(ms), ms)
}
