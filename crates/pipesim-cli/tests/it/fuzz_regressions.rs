//! The fuzzer's regression corpus (`crates/pipesim-fuzz/regressions/`): every input that once
//! crashed pipesim, minimised, replayed through the real binary. Each must now validate and run
//! (exit 0) or be refused (exit 2), with no panic, within a minute.

use crate::support::*;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn every_minimised_crash_is_now_exit_0_or_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipesim-fuzz/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the regression corpus is empty");
    let out = tempfile::tempdir().unwrap();
    for file in &files {
        let mut cmd = command(Path::new(env!("CARGO_MANIFEST_DIR")), &["run"]);
        cmd.arg(file)
            .args(["--charts", "svg", "--quiet", "--max-memory", "4GiB", "--out"])
            .arg(out.path().join("r"))
            .stdout(Stdio::null());
        let o = output_within(cmd, Duration::from_secs(60));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 2)),
            "{}: exit {:?}: {err}",
            file.display(),
            o.status
        );
        assert_no_forbidden(&file.display().to_string(), &o);
    }
}
