//! Offline signing and verification of files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pades::{RsaKeySigner, SignatureAlgorithm, SignatureRequest, SignerIdentity, UnixTime};

use crate::error::ClientError;
use crate::pem;

/// What `segel sign` needs.
#[derive(Debug, Clone)]
pub struct SignFileOptions {
    /// Private key (PEM, PKCS#8 or PKCS#1).
    pub key: PathBuf,
    /// Signer certificate (PEM).
    pub cert: PathBuf,
    /// Further chain certificates (PEM), optional.
    pub chain: Option<PathBuf>,
    /// Use RSASSA-PSS instead of PKCS#1 v1.5.
    pub pss: bool,
    /// Field, page, reason, location… (its `time` is overwritten with the clock).
    pub request: SignatureRequest,
}

/// The current time.
pub fn now() -> UnixTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Result of signing a file.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The field that was signed.
    pub field: String,
    /// Output size.
    pub bytes: usize,
    /// The `/ByteRange`.
    pub byte_range: [usize; 4],
}

/// Sign `input` into `output`, atomically: the output appears complete or not at all.
///
/// # Errors
/// Unreadable files, unusable key or certificates, or a document the engine refuses.
pub fn sign_file(
    input: &Path,
    output: &Path,
    opts: &SignFileOptions,
) -> Result<Signed, ClientError> {
    let key_der = pem::read_private_key(&opts.key)?;
    let alg = if opts.pss {
        SignatureAlgorithm::RsaPssSha256
    } else {
        SignatureAlgorithm::RsaPkcs1Sha256
    };
    let signer = RsaKeySigner::from_der(&key_der, alg).map_err(|source| ClientError::Key {
        path: opts.key.clone(),
        source,
    })?;
    drop(key_der);
    let mut chain = pem::read_certificates(&opts.cert)?;
    chain.truncate(1);
    if let Some(c) = &opts.chain {
        chain.extend(pem::read_certificates(c)?);
    }
    let identity = SignerIdentity::new(chain).map_err(|source| ClientError::Engine {
        path: opts.cert.clone(),
        source,
    })?;
    let data = crate::read_file(input)?;
    let mut request = opts.request.clone();
    request.time = now();
    let signed =
        pades::sign(&data, &request, &signer, &identity).map_err(|source| ClientError::Engine {
            path: input.to_path_buf(),
            source,
        })?;
    write_atomically(output, &signed.parts())?;
    Ok(Signed {
        field: signed.field().to_string(),
        bytes: signed.len(),
        byte_range: signed.byte_range(),
    })
}

/// Write `parts` to `path` through a temporary file in the same directory, fsync, rename,
/// fsync the directory.
///
/// # Errors
/// When any step fails; the temporary file is removed then.
pub fn write_atomically(path: &Path, parts: &[&[u8]]) -> Result<(), ClientError> {
    write_file(path, parts, true)
}

/// [`write_atomically`] without any fsync: the file appears complete or not at all to every
/// process (the rename is atomic), but it is durable only after [`sync_filesystem`]. For many
/// files at once (a batch), where one filesystem sync at the end replaces an fsync per file
/// (on this project's machine an fsync costs ~0.5 ms of CPU, more than a signature).
///
/// # Errors
/// As [`write_atomically`].
pub fn write_atomically_unsynced(path: &Path, parts: &[&[u8]]) -> Result<(), ClientError> {
    write_file(path, parts, false)
}

/// Make everything written to the filesystem holding `dir` durable (`syncfs`).
///
/// # Errors
/// When the folder cannot be opened or the sync fails.
pub fn sync_filesystem(dir: &Path) -> Result<(), ClientError> {
    let err = |source| ClientError::Write {
        path: dir.to_path_buf(),
        source,
    };
    let d = fs::File::open(dir).map_err(err)?;
    rustix::fs::syncfs(&d).map_err(|e| err(e.into()))
}

fn write_file(path: &Path, parts: &[&[u8]], sync: bool) -> Result<(), ClientError> {
    let err = |source| ClientError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.segel-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        for p in parts {
            f.write_all(p)?;
        }
        if sync {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        // Make the rename durable too.
        if sync {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Verify the file at `path` against the trust anchors in `trust` (PEM).
///
/// # Errors
/// Unreadable files or a document that cannot be read as PDF.
pub fn verify_file(path: &Path, trust: &Path) -> Result<pades::Report, ClientError> {
    let anchors = pem::read_certificates(trust)?;
    let data = crate::read_file(path)?;
    pades::verify(
        &data,
        &pades::VerifyOptions {
            trust_anchors: anchors,
            time: now(),
        },
    )
    .map_err(|source| ClientError::Engine {
        path: path.to_path_buf(),
        source,
    })
}
