//! Bad input: the scenario file as a whole (missing, a folder, empty, binary, not UTF-8,
//! not TOML, an unknown top-level key).

use super::*;

#[test]
fn missing_file() {
    check_run_input(
        "missing file",
        Input::Missing,
        &[],
        &["error: missing.toml: cannot read the scenario: no such file"],
    );
}

#[test]
fn directory_instead_of_a_file() {
    check_run_input(
        "directory",
        Input::Directory,
        &[],
        &["error: scenarios: is a directory, not a scenario file"],
    );
}

#[test]
fn empty_file() {
    check_run_input(
        "empty file",
        Input::Text(""),
        &[],
        &["error: s.toml: is empty", "`name`", "[[model]]"],
    );
    check("blank file", " \n\t\n", &[], &["s.toml: is empty"]);
}

#[test]
fn file_of_comments_only() {
    check("comments only", "# a scenario, some day\n", &[], &["s.toml:1:1: missing key `name`"]);
}

#[test]
fn binary_file() {
    check_run_input(
        "binary",
        Input::Bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary"),
        &[],
        &["error: s.toml: is not a text file (byte 7 is NUL)"],
    );
}

#[test]
fn file_that_is_not_utf8() {
    check_run_input(
        "latin-1",
        Input::Bytes(b"name = \"caf\xe9\"\n"),
        &[],
        &["error: s.toml: is not UTF-8 text (invalid byte at offset 11)"],
    );
}

#[test]
fn toml_syntax_error() {
    check_run(
        "key without =",
        &base_with("servers = 1", "servers 1"),
        &[],
        &["s.toml:10:9: TOML syntax error", "expected `=`", "10 | servers 1"],
    );
    check(
        "unterminated string",
        &base_with("name = \"t\"", "name = \"t"),
        &[],
        &["s.toml:1:10: TOML syntax error", "invalid basic string"],
    );
}

#[test]
fn unknown_top_level_key() {
    check(
        "top-level typo",
        &base_with("duration = \"10s\"", "duration = \"10s\"\ndurration = \"5s\""),
        &[],
        &[
            "s.toml:3:1: durration: unknown key `durration` (did you mean `duration`?)",
            "known keys: name, description, seed, duration, warmup, drain, window, workload, model, fault",
        ],
    );
    check(
        "misspelt table",
        &base_with("[workload]", "[workloads]"),
        &[],
        &["s.toml:3:2: workloads: unknown key `workloads` (did you mean `workload`?)"],
    );
}
