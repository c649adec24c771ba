//! The fuzzer's regression corpus (`crates/pipesim-fuzz/regressions/`): every input that once
//! crashed pipesim, minimised, replayed through the real binary. Each must now validate and run
//! (exit 0) or be refused (exit 2), with no panic, within a minute.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_pipesim"))
            .arg("run")
            .arg(file)
            .args(["--charts", "svg", "--quiet", "--max-memory", "4GiB", "--out"])
            .arg(out.path().join("r"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{} ran for more than 60 s", file.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 2)),
            "{}: exit {:?}: {err}",
            file.display(),
            o.status
        );
        assert!(!err.contains("internal error"), "{}: {err}", file.display());
    }
}
