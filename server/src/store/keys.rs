//! The log's key files: the Ed25519 log key and the reference key, created 0600 through a
//! temporary file, a rename and a folder sync, refused when others can read them.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use tlog::NoteSigner;

use super::{io, RefKey, StoreError};

/// Key material, wiped when dropped.
pub(super) type Secret = zeroize::Zeroizing<Vec<u8>>;

/// The file of the reference key, in the log directory.
pub(super) const REF_KEY: &str = "ref.key";

/// Read a secret file, refusing one that group or others may read (like the agency keys).
/// `None` when it does not exist.
pub(super) fn read_secret(path: &Path) -> Result<Option<Secret>, StoreError> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let meta = f.metadata().map_err(io(path))?;
    if !meta.is_file() {
        return Err(StoreError::Io {
            path: path.to_path_buf(),
            message: "not a regular file".into(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(StoreError::Io {
            path: path.to_path_buf(),
            message: format!(
                "private key file has mode {mode:o}; it must not be readable by others (chmod 600)"
            ),
        });
    }
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    f.read_to_end(&mut buf).map_err(io(path))?;
    Ok(Some(buf))
}

/// Write a secret file atomically: a temporary file (mode 0600) written and synced, renamed
/// into place, and the directory synced so that the rename itself survives a power failure.
pub(super) fn write_secret(dir: &Path, name: &str, secret: &[u8]) -> Result<(), StoreError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    // A leftover temporary file of an interrupted creation holds nothing of value.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&tmp)(e)),
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(secret).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir)
}

/// `fsync` a directory: makes the names created or renamed in it durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// The reference key of the log in `dir`, and the new secret to write when there was none
/// (written by [`Log::open`](super::Log::open) only after the check found no reference hashes made with a lost
/// key).
pub(super) fn load_ref_key(dir: &Path) -> Result<(RefKey, Option<Secret>), StoreError> {
    let path = dir.join(REF_KEY);
    match read_secret(&path)? {
        Some(secret) if secret.len() == 32 => Ok((RefKey::new(&secret), None)),
        Some(secret) => Err(StoreError::Io {
            path,
            message: format!("holds {} bytes, not 32", secret.len()),
        }),
        None => {
            let mut secret = zeroize::Zeroizing::new(vec![0u8; 32]);
            aws_lc_rs::rand::fill(&mut secret).map_err(|_| StoreError::Io {
                path: path.clone(),
                message: "no random numbers for a new key".into(),
            })?;
            Ok((RefKey::new(&secret), Some(secret)))
        }
    }
}

/// Load the log's Ed25519 key from `dir/log.key` (PKCS#8, mode 0600: refused when group or
/// others may read it), or create it (mode 0600, written atomically, the directory synced)
/// with its verifier key in `dir/log.vkey`.
///
/// # Errors
/// Unreadable, malformed or readable-by-others key files.
pub fn load_or_create_key(dir: &Path, name: &str) -> Result<NoteSigner, StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let path = dir.join("log.key");
    let bad = |e: tlog::NoteError| StoreError::Io {
        path: path.clone(),
        message: e.to_string(),
    };
    if let Some(der) = read_secret(&path)? {
        return NoteSigner::from_pkcs8(name, &der).map_err(bad);
    }
    // A folder holding anything of a log gets no new key: its checkpoints were signed by the
    // lost one.
    // (`log.vkey` alone is a first start stopped before `log.key` was written: no log yet.)
    let found: Vec<&str> = ["sled", "checkpoint.a.note", "checkpoint.b.note"]
        .into_iter()
        .filter(|f| dir.join(f).exists())
        .collect();
    if !found.is_empty() {
        return Err(StoreError::LogKeyMissing {
            dir: dir.to_path_buf(),
            found: found.join(", "),
        });
    }
    let (signer, der) = NoteSigner::generate(name).map_err(bad)?;
    let der = zeroize::Zeroizing::new(der);
    // The verifier key first: once log.key exists, log.vkey exists too.
    let vkey = dir.join("log.vkey");
    fs::write(&vkey, format!("{}\n", signer.verifier().to_vkey())).map_err(io(&vkey))?;
    fs::File::open(&vkey)
        .and_then(|f| f.sync_all())
        .map_err(io(&vkey))?;
    write_secret(dir, "log.key", &der)?;
    Ok(signer)
}
