//! Signing a folder of PDFs through one connection: bounded concurrency, atomic outputs,
//! resumable, with a per-file result for the report.
//!
//! - Every `*.pdf` under the input folder (recursively; symbolic links to folders are not
//!   followed, and the output folder is never read as input) is signed into the same relative
//!   path under the output folder, through a temporary file and a rename; one filesystem
//!   sync at the end makes them all durable before the batch reports.
//! - A rerun skips outputs that exist, extend their input, and carry a signature over the whole
//!   file that verifies against the agency's chain.
//! - The request id of a file is derived from the agency, its relative path and its content, so
//!   a retry (after a timeout, or in a rerun after an interruption) returns the entry the server
//!   already logged instead of logging a second one. In digest-only mode the signing time of a
//!   prepared file is kept in a journal in the output folder (`.segel-batch-journal`) before the
//!   digest is sent, so that a rerun prepares the identical bytes and asks for the same digest.
//! - Stopping (Ctrl-C) lets the files in flight finish; the others are reported as not signed.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use segel_proto::v1 as pb;

use crate::error::ClientError;
use crate::offline::{sync_filesystem, write_atomically_unsynced};
use crate::online::{Client, SignRequest};

/// Name of the digest-only journal in the output folder.
pub const JOURNAL: &str = ".segel-batch-journal";

/// How to run a batch.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The agency that seals.
    pub agency: String,
    /// Input folder.
    pub input: PathBuf,
    /// Output folder (created if missing).
    pub output: PathBuf,
    /// Files in flight at once (≥ 1).
    pub jobs: usize,
    /// Prepare each PDF here and send only its digest (`SignDigest`).
    pub digest_only: bool,
    /// Reason, location, field, PSS… for every file.
    pub options: pb::SignOptions,
    /// Attempts per file for transient failures (timeouts, server unavailable).
    pub attempts: u32,
    /// Deadline of one attempt.
    pub timeout: Duration,
}

impl BatchOptions {
    /// Defaults: 8 jobs, 3 attempts of at most 120 s each, whole documents sent.
    pub fn new(agency: &str, input: &Path, output: &Path) -> Self {
        Self {
            agency: agency.to_string(),
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            jobs: 8,
            digest_only: false,
            options: pb::SignOptions::default(),
            attempts: 3,
            timeout: Duration::from_secs(120),
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Signed now; the log index of its entry.
    Signed {
        /// Log index.
        log_index: u64,
    },
    /// Its output already existed and verified.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not signed.
    Failed {
        /// Why, with what to do next where that helps.
        reason: String,
    },
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// Path relative to the input folder.
    pub file: PathBuf,
    /// Output path.
    pub output: PathBuf,
    /// Outcome.
    pub outcome: Outcome,
    /// Size of the output when signed or skipped.
    pub bytes: u64,
    /// Time spent on it.
    pub elapsed: Duration,
}

/// A whole batch.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One result per input file, in path order.
    pub files: Vec<FileResult>,
    /// True when the batch was stopped before every file was tried.
    pub interrupted: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// Files signed now.
    pub fn signed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Signed { .. }))
    }
    /// Files skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }
    /// Files not signed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|r| f(&r.outcome)).count()
    }

    /// The report as JSON.
    pub fn to_json(&self, opts: &BatchOptions) -> String {
        let files: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|r| {
                let (status, index, reason) = outcome_fields(&r.outcome);
                serde_json::json!({
                    "file": r.file.display().to_string(),
                    "output": r.output.display().to_string(),
                    "status": status,
                    "log_index": index,
                    "reason": reason,
                    "bytes": r.bytes,
                    "ms": r.elapsed.as_millis() as u64,
                })
            })
            .collect();
        let v = serde_json::json!({
            "agency": opts.agency,
            "input": opts.input.display().to_string(),
            "output": opts.output.display().to_string(),
            "digest_only": opts.digest_only,
            "signed": self.signed(),
            "skipped": self.skipped(),
            "failed": self.failed(),
            "interrupted": self.interrupted,
            "seconds": self.elapsed.as_secs_f64(),
            "files": files,
        });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }

    /// The report as CSV (`file,output,status,log_index,reason,bytes,ms`).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("file,output,status,log_index,reason,bytes,ms\n");
        for r in &self.files {
            let (status, index, reason) = outcome_fields(&r.outcome);
            s.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                csv_field(&r.file.display().to_string()),
                csv_field(&r.output.display().to_string()),
                status,
                index.map(|i| i.to_string()).unwrap_or_default(),
                csv_field(&reason),
                r.bytes,
                r.elapsed.as_millis()
            ));
        }
        s
    }
}

fn outcome_fields(o: &Outcome) -> (&'static str, Option<u64>, String) {
    match o {
        Outcome::Signed { log_index } => ("signed", Some(*log_index), String::new()),
        Outcome::Skipped { reason } => ("skipped", None, reason.clone()),
        Outcome::Failed { reason } => ("failed", None, reason.clone()),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Every `*.pdf` under `input` (case-insensitive extension), relative to it, sorted; the
/// folder `exclude` (the output folder) and symbolic links to folders are not entered.
///
/// # Errors
/// An unreadable folder.
pub fn discover(input: &Path, exclude: &Path) -> Result<Vec<PathBuf>, ClientError> {
    let exclude = exclude.canonicalize().ok();
    let mut out = Vec::new();
    let mut stack = vec![input.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if exclude.is_some() && dir.canonicalize().ok() == exclude {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|source| ClientError::Read {
            path: dir.clone(),
            source,
        })?;
        for e in entries {
            let e = e.map_err(|source| ClientError::Read {
                path: dir.clone(),
                source,
            })?;
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
            } else if (kind.is_file() || (kind.is_symlink() && path.is_file()))
                && path
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("pdf"))
            {
                if let Ok(rel) = path.strip_prefix(input) {
                    out.push(rel.to_path_buf());
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The request id of a file: stable across reruns for the same agency, path and content (and,
/// in digest-only mode, output folder: the journal that makes its reruns identical lives
/// there; `digest_scope` is that folder, `None` for whole documents).
pub fn request_id(
    agency: &str,
    rel: &Path,
    input_sha256: &[u8; 32],
    digest_scope: Option<&Path>,
) -> String {
    let mut seed = Vec::new();
    seed.extend_from_slice(b"segel batch v1\0");
    if let Some(scope) = digest_scope {
        seed.extend_from_slice(b"digest\0");
        seed.extend_from_slice(scope.as_os_str().as_encoded_bytes());
        seed.push(0);
    }
    seed.extend_from_slice(agency.as_bytes());
    seed.push(0);
    seed.extend_from_slice(rel.as_os_str().as_encoded_bytes());
    seed.push(0);
    seed.extend_from_slice(input_sha256);
    let h = crate::sha256(&seed);
    format!("batch-{}", crate::hex(&h[..20]))
}

/// The digest-only journal: request id → signing time used when the file was prepared.
///
/// Lines are made durable by group commit: a file's line is appended at once, then one
/// `fdatasync` (on the blocking pool, one at a time) makes every line written so far durable,
/// and all the files waiting for it go on. A batch with many jobs in flight thus syncs the
/// journal a few hundred times a second at most, not once per file, and no async worker ever
/// waits inside an `fdatasync`.
struct Journal {
    file: Arc<std::fs::File>,
    state: std::sync::Mutex<JournalState>,
    /// The number of lines known durable, announced to the files waiting for theirs.
    synced: tokio::sync::watch::Sender<u64>,
    /// `fdatasync`s made (the group commit's measure: far fewer than lines under load).
    syncs: std::sync::atomic::AtomicU64,
    times: std::sync::Mutex<HashMap<String, i64>>,
}

struct JournalState {
    /// Lines appended (in this run).
    written: u64,
    /// An `fdatasync` is running.
    syncing: bool,
    /// The error of a failed `fdatasync`: what was written is not known durable, so every
    /// later record fails too.
    failed: Option<String>,
}

impl Journal {
    fn open(dir: &Path) -> Result<Self, ClientError> {
        let path = dir.join(JOURNAL);
        let err = |source| ClientError::Write {
            path: path.clone(),
            source,
        };
        let mut times = HashMap::new();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            // Read as empty, it would give reruns new signing times: refuse instead.
            Err(source) => {
                return Err(ClientError::Read {
                    path: path.clone(),
                    source,
                })
            }
        };
        // Only whole lines count: a line cut short by a crash (no newline) was never followed
        // by a request, and its time may be cut short too.
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            if let Some((id, t)) = line.trim_end().split_once(' ') {
                if let Ok(t) = t.parse() {
                    times.insert(id.to_string(), t);
                }
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(err)?;
        if !text.is_empty() && !text.ends_with('\n') {
            // End the torn line, so that the next record starts on a line of its own.
            file.write_all(b"\n").map_err(err)?;
        }
        Ok(Self {
            file: Arc::new(file),
            state: std::sync::Mutex::new(JournalState {
                written: 0,
                syncing: false,
                failed: None,
            }),
            synced: tokio::sync::watch::Sender::new(0),
            syncs: std::sync::atomic::AtomicU64::new(0),
            times: std::sync::Mutex::new(times),
        })
    }

    fn time_for(&self, id: &str) -> Option<i64> {
        self.times.lock().ok()?.get(id).copied()
    }

    fn lock(&self) -> std::io::Result<std::sync::MutexGuard<'_, JournalState>> {
        self.state
            .lock()
            .map_err(|_| std::io::Error::other("journal lock poisoned"))
    }

    /// Record `id`'s time durably, before the digest is sent: returns once the line is on disk.
    async fn record(&self, id: &str, time: i64) -> std::io::Result<()> {
        // Subscribed before the line is written: any sync that ends later is seen.
        let mut synced = self.synced.subscribe();
        let line = {
            let mut st = self.lock()?;
            if let Some(e) = &st.failed {
                return Err(std::io::Error::other(e.clone()));
            }
            // One write call per line, under the lock: lines never interleave.
            (&*self.file).write_all(format!("{id} {time}\n").as_bytes())?;
            st.written += 1;
            st.written
        };
        if let Ok(mut t) = self.times.lock() {
            t.insert(id.to_string(), time);
        }
        loop {
            let upto = {
                let mut st = self.lock()?;
                if let Some(e) = &st.failed {
                    return Err(std::io::Error::other(e.clone()));
                }
                if *synced.borrow_and_update() >= line {
                    return Ok(());
                }
                if st.syncing {
                    None
                } else {
                    st.syncing = true;
                    Some(st.written)
                }
            };
            match upto {
                // Another file's sync is running: wait for it (and, if it did not cover this
                // line, start the next one).
                None => {
                    if synced.changed().await.is_err() {
                        return Err(std::io::Error::other("journal closed"));
                    }
                }
                Some(upto) => {
                    let file = self.file.clone();
                    self.syncs
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let result = tokio::task::spawn_blocking(move || file.sync_data())
                        .await
                        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
                    let mut st = self.lock()?;
                    st.syncing = false;
                    if let Err(e) = &result {
                        st.failed = Some(format!("journal not made durable: {e}"));
                    }
                    drop(st);
                    // Wakes every waiter: the covered ones return, the others (and the failed)
                    // look again.
                    self.synced.send_modify(|s| {
                        if result.is_ok() {
                            *s = (*s).max(upto);
                        }
                    });
                    result?;
                }
            }
        }
    }
}

struct Shared {
    client: Arc<Client>,
    opts: BatchOptions,
    trust: Vec<Vec<u8>>,
    capacity: usize,
    journal: Option<Journal>,
}

impl Shared {
    /// What every file of a run needs: the agency's chain (trust for skipping, room for the
    /// CMS) and, with `journal_dir`, the digest journal kept there.
    async fn new(
        client: Arc<Client>,
        opts: BatchOptions,
        journal_dir: Option<&Path>,
    ) -> Result<Arc<Self>, ClientError> {
        let agencies = client.agencies().await?;
        let agency = find_agency(&agencies, &opts.agency)?;
        let journal = journal_dir.map(Journal::open).transpose()?;
        Ok(Arc::new(Self {
            trust: agency.certificate_chain.clone(),
            capacity: cms_capacity(agency),
            client,
            journal,
            opts,
        }))
    }
}

/// What [`run`] calls with each file's result and the number of files in the batch.
pub type OnResult = Arc<dyn Fn(&FileResult, usize) + Send + Sync>;

/// Run a batch. `on_result` sees each file's result as it is known, with the number of files
/// in the batch; `stop` ends the batch
/// early when it completes (files in flight finish first).
///
/// # Errors
/// Only for the batch as a whole: an unreadable input folder, an output folder that cannot be
/// created, or an agency this client may not use. Per-file problems are results.
pub async fn run(
    client: Arc<Client>,
    opts: BatchOptions,
    on_result: OnResult,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Summary, ClientError> {
    let started = Instant::now();
    std::fs::create_dir_all(&opts.output).map_err(|source| ClientError::Write {
        path: opts.output.clone(),
        source,
    })?;
    if opts.input.canonicalize().ok() == opts.output.canonicalize().ok() {
        return Err(ClientError::Settings(format!(
            "the output folder {} is the input folder: give another one (inputs are never \
             overwritten)",
            opts.output.display()
        )));
    }
    remove_stale_temporaries(&opts.output);
    let files = discover(&opts.input, &opts.output)?;
    let journal = opts.digest_only.then(|| opts.output.clone());
    let shared = Shared::new(client, opts, journal.as_deref()).await?;
    let jobs = shared.opts.jobs.max(1);
    let mut results: Vec<Option<FileResult>> = vec![None; files.len()];
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0;
    let mut interrupted = false;
    tokio::pin!(stop);
    loop {
        while !interrupted && set.len() < jobs && next < files.len() {
            let i = next;
            next += 1;
            let s = shared.clone();
            let rel = files[i].clone();
            set.spawn(async move { (i, one(&s, &rel).await) });
        }
        if set.is_empty() {
            break;
        }
        tokio::select! {
            done = set.join_next() => {
                match done {
                    Some(Ok((i, r))) => {
                        on_result(&r, files.len());
                        results[i] = Some(r);
                    }
                    Some(Err(e)) => {
                        // A task that panicked or was cancelled: its file is reported below.
                        eprintln!("segel: internal error in a batch task: {e}");
                    }
                    None => break,
                }
            }
            () = &mut stop, if !interrupted => {
                interrupted = true;
            }
        }
    }
    // Everything written durable at once: one filesystem sync instead of an fsync per file.
    // (A crash before it loses at most outputs, which a rerun recreates with the same log
    // entries: their request ids are the same, and an output is skipped only if it verifies.)
    let out_dir = shared.opts.output.clone();
    let sync_error =
        blocking(move || Ok(sync_filesystem(&out_dir).err().map(|e| e.to_string()))).await?;
    let total = files.len();
    let files = results
        .into_iter()
        .zip(files)
        .map(|(r, rel)| {
            r.unwrap_or_else(|| FileResult {
                output: shared.opts.output.join(&rel),
                file: rel,
                outcome: Outcome::Failed {
                    reason: "not signed: the batch was stopped first (rerun to continue)".into(),
                },
                bytes: 0,
                elapsed: Duration::ZERO,
            })
        })
        .collect();
    let mut files: Vec<FileResult> = files;
    if let Some(e) = sync_error {
        // Not durable, so not reported as signed.
        for r in &mut files {
            if matches!(r.outcome, Outcome::Signed { .. }) {
                r.outcome = Outcome::Failed {
                    reason: format!("signed, but the output could not be made durable: {e}"),
                };
            }
        }
    }
    Ok(Summary {
        files,
        interrupted: interrupted && next < total,
        elapsed: started.elapsed(),
    })
}

/// The agency `id` among those this client may use, or an error listing those.
fn find_agency<'a>(agencies: &'a [pb::Agency], id: &str) -> Result<&'a pb::Agency, ClientError> {
    agencies.iter().find(|a| a.id == id).ok_or_else(|| {
        let ids: Vec<&str> = agencies.iter().map(|a| a.id.as_str()).collect();
        ClientError::Settings(format!(
            "this client may not seal for agency {id:?}; it may for: {}",
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        ))
    })
}

/// Room for the CMS: the chain it carries, the signature and the signed attributes.
fn cms_capacity(agency: &pb::Agency) -> usize {
    agency.certificate_chain.iter().map(Vec::len).sum::<usize>() + 8192
}

/// Sign one file by its digest (`segel sign --digest-only`): prepared here, only the digest
/// sent, the CMS embedded, the output written atomically and synced. With a request id the
/// signing time is journalled in the output's folder first (as in a batch), so a retry with
/// the same id prepares identical bytes and gets the same entry back. Returns the log index
/// and the output's size.
///
/// # Errors
/// Unreadable input, refusals, answers that do not check out, unwritable output.
pub async fn sign_file_by_digest(
    client: Arc<Client>,
    req: &SignRequest,
    input: &Path,
    output: &Path,
) -> Result<(u64, u64), ClientError> {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut opts = BatchOptions::new(&req.agency, input, &dir);
    opts.options = req.options.clone();
    opts.digest_only = true;
    let journal = (!req.request_id.is_empty()).then_some(dir.as_path());
    let shared = Shared::new(client, opts, journal).await?;
    let data = crate::read_file(input)?;
    let (outcome, bytes) = digest_one(&shared, req, data, output).await?;
    let Outcome::Signed { log_index } = outcome else {
        return Err(ClientError::Settings("internal error: not signed".into()));
    };
    sync_filesystem(&dir)?;
    Ok((log_index, bytes))
}

/// Remove the temporary files of an earlier run that was killed before its renames
/// (`.NAME.segel-PID.tmp`, see [`crate::offline::write_atomically`]); they never hold a finished output.
fn remove_stale_temporaries(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                stack.push(e.path());
            } else if kind.is_file()
                && name.starts_with('.')
                && name.contains(".segel-")
                && name.ends_with(".tmp")
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

async fn one(s: &Arc<Shared>, rel: &Path) -> FileResult {
    let started = Instant::now();
    let output = s.opts.output.join(rel);
    let (outcome, bytes) = match sign_one(s, rel, &output).await {
        Ok((o, b)) => (o, b),
        Err(e) => (
            Outcome::Failed {
                reason: e.to_string(),
            },
            0,
        ),
    };
    FileResult {
        file: rel.to_path_buf(),
        output,
        outcome,
        bytes,
        elapsed: started.elapsed(),
    }
}

/// Files up to this size are read and written on the async workers themselves: from and to the
/// page cache that takes tens of microseconds, less than handing the work to a blocking-pool
/// thread and back (two context switches, which on this project's VM cost more than the copy).
const INLINE_IO: u64 = 1 << 20;

/// Run `f` inline when the file it handles is small, on the blocking pool otherwise.
async fn io<T: Send + 'static>(
    bytes: u64,
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    if bytes <= INLINE_IO {
        f()
    } else {
        blocking(f).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::Settings(format!("internal error: {e}")))?
}

/// Does `output` already hold `input` signed (extends it, one signature over the whole file
/// passes against the agency's chain)?
fn already_signed(input: &[u8], output: &Path, trust: &[Vec<u8>]) -> bool {
    let Ok(out) = std::fs::read(output) else {
        return false;
    };
    if out.len() <= input.len() || !out.starts_with(input) {
        return false;
    }
    let Ok(report) = pades::verify(
        &out,
        &pades::VerifyOptions {
            trust_anchors: trust.to_vec(),
            time: crate::offline::now(),
        },
    ) else {
        return false;
    };
    report.signatures.iter().any(|sig| {
        sig.coverage == pades::verify::Coverage::WholeFile
            && sig.indication == pades::Indication::TotalPassed
    })
}

async fn sign_one(
    s: &Arc<Shared>,
    rel: &Path,
    output: &Path,
) -> Result<(Outcome, u64), ClientError> {
    let path = s.opts.input.join(rel);
    let size = std::fs::metadata(&path).map_or(u64::MAX, |m| m.len());
    let (input, skip) = {
        let (path, output, trust) = (path.clone(), output.to_path_buf(), s.trust.clone());
        io(size, move || {
            let input = crate::read_file(&path)?;
            let skip = output.exists() && already_signed(&input, &output, &trust);
            Ok((input, skip))
        })
        .await?
    };
    if skip {
        let bytes = std::fs::metadata(output).map_or(0, |m| m.len());
        return Ok((
            Outcome::Skipped {
                reason: "already signed (the output exists and verifies)".into(),
            },
            bytes,
        ));
    }
    let input_sha256 = crate::sha256(&input);
    let mut req = SignRequest::new(&s.opts.agency);
    let scope = s.opts.digest_only.then(|| {
        s.opts
            .output
            .canonicalize()
            .unwrap_or_else(|_| s.opts.output.clone())
    });
    req.request_id = request_id(&s.opts.agency, rel, &input_sha256, scope.as_deref());
    req.document_ref = rel.display().to_string();
    req.options = s.opts.options.clone();
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ClientError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    if s.opts.digest_only {
        digest_one(s, &req, input, output).await
    } else {
        let input = Bytes::from(input);
        let sealed = retry(s, || s.client.sign_pdf(&req, input.clone())).await?;
        let out = output.to_path_buf();
        let pdf = sealed.pdf.clone();
        io(size, move || write_atomically_unsynced(&out, &[&pdf])).await?;
        Ok((
            Outcome::Signed {
                log_index: sealed.entry.index,
            },
            sealed.pdf.len() as u64,
        ))
    }
}

async fn digest_one(
    s: &Arc<Shared>,
    req: &SignRequest,
    input: Vec<u8>,
    output: &Path,
) -> Result<(Outcome, u64), ClientError> {
    let journal = s.journal.as_ref();
    let time = journal
        .and_then(|j| j.time_for(&req.request_id))
        .unwrap_or_else(|| crate::offline::now().0);
    let mut request = pades::SignatureRequest::new(pades::UnixTime(time));
    let o = &s.opts.options;
    request.reason = (!o.reason.is_empty()).then(|| o.reason.clone());
    request.location = (!o.location.is_empty()).then(|| o.location.clone());
    request.contact_info = (!o.contact_info.is_empty()).then(|| o.contact_info.clone());
    request.field = (!o.field_name.is_empty()).then(|| o.field_name.clone());
    request.page = o.page.max(1);
    let capacity = s.capacity;
    let engine = |source| ClientError::Engine {
        path: output.to_path_buf(),
        source,
    };
    if input.len() as u64 <= INLINE_IO {
        // A small file is prepared once, here on the async worker (tens of microseconds, less
        // than two hand-offs to the blocking pool), and kept prepared across the network wait.
        let p = pades::prepare(&input, &request, capacity).map_err(engine)?;
        let digest = p.digest();
        journal_time(s, req, time).await?;
        let sealed = retry(s, || s.client.sign_digest(req, digest)).await?;
        let signed = p.embed(&sealed.cms).map_err(engine)?;
        write_atomically_unsynced(output, &signed.parts())?;
        return Ok((
            Outcome::Signed {
                log_index: sealed.entry.index,
            },
            signed.len() as u64,
        ));
    }
    let input = Arc::new(input);
    let digest = {
        let (input, request) = (input.clone(), request.clone());
        let path = output.to_path_buf();
        blocking(move || {
            let p = pades::prepare(&input, &request, capacity)
                .map_err(|source| ClientError::Engine { path, source })?;
            Ok(p.digest())
        })
        .await?
    };
    journal_time(s, req, time).await?;
    let sealed = retry(s, || s.client.sign_digest(req, digest)).await?;
    let out = output.to_path_buf();
    let cms = sealed.cms;
    let bytes = blocking(move || {
        // Prepared again (the same bytes: same input, same time): the prepared state borrows
        // the input, which cannot cross to the blocking pool and back.
        let p =
            pades::prepare(&input, &request, capacity).map_err(|source| ClientError::Engine {
                path: out.clone(),
                source,
            })?;
        if p.digest() != digest {
            return Err(ClientError::Settings(
                "internal error: preparing the file twice gave two digests".into(),
            ));
        }
        let signed = p.embed(&cms).map_err(|source| ClientError::Engine {
            path: out.clone(),
            source,
        })?;
        write_atomically_unsynced(&out, &signed.parts())?;
        Ok(signed.len() as u64)
    })
    .await?;
    Ok((
        Outcome::Signed {
            log_index: sealed.entry.index,
        },
        bytes,
    ))
}

/// Journal the signing time of a prepared file (when there is a journal and it does not hold
/// that time already), durably, before its digest is sent.
async fn journal_time(s: &Shared, req: &SignRequest, time: i64) -> Result<(), ClientError> {
    if let Some(j) = &s.journal {
        if j.time_for(&req.request_id) != Some(time) {
            j.record(&req.request_id, time)
                .await
                .map_err(|source| ClientError::Write {
                    path: s.opts.output.join(JOURNAL),
                    source,
                })?;
        }
    }
    Ok(())
}

/// Attempts with the same request (and so the same request id) while failures are transient.
async fn retry<T, F, Fut>(s: &Shared, mut attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let attempts = s.opts.attempts.max(1);
    let mut n = 0;
    loop {
        n += 1;
        let r = match tokio::time::timeout(s.opts.timeout, attempt()).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Refused {
                what: "signing".into(),
                code: tonic::Code::DeadlineExceeded,
                message: format!("no answer within {:?}", s.opts.timeout),
            }),
        };
        match r {
            Err(e) if e.is_transient() && n < attempts => {
                tokio::time::sleep(Duration::from_millis(200 << n.min(6))).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_is_recursive_sorted_and_skips_the_output_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path();
        for p in [
            "b.pdf",
            "a/c.PDF",
            "a/notes.txt",
            "out/old.pdf",
            "z/y/x.pdf",
        ] {
            let p = input.join(p);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, b"%PDF-").expect("write");
        }
        let found = discover(input, &input.join("out")).expect("discover");
        let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(names, ["a/c.PDF", "b.pdf", "z/y/x.pdf"]);
    }

    #[test]
    fn request_ids_depend_on_agency_path_content_and_mode() {
        let h = [7; 32];
        let a = request_id("dev", Path::new("a/b.pdf"), &h, None);
        assert_eq!(a, request_id("dev", Path::new("a/b.pdf"), &h, None));
        assert!(a.starts_with("batch-") && a.len() <= 128);
        for other in [
            request_id("other", Path::new("a/b.pdf"), &h, None),
            request_id("dev", Path::new("a/c.pdf"), &h, None),
            request_id("dev", Path::new("a/b.pdf"), &[8; 32], None),
            request_id("dev", Path::new("a/b.pdf"), &h, Some(Path::new("/out"))),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain.pdf"), "plain.pdf");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[tokio::test]
    async fn the_journal_survives_a_torn_last_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open(dir.path()).expect("open");
        j.record("batch-1", 1_796_000_000).await.expect("record");
        drop(j);
        // A crash in the middle of a line.
        let path = dir.path().join(JOURNAL);
        let mut text = std::fs::read(&path).expect("read");
        text.extend_from_slice(b"batch-2 17");
        std::fs::write(&path, text).expect("write");
        let j = Journal::open(dir.path()).expect("reopen");
        assert_eq!(j.time_for("batch-1"), Some(1_796_000_000));
        // The torn line is not taken (its time is cut short); a new record is read back.
        assert_eq!(j.time_for("batch-2"), None);
        j.record("batch-2", 1_796_000_123).await.expect("record");
        drop(j);
        let j = Journal::open(dir.path()).expect("reopen");
        assert_eq!(j.time_for("batch-2"), Some(1_796_000_123));
    }

    /// Many files recording at once share `fdatasync`s, and every line is there afterwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_records_share_their_syncs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Arc::new(Journal::open(dir.path()).expect("open"));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..200_i64 {
            let j = j.clone();
            set.spawn(async move { j.record(&format!("batch-{i}"), 1_796_000_000 + i).await });
        }
        while let Some(r) = set.join_next().await {
            r.expect("task").expect("record");
        }
        let syncs = j.syncs.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            (1..200).contains(&syncs),
            "{syncs} fdatasyncs for 200 lines"
        );
        assert_eq!(*j.synced.borrow(), 200);
        drop(j);
        let j = Journal::open(dir.path()).expect("reopen");
        for i in 0..200_i64 {
            assert_eq!(j.time_for(&format!("batch-{i}")), Some(1_796_000_000 + i));
        }
    }
}
