//! Offline signing and verification of files.

use std::fs;
use std::path::{Path, PathBuf};

use pades::{RsaKeySigner, SignatureAlgorithm, SignatureRequest, SignerIdentity, UnixTime};

use crate::error::ClientError;
use crate::pem;
use crate::seal::Seal;

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
    /// Field, page, reason, location… (its `time` is overwritten with the clock, and its
    /// `appearance` with `seal`'s).
    pub request: SignatureRequest,
    /// A visible seal, composed with the signing time; `None`: as `request` says (invisible
    /// unless it carries an appearance).
    pub seal: Option<Seal>,
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
    /// With a visible seal: its document id.
    pub document_id: Option<String>,
    /// With a visible seal: the verification link its QR code carries.
    pub link: Option<String>,
}

/// Sign `input` into `output`, atomically: the output appears complete or not at all. With a
/// visible seal whose agency name is empty, `{instansi}` is the signer certificate's
/// organisation, else its common name ([`crate::seal::organisation`]).
///
/// # Errors
/// Unreadable files, unusable key or certificates, a seal that cannot be composed
/// ([`ClientError::Seal`]), or a document the engine refuses (a placement tag that is not in
/// the text among them); nothing is written then.
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
    let organisation = chain.first().and_then(|c| crate::seal::organisation(c));
    let identity = SignerIdentity::new(chain).map_err(|source| ClientError::Engine {
        path: opts.cert.clone(),
        source,
    })?;
    let mut request = opts.request.clone();
    request.time = UnixTime::now();
    let seal = match &opts.seal {
        Some(seal) => {
            let mut seal = seal.clone();
            if seal.settings.agency_name.trim().is_empty() {
                seal.settings.agency_name = organisation.unwrap_or_default();
            }
            request.appearance = Some(seal.appearance(request.time)?);
            Some(seal)
        }
        None => None,
    };
    let data = crate::read_file(input)?;
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
        document_id: seal.as_ref().map(|s| s.document_id.to_string()),
        link: seal.as_ref().map(Seal::link),
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
/// files at once (a batch), where one filesystem sync at the end replaces an fsync per file.
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

/// Create `path` for writing, new (`O_EXCL`: an existing file, or a symbolic link, at that name
/// is an `AlreadyExists` error, never opened or followed).
fn create(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC).bits() as i32)
        .open(path)
}

/// Write `parts` one after the other from the start of `f`.
pub(crate) fn write_parts(f: &fs::File, parts: &[&[u8]]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut offset = 0;
    for p in parts {
        f.write_all_at(p, offset)?;
        offset += p.len() as u64;
    }
    Ok(())
}

/// Temporary names tried for one output before giving up (see [`temp_name`]).
pub(crate) const TEMP_NAMES: u32 = 16;

/// The temporary name of an output called `name`, at the `attempt`th try: `.NAME.segel-PID.tmp`,
/// then `.NAME.segel-PID-N.tmp`. Hidden, and recognisable as a leftover of a killed run.
pub(crate) fn temp_name(name: &std::ffi::OsStr, attempt: u32) -> std::ffi::OsString {
    let mut t = std::ffi::OsString::from(".");
    t.push(name);
    t.push(format!(".segel-{}", std::process::id()));
    if attempt > 0 {
        t.push(format!("-{attempt}"));
    }
    t.push(".tmp");
    t
}

/// Is `name` a temporary name (of [`temp_name`]'s form, for any process)?
pub(crate) fn is_temp_name(name: &[u8]) -> bool {
    name.starts_with(b".") && name.ends_with(b".tmp") && name.windows(7).any(|w| w == b".segel-")
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
    let name = path.file_name().unwrap_or_default();
    // A new temporary file: a name already taken (by an earlier write, or by a file or link
    // planted there) is passed over, never opened.
    let mut created = None;
    for attempt in 0..TEMP_NAMES {
        let tmp = dir.join(temp_name(name, attempt));
        match create(&tmp) {
            Ok(f) => {
                created = Some((tmp, f));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err(e)),
        }
    }
    let Some((tmp, f)) = created else {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{TEMP_NAMES} temporary names for it are all taken in its folder"),
        )));
    };
    let result = (|| {
        write_parts(&f, parts)?;
        if sync {
            f.sync_all()?;
        }
        drop(f);
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
            time: UnixTime::now(),
        },
    )
    .map_err(|source| ClientError::Engine {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bytes that tell their positions apart.
    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn large_outputs_keep_every_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = bytes((1 << 20) + 3 * 4096 + 17, 1);
        let b = bytes(10_001, 2);
        let path = dir.path().join("out.pdf");
        write_atomically_unsynced(&path, &[&a, &b]).expect("write");
        let got = std::fs::read(&path).expect("read");
        assert_eq!(got.len(), a.len() + b.len());
        assert!(got[..a.len()] == a[..] && got[a.len()..] == b[..]);
        // Nothing left behind but the output.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn existing_temp_file_is_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").expect("victim");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        // A link and a file at the first two temporary names, for a small and a large write.
        for (name, size) in [("small.pdf", 100), ("large.pdf", 64 * 1024 + 5)] {
            let name = std::ffi::OsStr::new(name);
            std::os::unix::fs::symlink(&victim, out.join(temp_name(name, 0))).expect("link");
            std::fs::write(out.join(temp_name(name, 1)), b"planted").expect("planted");
            let data = bytes(size, 9);
            write_atomically(&out.join(name), &[&data]).expect("write");
            assert_eq!(std::fs::read(out.join(name)).expect("output"), data);
            assert!(std::fs::symlink_metadata(out.join(name))
                .expect("output")
                .is_file());
            assert_eq!(
                std::fs::read(out.join(temp_name(name, 1))).expect("planted"),
                b"planted"
            );
        }
        assert_eq!(std::fs::read(&victim).expect("victim"), b"keep");
        // Every temporary name taken: a clear error, nothing written.
        let name = std::ffi::OsStr::new("full.pdf");
        for k in 0..TEMP_NAMES {
            std::os::unix::fs::symlink(&victim, out.join(temp_name(name, k))).expect("link");
        }
        let e = write_atomically(&out.join(name), &[b"x"]).expect_err("no name left");
        assert!(e.to_string().contains("temporary names"), "{e}");
        assert!(!out.join(name).exists());
        assert_eq!(std::fs::read(&victim).expect("victim"), b"keep");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the sizes and the split into parts, the file holds the parts one after the
        /// other and nothing else.
        #[test]
        fn parts_are_written_in_order(sizes in proptest::collection::vec(0usize..20_000, 1..5)) {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("f");
            let parts: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(k, &n)| bytes(n, k as u8)).collect();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let f = create(&path).expect("create");
            write_parts(&f, &refs).expect("write");
            drop(f);
            prop_assert_eq!(std::fs::read(&path).expect("read"), parts.concat());
        }
    }
}
