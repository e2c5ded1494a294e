//! Where a batch writes: the output folder held open and every output reached from it one name
//! at a time without following links; outputs created new and renamed into place; the folder
//! checks (output apart from input) and the clean-up of an interrupted run's temporaries.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use crate::error::ClientError;
use crate::offline::{is_temp_name, temp_name, write_parts};

/// Remove the temporary files of an earlier run that was killed before its renames
/// (`.NAME.segel-PID….tmp`, see [`crate::offline::temp_name`]); they never hold a finished
/// output. Walks from the output folder's descriptor without following links, so it removes
/// nothing outside the folder; the descriptors open at once are those of one branch.
pub(super) fn remove_stale_temporaries(root: &OwnedFd) {
    let Ok(root) = rustix::fs::openat(root, c".", DIR_OPEN, Mode::empty()) else {
        return;
    };
    // Subfolders still to walk: (their folder, their name).
    let mut pending: Vec<(Arc<OwnedFd>, CString)> = Vec::new();
    let mut dir = Arc::new(root);
    loop {
        if let Ok(entries) = rustix::fs::Dir::read_from(&*dir) {
            for e in entries.flatten() {
                let name = e.file_name();
                if matches!(name.to_bytes(), b"." | b"..") {
                    continue;
                }
                match entry_type(&dir, name, e.file_type()) {
                    FileType::Directory => pending.push((dir.clone(), name.to_owned())),
                    FileType::RegularFile if is_temp_name(name.to_bytes()) => {
                        let _ = rustix::fs::unlinkat(&*dir, name, AtFlags::empty());
                    }
                    _ => {}
                }
            }
        }
        dir = loop {
            let Some((parent, name)) = pending.pop() else {
                return;
            };
            // Not through a link, should one have replaced the folder since it was listed.
            if let Ok(fd) =
                rustix::fs::openat(&*parent, name.as_c_str(), SUBDIR_OPEN, Mode::empty())
            {
                break Arc::new(fd);
            }
        };
    }
}

/// The type of the entry `name` of `dir`, as its folder listing gave it or, where the
/// filesystem does not say there, as `fstatat` does (without following a link).
pub(super) fn entry_type(dir: &OwnedFd, name: &CStr, listed: FileType) -> FileType {
    if listed != FileType::Unknown {
        return listed;
    }
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode))
}

/// Opening a folder: read-only, a folder or an error.
pub(super) const DIR_OPEN: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// Opening a folder below the output folder: also never through a link.
pub(super) const SUBDIR_OPEN: OFlags = DIR_OPEN.union(OFlags::NOFOLLOW);

/// Refuse an output folder that is the input folder, contains it or lies inside it, compared
/// as canonical paths (the output folder as it will be once created), and the same folder also
/// by identity (a bind mount of it): outputs would land among the inputs (and overwrite them),
/// or be found as inputs and signed again.
pub(super) fn check_folders(input: &Path, output: &Path) -> Result<(), ClientError> {
    let i = input.canonicalize().map_err(|source| ClientError::Read {
        path: input.to_path_buf(),
        source,
    })?;
    let o = canonical_to_be(output).map_err(|source| ClientError::Write {
        path: output.to_path_buf(),
        source,
    })?;
    let relation = if o == i || identity(&o).is_some_and(|o| identity(&i) == Some(o)) {
        "is"
    } else if i.starts_with(&o) {
        "contains"
    } else if o.starts_with(&i) {
        "is inside"
    } else {
        return Ok(());
    };
    Err(ClientError::FoldersOverlap {
        input: i,
        output: o,
        relation,
    })
}

/// The identity (device, inode) of the file or folder at `path`, if there is one.
pub(super) fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The canonical form of `path`, which may not exist yet: its longest existing ancestor
/// canonicalized, followed by the rest (which, not existing, holds no links; `..` there is
/// taken lexically).
pub(super) fn canonical_to_be(path: &Path) -> std::io::Result<PathBuf> {
    let path = std::path::absolute(path)?;
    let parts: Vec<Component> = path.components().collect();
    for k in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..k].iter().collect();
        let mut c = match head.canonicalize() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for part in &parts[k..] {
            match part {
                Component::ParentDir => {
                    c.pop();
                }
                Component::Normal(n) => c.push(n),
                _ => {}
            }
        }
        return Ok(c);
    }
    Ok(path)
}

/// Where one output goes: a name in a folder held open. Reached from the output folder one
/// name at a time with `O_NOFOLLOW` ([`Target::below`]), so no folder on the way can be a link,
/// and replacing one by a link later does not move where the output goes.
#[derive(Clone)]
pub(super) struct Target {
    /// The folder that holds it.
    pub(super) dir: Arc<OwnedFd>,
    /// Its name there.
    pub(super) name: OsString,
    /// Its path, for messages and the report.
    pub(super) path: PathBuf,
}

impl Target {
    /// The output `rel` (a relative path of plain names) below the output folder `root`
    /// (opened at `root_path`): every folder on the way opened without following links, and
    /// created when missing. A folder on the way that is a link is
    /// [`ClientError::SymlinkedOutput`].
    pub(super) fn below(
        root: &Arc<OwnedFd>,
        root_path: &Path,
        rel: &Path,
    ) -> Result<Self, ClientError> {
        let path = root_path.join(rel);
        let mut names = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(n) => names.push(n),
                _ => {
                    return Err(ClientError::Write {
                        path,
                        source: std::io::Error::new(
                            std::io::ErrorKind::InvalidInput,
                            "not a plain relative path below the output folder",
                        ),
                    })
                }
            }
        }
        let Some((name, folders)) = names.split_last() else {
            return Err(ClientError::Write {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"),
            });
        };
        let mut dir = root.clone();
        let mut at = root_path.to_path_buf();
        for folder in folders {
            at.push(folder);
            let opened = match rustix::fs::openat(&*dir, *folder, SUBDIR_OPEN, Mode::empty()) {
                Err(Errno::NOENT) => {
                    match rustix::fs::mkdirat(&*dir, *folder, Mode::from_raw_mode(0o777)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => {
                            return Err(ClientError::Write {
                                path: at,
                                source: e.into(),
                            })
                        }
                    }
                    rustix::fs::openat(&*dir, *folder, SUBDIR_OPEN, Mode::empty())
                }
                other => other,
            };
            dir = match opened {
                Ok(fd) => Arc::new(fd),
                Err(e) => return Err(refusal(&dir, folder, at, e)),
            };
        }
        Ok(Self {
            dir,
            name: name.to_os_string(),
            path,
        })
    }

    /// The output as it is now, if there is one of a size in `sizes` (`None` otherwise: none,
    /// or one that is not read). A link there is [`ClientError::SymlinkedOutput`]; anything but
    /// a regular file (a folder, a FIFO, which would block the read) is an error too.
    pub(super) fn read_existing(
        &self,
        sizes: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        use std::io::Read;
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&*self.dir, &self.name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(refusal(&self.dir, &self.name, self.path.clone(), e)),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| self.error(e.into()))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(self.error(not_a_file()));
        }
        if !u64::try_from(st.st_size).is_ok_and(|n| sizes.contains(&n)) {
            return Ok(None);
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(usize::try_from(st.st_size).unwrap_or(0))
            .map_err(|e| self.error(std::io::Error::other(e)))?;
        std::fs::File::from(fd)
            .read_to_end(&mut buf)
            .map_err(|e| ClientError::Read {
                path: self.path.clone(),
                source: e,
            })?;
        Ok(Some(buf))
    }

    /// Write `parts` to the output, atomically: into a new temporary file in the same folder
    /// (`O_EXCL`: a name already taken, by anything, is passed over and never opened), then
    /// renamed over the output. Not synced (see [`sync_filesystem`]). A link at the output's name is
    /// [`ClientError::SymlinkedOutput`] and stays as it is.
    pub(super) fn write(&self, parts: &[&[u8]]) -> Result<(), ClientError> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut created = None;
        for attempt in 0..crate::offline::TEMP_NAMES {
            let tmp = temp_name(&self.name, attempt);
            match rustix::fs::openat(&*self.dir, &tmp, flags, Mode::from_raw_mode(0o666)) {
                Ok(fd) => {
                    created = Some((tmp, std::fs::File::from(fd)));
                    break;
                }
                Err(Errno::EXIST) => {}
                Err(e) => return Err(self.error(e.into())),
            }
        }
        let Some((tmp, f)) = created else {
            return Err(self.error(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "its {} temporary names are all taken in its folder",
                    crate::offline::TEMP_NAMES
                ),
            )));
        };
        let result = write_parts(&f, parts)
            .map_err(|e| self.error(e))
            .and_then(|()| {
                drop(f);
                self.rename_into_place(&tmp)
            });
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&*self.dir, &tmp, AtFlags::empty());
        }
        result
    }

    /// Rename the temporary file `tmp` over the output: where there is none yet, only if none
    /// appeared meanwhile (`RENAME_NOREPLACE`); over a regular file; never over a link (refused)
    /// or anything else. The window left: a link put at the output's name between the look and
    /// the rename over a regular file is replaced by the output (a rename never follows a link
    /// at its target, so nothing is written through it).
    pub(super) fn rename_into_place(&self, tmp: &OsStr) -> Result<(), ClientError> {
        let dir = &*self.dir;
        for _ in 0..2 {
            match rustix::fs::statat(dir, &self.name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => {
                    return match FileType::from_raw_mode(st.st_mode) {
                        FileType::Symlink => Err(ClientError::SymlinkedOutput {
                            path: self.path.clone(),
                        }),
                        FileType::RegularFile => rustix::fs::renameat(dir, tmp, dir, &self.name)
                            .map_err(|e| self.error(e.into())),
                        _ => Err(self.error(not_a_file())),
                    }
                }
                Err(Errno::NOENT) => {
                    match rustix::fs::renameat_with(
                        dir,
                        tmp,
                        dir,
                        &self.name,
                        RenameFlags::NOREPLACE,
                    ) {
                        Ok(()) => return Ok(()),
                        // Something appeared at the name since: look again.
                        Err(Errno::EXIST) => {}
                        // A filesystem without RENAME_NOREPLACE.
                        Err(Errno::INVAL | Errno::NOSYS) => {
                            return rustix::fs::renameat(dir, tmp, dir, &self.name)
                                .map_err(|e| self.error(e.into()))
                        }
                        Err(e) => return Err(self.error(e.into())),
                    }
                }
                Err(e) => return Err(self.error(e.into())),
            }
        }
        Err(self.error(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the output kept changing while it was written",
        )))
    }

    pub(super) fn error(&self, source: std::io::Error) -> ClientError {
        ClientError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

/// The error of opening `name` in `dir` (at `path`) without following links: a link there is
/// [`ClientError::SymlinkedOutput`].
pub(super) fn refusal(dir: &OwnedFd, name: &OsStr, path: PathBuf, e: Errno) -> ClientError {
    let link = rustix::fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
    if link {
        ClientError::SymlinkedOutput { path }
    } else {
        ClientError::Write {
            path,
            source: e.into(),
        }
    }
}

pub(super) fn not_a_file() -> std::io::Error {
    std::io::Error::other("something other than a regular file is at the output's name")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
