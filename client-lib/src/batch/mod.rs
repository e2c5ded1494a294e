//! Signing a folder of PDFs through one connection: bounded concurrency, atomic outputs,
//! resumable, with a per-file result for the report.
//!
//! - Every `*.pdf` under the input folder (recursively; symbolic links to folders are not
//!   followed) is signed into the same relative path under the output folder, through a new
//!   temporary file and a rename; one filesystem sync at the end makes them all durable before
//!   the batch reports. The output folder may not be the input folder, contain it or lie inside
//!   it.
//! - Outputs are never written through a symbolic link: the output folder is held open and
//!   every output below it is reached from it one name at a time without following links. An
//!   output, or an output subfolder, that is a link fails that file (nothing is written there);
//!   temporary files are created new (`O_EXCL`), never opened if something is at their name.
//! - No file path or name is sent to the server unless asked for
//!   ([`BatchOptions::document_ref_from_path`]): file names often hold personal data, and the log
//!   is public.
//! - A rerun skips outputs that exist, extend their input, and carry a signature over the whole
//!   file that verifies against the agency's chain.
//! - The request id of a file is derived from the agency, its relative path and its content, so
//!   a retry (after a timeout, or in a rerun after an interruption) returns the entry the server
//!   already logged instead of logging a second one. In digest-only mode the server keeps the
//!   signing time a file was first prepared with, with its request id (in the same durable
//!   commit as the entry); a rerun that prepared the file anew is told that time, prepares the
//!   identical bytes and gets the same entry back.
//! - Stopping (Ctrl-C) lets the files in flight finish; the others are reported as not signed.

mod output;

use output::{check_folders, identity, remove_stale_temporaries, Target, DIR_OPEN};

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustix::fs::Mode;
use segel_proto::v1 as pb;

use crate::error::ClientError;
use crate::offline::sync_filesystem;
use crate::online::{Client, SignRequest};

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
    /// Bytes of input documents held in memory at once, over all the files in flight (each
    /// file counts whole MiB, at least one). A file that does not fit waits for others to
    /// finish, and a file larger than the whole budget runs alone: so many jobs stay safe with
    /// large scans in the folder.
    pub memory: u64,
    /// Prepare each PDF here and send only its digest (`SignDigest`).
    pub digest_only: bool,
    /// Reason, location, field, PSS… for every file.
    pub options: pb::SignOptions,
    /// Attempts per file for transient failures (timeouts, server unavailable).
    pub attempts: u32,
    /// Deadline of one attempt.
    pub timeout: Duration,
    /// Send each file's path relative to the input folder as its document reference. Off by
    /// default: no reference is sent, since file names often hold personal data (a citizen's
    /// name, an ID number) and the log is public.
    pub document_ref_from_path: bool,
}

impl BatchOptions {
    /// Defaults: 16 jobs, [`DEFAULT_MEMORY`] of inputs in memory, 3 attempts of at most
    /// 120 s each, whole documents sent, no document reference.
    pub fn new(agency: &str, input: &Path, output: &Path) -> Self {
        Self {
            agency: agency.to_string(),
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            jobs: 16,
            memory: DEFAULT_MEMORY,
            digest_only: false,
            options: pb::SignOptions::default(),
            attempts: 3,
            timeout: Duration::from_secs(120),
            document_ref_from_path: false,
        }
    }
}

/// The default [`BatchOptions::memory`]: 512 MiB of input documents in memory at once.
pub const DEFAULT_MEMORY: u64 = 512 << 20;

/// The budget's unit: a file of `size` bytes holds `units(size, total)` of the `total` units
/// (MiB) while it is in flight: whole MiB, at least one, at most the whole budget.
fn units(size: u64, total: u32) -> u32 {
    let mib = size.div_ceil(1 << 20).max(1);
    u32::try_from(mib).unwrap_or(u32::MAX).min(total.max(1))
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
/// folder `exclude` (the output folder, recognised by its identity, device and inode, however
/// it is reached: a bind mount too) and symbolic links to folders are not entered.
///
/// # Errors
/// An unreadable folder.
pub fn discover(input: &Path, exclude: &Path) -> Result<Vec<PathBuf>, ClientError> {
    let exclude = identity(exclude);
    let mut out = Vec::new();
    let mut stack = vec![input.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if exclude.is_some() && identity(&dir) == exclude {
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
/// in digest-only mode, output folder: `digest_scope`, `None` for whole documents).
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
    let h = pades::sha256(&seed);
    format!("batch-{}", hex::encode(&h[..20]))
}

struct Shared {
    client: Arc<Client>,
    opts: BatchOptions,
    /// The output folder, held open (see [`Target`]).
    root: Arc<OwnedFd>,
    trust: Vec<Vec<u8>>,
    capacity: usize,
    /// In digest-only mode, the output folder (canonical) that request ids are scoped to.
    digest_scope: Option<PathBuf>,
    /// Input buffers of files already done, for the next ones (see [`Shared::read`]).
    buffers: std::sync::Mutex<Vec<Vec<u8>>>,
    /// The memory budget in MiB ([`BatchOptions::memory`]), and its size.
    budget: tokio::sync::Semaphore,
    budget_units: u32,
}

/// Inputs up to this size are read into buffers that are kept for the next files.
const POOLED: usize = 4 << 20;

impl Shared {
    /// What every file of a run needs: the agency's chain (trust for skipping, room for the
    /// CMS).
    async fn new(
        client: Arc<Client>,
        opts: BatchOptions,
        root: Arc<OwnedFd>,
    ) -> Result<Arc<Self>, ClientError> {
        let agencies = client.agencies().await?;
        let agency = find_agency(&agencies, &opts.agency)?;
        let budget_units = u32::try_from((opts.memory >> 20).max(1)).unwrap_or(u32::MAX >> 4);
        Ok(Arc::new(Self {
            trust: agency.certificate_chain.clone(),
            capacity: cms_capacity(agency),
            digest_scope: opts.digest_only.then(|| {
                opts.output
                    .canonicalize()
                    .unwrap_or_else(|_| opts.output.clone())
            }),
            buffers: std::sync::Mutex::new(Vec::new()),
            budget: tokio::sync::Semaphore::new(budget_units as usize),
            budget_units,
            client,
            opts,
            root,
        }))
    }

    /// Read the input at `path` (`size` bytes by its metadata), into the buffer of a file
    /// already done when there is one: a fresh buffer for every file costs the allocator fresh
    /// pages, which the kernel must clear (on this project's VM that showed as ~3% of a
    /// batch's CPU).
    fn read(&self, path: &Path, size: u64) -> Result<Vec<u8>, ClientError> {
        use std::io::Read;
        let mut buf = self
            .buffers
            .lock()
            .ok()
            .and_then(|mut b| b.pop())
            .unwrap_or_default();
        buf.clear();
        let read = (|| {
            let mut f = std::fs::File::open(path)?;
            // The whole file at once, as `std::fs::read` does (a size that is no longer right only
            // costs a reallocation).
            if let Ok(n) = usize::try_from(size) {
                if n < isize::MAX as usize {
                    buf.try_reserve_exact(n)?;
                }
            }
            f.read_to_end(&mut buf)
        })();
        read.map(|_| buf).map_err(|source| ClientError::Read {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Keep the input buffer of a file that is done for the next one (one per job at most).
    fn recycle(&self, buf: Vec<u8>) {
        if buf.capacity() <= POOLED {
            if let Ok(mut b) = self.buffers.lock() {
                if b.len() < self.opts.jobs.max(1) {
                    b.push(buf);
                }
            }
        }
    }
}

/// What [`run`] calls with each file's result and the number of files in the batch.
pub type OnResult = Arc<dyn Fn(&FileResult, usize) + Send + Sync>;

/// Run a batch. `on_result` sees each file's result as it is known, with the number of files
/// in the batch; `stop` ends the batch
/// early when it completes (files in flight finish first).
///
/// # Errors
/// Only for the batch as a whole: an unreadable input folder, an output folder that overlaps
/// the input folder ([`ClientError::FoldersOverlap`]) or cannot be created, or an agency this
/// client may not use. Per-file problems are results.
pub async fn run(
    client: Arc<Client>,
    opts: BatchOptions,
    on_result: OnResult,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Summary, ClientError> {
    let started = Instant::now();
    check_folders(&opts.input, &opts.output)?;
    std::fs::create_dir_all(&opts.output).map_err(|source| ClientError::Write {
        path: opts.output.clone(),
        source,
    })?;
    // The output folder as named (a link there is the caller's choice); everything below it
    // is reached from this descriptor.
    let root = rustix::fs::open(&opts.output, DIR_OPEN, Mode::empty()).map_err(|e| {
        ClientError::Write {
            path: opts.output.clone(),
            source: e.into(),
        }
    })?;
    remove_stale_temporaries(&root);
    let files = discover(&opts.input, &opts.output)?;
    let shared = Shared::new(client, opts, Arc::new(root)).await?;
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

/// Room a digest-only batch reserves for the CMS of `agency`: the chain it carries, the
/// signature and the signed attributes.
pub fn cms_capacity(agency: &pb::Agency) -> usize {
    agency.certificate_chain.iter().map(Vec::len).sum::<usize>() + 8192
}

/// Sign one file by its digest (`segel sign --digest-only`): prepared here, only the digest
/// sent, the CMS embedded, the output written atomically and synced. With a request id a
/// retry gets the same entry back (the server keeps the signing time of the first attempt and
/// the file is prepared with it again). Returns the log index and the output's size.
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
    let root = rustix::fs::open(&dir, DIR_OPEN, Mode::empty()).map_err(|e| ClientError::Write {
        path: dir.clone(),
        source: e.into(),
    })?;
    let root = Arc::new(root);
    let target = Target {
        dir: root.clone(),
        name: output
            .file_name()
            .ok_or_else(|| ClientError::Write {
                path: output.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
            })?
            .to_os_string(),
        path: output.to_path_buf(),
    };
    let shared = Shared::new(client, opts, root).await?;
    let data = crate::read_file(input)?;
    let (outcome, bytes) = digest_one(&shared, req, None, data, &target).await?;
    let Outcome::Signed { log_index } = outcome else {
        return Err(ClientError::Settings("internal error: not signed".into()));
    };
    sync_filesystem(&dir)?;
    Ok((log_index, bytes))
}

async fn one(s: &Arc<Shared>, rel: &Path) -> FileResult {
    let started = Instant::now();
    let output = s.opts.output.join(rel);
    let result = match Target::below(&s.root, &s.opts.output, rel) {
        Ok(target) => sign_one(s, rel, &target).await,
        Err(e) => Err(e),
    };
    let (outcome, bytes) = match result {
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

/// Run `f`, which writes an output of `bytes`, inline when the output is small, on the blocking
/// pool otherwise: from [`crate::offline::DIRECT_FROM`] on, outputs are written with direct
/// I/O, which waits for the disk.
async fn write_io<T: Send + 'static>(
    bytes: usize,
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    if bytes < crate::offline::DIRECT_FROM {
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

/// The most a signature adds to a document (its CMS, dictionaries and cross-reference
/// section are tens of KB): an existing output that is larger by more than this is not read
/// (it cannot be this batch's output of the file, and is replaced).
const MAX_SIGNATURE_UPDATE: u64 = 16 << 20;

/// Does `output` already hold `input` signed (extends it, one signature over the whole file
/// passes against the agency's chain)? Its size if so.
///
/// # Errors
/// A link, or anything but a regular file, at the output's name (see [`Target::read_existing`]).
fn already_signed(
    input: &[u8],
    output: &Target,
    trust: &[Vec<u8>],
) -> Result<Option<u64>, ClientError> {
    let n = input.len() as u64;
    let Some(out) = output.read_existing(n + 1..=n.saturating_add(MAX_SIGNATURE_UPDATE))? else {
        return Ok(None);
    };
    Ok(verifies(input, &out, trust).then_some(out.len() as u64))
}

fn verifies(input: &[u8], out: &[u8], trust: &[Vec<u8>]) -> bool {
    if out.len() <= input.len() || !out.starts_with(input) {
        return false;
    }
    let Ok(report) = pades::verify(
        out,
        &pades::VerifyOptions {
            trust_anchors: trust.to_vec(),
            time: pades::UnixTime::now(),
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
    output: &Target,
) -> Result<(Outcome, u64), ClientError> {
    let path = s.opts.input.join(rel);
    let size = std::fs::metadata(&path).map_or(u64::MAX, |m| m.len());
    // Held until this file is done: its input (and the signed output, checked or written) are
    // in memory until then.
    let _memory = s
        .budget
        .acquire_many(units(size, s.budget_units))
        .await
        .map_err(|e| ClientError::Settings(format!("internal error: {e}")))?;
    let (input, skip) = {
        let (path, output, shared) = (path.clone(), output.clone(), s.clone());
        io(size, move || {
            let input = shared.read(&path, size)?;
            let skip = already_signed(&input, &output, &shared.trust)?;
            Ok((input, skip))
        })
        .await?
    };
    if let Some(bytes) = skip {
        return Ok((
            Outcome::Skipped {
                reason: "already signed (the output exists and verifies)".into(),
            },
            bytes,
        ));
    }
    let mut req = SignRequest::new(&s.opts.agency);
    if s.opts.document_ref_from_path {
        req.document_ref = rel.display().to_string();
    }
    req.options = s.opts.options.clone();
    if s.opts.digest_only {
        // The request id comes from the input's hash, which preparing computes anyway.
        digest_one(s, &req, Some(rel), input, output).await
    } else {
        // One pass over the input: its hash names the request, and the signed PDF's hash (which
        // the answer is checked against) continues from it.
        let state = crate::sha256_state(&input);
        let mut input_sha256 = [0; 32];
        input_sha256.copy_from_slice(state.clone().finish().as_ref());
        req.request_id = request_id(&s.opts.agency, rel, &input_sha256, None);
        let input = Bytes::from(input);
        // Only the update comes back; the output is the input followed by it.
        let (update, entry) = retry(s, || {
            s.client
                .sign_pdf_update(&req, input.clone(), Some(state.clone()))
        })
        .await?;
        let out = output.clone();
        let bytes = (input.len() + update.len()) as u64;
        write_io(bytes as usize, move || out.write(&[&input, &update])).await?;
        Ok((
            Outcome::Signed {
                log_index: entry.index,
            },
            bytes,
        ))
    }
}

async fn digest_one(
    s: &Arc<Shared>,
    req: &SignRequest,
    rel: Option<&Path>,
    input: Vec<u8>,
    output: &Target,
) -> Result<(Outcome, u64), ClientError> {
    let input = Arc::new(input);
    let result = digest_attempts(s, req, rel, &input, output).await;
    // Every copy of the input has been let go by now (the writes have finished).
    if let Ok(buf) = Arc::try_unwrap(input) {
        s.recycle(buf);
    }
    result
}

/// [`digest_one`] with the input read: the first attempt, and a second one prepared with the
/// signing time the server kept for the request id, if it names one.
async fn digest_attempts(
    s: &Arc<Shared>,
    req: &SignRequest,
    rel: Option<&Path>,
    input: &Arc<Vec<u8>>,
    output: &Target,
) -> Result<(Outcome, u64), ClientError> {
    let now = pades::UnixTime::now().0;
    // A second attempt only when the server kept another signing time for this request id (an
    // earlier attempt that reached it, in a run that was killed or lost power): the file is
    // prepared with that time, so the digest, and the entry returned, are the same.
    match digest_attempt(s, req, rel, input, output, now, None).await {
        Err(ClientError::EarlierSigningTime {
            time: first,
            request_id,
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
            digest_attempt(s, req, rel, input, output, first, Some(first)).await
        }
        other => other,
    }
}

/// How far a signing time the server names may lie from now (ahead) or from the time its entry
/// was logged: the clocks of client and server, and the network between preparing and logging.
const NAMED_TIME_SLACK: i64 = 15 * 60;

/// Sign one prepared file by its digest, prepared with `time`; with `rel` (a batch's file) under
/// the request id of that path and the content, otherwise under `req`'s. `named`: the time the
/// server named for this request id; the entry it returns must have been logged then.
async fn digest_attempt(
    s: &Arc<Shared>,
    req: &SignRequest,
    rel: Option<&Path>,
    input: &Arc<Vec<u8>>,
    output: &Target,
    time: i64,
    named: Option<i64>,
) -> Result<(Outcome, u64), ClientError> {
    let request = pades::SignOptions::from(&s.opts.options).request(pades::UnixTime(time));
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
        let sealed = retry(s, || s.client.sign_digest(&req, digest, time)).await?;
        check_named(named, &sealed)?;
        let signed = p.embed(&sealed.cms).map_err(engine)?;
        let len = signed.len();
        let tail = signed.into_tail();
        let (input, out) = (input.clone(), output.clone());
        write_io(len, move || out.write(&[&input, &tail])).await?;
        return Ok((
            Outcome::Signed {
                log_index: sealed.entry.index,
            },
            len as u64,
        ));
    }
    let input = input.clone();
    let (digest, input_sha256) = {
        let (input, request) = (input.clone(), request.clone());
        let path = output.path.clone();
        blocking(move || {
            let p = pades::prepare(input.as_slice(), &request, capacity)
                .map_err(|source| ClientError::Engine { path, source })?;
            Ok((p.digest(), p.input_sha256()))
        })
        .await?
    };
    let req = with_id(s, req, rel, &input_sha256);
    let sealed = retry(s, || s.client.sign_digest(&req, digest, time)).await?;
    check_named(named, &sealed)?;
    let out = output.clone();
    let cms = sealed.cms;
    let bytes = blocking(move || {
        // Prepared again (the same bytes: same input, same time): the prepared state borrows
        // the input, which cannot cross to the blocking pool and back.
        let p = pades::prepare(input.as_slice(), &request, capacity).map_err(|source| {
            ClientError::Engine {
                path: out.path.clone(),
                source,
            }
        })?;
        if p.digest() != digest {
            return Err(ClientError::Settings(
                "internal error: preparing the file twice gave two digests".into(),
            ));
        }
        let signed = p.embed(&cms).map_err(|source| ClientError::Engine {
            path: out.path.clone(),
            source,
        })?;
        out.write(&signed.parts())?;
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
fn check_named(
    named: Option<i64>,
    sealed: &crate::online::SealedDigest,
) -> Result<(), ClientError> {
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
    use rustix::fs::FileType;

    use super::output::canonical_to_be;
    use super::*;

    #[test]
    fn a_file_holds_whole_mib_of_the_budget_and_never_more_than_all_of_it() {
        assert_eq!(units(0, 512), 1);
        assert_eq!(units(1, 512), 1);
        assert_eq!(units(1 << 20, 512), 1);
        assert_eq!(units((1 << 20) + 1, 512), 2);
        assert_eq!(units(100 << 20, 512), 100);
        assert_eq!(units(600 << 20, 512), 512);
        assert_eq!(units(u64::MAX, 512), 512);
        assert_eq!(units(5, 0), 1);
    }

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

    fn root(dir: &Path) -> Arc<OwnedFd> {
        Arc::new(rustix::fs::open(dir, DIR_OPEN, Mode::empty()).expect("open"))
    }

    #[test]
    fn the_output_folder_to_be_is_compared_as_a_canonical_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir_all(top.join("a/b")).expect("mkdir");
        std::os::unix::fs::symlink(top.join("a/b"), top.join("link")).expect("symlink");
        for (given, expected) in [
            ("a/b", "a/b"),
            ("link", "a/b"),
            ("link/../x", "a/x"),
            ("a/new/../b", "a/b"),
            ("a/new/deeper/../..", "a"),
            ("link/new/./c", "a/b/new/c"),
        ] {
            assert_eq!(
                canonical_to_be(&top.join(given)).expect("canonical"),
                top.join(expected),
                "{given}"
            );
        }
        let input = top.join("a/b");
        for (output, relation) in [
            ("a", "contains"),
            ("link", "is"),
            ("link/new/c", "is inside"),
        ] {
            match check_folders(&input, &top.join(output)) {
                Err(ClientError::FoldersOverlap { relation: r, .. }) => {
                    assert_eq!(r, relation, "{output}")
                }
                other => panic!("{output}: {other:?}"),
            }
        }
        check_folders(&input, &top.join("a/c")).expect("siblings");
        check_folders(&input, &top.join("a/bb")).expect("a longer name is not inside");
    }

    #[test]
    fn stale_temporaries_are_removed_without_following_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (out, elsewhere) = (dir.path().join("out"), dir.path().join("elsewhere"));
        std::fs::create_dir_all(out.join("sub/deeper")).expect("mkdir");
        std::fs::create_dir_all(&elsewhere).expect("mkdir");
        let stale = [".a.pdf.segel-1.tmp", "sub/deeper/.b.pdf.segel-22-3.tmp"];
        for f in stale {
            std::fs::write(out.join(f), b"partial").expect("write");
        }
        // Kept: an output, a temporary name that is a link (and its target), and everything
        // behind a linked folder.
        std::fs::write(out.join("sub/c.pdf"), b"output").expect("write");
        std::fs::write(elsewhere.join(".d.pdf.segel-1.tmp"), b"not ours").expect("write");
        std::os::unix::fs::symlink(&elsewhere, out.join("linked")).expect("symlink");
        let victim = elsewhere.join("victim");
        std::fs::write(&victim, b"keep").expect("write");
        std::os::unix::fs::symlink(&victim, out.join(".e.pdf.segel-1.tmp")).expect("symlink");
        remove_stale_temporaries(&root(&out));
        for f in stale {
            assert!(!out.join(f).exists(), "{f} left");
        }
        assert!(out.join("sub/c.pdf").exists());
        assert!(elsewhere.join(".d.pdf.segel-1.tmp").exists());
        assert!(std::fs::symlink_metadata(out.join(".e.pdf.segel-1.tmp")).is_ok());
        assert_eq!(std::fs::read(&victim).expect("victim"), b"keep");
    }

    #[test]
    fn a_fifo_at_an_output_name_fails_that_file_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).expect("mkdir");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            out.join("a.pdf"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        let target = Target::below(&root(&out), &out, Path::new("a.pdf")).expect("target");
        let e = already_signed(b"%PDF-", &target, &[]).expect_err("a FIFO");
        assert!(e.to_string().contains("regular file"), "{e}");
        let e = target.write(&[b"%PDF-"]).expect_err("a FIFO");
        assert!(e.to_string().contains("regular file"), "{e}");
        // Only the FIFO: the temporary file is gone.
        assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 1);
    }

    #[test]
    fn outputs_replace_regular_files_only_and_never_through_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).expect("mkdir");
        let root = root(&out);
        // New, then over an earlier output.
        let t = Target::below(&root, &out, Path::new("x/y/a.pdf")).expect("target");
        t.write(&[b"one"]).expect("write");
        t.write(&[b"two"]).expect("write");
        assert_eq!(std::fs::read(out.join("x/y/a.pdf")).expect("read"), b"two");
        // A link at the name, planted after the target was made: refused, left as it is.
        std::fs::write(dir.path().join("victim"), b"keep").expect("write");
        std::os::unix::fs::symlink(dir.path().join("victim"), out.join("x/y/b.pdf"))
            .expect("symlink");
        let t = Target::below(&root, &out, Path::new("x/y/b.pdf")).expect("target");
        match t.write(&[b"three"]) {
            Err(ClientError::SymlinkedOutput { path }) => assert_eq!(path, out.join("x/y/b.pdf")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            t.read_existing(0..=100),
            Err(ClientError::SymlinkedOutput { .. })
        ));
        assert_eq!(
            std::fs::read(dir.path().join("victim")).expect("read"),
            b"keep"
        );
        assert_eq!(std::fs::read_dir(out.join("x/y")).expect("dir").count(), 2);
        // A folder on the way replaced by a link after its target was made: the output still
        // goes to the folder that was opened, never through the link.
        let t = Target::below(&root, &out, Path::new("x/y/c.pdf")).expect("target");
        std::fs::rename(out.join("x/y"), dir.path().join("moved")).expect("move");
        std::fs::create_dir_all(dir.path().join("else")).expect("mkdir");
        std::os::unix::fs::symlink(dir.path().join("else"), out.join("x/y")).expect("symlink");
        t.write(&[b"four"]).expect("write");
        assert_eq!(
            std::fs::read(dir.path().join("moved/c.pdf")).expect("read"),
            b"four"
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("else"))
                .expect("dir")
                .count(),
            0
        );
        assert!(matches!(
            Target::below(&root, &out, Path::new("x/y/d.pdf")),
            Err(ClientError::SymlinkedOutput { path }) if path == out.join("x/y")
        ));
        // Anything but plain names below the output folder is refused.
        for rel in ["../a.pdf", "/etc/a.pdf", "x/../../a.pdf", ""] {
            assert!(Target::below(&root, &out, Path::new(rel)).is_err(), "{rel}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain.pdf"), "plain.pdf");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
