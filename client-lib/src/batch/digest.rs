//! Digest-only signing of one file: prepared here, only its digest sent (`SignDigest`), the CMS
//! that comes back embedded, the output written. A request id the server already logged with
//! another signing time is prepared again with that time, so a rerun gets the same entry back.
//! A visible seal is drawn here with the agency's stamp settings: one document id per file,
//! reused by every attempt (and replaced by the one the server names for a request id it
//! already logged), composed with the attempt's signing time.

use std::path::Path;
use std::sync::Arc;

use pades::stamp::DocumentId;

use super::file::{blocking, io, retry, INLINE_IO};
use super::output::Target;
use super::{request_id, Logged, Shared};
use crate::error::ClientError;
use crate::online::{SealedDigest, SignRequest};
use crate::seal::Seal;

/// Sign `input` by its digest into `output`; with `rel` (a batch's file) under the request id
/// of that path and the content, otherwise under `req`'s. Its log entry (index, time) and the
/// output's size, and with a visible seal (drawn here with the agency's settings) its
/// document id.
pub(super) async fn digest_one(
    s: &Arc<Shared>,
    req: &SignRequest,
    rel: Option<&Path>,
    input: Vec<u8>,
    output: &Target,
) -> Result<(Logged, u64, Option<String>), ClientError> {
    // One document id for every attempt at this file: the seal, and so the digest, depend on
    // it.
    let seal = match (&s.stamp, &s.opts.options.visible) {
        (Some(settings), Some(visible)) => Some(Seal {
            settings: settings.clone(),
            visible: visible.clone(),
            document_id: DocumentId::generate(),
        }),
        _ => None,
    };
    digest_attempts(s, req, rel, &Arc::new(input), output, seal.as_ref()).await
}

/// [`digest_one`] with the input read: the first attempt, and a second one prepared with the
/// signing time the server kept for the request id, if it names one.
async fn digest_attempts(
    s: &Arc<Shared>,
    req: &SignRequest,
    rel: Option<&Path>,
    input: &Arc<Vec<u8>>,
    output: &Target,
    seal: Option<&Seal>,
) -> Result<(Logged, u64, Option<String>), ClientError> {
    let now = pades::UnixTime::now().0;
    // A second attempt only when the server kept another signing time for this request id (an
    // earlier attempt that reached it, in a run that was killed or lost power): the file is
    // prepared with that time, so the digest, and the entry returned, are the same.
    let first_try = Attempt {
        time: now,
        seal,
        named: None,
    };
    match digest_attempt(s, req, rel, input, output, first_try).await {
        Err(ClientError::EarlierSigningTime {
            time: first,
            request_id,
            document_id,
        }) if first != now => {
            // Not a time to take on trust: a server could use it to backdate the file. It may
            // not lie ahead, and the entry it leads to must have been logged then.
            if first > now + NAMED_TIME_SLACK {
                return Err(ClientError::BadAnswer {
                    what: "SignDigest".into(),
                    detail: format!(
                        "the server says request id {request_id:?} was first used at {first}, in the future"
                    ),
                });
            }
            // The seal drawn again links to the document id the server names, if it names
            // one: the first request's seal is the one in its entry.
            let named_seal = match (seal, document_id) {
                (Some(seal), Some(id)) => {
                    let document_id =
                        DocumentId::parse(&id).map_err(|e| ClientError::BadAnswer {
                            what: "SignDigest".into(),
                            detail: format!(
                                "the document id named for request id {request_id:?}: {e}"
                            ),
                        })?;
                    Some(Seal {
                        document_id,
                        ..seal.clone()
                    })
                }
                _ => None,
            };
            let seal = named_seal.as_ref().or(seal);
            let again = Attempt {
                time: first,
                seal,
                named: Some(first),
            };
            digest_attempt(s, req, rel, input, output, again).await
        }
        other => other,
    }
}

/// How far a signing time the server names may lie from now (ahead) or from the time its entry
/// was logged: the clocks of client and server, and the network between preparing and logging.
const NAMED_TIME_SLACK: i64 = 15 * 60;

/// How one attempt prepares a file.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    /// The signing time (Unix seconds) the file is prepared with.
    time: i64,
    /// The visible seal, composed with that time.
    seal: Option<&'a Seal>,
    /// The time the server named for this request id: the entry it returns must have been
    /// logged then.
    named: Option<i64>,
}

/// Sign one prepared file by its digest, prepared as `attempt` says; with `rel` (a batch's
/// file) under the request id of that path and the content, otherwise under `req`'s.
async fn digest_attempt(
    s: &Arc<Shared>,
    req: &SignRequest,
    rel: Option<&Path>,
    input: &Arc<Vec<u8>>,
    output: &Target,
    attempt: Attempt<'_>,
) -> Result<(Logged, u64, Option<String>), ClientError> {
    let Attempt { time, seal, named } = attempt;
    let mut request = s.opts.options.request(pades::UnixTime(time));
    if let Some(seal) = seal {
        request.appearance = Some(seal.appearance(pades::UnixTime(time))?);
    }
    let document_id = seal.map(|seal| &seal.document_id);
    let capacity = s.capacity;
    let engine = |source| ClientError::Engine {
        path: output.path.clone(),
        source,
    };
    if input.len() as u64 <= INLINE_IO {
        // A small file is prepared once, here on the async worker (tens of microseconds, less
        // than two hand-offs to the blocking pool), and kept prepared across the network wait.
        let p = pades::prepare(input.as_slice(), &request, capacity).map_err(engine)?;
        let digest = p.digest();
        let req = with_id(s, req, rel, &p.input_sha256());
        let sealed = retry(s, || {
            s.client.sign_digest_with(&req, digest, time, document_id)
        })
        .await?;
        check_named(named, &sealed)?;
        let signed = p.embed(&sealed.cms).map_err(engine)?;
        let len = signed.len();
        let tail = signed.into_tail();
        let (input, out) = (input.clone(), output.clone());
        io(len as u64, move || out.write(&[&input, &tail])).await?;
        return Ok((Logged::of(&sealed.entry), len as u64, sealed.document_id));
    }
    // A large file is prepared once on the blocking pool; the prepared state shares the input
    // and is kept across the network wait, then embedded and written on the pool again.
    let prepared = {
        let (input, request) = (input.clone(), request.clone());
        let path = output.path.clone();
        blocking(move || {
            pades::prepare(input, &request, capacity)
                .map_err(|source| ClientError::Engine { path, source })
        })
        .await?
    };
    let digest = prepared.digest();
    let req = with_id(s, req, rel, &prepared.input_sha256());
    let sealed = retry(s, || {
        s.client.sign_digest_with(&req, digest, time, document_id)
    })
    .await?;
    check_named(named, &sealed)?;
    let out = output.clone();
    let (cms, document_id) = (sealed.cms, sealed.document_id);
    let bytes = blocking(move || {
        let signed = prepared.embed(&cms).map_err(|source| ClientError::Engine {
            path: out.path.clone(),
            source,
        })?;
        out.write(&signed.parts())?;
        Ok(signed.len() as u64)
    })
    .await?;
    Ok((Logged::of(&sealed.entry), bytes, document_id))
}

/// `req` with the request id of a batch's file `rel` whose content hashes to `input_sha256`;
/// `req` as it is without `rel`.
fn with_id(
    s: &Shared,
    req: &SignRequest,
    rel: Option<&Path>,
    input_sha256: &[u8; 32],
) -> SignRequest {
    let mut req = req.clone();
    if let Some(rel) = rel {
        req.request_id = request_id(&s.opts.agency, rel, input_sha256, s.digest_scope.as_deref());
    }
    req
}

/// After the server named the signing time of an earlier request: its entry was logged then.
fn check_named(named: Option<i64>, sealed: &SealedDigest) -> Result<(), ClientError> {
    let Some(t) = named else { return Ok(()) };
    let logged = sealed.entry.record.time_ms.div_euclid(1000);
    if (logged - t).abs() > NAMED_TIME_SLACK {
        return Err(ClientError::BadAnswer {
            what: "SignDigest".into(),
            detail: format!(
                "the server named signing time {t} for request id entry {}, logged at {logged}",
                sealed.entry.index
            ),
        });
    }
    Ok(())
}
