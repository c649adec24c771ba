//! Opening input files: regular files only, read with a cap.
//!
//! Every file pipesim reads (scenarios, traces, `.hgrm` tables, reports, sweep parts) goes
//! through here. A FIFO, a device or a socket is refused before it is opened: opening a FIFO
//! that no one writes blocks forever, `/dev/zero` never ends, and pipesim reads most inputs
//! more than once (a trace at load time and again in every run; a scenario once per sweep
//! point), which only a file allows. Whole-file reads stop one byte past their cap, so a file
//! that grows while it is read cannot exhaust memory either.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Why an input file cannot be read, in words (the caller names the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// An I/O error in words, without "(os error N)".
pub fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}

/// What a non-regular file is, in words.
fn file_type_words(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` (through links) if it is a regular file; the size comes with it.
pub fn open_regular(path: &Path) -> Result<(File, u64), InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError(io_words(&e)))?;
    if !meta.is_file() {
        let what = file_type_words(meta.file_type());
        return Err(InputError(if meta.is_dir() {
            format!("is {what}, not a file")
        } else {
            format!(
                "is {what}, not a regular file: pipesim reads its inputs more than once (checked before the run, then read by it), so save it to a file first"
            )
        }));
    }
    let file = File::open(path).map_err(|e| InputError(io_words(&e)))?;
    Ok((file, meta.len()))
}

/// The bytes of the regular file at `path`, refused when larger than `max_bytes` (`what`
/// names the kind of file in the message: "a scenario").
pub fn read_capped(path: &Path, max_bytes: u64, what: &str) -> Result<Vec<u8>, InputError> {
    let too_large = |n: u64| {
        InputError(format!(
            "is {n} bytes or more: too large for {what} (at most {})",
            bytes_words(max_bytes)
        ))
    };
    let (file, len) = open_regular(path)?;
    if len > max_bytes {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|e| InputError(io_words(&e)))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// "16 MiB", "512 MiB", "64 KiB".
fn bytes_words(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// `bytes` without a leading UTF-8 byte-order mark (which editors on Windows write).
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_their_cap() {
        let dir = std::env::temp_dir().join(format!("pipesim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.txt");
        std::fs::write(&f, "12345").unwrap();
        assert_eq!(read_capped(&f, 5, "a test file").unwrap(), b"12345");
        let e = read_capped(&f, 4, "a test file").unwrap_err();
        assert!(e.0.contains("too large for a test file (at most 4 bytes)"), "{e}");
        assert!(read_capped(&dir, 5, "x").unwrap_err().0.contains("a directory"));
        let e = read_capped(Path::new("/dev/zero"), 1 << 20, "x").unwrap_err();
        assert!(e.0.contains("is a device, not a regular file"), "{e}");
        assert_eq!(strip_bom(b"\xef\xbb\xbfname"), b"name");
        assert_eq!(bytes_words(16 << 20), "16 MiB");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
