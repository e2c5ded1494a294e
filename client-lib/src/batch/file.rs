//! One file of a batch: its memory held from the budget, its input read, its output skipped when
//! it already verifies, otherwise signed (whole or by digest) with retries and written.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::digest::digest_one;
use super::output::Target;
use super::{request_id, units, FileResult, Logged, Outcome, Shared};
use crate::error::ClientError;
use crate::online::{EntryKey, SignRequest};

pub(super) async fn one(s: &Arc<Shared>, rel: &Path) -> FileResult {
    let started = Instant::now();
    let output = s.opts.output.join(rel);
    let result = match Target::below(&s.root, &s.opts.output, rel) {
        Ok(target) => sign_one(s, rel, &target).await,
        Err(e) => Err(e),
    };
    let (outcome, bytes, logged, document_id) = match result {
        Ok(done) => done,
        Err(e) => (
            Outcome::Failed {
                reason: e.to_string(),
            },
            0,
            None,
            None,
        ),
    };
    FileResult {
        file: rel.to_path_buf(),
        output,
        outcome,
        bytes,
        logged,
        document_id,
        elapsed: started.elapsed(),
    }
}

/// Files up to this size are read and written on the async workers themselves: from and to the
/// page cache that takes tens of microseconds, less than handing the work to a blocking-pool
/// thread and back.
pub(super) const INLINE_IO: u64 = 1 << 20;

/// Run `f` inline when the file it handles is small, on the blocking pool otherwise.
pub(super) async fn io<T: Send + 'static>(
    bytes: u64,
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    if bytes <= INLINE_IO {
        f()
    } else {
        blocking(f).await
    }
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|source| ClientError::Task { source })?
}

/// The most a signature adds to a document (its CMS, dictionaries and cross-reference
/// section are tens of KB): an existing output that is larger by more than this is not read
/// (it cannot be this batch's output of the file, and is replaced).
const MAX_SIGNATURE_UPDATE: u64 = 16 << 20;

/// An output that already holds its input signed.
#[derive(Debug)]
struct Existing {
    /// Its size.
    bytes: u64,
    /// Its SHA-256: the document hash its log entry is found by.
    sha256: [u8; 32],
}

/// Does `output` already hold `input` signed (extends it, one signature over the whole file
/// passes against the agency's chain)? Its size and hash if so.
///
/// # Errors
/// A link, or anything but a regular file, at the output's name (see [`Target::read_existing`]).
fn already_signed(
    input: &[u8],
    output: &Target,
    trust: &[Vec<u8>],
) -> Result<Option<Existing>, ClientError> {
    let n = input.len() as u64;
    let Some(out) = output.read_existing(n + 1..=n.saturating_add(MAX_SIGNATURE_UPDATE))? else {
        return Ok(None);
    };
    Ok(verifies(input, &out, trust).then(|| Existing {
        bytes: out.len() as u64,
        sha256: pades::sha256(&out),
    }))
}

/// The log entry of an output signed in an earlier run, found by its document hash (an entry
/// of this batch's agency first), and the skip's reason saying what was found.
async fn earlier_entry(s: &Shared, existing: &Existing) -> (Option<Logged>, String) {
    const SKIPPED: &str = "already signed (the output exists and verifies)";
    let key = EntryKey::DocumentSha256(existing.sha256.to_vec());
    match s.client.entries(key).await {
        Ok(entries) => {
            // Only this agency's entry: another agency's seal under the same CA is not the
            // signature this batch made.
            let entry = entries.iter().find(|e| e.record.agency == s.opts.agency);
            match entry {
                Some(e) => (Some(Logged::of(e)), SKIPPED.into()),
                None => (
                    None,
                    format!("{SKIPPED}; this log holds no entry of it (signed elsewhere?)"),
                ),
            }
        }
        Err(e) => (
            None,
            format!("{SKIPPED}; its log entry could not be looked up: {e}"),
        ),
    }
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

/// A file's outcome, output size, log entry and (with a visible seal) document id.
type Done = (Outcome, u64, Option<Logged>, Option<String>);

async fn sign_one(s: &Arc<Shared>, rel: &Path, output: &Target) -> Result<Done, ClientError> {
    let path = s.opts.input.join(rel);
    let size = std::fs::metadata(&path).map_or(u64::MAX, |m| m.len());
    // Held until this file is done: its input (and the signed output, checked or written) are
    // in memory until then.
    let _memory = s
        .budget
        .acquire_many(units(size, s.budget_units))
        .await
        .expect("the memory budget is never closed");
    let (input, skip) = {
        let (path, output, shared) = (path.clone(), output.clone(), s.clone());
        io(size, move || {
            let input = crate::read_file(&path)?;
            let skip = already_signed(&input, &output, &shared.trust)?;
            Ok((input, skip))
        })
        .await?
    };
    if let Some(existing) = skip {
        drop(input);
        let (logged, reason) = earlier_entry(s, &existing).await;
        return Ok((Outcome::Skipped { reason }, existing.bytes, logged, None));
    }
    let mut req = SignRequest::new(&s.opts.agency);
    match s.opts.document_refs.as_ref().and_then(|r| r.get(rel)) {
        Some(reference) => req.document_ref = reference.to_string(),
        None if s.opts.document_ref_from_path => req.document_ref = rel.display().to_string(),
        None => {}
    }
    req.options = s.opts.options.clone();
    if s.opts.digest_only {
        // The request id comes from the input's hash, which preparing computes anyway.
        let (logged, bytes, document_id) = digest_one(s, &req, Some(rel), input, output).await?;
        Ok((
            Outcome::Signed {
                log_index: logged.index,
            },
            bytes,
            Some(logged),
            document_id,
        ))
    } else {
        // One pass over the input: its hash names the request, and the signed PDF's hash (which
        // the answer is checked against) continues from it.
        let state = crate::sha256_state(&input);
        let mut input_sha256 = [0; 32];
        input_sha256.copy_from_slice(state.clone().finish().as_ref());
        req.request_id = request_id(&s.opts.agency, rel, &input_sha256, None);
        let input = Bytes::from(input);
        // Only the update comes back; the output is the input followed by it.
        let (update, entry, document_id) = retry(s, || {
            s.client
                .sign_pdf_update(&req, input.clone(), Some(state.clone()))
        })
        .await?;
        let out = output.clone();
        let bytes = (input.len() + update.len()) as u64;
        io(bytes, move || out.write(&[&input, &update])).await?;
        Ok((
            Outcome::Signed {
                log_index: entry.index,
            },
            bytes,
            Some(Logged::of(&entry)),
            document_id,
        ))
    }
}

/// Attempts with the same request (and so the same request id) while failures are transient.
pub(super) async fn retry<T, F, Fut>(s: &Shared, mut attempt: F) -> Result<T, ClientError>
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
                reason: None,
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
    use std::os::fd::OwnedFd;

    use rustix::fs::{FileType, Mode};

    use super::super::output::DIR_OPEN;
    use super::*;

    fn root(dir: &Path) -> Arc<OwnedFd> {
        Arc::new(rustix::fs::open(dir, DIR_OPEN, Mode::empty()).expect("open"))
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
}
