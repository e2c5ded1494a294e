//! The checkpoints one client has seen of one server's log: which key it trusts, the newest
//! checkpoint it accepted, the consistency proofs that link every other checkpoint to it, and
//! the state file that carries the newest from one run to the next.
//!
//! # The key
//!
//! The key is chosen once, when the client connects: the pinned one (`--log-key`,
//! `SEGEL_LOG_KEY` or the settings file), else the one kept in the state file for this server,
//! else the server's own, trusted on first use and kept from then on. A server presenting
//! another key is refused ([`LogCheckError::KeyChanged`]), and a checkpoint kept under another
//! key than the chosen one is not used.
//!
//! # The states
//!
//! ```text
//!                  ┌───────────┐
//!   (connect) ───▶ │ NO NEWEST │   no state file, or one kept under another key
//!                  └─────┬─────┘
//!                        │ a checkpoint signed by the key (of any size: nothing to link it to)
//!                        ▼
//!                  ┌───────────┐
//!   (connect) ───▶ │ NEWEST n  │   the state file's checkpoint, signed by the key
//!                  └───────────┘
//!
//!   in NEWEST n:  cp(m), m > n, with a proof from n to m  ──▶ NEWEST m
//!                 cp(m), m ≤ n, with a proof from m to n  ──▶ NEWEST n, cp(m) remembered
//!                 a checkpoint remembered                 ──▶ NEWEST n, no proof needed
//! ```
//!
//! Refused in every state, leaving it as it was:
//! - a note not signed by the key, or naming another origin ([`LogCheckError::Checkpoint`]);
//! - a server presenting another key ([`LogCheckError::KeyChanged`]);
//! - a tree of a size already seen with another root, the empty tree included
//!   ([`LogCheckError::Fork`]);
//! - a consistency proof that is missing, for other sizes, or does not verify: a smaller tree
//!   that is not a prefix of the newest, a larger one that does not extend it
//!   ([`LogCheckError::Inconsistent`]).
//!
//! A state file that does not parse is refused when the client connects
//! ([`ClientError::StateFile`]), and one whose checkpoint its key did not sign too.
//!
//! # What is remembered
//!
//! Checkpoints linked to the newest are remembered by their note ([`REMEMBERED`] of them), so
//! answers carrying one need neither a signature check nor a proof. A consistency proof an
//! answer carried (from the log's previous checkpoint to the answer's) is used instead of a
//! request when it links exactly the sizes needed, and kept ([`OFFERS_KEPT`] of them) for an
//! older checkpoint of its starting size that arrives later.
//!
//! Only advancing the newest is serialized, so the newest cannot move while its proof is
//! fetched. A checkpoint not newer than the newest is linked to it concurrently: the newest of
//! that moment (the anchor) stays a prefix of every later newest, so a checkpoint that is a
//! prefix of the anchor is a prefix of the log.
//!
//! # The state file
//!
//! One JSON file per server (`{"log_key": …, "checkpoint": …}`) in the state folder. The newest
//! checkpoint is written there at most every [`SAVE_EVERY`] while answers arrive, on
//! [`Checkpoints::save_state`], and when the tracker is dropped; not synced: losing the last
//! second of it only makes the next run trust an older checkpoint (and still demand
//! consistency with it).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::ClientError;
use crate::logcheck::{
    ConsistencyProof, InclusionProof, LogCheckError, LogView, Need, ProvenEntry, UncheckedEntry,
    VerifiedCheckpoint,
};

/// Checkpoints remembered as linked to the newest, so that answers carrying one of them need no
/// further proof.
const REMEMBERED: usize = 4096;
/// Consistency proofs carried by answers that are kept for older checkpoints arriving later.
const OFFERS_KEPT: usize = 1024;
/// How often, at most, the state file is rewritten while answers arrive.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// A checkpoint as a server gave it: the signed note and the key the server says it signs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SignedCheckpoint {
    /// The signed C2SP checkpoint note, verbatim.
    pub(super) note: String,
    /// The server's C2SP verifier key string (empty: not said).
    pub(super) verifier_key: String,
}

/// What the state file holds for one server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Stored {
    log_key: String,
    checkpoint: Option<String>,
}

/// The state file of `server` in the state folder `dir`.
pub(super) fn state_file(dir: &Path, server: &str) -> PathBuf {
    let name: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir.join(format!("{name}.json"))
}

/// The state kept from earlier runs, read before the server is asked anything.
#[derive(Debug, Default)]
pub(super) struct Kept {
    file: Option<PathBuf>,
    stored: Option<Stored>,
}

impl Kept {
    /// Read the state file `file` (none: nothing kept; a missing file: nothing kept yet).
    ///
    /// # Errors
    /// [`ClientError::Read`] for an unreadable file, [`ClientError::StateFile`] for one that
    /// does not parse.
    pub(super) fn read(file: Option<PathBuf>) -> Result<Self, ClientError> {
        let stored = match &file {
            Some(f) if f.exists() => {
                let text = std::fs::read_to_string(f).map_err(|source| ClientError::Read {
                    path: f.clone(),
                    source,
                })?;
                Some(serde_json::from_str::<Stored>(&text).map_err(|source| {
                    ClientError::StateFile {
                        path: f.clone(),
                        source,
                    }
                })?)
            }
            _ => None,
        };
        Ok(Self { file, stored })
    }
}

/// The checkpoints of one server's log that one client has seen (see the module doc).
pub(super) struct Checkpoints {
    state_file: Option<PathBuf>,
    view: tokio::sync::Mutex<ViewState>,
    /// Held while the newest checkpoint advances (its consistency proof fetched and checked).
    proving: tokio::sync::Mutex<()>,
    /// Consistency proofs fetched so far.
    proofs: AtomicU64,
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
    offers: BTreeMap<u64, (ConsistencyProof, VerifiedCheckpoint)>,
    /// The last note whose signature was checked (not yet known consistent, perhaps): the
    /// answers of one log commit all carry the same note and arrive together, so the ones
    /// behind the first need not check its signature again.
    signed: Option<(String, VerifiedCheckpoint)>,
    /// Size of the newest checkpoint in the state file, and when it was written.
    saved_size: Option<u64>,
    saved_at: Option<Instant>,
}

impl ViewState {
    /// Keep the consistency proof an answer carried when it leads to `linked` (a checkpoint
    /// known consistent with the newest), for an older checkpoint of its starting size that
    /// comes later.
    fn keep_offer(&mut self, offered: Option<&ConsistencyProof>, linked: &VerifiedCheckpoint) {
        let Some(p) = offered else { return };
        if p.new_size != linked.checkpoint.size || p.old_size >= p.new_size {
            return;
        }
        self.offers.insert(p.old_size, (p.clone(), linked.clone()));
        while self.offers.len() > OFFERS_KEPT {
            self.offers.pop_first();
        }
    }

    /// A checkpoint already known consistent (by its note), keeping the proof its answer
    /// carried.
    fn known(
        &mut self,
        note: &str,
        offered: Option<&ConsistencyProof>,
    ) -> Option<VerifiedCheckpoint> {
        let v = self.known.get(note).cloned()?;
        self.keep_offer(offered, &v);
        Some(v)
    }

    /// Record a checkpoint linked to the newest (and the consistency proof its answer
    /// carried).
    fn remember(
        &mut self,
        note: &str,
        verified: &VerifiedCheckpoint,
        offered: Option<&ConsistencyProof>,
    ) {
        self.keep_offer(offered, verified);
        self.known.insert(note.to_string(), verified.clone());
        self.order.push_back(note.to_string());
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.known.remove(&old);
            }
        }
    }

    fn newest_size(&self) -> Option<u64> {
        self.view.newest().map(|n| n.checkpoint.size)
    }
}

fn log_err(what: &str, source: LogCheckError) -> ClientError {
    ClientError::Log {
        what: what.to_string(),
        source,
    }
}

impl Checkpoints {
    /// Choose the key (`pinned`, else the one `kept`, else the server's) and start from the
    /// checkpoint kept under it; `server` (the server's current checkpoint) must present that
    /// key. The server's checkpoint is not observed yet ([`Checkpoints::observe`] it).
    ///
    /// # Errors
    /// [`ClientError::Log`]: a malformed key, a kept checkpoint its key did not sign, or a
    /// server presenting another key (the message says where the trusted key comes from).
    pub(super) fn new(
        pinned: Option<&str>,
        kept: Kept,
        server: &SignedCheckpoint,
    ) -> Result<Self, ClientError> {
        let key = match (pinned, &kept.stored) {
            (Some(k), _) => k.to_string(),
            (None, Some(s)) => s.log_key.clone(),
            (None, None) => server.verifier_key.clone(),
        };
        let newest = kept
            .stored
            .as_ref()
            .filter(|s| s.log_key == key)
            .and_then(|s| s.checkpoint.clone());
        let view = LogView::new(&key, newest.as_deref()).map_err(|e| log_err("the log key", e))?;
        view.check_key(&server.verifier_key).map_err(|e| {
            let what = match (pinned, &kept.file) {
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
        Ok(Self {
            state_file: kept.file,
            view: tokio::sync::Mutex::new(ViewState {
                view,
                known: HashMap::new(),
                order: VecDeque::new(),
                offers: BTreeMap::new(),
                signed: None,
                saved_size: None,
                saved_at: None,
            }),
            proving: tokio::sync::Mutex::new(()),
            proofs: AtomicU64::new(0),
        })
    }

    /// How many consistency proofs were fetched (one per checkpoint that had to be linked to
    /// the newest and whose answer did not carry the proof).
    pub(super) fn proofs_fetched(&self) -> u64 {
        self.proofs.load(Ordering::Relaxed)
    }

    /// The trusted key and the newest checkpoint accepted.
    pub(super) async fn view(&self) -> LogView {
        self.view.lock().await.view.clone()
    }

    /// Check a checkpoint from the server (key, signature, consistency with the newest) and
    /// accept it. `offered`: the consistency proof the answer carried, from the log's previous
    /// checkpoint to `cp`; `fetch(old, new)` asks the server for a consistency proof when one
    /// is needed that was not offered. `what` names the call in errors.
    ///
    /// # Errors
    /// [`ClientError::Log`] for a checkpoint refused (see the module doc), and `fetch`'s
    /// errors.
    pub(super) async fn observe<F, Fut>(
        &self,
        what: &str,
        cp: &SignedCheckpoint,
        offered: Option<&ConsistencyProof>,
        fetch: F,
    ) -> Result<VerifiedCheckpoint, ClientError>
    where
        F: Fn(u64, u64) -> Fut,
        Fut: Future<Output = Result<ConsistencyProof, ClientError>>,
    {
        let verified = {
            let mut st = self.view.lock().await;
            st.view
                .check_key(&cp.verifier_key)
                .map_err(|e| log_err(what, e))?;
            if let Some(v) = st.known(&cp.note, offered) {
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
        loop {
            let (anchor, need, offer) = {
                let mut st = self.view.lock().await;
                if let Some(v) = st.known(&cp.note, offered) {
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
                    None => (self.proof_for(need, offered, &fetch).await?, anchor),
                };
                let mut st = self.view.lock().await;
                st.view
                    .check_prefix(&verified, &anchor, &proof.unwrap_or_default())
                    .map_err(|e| log_err(what, e))?;
                st.remember(&cp.note, &verified, offered);
                self.save_now_and_then(&mut st);
                return Ok(verified);
            }
            // Newer than the newest (or the first): advance, one at a time.
            let _proving = self.proving.lock().await;
            let need = {
                let mut st = self.view.lock().await;
                if let Some(v) = st.known(&cp.note, offered) {
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
            let proof = self.proof_for(need, offered, &fetch).await?;
            let mut st = self.view.lock().await;
            st.view
                .accept(verified.clone(), proof.as_ref())
                .map_err(|e| log_err(what, e))?;
            st.remember(&cp.note, &verified, offered);
            self.save_now_and_then(&mut st);
            return Ok(verified);
        }
    }

    /// The consistency proof `need` asks for: none, the one the answer carried when it links
    /// exactly those sizes, or one fetched.
    async fn proof_for<F, Fut>(
        &self,
        need: Need,
        offered: Option<&ConsistencyProof>,
        fetch: &F,
    ) -> Result<Option<ConsistencyProof>, ClientError>
    where
        F: Fn(u64, u64) -> Fut,
        Fut: Future<Output = Result<ConsistencyProof, ClientError>>,
    {
        let Need::Consistency { old, new } = need else {
            return Ok(None);
        };
        if let Some(p) = offered.filter(|p| p.old_size == old && p.new_size == new) {
            return Ok(Some(p.clone()));
        }
        self.proofs.fetch_add(1, Ordering::Relaxed);
        Ok(Some(fetch(old, new).await?))
    }

    /// Check an entry and its inclusion proof against a checkpoint accepted here.
    ///
    /// # Errors
    /// [`ClientError::Log`] saying what does not match.
    pub(super) async fn check_entry(
        &self,
        what: &str,
        entry: &UncheckedEntry,
        proof: &InclusionProof,
        cp: &VerifiedCheckpoint,
    ) -> Result<ProvenEntry, ClientError> {
        let st = self.view.lock().await;
        st.view
            .check_entry(entry, proof, cp)
            .map_err(|e| log_err(what, e))
    }

    /// Write the newest checkpoint accepted to the state file now, if it changed since it was
    /// last written.
    pub(super) async fn save_state(&self) {
        let mut st = self.view.lock().await;
        if st.newest_size() != st.saved_size {
            write_state(self.state_file.as_deref(), &mut st);
        }
    }

    /// Write the state file when the newest changed and the last write is [`SAVE_EVERY`] old.
    fn save_now_and_then(&self, st: &mut ViewState) {
        let due = st.saved_at.is_none_or(|t| t.elapsed() >= SAVE_EVERY);
        if st.newest_size() != st.saved_size && due {
            write_state(self.state_file.as_deref(), st);
        }
    }
}

/// Keep the newest checkpoint of `st` in the state file `file` (best effort: a read-only state
/// folder only loses the memory between runs).
fn write_state(file: Option<&Path>, st: &mut ViewState) {
    st.saved_size = st.newest_size();
    st.saved_at = Some(Instant::now());
    let Some(f) = file else { return };
    let stored = Stored {
        log_key: st.view.verifier_key(),
        checkpoint: st.view.newest().map(|n| n.note.clone()),
    };
    let Ok(text) = serde_json::to_vec_pretty(&stored) else {
        return;
    };
    if let Some(d) = f.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    if let Err(e) = crate::offline::write_atomically_unsynced(f, &[&text]) {
        eprintln!("segel: warning: {e}");
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        let st = self.view.get_mut();
        if st.newest_size() != st.saved_size {
            write_state(self.state_file.as_deref(), st);
        }
    }
}

#[cfg(test)]
mod tests;
