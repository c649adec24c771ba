//! Output folders built beside their target and swapped in whole.
//!
//! A run writes several files (report.json, report.md, histograms, charts, the page). If any of
//! them cannot be written, the folder must still hold the previous run, complete, and never a
//! mix of two. So every file goes into a hidden staging folder next to the target
//! (`.NAME.PID.tmp`, which `.gitignore`'s `*.tmp` covers), and only when all are written is the
//! staging folder exchanged with the target in one `renameat2(RENAME_EXCHANGE)` (Linux), or,
//! where the file system lacks it, moved in by two renames. A staging folder that is dropped
//! without [`StagedDir::commit`] is removed.
//!
//! pipesim replaces only folders it owns: a target that holds anything a [`FolderKind`] does
//! not list (a user's notes, another command's outputs, the user's home folder given by
//! mistake) is refused before anything runs, and nothing is written.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What an output folder of one command holds: the only entries a folder may have for pipesim
/// to replace it.
#[derive(Clone, Copy, Debug)]
pub struct FolderKind {
    /// In words, for messages: "a report folder".
    pub what: &'static str,
    /// The names pipesim writes there (files and sub-folders).
    pub entries: &'static [&'static str],
}

/// `pipesim run` and `pipesim gate --bless`.
pub const REPORT_FOLDER: FolderKind = FolderKind {
    what: "a report folder",
    entries: &[
        "report.json",
        "report.md",
        "perf.json",
        "index.html",
        "charts",
        "histograms",
        "timeline",
    ],
};
/// `pipesim sweep` and `pipesim merge`.
pub const SWEEP_FOLDER: FolderKind =
    FolderKind { what: "a sweep folder", entries: &["sweep.json", "sweep.md", "charts"] };
/// `pipesim sweep --find-max-rate`.
pub const MAX_RATE_FOLDER: FolderKind =
    FolderKind { what: "a max-rate folder", entries: &["max-rate.md", "charts"] };
/// `pipesim compare --out`.
pub const COMPARE_FOLDER: FolderKind =
    FolderKind { what: "a comparison folder", entries: &["compare.md", "index.html", "charts"] };
/// `pipesim trace export`.
pub const TRACE_FOLDER: FolderKind = FolderKind {
    what: "a trace export folder",
    entries: &["arrivals.csv", "faults.jsonl", "scenario.toml"],
};

/// An output that could not be written: the path and why, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputError {
    /// The file or folder concerned.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for OutputError {}

impl OutputError {
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        Self { path: path.to_path_buf(), reason: io_words(e) }
    }
}

/// An I/O error in words, without "(os error N)".
pub(crate) fn io_words(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

/// A folder being written beside its target; [`StagedDir::commit`] swaps it in.
#[derive(Debug)]
pub struct StagedDir {
    /// The target as the user named it, for messages.
    shown: PathBuf,
    /// The target as an absolute path, through a link.
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Checks that `target` can be replaced (absent, empty, or holding only what `kind` lists),
    /// creates its parent folders and an empty staging folder beside it.
    pub fn new(target: &Path, kind: &FolderKind) -> Result<Self, OutputError> {
        let shown = target.to_path_buf();
        let target = resolve(target)?;
        check_owned(&target, &shown, kind)?;
        let parent = target.parent().ok_or_else(|| OutputError {
            path: shown.clone(),
            reason: "cannot replace a file system root".to_string(),
        })?;
        std::fs::create_dir_all(parent).map_err(|e| OutputError::io(&shown, &e))?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let staging = unique_sibling(parent, &name, "new");
        std::fs::create_dir(&staging).map_err(|e| OutputError::io(&shown, &e))?;
        Ok(Self { shown, target, staging, committed: false })
    }

    /// Where the files go until the commit.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The folder that the commit replaces, as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Writes `bytes` to `relative` (sub-folders created as needed) in the staging folder.
    /// Errors name the file as it will be in the target.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.staging.join(relative);
        let shown = self.shown.join(relative);
        let result = (|| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::File::create(&path)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        result.map_err(|e| OutputError::io(&shown, &e))
    }

    /// Swaps the staging folder in for the target, whole, and removes what the target held.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let fail = |e: &std::io::Error| OutputError::io(&self.shown, e);
        if std::fs::symlink_metadata(&self.target).is_err() {
            std::fs::rename(&self.staging, &self.target).map_err(|e| fail(&e))?;
        } else {
            swap(&self.staging, &self.target).map_err(|e| fail(&e))?;
            // The staging path now holds the previous contents.
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// The target as an absolute path, through a symbolic link to a folder (the link stays, the
/// folder it points to is replaced).
fn resolve(target: &Path) -> Result<PathBuf, OutputError> {
    let absolute = std::path::absolute(target).map_err(|e| OutputError::io(target, &e))?;
    match std::fs::symlink_metadata(&absolute) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(&absolute).map_err(|e| OutputError::io(target, &e))
        }
        _ => Ok(absolute),
    }
}

/// Whether pipesim may replace `target`: it is absent, or a folder holding only `kind`'s
/// entries and leftover temporary files.
fn check_owned(target: &Path, shown: &Path, kind: &FolderKind) -> Result<(), OutputError> {
    let fail = |reason: String| OutputError { path: shown.to_path_buf(), reason };
    let meta = match std::fs::metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OutputError::io(shown, &e)),
    };
    if !meta.is_dir() {
        return Err(fail("is a file, not a folder".to_string()));
    }
    let entries = std::fs::read_dir(target).map_err(|e| OutputError::io(shown, &e))?;
    let mut foreign = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| OutputError::io(shown, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let temporary = name.starts_with('.') && name.ends_with(".tmp");
        if !temporary && !kind.entries.contains(&name.as_str()) {
            foreign.push(name);
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown: Vec<String> = foreign.iter().take(3).map(|n| format!("`{n}`")).collect();
    let more =
        if foreign.len() > 3 { format!(" and {} more", foreign.len() - 3) } else { String::new() };
    Err(fail(format!(
        "holds {}{more}, which is not part of {}: pipesim replaces its output folders whole, so name a new or empty folder (or move those out)",
        shown.join(", "),
        kind.what
    )))
}

/// A path beside `name` in `parent` that does not exist yet: `.NAME.PID.TAG.tmp`, numbered if
/// taken.
fn unique_sibling(parent: &Path, name: &str, tag: &str) -> PathBuf {
    let pid = std::process::id();
    let mut n = 0u32;
    loop {
        let candidate = if n == 0 {
            parent.join(format!(".{name}.{pid}.{tag}.tmp"))
        } else {
            parent.join(format!(".{name}.{pid}.{tag}{n}.tmp"))
        };
        if std::fs::symlink_metadata(&candidate).is_err() {
            return candidate;
        }
        n += 1;
    }
}

/// Exchanges two existing folders: after it `a` holds what `b` held and the other way round.
fn swap(a: &Path, b: &Path) -> std::io::Result<()> {
    if exchange(a, b)? {
        return Ok(());
    }
    // No atomic exchange here: move the target aside, move the new folder in, and put the old
    // one back if that fails.
    let parent = b.parent().unwrap_or(Path::new("."));
    let name = b.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = unique_sibling(parent, &name, "old");
    std::fs::rename(b, &aside)?;
    if let Err(e) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&aside, b);
        return Err(e);
    }
    std::fs::rename(&aside, a)
}

/// `renameat2(RENAME_EXCHANGE)`; `Ok(false)` where the kernel or file system lacks it.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_replaced_whole_or_left_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        let first = StagedDir::new(&target, &REPORT_FOLDER).unwrap();
        first.write("report.json", b"1").unwrap();
        first.write("charts/a.svg", b"a").unwrap();
        first.commit().unwrap();
        assert_eq!(std::fs::read(target.join("report.json")).unwrap(), b"1");

        // A second run that fails halfway leaves the first run's folder as it was.
        let second = StagedDir::new(&target, &REPORT_FOLDER).unwrap();
        second.write("report.json", b"2").unwrap();
        drop(second);
        assert_eq!(std::fs::read(target.join("report.json")).unwrap(), b"1");
        assert!(target.join("charts/a.svg").exists());

        // A complete one replaces everything: the old chart is gone.
        let third = StagedDir::new(&target, &REPORT_FOLDER).unwrap();
        third.write("report.json", b"3").unwrap();
        third.commit().unwrap();
        assert_eq!(std::fs::read(target.join("report.json")).unwrap(), b"3");
        assert!(!target.join("charts").exists());
        let names: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["out".to_string()], "no staging folder left behind");
    }

    #[test]
    fn folders_holding_other_files_are_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("notes.txt"), "mine").unwrap();
        let e = StagedDir::new(root.path(), &REPORT_FOLDER).unwrap_err();
        assert!(e.reason.contains("`notes.txt`"), "{e}");
        assert!(root.path().join("notes.txt").exists());
        let file = root.path().join("notes.txt");
        let e = StagedDir::new(&file, &REPORT_FOLDER).unwrap_err();
        assert!(e.reason.contains("is a file"), "{e}");
    }
}
