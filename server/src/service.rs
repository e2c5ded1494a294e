//! The gRPC services: thin handlers turning protobuf into engine and log calls.
//!
//! Signing requires a client certificate (mutual TLS) whose subject CN the configuration allows
//! for the requested agency; verification and log reads are open. A signature is returned only
//! after its log entry is durable; a retry with the same request id (per caller) returns the
//! same entry and the same signed PDF.
//!
//! **Idempotency.** A request id is scoped to the caller; its record is bound to a fingerprint
//! of the agency, the document (or digest) and every option that shapes the signature. The
//! same id again with the same fingerprint returns the first answer, byte for byte (rebuilt from
//! the request, the stored signing time and signature value, and checked against the log
//! entry); with another agency or other options it is ALREADY_EXISTS.
//!
//! **Bounded strings.** Every string of a signing request is bounded ([`limits`]); a longer
//! one is INVALID_ARGUMENT naming the field and the limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use segel_proto::v1 as pb;
use tokio::sync::{Mutex, Semaphore};
use tonic::{Request, Response, Status};

use crate::config::{Agency, Config};
use crate::status::{internal, invalid, store_status};
use crate::store::{Log, NewEntry, RequestRecord, StoredRequest};

/// Limits on the strings of requests, in bytes of UTF-8.
pub mod limits {
    /// `agency_id` (the log entry's limit).
    pub const AGENCY_ID: usize = 64;
    /// `request_id`.
    pub const REQUEST_ID: usize = 128;
    /// `document_ref` (logged only as its keyed hash).
    pub const DOCUMENT_REF: usize = 256;
    /// `options.reason` (`/Reason`).
    pub const REASON: usize = 256;
    /// `options.location` (`/Location`).
    pub const LOCATION: usize = 256;
    /// `options.contact_info` (`/ContactInfo`).
    pub const CONTACT_INFO: usize = 256;
    /// `options.field_name` (the signature field's name; the engine also wants it printable and
    /// without dots).
    pub const FIELD_NAME: usize = 64;
    /// The caller's identity (the client certificate's CN), logged as `CN=…`.
    pub const CALLER: usize = 256;
}

/// INVALID_ARGUMENT when `value` is longer than `limit` bytes, naming the field.
fn check_len(field: &str, value: &str, limit: usize) -> Result<(), Status> {
    if value.len() > limit {
        return Err(invalid(&format!(
            "{field} has {} bytes; the limit is {limit}",
            value.len()
        )));
    }
    Ok(())
}

/// The bounds of a SignPdf request (everything but the document, bounded by the config).
fn check_sign_request(caller: &str, r: &pb::SignPdfRequest) -> Result<(), Status> {
    check_len("the client certificate's CN", caller, limits::CALLER)?;
    check_len("agency_id", &r.agency_id, limits::AGENCY_ID)?;
    check_len("request_id", &r.request_id, limits::REQUEST_ID)?;
    check_len("document_ref", &r.document_ref, limits::DOCUMENT_REF)?;
    if let Some(o) = &r.options {
        check_len("options.reason", &o.reason, limits::REASON)?;
        check_len("options.location", &o.location, limits::LOCATION)?;
        check_len(
            "options.contact_info",
            &o.contact_info,
            limits::CONTACT_INFO,
        )?;
        check_len("options.field_name", &o.field_name, limits::FIELD_NAME)?;
    }
    Ok(())
}

/// The bounds of a SignDigest request (its hashes are checked to be 32 bytes).
fn check_digest_request(caller: &str, r: &pb::SignDigestRequest) -> Result<(), Status> {
    check_len("the client certificate's CN", caller, limits::CALLER)?;
    check_len("agency_id", &r.agency_id, limits::AGENCY_ID)?;
    check_len("request_id", &r.request_id, limits::REQUEST_ID)?;
    check_len("document_ref", &r.document_ref, limits::DOCUMENT_REF)
}

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

    fn checkpoint(&self) -> pb::Checkpoint {
        self.checkpoint_and_size().0
    }

    /// The latest checkpoint and the tree size it names, read together, so that proofs made at
    /// that size check against that very note even while appends go on.
    fn checkpoint_and_size(&self) -> (pb::Checkpoint, u64) {
        let note = self.log.checkpoint();
        let size = note
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        (
            pb::Checkpoint {
                note,
                verifier_key: self.log.verifier().to_vkey(),
            },
            size,
        )
    }

    fn entry_pb(&self, index: u64) -> Result<pb::LogEntry, Status> {
        let e = self
            .log
            .entry(index)
            .map_err(store_status)?
            .ok_or_else(|| crate::status::not_found(format!("no log entry {index}")))?;
        let record = e.encode().map_err(|e| internal(&e))?;
        Ok(pb::LogEntry {
            index,
            leaf_hash: tlog::leaf_hash(&record).to_vec(),
            record,
        })
    }

    /// The consistency proof from `old` to `new` (none from an empty log, or between equal
    /// sizes: nothing to prove).
    fn consistency_pb(&self, old: u64, new: u64) -> Result<Option<pb::ConsistencyProof>, Status> {
        if old == 0 || old >= new {
            return Ok(None);
        }
        let hashes = self.log.consistency_proof(old, new).map_err(store_status)?;
        Ok(Some(pb::ConsistencyProof {
            old_size: old,
            new_size: new,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    fn proof_pb(&self, index: u64, size: u64) -> Result<pb::InclusionProof, Status> {
        let hashes = self
            .log
            .inclusion_proof(index, size)
            .map_err(store_status)?;
        Ok(pb::InclusionProof {
            leaf_index: index,
            tree_size: size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        })
    }
}

/// A signed document: the caller's bytes, the update to append, and the response fields.
struct Signed {
    pdf: bytes::Bytes,
    update: bytes::Bytes,
    meta: pb::SignPdfResponse,
}

impl Segel {
    /// Is `caller` allowed to seal for `agency_id`? NOT_FOUND for an unknown agency,
    /// PERMISSION_DENIED otherwise.
    fn authorize(&self, caller: &str, agency_id: &str) -> Result<Arc<Agency>, Status> {
        let agency = self
            .agencies
            .get(agency_id)
            .cloned()
            .ok_or_else(|| crate::status::not_found(format!("unknown agency {agency_id:?}")))?;
        if !self
            .allow
            .get(caller)
            .is_some_and(|a| a.contains(agency_id))
        {
            tracing::warn!(%caller, agency = agency_id, "signing refused: not allowed for this agency");
            return Err(crate::status::not_allowed(format!(
                "client {caller:?} may not seal for agency {agency_id:?}"
            )));
        }
        Ok(agency)
    }

    /// Authorise, sign, log durably; idempotent per (caller, request id).
    ///
    /// The work runs in a task of its own: a caller that goes away (deadline, cancelled
    /// stream) does not release the request id's lock before the entry is durable, so a
    /// retry waits for it and returns it instead of signing a second time.
    async fn sign(
        self: &Arc<Self>,
        caller: String,
        r: pb::SignPdfRequest,
    ) -> Result<Signed, Status> {
        check_sign_request(&caller, &r)?;
        let agency = self.authorize(&caller, &r.agency_id)?;
        if r.pdf.len() > self.max_document_bytes {
            return Err(crate::status::document_too_large(
                Some(r.pdf.len() as u64),
                self.max_document_bytes,
            ));
        }
        let s = self.clone();
        tokio::spawn(async move { s.sign_task(caller, agency, r).await })
            .await
            .map_err(|e| internal(&e))?
    }

    async fn sign_task(
        &self,
        caller: String,
        agency: Arc<Agency>,
        r: pb::SignPdfRequest,
    ) -> Result<Signed, Status> {
        let key = request_key(&caller, &r.request_id);
        self.under_request_lock(key, |key| self.sign_once(caller, agency, r, key))
            .await
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
    /// signing options), is ALREADY_EXISTS; `stored_time` gives the time to tell the caller
    /// then.
    fn earlier(
        &self,
        key: Option<&[u8]>,
        request_id: &str,
        agency: &str,
        same: impl FnOnce(&StoredRequest) -> bool,
        stored_time: fn(&StoredRequest) -> Option<i64>,
    ) -> Result<Option<Earlier>, Status> {
        let Some(k) = key else { return Ok(None) };
        let Some(done) = self.log.request(k).map_err(store_status)? else {
            return Ok(None);
        };
        let entry = self
            .log
            .entry(done.index())
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
            if let Some(t) = stored_time(&done) {
                if let Ok(v) = t.to_string().parse() {
                    status
                        .metadata_mut()
                        .insert(segel_proto::SIGNING_TIME_METADATA, v);
                }
            }
            return Err(status);
        }
        let (checkpoint, size) = self.checkpoint_and_size();
        let at = LoggedAt {
            entry: self.entry_pb(done.index())?,
            checkpoint,
            proof: self.proof_pb(done.index(), size)?,
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
            entry: self.entry_pb(appended.index)?,
            checkpoint: pb::Checkpoint {
                note: appended.checkpoint.clone(),
                verifier_key: self.log.verifier().to_vkey(),
            },
            proof: self.proof_pb(appended.index, appended.size)?,
            consistency: self.consistency_pb(appended.previous_size, appended.size)?,
        };
        Ok((out, at))
    }

    /// `SignDigest` after its checks: sign the digest, log it, under the request id's lock.
    async fn sign_digest_task(
        &self,
        caller: String,
        agency: Arc<Agency>,
        r: pb::SignDigestRequest,
        digest: [u8; 32],
        document_sha256: [u8; 32],
    ) -> Result<pb::SignDigestResponse, Status> {
        let key = request_key(&caller, &r.request_id);
        self.under_request_lock(key, |key| async move {
            // What identifies the request for a retry: everything that shapes the CMS.
            let fingerprint = fields(&[
                b"segel SignDigest v2",
                agency.id.as_bytes(),
                &[u8::from(r.pss)],
                &digest,
                &document_sha256,
                r.document_ref.as_bytes(),
            ]);
            // Records written before the fingerprint covered field boundaries.
            let legacy = || {
                sha256(&[
                    b"segel SignDigest v1\0",
                    agency.id.as_bytes(),
                    &[0, u8::from(r.pss)],
                    &digest,
                    &document_sha256,
                    r.document_ref.as_bytes(),
                ])
            };
            let same = |s: &StoredRequest| match s {
                StoredRequest::Current { fingerprint: f, .. } => *f == fingerprint,
                StoredRequest::Legacy { input_sha256, .. } => *input_sha256 == legacy(),
            };
            if let Some(e) = self.earlier(
                key.as_deref(),
                &r.request_id,
                &agency.id,
                same,
                digest_stored_time,
            )? {
                let cms = match e.stored {
                    StoredRequest::Current { replay, .. } => {
                        let (_, signature) = split_replay(&replay)?;
                        check_replayed_signature(&e.entry, signature)?;
                        let attrs = agency.identity.signed_attributes(&digest);
                        agency.identity.content_info(
                            &attrs,
                            agency.signer(r.pss).algorithm(),
                            signature,
                        )
                    }
                    StoredRequest::Legacy { update, .. } => digest_record_cms(update),
                };
                return Ok(e.at.digest_reply(cms));
            }
            let signing_time = r.signing_time;
            let document_ref_hmac = self.reference_hmac(&agency.id, &r.document_ref);
            let (cms, at) = self
                .sign_and_log(move || {
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
                            now().1,
                            digest,
                            &signature,
                            Document {
                                sha256: document_sha256,
                                source: tlog::DocumentSource::Caller,
                                ref_hmac: document_ref_hmac,
                            },
                        ),
                        request: key.map(|k| RequestRecord {
                            key: k,
                            fingerprint,
                            replay: replay_record(signing_time, &signature),
                        }),
                    };
                    Ok((cms, entry))
                })
                .await?;
            Ok(at.digest_reply(cms))
        })
        .await
    }

    /// The keyed hash logged for a caller's document reference (none for an empty one).
    fn reference_hmac(&self, agency: &str, document_ref: &str) -> Option<[u8; 32]> {
        (!document_ref.is_empty()).then(|| self.log.reference_hmac(agency, document_ref))
    }

    /// One signing attempt under the request id's lock (if any).
    async fn sign_once(
        &self,
        caller: String,
        agency: Arc<Agency>,
        r: pb::SignPdfRequest,
        key: Option<Vec<u8>>,
    ) -> Result<Signed, Status> {
        let opts = r.options.unwrap_or_default();
        // The input's own hash identifies an idempotent request's document: computed here only
        // to compare with an earlier attempt's; a new attempt takes it from signing's own pass.
        let same = |s: &StoredRequest| match s {
            StoredRequest::Current { fingerprint, .. } => {
                *fingerprint
                    == pdf_fingerprint(&agency.id, &sha256(&[&r.pdf]), &opts, &r.document_ref)
            }
            StoredRequest::Legacy { input_sha256, .. } => *input_sha256 == sha256(&[&r.pdf]),
        };
        if let Some(e) = self.earlier(key.as_deref(), &r.request_id, &agency.id, same, |_| None)? {
            let update = match e.stored {
                StoredRequest::Current { replay, .. } => {
                    let pdf = r.pdf.clone();
                    let entry = e.entry;
                    // Rebuilding parses the document like signing does: same CPU limit.
                    let _cpu = self
                        .cpu
                        .clone()
                        .acquire_owned()
                        .await
                        .map_err(|_| crate::status::shutting_down())?;
                    tokio::task::spawn_blocking(move || {
                        rebuild_update(&agency, &pdf, &opts, &entry, &replay)
                    })
                    .await
                    .map_err(|e| internal(&e))??
                }
                StoredRequest::Legacy { update, .. } => update.into(),
            };
            return Ok(e.at.pdf_reply(r.pdf, update));
        }
        let pdf = r.pdf;
        let document_ref_hmac = self.reference_hmac(&agency.id, &r.document_ref);
        let document_ref = r.document_ref;
        let ((pdf, update), at) = self
            .sign_and_log(move || {
                let (t, ms) = now();
                let request = signature_request(&opts, t);
                let signer = agency.signer(opts.pss);
                let signed = pades::sign(&pdf, &request, signer, &agency.identity)
                    .map_err(|e| crate::status::engine_status(&e))?;
                let update = bytes::Bytes::from(signed.tail().to_vec());
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
                        replay: replay_record(t.0, signed.signature()),
                    }),
                };
                Ok(((pdf, update), entry))
            })
            .await?;
        Ok(at.pdf_reply(pdf, update))
    }
}

/// An idempotent request's earlier result ([`Segel::earlier`]).
struct Earlier {
    stored: StoredRequest,
    entry: tlog::LogEntry,
    at: LoggedAt,
}

/// The signature request of SignPdf options at `time`.
fn signature_request(opts: &pb::SignOptions, time: pades::UnixTime) -> pades::SignatureRequest {
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut request = pades::SignatureRequest::new(time);
    request.reason = text(&opts.reason);
    request.location = text(&opts.location);
    request.contact_info = text(&opts.contact_info);
    request.field = text(&opts.field_name);
    request.page = opts.page.max(1);
    request
}

/// What identifies a SignPdf request for a retry: the agency, the input document and every
/// option that shapes the signature (`update_only` shapes only the reply).
fn pdf_fingerprint(
    agency: &str,
    input_sha256: &[u8; 32],
    o: &pb::SignOptions,
    document_ref: &str,
) -> [u8; 32] {
    fields(&[
        b"segel SignPdf v2",
        agency.as_bytes(),
        input_sha256,
        o.reason.as_bytes(),
        o.location.as_bytes(),
        o.contact_info.as_bytes(),
        o.field_name.as_bytes(),
        &[u8::from(o.pss)],
        &o.page.max(1).to_be_bytes(),
        document_ref.as_bytes(),
    ])
}

/// SHA-256 of fields, each preceded by its length (so no two field lists hash alike).
fn fields(parts: &[&[u8]]) -> [u8; 32] {
    let mut c = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        c.update(&(p.len() as u64).to_be_bytes());
        c.update(p);
    }
    let mut h = [0; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

/// What an idempotency record keeps to rebuild its answer: a time (i64, big-endian: the
/// signing time `/M` of SignPdf, the caller's signing time of SignDigest) and the signature
/// value. Signing is deterministic given these and the request, so a retry gets the same bytes.
fn replay_record(time: i64, signature: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + signature.len());
    v.extend_from_slice(&time.to_be_bytes());
    v.extend_from_slice(signature);
    v
}

fn split_replay(replay: &[u8]) -> Result<(i64, &[u8]), Status> {
    match replay.split_first_chunk::<8>() {
        Some((t, sig)) => Ok((i64::from_be_bytes(*t), sig)),
        None => Err(internal(&"a malformed idempotency record")),
    }
}

/// The stored signature value must be the one logged.
fn check_replayed_signature(entry: &tlog::LogEntry, signature: &[u8]) -> Result<(), Status> {
    if sha256(&[signature]) != entry.signature_sha256 {
        return Err(internal(&format!(
            "the idempotency record of entry {} holds another signature than the entry",
            entry.index
        )));
    }
    Ok(())
}

/// The signing time a SignDigest record tells a caller whose retry does not match.
fn digest_stored_time(s: &StoredRequest) -> Option<i64> {
    match s {
        StoredRequest::Current { replay, .. } => split_replay(replay)
            .ok()
            .map(|(t, _)| t)
            .filter(|&t| t != 0),
        StoredRequest::Legacy { update, .. } => digest_record_time(update),
    }
}

/// Rebuild the update of an earlier SignPdf from the retried document, its options and the
/// stored time and signature value; it must give the very signed document the log entry names.
fn rebuild_update(
    agency: &Agency,
    pdf: &[u8],
    opts: &pb::SignOptions,
    entry: &tlog::LogEntry,
    replay: &[u8],
) -> Result<bytes::Bytes, Status> {
    let (time, signature) = split_replay(replay)?;
    check_replayed_signature(entry, signature)?;
    let replayed = Replayed {
        key: agency.signer(opts.pss),
        signature,
    };
    let request = signature_request(opts, pades::UnixTime(time));
    let signed = pades::sign(pdf, &request, &replayed, &agency.identity)
        .map_err(|e| crate::status::engine_status(&e))?;
    if signed.document_sha256() != entry.document_sha256 {
        return Err(internal(&format!(
            "the retry of entry {} did not rebuild the signed document",
            entry.index
        )));
    }
    Ok(bytes::Bytes::from(signed.tail().to_vec()))
}

/// A signer that gives back a signature value made earlier by `key` (checked by the caller
/// against the log entry and the rebuilt document).
struct Replayed<'a> {
    key: &'a dyn pades::Signer,
    signature: &'a [u8],
}

impl pades::Signer for Replayed<'_> {
    fn algorithm(&self) -> pades::SignatureAlgorithm {
        self.key.algorithm()
    }

    fn signature_len(&self) -> usize {
        self.key.signature_len()
    }

    fn public_key(&self) -> &[u8] {
        self.key.public_key()
    }

    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, pades::error::SignerError> {
        Ok(self.signature.to_vec())
    }
}

/// The document a log entry names: its hash, who vouches for it, the caller's reference.
struct Document {
    sha256: [u8; 32],
    source: tlog::DocumentSource,
    ref_hmac: Option<[u8; 32]>,
}

impl Agency {
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
        caller: &str,
        time_ms: i64,
        message_digest: [u8; 32],
        signature: &[u8],
        document: Document,
    ) -> tlog::LogEntry {
        tlog::LogEntry {
            index: 0,
            time_ms,
            agency: self.id.clone(),
            certificate_sha256: self.cert_sha256,
            caller: format!("CN={caller}"),
            message_digest,
            signature_sha256: sha256(&[signature]),
            document_sha256: document.sha256,
            document_source: document.source,
            document_ref: None,
            document_ref_hmac: document.ref_hmac,
        }
    }
}

/// Where a signature was logged: its entry, and a checkpoint with the entry's proof in it.
struct LoggedAt {
    entry: pb::LogEntry,
    checkpoint: pb::Checkpoint,
    proof: pb::InclusionProof,
    /// From the previous checkpoint to `checkpoint`, for an entry logged just now.
    consistency: Option<pb::ConsistencyProof>,
}

impl LoggedAt {
    fn pdf_reply(self, pdf: bytes::Bytes, update: bytes::Bytes) -> Signed {
        Signed {
            pdf,
            update,
            meta: pb::SignPdfResponse {
                signed_pdf: bytes::Bytes::new(),
                update: bytes::Bytes::new(),
                entry: Some(self.entry),
                checkpoint: Some(self.checkpoint),
                inclusion_proof: Some(self.proof),
                consistency_proof: self.consistency,
            },
        }
    }

    fn digest_reply(self, cms: Vec<u8>) -> pb::SignDigestResponse {
        pb::SignDigestResponse {
            cms,
            entry: Some(self.entry),
            checkpoint: Some(self.checkpoint),
            inclusion_proof: Some(self.proof),
            consistency_proof: self.consistency,
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

/// The caller's identity (see [`crate::identity`]) for `what`, which requires one.
fn caller_cn<T>(req: &Request<T>, what: &str) -> Result<String, Status> {
    crate::identity::caller(req.peer_certs().as_ref())
        .map_err(|e| crate::status::identity(&e, what))
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut c = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        c.update(p);
    }
    let mut h = [0; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

/// What an idempotent SignDigest kept in older records: a format byte (1), the caller's signing
/// time (i64, big-endian), the CMS. (Records written before the time was kept hold the CMS
/// alone; a DER CMS starts with 0x30, never with 1.) Read for retries of those requests.
#[cfg(test)]
fn digest_record(signing_time: i64, cms: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(9 + cms.len());
    v.push(1);
    v.extend_from_slice(&signing_time.to_be_bytes());
    v.extend_from_slice(cms);
    v
}

fn digest_record_time(stored: &[u8]) -> Option<i64> {
    match stored {
        // 0: the caller did not say.
        [1, rest @ ..] => {
            Some(i64::from_be_bytes(rest.get(..8)?.try_into().ok()?)).filter(|&t| t != 0)
        }
        _ => None,
    }
}

fn digest_record_cms(mut stored: Vec<u8>) -> Vec<u8> {
    if stored.first() == Some(&1) && stored.len() >= 9 {
        stored.drain(..9);
    }
    stored
}

/// The idempotency key of a request: caller identity and request id (none without an id).
fn request_key(caller: &str, request_id: &str) -> Option<Vec<u8>> {
    (!request_id.is_empty()).then(|| {
        let mut k = caller.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(request_id.as_bytes());
        k
    })
}

fn now() -> (pades::UnixTime, i64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        pades::UnixTime(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
    )
}

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
        let pdf = req.into_inner().pdf;
        if pdf.len() > s.max_document_bytes {
            return Err(crate::status::document_too_large(
                Some(pdf.len() as u64),
                s.max_document_bytes,
            ));
        }
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
                    .and_then(|x| serde_json::to_value(x).ok())
                    .and_then(|x| x.as_str().map(str::to_string))
                    .unwrap_or_default(),
                signer: sig.signer.clone().unwrap_or_default(),
                reason: sig.reason.clone(),
                report_json: serde_json::to_string(sig).unwrap_or_default(),
                log_entry: None,
                inclusion_proof: None,
            };
            if let (Some(sh), Some(md)) = (&sig.signature_sha256, &sig.message_digest) {
                if let Some(h) = unhex32(sh) {
                    for i in s.log.find_by_signature(&h).map_err(store_status)? {
                        let e = s.log.entry(i).map_err(store_status)?;
                        if e.is_some_and(|e| hex(&e.message_digest) == *md) && i < size {
                            v.log_entry = Some(s.entry_pb(i)?);
                            v.inclusion_proof = Some(s.proof_pb(i, size)?);
                            break;
                        }
                    }
                }
            }
            signatures.push(v);
        }
        Ok(Response::new(pb::VerifyPdfResponse {
            overall: report.overall().to_string(),
            signatures,
            checkpoint: Some(checkpoint),
        }))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `segel.v1.Log`.
#[derive(Debug, Clone)]
pub struct LogService(pub Arc<Segel>);

impl Segel {
    /// The entries logged with the document reference `reference` for the agencies `caller`
    /// may seal for: only a client allowed for an agency may ask (the answer tells whether a
    /// reference, perhaps a citizen's number, was used).
    fn find_by_reference(
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

fn hash32(b: &[u8], what: &str) -> Result<[u8; 32], Status> {
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

#[cfg(test)]
mod tests {
    use super::{digest_record, digest_record_cms, digest_record_time};
    use proptest::prelude::*;

    proptest! {
        /// What a SignDigest keeps gives back its time and CMS.
        #[test]
        fn digest_records_round_trip(time in any::<i64>(), cms in proptest::collection::vec(any::<u8>(), 0..600)) {
            let stored = digest_record(time, &cms);
            prop_assert_eq!(digest_record_time(&stored), (time != 0).then_some(time));
            prop_assert_eq!(digest_record_cms(stored), cms);
        }

        /// Any stored bytes are read without a panic; a record from before the time was kept
        /// (a DER CMS, first byte 0x30) is the CMS and has no time.
        #[test]
        fn any_stored_bytes_are_read(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = digest_record_time(&bytes);
            let cms = digest_record_cms(bytes.clone());
            if bytes.first() == Some(&0x30) {
                prop_assert_eq!(digest_record_time(&bytes), None);
                prop_assert_eq!(cms, bytes);
            }
        }
    }
}
