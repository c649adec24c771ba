//! Files the user names (`--junit FILE`, `--benchmark-json FILE`): written through, never
//! renamed over.
//!
//! A temporary file renamed over the path would replace whatever is there by a regular file: a
//! symbolic link would lose its target, `/dev/null` (in a CI job running as root) or a FIFO
//! would become a file, and a write to a full device would seem to succeed. So the path is
//! opened (following links), written, and every error is reported, as a shell's `>` does.

use crate::staged_dir::OutputError;
use std::io::Write;
use std::path::Path;

/// Checks, before anything runs, that `path` can be a file pipesim writes: not a folder, and
/// in a folder that exists. Nothing is created or opened.
pub fn check_named_file(path: &Path) -> Result<(), OutputError> {
    let fail = |reason: &str| OutputError { path: path.to_path_buf(), reason: reason.to_string() };
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(fail("is a folder: name a file"));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(fail("its folder is a file")),
        Err(_) => Err(fail("its folder does not exist")),
    }
}

/// Writes `bytes` to `path` through: opens it (creating a regular file if there is none,
/// truncating one), writes, and syncs a regular file, so that a full disk is an error here.
pub fn write_through(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let result = (|| {
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
        f.write_all(bytes)?;
        f.flush()?;
        // Devices and pipes have nothing to sync (and some refuse fsync).
        if f.metadata()?.is_file() {
            f.sync_all()?;
        }
        Ok(())
    })();
    result.map_err(|e: std::io::Error| OutputError::io(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_links_and_reports_full_devices() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.xml");
        let link = dir.path().join("link.xml");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_through(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        if Path::new("/dev/full").exists() {
            let e = write_through(Path::new("/dev/full"), &[0; 4096]).unwrap_err();
            assert!(e.reason.contains("no space"), "{e}");
        }
        assert!(check_named_file(dir.path()).is_err());
        assert!(check_named_file(&dir.path().join("missing/x.json")).is_err());
        assert!(check_named_file(&dir.path().join("x.json")).is_ok());
    }
}
