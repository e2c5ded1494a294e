//! Offline signing and verification of files.

use std::fs;
use std::path::{Path, PathBuf};

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
    request.time = UnixTime::now();
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

/// Outputs from this size on are written with direct I/O (`O_DIRECT`) where the filesystem
/// allows it: the bytes go from this process's memory to the disk without a copy into new
/// page-cache pages. A batch writes thousands of outputs that nobody reads back soon; on this
/// project's VM every new page-cache page is also a first touch of memory the host must back.
/// Smaller files go through the page cache.
pub const DIRECT_FROM: usize = 64 * 1024;

/// Direct I/O's alignment of buffer, offset and length (a page: enough for every block size).
const ALIGN: usize = 4096;

/// The most written by one direct write (bounds the aligned copy kept per thread).
const DIRECT_CHUNK: usize = 1 << 20;

/// Create `path` for writing, new (`O_EXCL`: an existing file, or a symbolic link, at that name
/// is an `AlreadyExists` error, never opened or followed), with `O_DIRECT` when `direct` and
/// the filesystem takes it; says whether it did.
fn create(path: &Path, direct: bool) -> std::io::Result<(fs::File, bool)> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC).bits() as i32)
        .open(path)?;
    let direct = direct && enable_direct(&f);
    Ok((f, direct))
}

/// Switch `f` to direct I/O (`O_DIRECT`); false when its filesystem does not take it (it stays
/// buffered then). Set on the open file rather than at `open`, where a refusal would come
/// after the file was created.
pub(crate) fn enable_direct(f: &fs::File) -> bool {
    rustix::fs::fcntl_getfl(f)
        .and_then(|flags| rustix::fs::fcntl_setfl(f, flags | rustix::fs::OFlags::DIRECT))
        .is_ok()
}

/// Write `parts` one after the other from the start of `f`. With `direct` (`f` was opened with
/// `O_DIRECT`) the whole blocks go directly from an aligned copy and the last partial block
/// through the page cache (direct I/O cannot write it); a filesystem that refuses the direct
/// writes gets everything through the page cache.
pub(crate) fn write_parts(f: &fs::File, parts: &[&[u8]], direct: bool) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let total = parts.iter().map(|p| p.len()).sum::<usize>();
    let mut at = 0;
    if direct {
        let head = total / ALIGN * ALIGN;
        match write_direct(f, parts, head) {
            Ok(()) => at = head,
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => {}
            Err(e) => return Err(e),
        }
        if at == total {
            return Ok(());
        }
        let flags = rustix::fs::fcntl_getfl(f)?;
        rustix::fs::fcntl_setfl(f, flags - rustix::fs::OFlags::DIRECT)?;
    }
    let mut offset = at as u64;
    for p in parts_from(parts, at) {
        f.write_all_at(p, offset)?;
        offset += p.len() as u64;
    }
    Ok(())
}

/// The bytes of `parts` (one after the other) from position `from` on, as slices of them.
fn parts_from<'a>(parts: &'a [&'a [u8]], from: usize) -> impl Iterator<Item = &'a [u8]> {
    let mut skip = from;
    parts.iter().filter_map(move |p| {
        if skip >= p.len() {
            skip -= p.len();
            None
        } else {
            let rest = &p[skip..];
            skip = 0;
            Some(rest)
        }
    })
}

thread_local! {
    /// The aligned copy direct writes go from, kept per thread (its pages stay mapped, so they
    /// are not faulted in again for every file).
    static DIRECT_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Write the first `head` bytes (a multiple of [`ALIGN`]) of `parts` to `f` (opened with
/// `O_DIRECT`), in chunks of at most [`DIRECT_CHUNK`] copied to an aligned buffer.
fn write_direct(f: &fs::File, parts: &[&[u8]], head: usize) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    if head == 0 {
        return Ok(());
    }
    let chunk = head.min(DIRECT_CHUNK);
    DIRECT_BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < chunk + ALIGN {
            b.resize(chunk + ALIGN, 0);
        }
        let start = b.as_ptr().align_offset(ALIGN);
        let buf = &mut b[start..start + chunk];
        let mut offset = 0;
        while offset < head {
            let n = (head - offset).min(chunk);
            let mut filled = 0;
            for p in parts_from(parts, offset) {
                let take = p.len().min(n - filled);
                buf[filled..filled + take].copy_from_slice(&p[..take]);
                filled += take;
                if filled == n {
                    break;
                }
            }
            let mut done = 0;
            while done < n {
                let w = f.write_at(&buf[done..n], (offset + done) as u64)?;
                if w == 0 || w % ALIGN != 0 {
                    // Short of a whole block: the rest cannot go directly. Everything is
                    // written again through the page cache.
                    return Err(rustix::io::Errno::INVAL.into());
                }
                done += w;
            }
            offset += n;
        }
        Ok(())
    })
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
    let total = parts.iter().map(|p| p.len()).sum::<usize>();
    // A new temporary file: a name already taken (by an earlier write, or by a file or link
    // planted there) is passed over, never opened.
    let mut created = None;
    for attempt in 0..TEMP_NAMES {
        let tmp = dir.join(temp_name(name, attempt));
        match create(&tmp, total >= DIRECT_FROM) {
            Ok(f) => {
                created = Some((tmp, f));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err(e)),
        }
    }
    let Some((tmp, (f, direct))) = created else {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{TEMP_NAMES} temporary names for it are all taken in its folder"),
        )));
    };
    let result = (|| {
        write_parts(&f, parts, direct)?;
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
    fn direct_writes_are_used_where_the_filesystem_takes_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, direct) = create(&dir.path().join("a"), true).expect("create");
        // The project's CI and development machines keep their temporary files on ext4.
        let ext4 = rustix::fs::statfs(dir.path()).is_ok_and(|s| s.f_type == 0xEF53);
        if ext4 {
            assert!(direct, "ext4 takes O_DIRECT");
        }
        let (_, direct) = create(&dir.path().join("b"), false).expect("create");
        assert!(!direct);
    }

    #[test]
    fn large_outputs_cross_chunks_and_keep_every_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = bytes(DIRECT_CHUNK + 3 * ALIGN + 17, 1);
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
    fn a_whole_number_of_blocks_is_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = bytes(DIRECT_FROM, 3);
        let b = bytes(2 * ALIGN, 4);
        let path = dir.path().join("out.pdf");
        write_atomically_unsynced(&path, &[&a, &b]).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), [a, b].concat());
    }

    #[test]
    fn existing_temp_file_is_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").expect("victim");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        // A link and a file at the first two temporary names, for a small and a direct write.
        for (name, size) in [("small.pdf", 100), ("large.pdf", DIRECT_FROM + 5)] {
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

        /// Whatever the sizes and the split into parts, with or without direct I/O, the file
        /// holds the parts one after the other and nothing else.
        #[test]
        fn parts_are_written_in_order(sizes in proptest::collection::vec(0usize..20_000, 1..5), direct in any::<bool>()) {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("f");
            let parts: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(k, &n)| bytes(n, k as u8)).collect();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let (f, opened_direct) = create(&path, direct).expect("create");
            write_parts(&f, &refs, opened_direct).expect("write");
            drop(f);
            prop_assert_eq!(std::fs::read(&path).expect("read"), parts.concat());
        }
    }
}
