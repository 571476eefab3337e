//! General file helpers for everything rdpl writes: atomic, owner-only files and owner-only directories.
//! The store uses them for profiles, pins and state; the launcher for .rdp files, desktop entries and the
//! temporary files it hands to clients.
//!
//! - [`write_atomic`]: a temporary file in the same directory (named [`TEMP_PREFIX`]`*`), fsync, rename over
//!   the target, fsync of the directory. A reader sees the old file or the new one, never a partial one. A
//!   symlink at the target is followed.
//! - [`create_private_dir`]: a directory (and its parents) only the owner can read.
//! - Owner-only means 0600/0700 on Unix and a protected single-entry DACL on Windows ([`crate::private`]).
//! - [`remove_temp_files`]: what a killed writer left behind.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// How the temporary files of [`write_atomic`] begin (hidden on Unix; never a valid profile file name).
pub const TEMP_PREFIX: &str = ".tmp-";

/// A file operation that failed, with the path it was about.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {}", path.display())]
pub struct FileError {
    /// What was being done (`write`, `replace`, `create the directory`, ...).
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The error.
    #[source]
    pub source: io::Error,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> FileError + use<> {
    let path = path.to_owned();
    move |source| FileError { action, path, source }
}

/// Writes bytes to `path` atomically: temp file in the same directory, fsync, rename, fsync the directory.
/// The file is created owner-only (0600 on Unix, a protected single-entry DACL on Windows: [`crate::private`]).
/// A symlink at `path` is followed: the file it points to is replaced and the link stays (a profile kept in a
/// dotfiles repository and linked into the config dir keeps working).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let resolved;
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = fs::canonicalize(path).map_err(io_err("follow the symlink", path))?;
            resolved.as_path()
        }
        _ => path,
    };
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io_err("create a temporary file in", dir))?;
    crate::private::restrict(tmp.path()).map_err(io_err("make owner-only", tmp.path()))?;
    tmp.write_all(bytes).map_err(io_err("write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err("sync", path))?;
    tmp.persist(path).map_err(|e| FileError {
        action: "replace",
        path: path.to_owned(),
        source: e.error,
    })?;
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dir))?;
    Ok(())
}

/// The directory a file is in; `.` for a bare file name (whose parent is the empty path, which can't be
/// opened to fsync it).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The largest profile file rdpl reads (real ones are under 2 KiB).
pub const MAX_PROFILE_BYTES: u64 = 256 * 1024;
/// The largest pins.toml or state file rdpl reads (a pin is about 400 bytes: 40 000 pins).
pub const MAX_DATA_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a regular file of at most `max` bytes, whole. Anything else is an error naming the file and what it
/// is: a FIFO (which would block a reader forever), a device such as `/dev/zero` (endless), a socket or a
/// directory, or a file over `max` (checked before reading, and again on what was read, as a file can grow).
/// A FIFO is opened without blocking (`O_NONBLOCK`, harmless for regular files) so the check can happen.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let refuse = |why: String| FileError {
        action: "read",
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidInput, why),
    };
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let f = options.open(path).map_err(io_err("read", path))?;
    let meta = f.metadata().map_err(io_err("read", path))?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "it is {}, not a regular file",
            kind_of(&meta.file_type())
        )));
    }
    if meta.len() > max {
        return Err(refuse(format!(
            "it is {} bytes; rdpl reads at most {max} bytes from it",
            meta.len()
        )));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(io_err("read", path))?;
    if buf.len() as u64 > max {
        return Err(refuse(format!("it grew past {max} bytes while being read")));
    }
    Ok(buf)
}

/// What a file that is not a regular one is, for an error message.
fn kind_of(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Whether `dir` is an existing directory (or a link to one): `Ok(false)` when nothing is there, an error
/// naming what is there instead (a file, a dangling link, a symlink loop), where the OS would only say
/// "File exists" or "Not a directory" about something else.
pub fn existing_dir(dir: &Path) -> Result<bool, FileError> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(true),
        Ok(_) => Err(FileError {
            action: "use the directory",
            path: dir.to_owned(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "a file is there, not a directory"),
        }),
        Err(e) if fs::symlink_metadata(dir).is_ok() => Err(FileError {
            action: "follow the symlink",
            path: dir.to_owned(),
            source: io::Error::new(e.kind(), format!("a dangling link or a symlink loop ({e})")),
        }),
        Err(_) => Ok(false),
    }
}

/// Creates a directory (and parents) that only its owner can read (0700 on Unix, a private DACL on Windows).
pub fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    let existed = existing_dir(dir)?;
    b.create(dir).map_err(io_err("create the directory", dir))?;
    // A directory that was already there (a `--config-dir` the user chose) keeps its ACL.
    if !existed {
        crate::private::restrict(dir).map_err(io_err("make owner-only", dir))?;
    }
    Ok(())
}

/// Removes the [`TEMP_PREFIX`]`*` files a killed [`write_atomic`] left in `dir`. Call it only when no live
/// writer can be using `dir` (the store holds its lock). Best effort: a file that can't be removed is
/// harmless (owner-only, and never read as data).
pub fn remove_temp_files(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let stale = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX));
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_whole_and_leave_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.toml");
        write_atomic(&path, b"one").expect("write");
        write_atomic(&path, b"two").expect("rewrite");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["a.toml"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = write_atomic(&dir.path().join("missing/a.toml"), b"x").expect_err("no directory");
        assert!(
            err.to_string()
                .starts_with("could not create a temporary file in"),
            "{err}"
        );
    }

    #[test]
    fn a_bare_file_name_is_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("out.rdp")), Path::new("."));
        assert_eq!(parent_dir(Path::new("./out.rdp")), Path::new("."));
        assert_eq!(parent_dir(Path::new("d/out.rdp")), Path::new("d"));
        assert_eq!(parent_dir(Path::new("/")), Path::new("."));
    }

    #[test]
    fn private_dirs_are_created_with_their_parents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deep = dir.path().join("a/b");
        create_private_dir(&deep).expect("create");
        create_private_dir(&deep).expect("again");
        assert!(deep.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&deep).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = dir.path().join("ok.toml");
        fs::write(&ok, b"version = 1\n").expect("write");
        assert_eq!(read_regular(&ok, 64).expect("read"), b"version = 1\n");
        let big = dir.path().join("big.toml");
        fs::write(&big, vec![b'#'; 65]).expect("write");
        let fifo = dir.path().join("fifo.toml");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("c string");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(made, 0, "mkfifo");
        let zero = dir.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("link");
        for (path, says) in [
            (&big, "it is 65 bytes; rdpl reads at most 64 bytes"),
            (&fifo, "a FIFO"),
            (&zero, "a device"),
            (&dir.path().to_owned(), "a directory"),
        ] {
            let e = read_regular(path, 64).expect_err("refused");
            assert_eq!(e.path, *path);
            assert!(
                e.source.to_string().contains(says),
                "{}: {}",
                path.display(),
                e.source
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_a_dangling_link_or_a_loop_is_not_a_directory_and_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        fs::write(&file, b"x").expect("write");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("link");
        let (a, b) = (dir.path().join("loop-a"), dir.path().join("loop-b"));
        std::os::unix::fs::symlink(&b, &a).expect("link");
        std::os::unix::fs::symlink(&a, &b).expect("link");
        for (path, says) in [
            (&file, "a file is there, not a directory"),
            (&dangling, "a dangling link or a symlink loop"),
            (&a, "a dangling link or a symlink loop"),
        ] {
            let e = create_private_dir(path).expect_err("not a directory");
            let full = format!("{e}: {}", e.source);
            assert!(full.contains(says) && !full.contains("File exists"), "{full}");
            assert_eq!(e.path, *path);
        }
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(dir.path(), &linked).expect("link");
        create_private_dir(&linked).expect("a link to a directory is a directory");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("dotfiles-a.toml");
        fs::write(&real, b"old").expect("write");
        let link = dir.path().join("a.toml");
        std::os::unix::fs::symlink(&real, &link).expect("link");
        write_atomic(&link, b"new").expect("write through");
        assert!(
            fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).expect("read"), b"new");
        let dangling = dir.path().join("b.toml");
        std::os::unix::fs::symlink(dir.path().join("nowhere.toml"), &dangling).expect("link");
        let err = write_atomic(&dangling, b"x").expect_err("dangling");
        assert!(err.to_string().contains("follow the symlink"), "{err}");
    }

    #[test]
    fn only_temp_files_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let left = dir.path().join(format!("{TEMP_PREFIX}AbC123"));
        let keep = dir.path().join("notes.txt");
        let sub = dir.path().join(format!("{TEMP_PREFIX}dir"));
        fs::write(&left, b"half a profi").expect("plant");
        fs::write(&keep, b"not ours").expect("plant");
        fs::create_dir(&sub).expect("mkdir");
        remove_temp_files(dir.path());
        assert!(!left.exists());
        assert!(keep.exists() && sub.exists());
        remove_temp_files(&dir.path().join("missing"));
    }
}
