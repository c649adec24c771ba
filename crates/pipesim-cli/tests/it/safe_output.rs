//! Outputs never damage what is there (issue 12), through the real binary: files the user
//! names are written through (a device, a FIFO, a link stay what they are; a full device is an
//! error), report folders are swapped in whole (a write that fails halfway leaves the earlier
//! run as it was), and a folder holding anything pipesim did not write is refused before any
//! run.

use crate::support::*;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Command;

const SCENARIO: &str = r#"name = "t"
duration = "3s"
[workload]
arrivals = { process = "poisson", rate = "500/s" }
keys = { count = 100 }
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
servers = 1
service = { dist = "exp", mean = "0.5ms" }
"#;

/// A folder with `s.toml` and a blessed baseline `base/t/`.
fn gate_setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let o = pipesim(tmp.path(), &["gate", "s.toml", "--baseline", "base", "--bless"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    tmp
}

#[test]
fn named_outputs_are_written_through_links_devices_and_fifos() {
    let tmp = gate_setup();
    let dir = tmp.path();
    // A link keeps pointing where it did; its target gets the XML.
    std::fs::write(dir.join("real.xml"), "old").unwrap();
    std::os::unix::fs::symlink(dir.join("real.xml"), dir.join("link.xml")).unwrap();
    let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--junit", "link.xml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(dir.join("link.xml")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(dir.join("real.xml")).unwrap().contains("<testsuites"));

    // /dev/null stays a character device (a rename over it, as root, would replace it).
    let o =
        pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--benchmark-json", "/dev/null"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());

    // A FIFO is written into, and stays a FIFO.
    let fifo = dir.join("pipe.xml");
    let made = Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
    if made {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--junit", "pipe.xml"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(reader.join().unwrap().contains("<testsuites"));
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }

    // A full device is an error (exit 2) that names the file, not a silent success.
    if Path::new("/dev/full").exists() {
        let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--junit", "/dev/full"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("/dev/full") && stderr(&o).contains("no space"),
            "{}",
            stderr(&o)
        );
    }

    // A folder, or a file in a folder that does not exist: refused before the run.
    for bad in ["base", "missing/junit.xml"] {
        let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--junit", bad]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--junit"), "{}", stderr(&o));
        assert!(!String::from_utf8_lossy(&o.stdout).contains("gate t"), "it ran");
    }
}

#[test]
fn a_write_that_fails_halfway_leaves_the_earlier_report_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("s.toml"), SCENARIO).unwrap();
    let o = pipesim(dir, &["run", "s.toml", "--out", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = snapshot(dir);
    let big = before.values().filter_map(Entry::bytes).map(<[u8]>::len).max().unwrap();
    let small = before.iter().find(|(p, _)| p.ends_with("report.md")).unwrap().1;
    let small = small.bytes().unwrap().len();
    assert!(big > 4 * small, "the page must be much larger than report.md");
    // Files larger than the limit cannot be written (EFBIG, SIGXFSZ ignored): report.json
    // and report.md are written, the page is not.
    let limit_blocks = (big / 512 / 2).max(1);
    let script = format!(
        "trap '' XFSZ; ulimit -f {limit_blocks}; exec '{}' run s.toml --out out --seed 9 --quiet",
        BIN
    );
    let o = Command::new("sh").args(["-c", &script]).current_dir(dir).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert_eq!(snapshot(dir), before, "the earlier report must be left whole");
}

#[test]
fn folders_holding_other_files_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("s.toml"), SCENARIO).unwrap();
    std::fs::create_dir(dir.join("out")).unwrap();
    std::fs::write(dir.join("out/notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(dir.join("b/t")).unwrap();
    std::fs::write(dir.join("b/t/notes.txt"), "mine").unwrap();
    let before = snapshot(dir);
    for args in [
        vec!["run", "s.toml", "--out", "out"],
        vec!["trace", "export", "s.toml", "--out", "out"],
        vec!["gate", "s.toml", "--baseline", "b", "--bless"],
    ] {
        let o = pipesim(dir, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("notes.txt") || stderr(&o).contains("`s.toml`"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("perf:"), "{args:?} ran: {}", stderr(&o));
        assert_eq!(snapshot(dir), before, "{args:?} wrote");
    }
    // compare --out: another command's folder is not a comparison folder.
    let o = pipesim(dir, &["run", "s.toml", "--out", "r", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = pipesim(dir, &["compare", "r", "r", "--out", "r"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("report.json"), "{}", stderr(&o));
}

#[test]
fn a_linked_output_folder_keeps_its_link_and_old_files_go() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("s.toml"), SCENARIO).unwrap();
    std::fs::create_dir_all(dir.join("real/charts")).unwrap();
    std::fs::write(dir.join("real/charts/stale.svg"), "<svg/>").unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
    let o = pipesim(dir, &["run", "s.toml", "--out", "link", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(dir.join("link")).unwrap().file_type().is_symlink());
    assert!(dir.join("real/report.json").exists());
    assert!(!dir.join("real/charts/stale.svg").exists(), "the folder is replaced whole");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "no staging folder left: {names:?}");
}
