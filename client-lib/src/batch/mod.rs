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
//! - A rerun's report keeps each skipped file's log entry: it is looked up in the log by the
//!   output's document hash, and the report says the file was signed in an earlier run.
//! - Per-document references (letter numbers) can be given in a file ([`DocumentRefs`]),
//!   checked whole before anything is signed.
//! - A visible seal ([`pades::SignOptions::visible`]) goes on every file at the same placement,
//!   each with its own document id, which the file's result and the report carry. In
//!   digest-only mode it is drawn here with the agency's stamp settings (`ListAgencies`); a
//!   batch for an agency without usable ones is refused before any file is signed.
//! - Stopping (Ctrl-C) lets the files in flight finish; the others are reported as not started.

mod digest;
mod file;
mod output;
mod refs;
mod report;

pub use refs::{DocumentRefs, LineProblem, RefProblem, MAX_DOCUMENT_REF};
pub use report::{FileResult, Logged, Outcome, Summary, EARLIER_RUN, THIS_RUN};

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::fs::Mode;

use crate::error::ClientError;
use crate::offline::sync_filesystem;
use crate::online::{Agency, Client, SignRequest};
use digest::digest_one;
use file::blocking;
use output::{check_folders, identity, remove_stale_temporaries, Target, DIR_OPEN};

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
    pub options: pades::SignOptions,
    /// Attempts per file for transient failures (timeouts, server unavailable).
    pub attempts: u32,
    /// Deadline of one attempt.
    pub timeout: Duration,
    /// Send each file's path relative to the input folder as its document reference. Off by
    /// default: no reference is sent, since file names often hold personal data (a citizen's
    /// name, an ID number) and the log is public.
    pub document_ref_from_path: bool,
    /// Each file's document reference (a letter number), from a references file; a file it
    /// names has that reference, whatever [`BatchOptions::document_ref_from_path`] says.
    pub document_refs: Option<DocumentRefs>,
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
            options: pades::SignOptions::default(),
            attempts: 3,
            timeout: Duration::from_secs(120),
            document_ref_from_path: false,
            document_refs: None,
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
    /// The memory budget in MiB ([`BatchOptions::memory`]), and its size.
    budget: tokio::sync::Semaphore,
    budget_units: u32,
    /// In digest-only mode with a visible seal: the agency's stamp settings, to draw it here.
    stamp: Option<pades::stamp::StampSettings>,
}

impl Shared {
    /// What every file of a run needs: the agency's chain (trust for skipping, room for the
    /// CMS) and, to draw a visible seal here (digest-only), its stamp settings.
    async fn new(
        client: Arc<Client>,
        opts: BatchOptions,
        root: Arc<OwnedFd>,
    ) -> Result<Arc<Self>, ClientError> {
        let agency = &client.agency(&opts.agency).await?;
        let stamp = if opts.digest_only && opts.options.visible.is_some() {
            Some(agency.stamp_settings()?.clone())
        } else {
            None
        };
        let budget_units = u32::try_from((opts.memory >> 20).max(1)).unwrap_or(u32::MAX >> 4);
        Ok(Arc::new(Self {
            trust: agency.certificate_chain.clone(),
            capacity: cms_capacity(agency),
            digest_scope: opts.digest_only.then(|| {
                opts.output
                    .canonicalize()
                    .unwrap_or_else(|_| opts.output.clone())
            }),
            budget: tokio::sync::Semaphore::new(budget_units as usize),
            budget_units,
            stamp,
            client,
            opts,
            root,
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
/// Only for the batch as a whole: an unreadable input folder, an output folder that overlaps
/// the input folder ([`ClientError::FoldersOverlap`]) or cannot be created, an agency this
/// client may not use, or document references naming files that are not in the batch
/// ([`ClientError::DocumentRefs`]). Per-file problems are results.
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
    if let Some(refs) = &opts.document_refs {
        refs.check_known(&files)
            .map_err(|problems| ClientError::DocumentRefs {
                file: refs.file().to_path_buf(),
                problems,
            })?;
    }
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
            set.spawn(async move { (i, file::one(&s, &rel).await) });
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
                outcome: Outcome::NotStarted,
                bytes: 0,
                logged: None,
                document_id: None,
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

/// Room a digest-only batch reserves for the CMS of `agency`: the chain it carries, the
/// signature and the signed attributes.
pub fn cms_capacity(agency: &Agency) -> usize {
    agency.certificate_chain.iter().map(Vec::len).sum::<usize>() + 8192
}

/// A file signed by its digest ([`sign_file_by_digest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedByDigest {
    /// The index of its log entry.
    pub log_index: u64,
    /// The output's size.
    pub bytes: u64,
    /// With a visible seal: the document id its QR code links to.
    pub document_id: Option<String>,
}

/// Sign one file by its digest (`segel sign --digest-only`): prepared here (with a visible
/// seal drawn here from the agency's stamp settings, linking to a new document id), only the
/// digest sent, the CMS embedded, the output written atomically and synced. With a request id
/// a retry gets the same entry back (the server keeps the signing time of the first attempt
/// and the file is prepared with it, and the same document id, again).
///
/// # Errors
/// Unreadable input, an agency without usable stamp settings for a visible seal, refusals,
/// answers that do not check out, unwritable output.
pub async fn sign_file_by_digest(
    client: Arc<Client>,
    req: &SignRequest,
    input: &Path,
    output: &Path,
) -> Result<SignedByDigest, ClientError> {
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
    // One id for every attempt at this file (the retries after a timeout among them).
    let mut req = req.clone();
    if req.request_id.is_empty() {
        req.request_id = crate::online::new_request_id();
    }
    let (logged, bytes, document_id) = digest_one(&shared, &req, None, data, &target).await?;
    sync_filesystem(&dir)?;
    Ok(SignedByDigest {
        log_index: logged.index,
        bytes,
        document_id,
    })
}

#[cfg(test)]
mod tests {
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
}
