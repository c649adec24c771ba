//! Not an error: inputs that look wrong but are a legitimate experiment, warned about.

use super::*;

/// A station with utilisation 2 (500/s arrivals, 4 ms mean service, one server) and an
/// unbounded queue: a legitimate experiment, warned about, whose backlog grows by about
/// (500 − 250)/s while arrivals last and then drains.
#[test]
fn utilisation_above_one_is_a_warning_and_the_backlog_grows() {
    let text = base_with("\"10s\"", "\"4s\"")
        .replace("\"1k/s\"", "\"500/s\"")
        .replace("\"0.5ms\"", "\"4ms\"");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), &text).unwrap();

    let out = pipesim(tmp.path(), &["validate", "s.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: s.toml: model m: station s: utilisation 2.000 >= 1"),
        "{stderr}"
    );

    let out = pipesim(tmp.path(), &["run", "s.toml", "--out", "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("station s: utilisation 2.000 >= 1 with an unbounded queue"),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
    assert_no_forbidden("run with utilisation 2", &out);

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out/report.json")).unwrap())
            .unwrap();
    let timeline = report["models"][0]["timeline"].as_array().unwrap();
    let field = |row: &serde_json::Value, f: &str| {
        row[f].as_f64().unwrap_or_else(|| panic!("timeline row without {f}: {row}"))
    };
    let during: Vec<f64> =
        timeline.iter().filter(|r| field(r, "t_s") < 4.0).map(|r| field(r, "backlog")).collect();
    assert_eq!(during.len(), 4, "{timeline:?}");
    assert!(
        during.windows(2).all(|w| w[1] > w[0] + 100.0),
        "the backlog must grow every second of arrivals: {during:?}"
    );
    // (λ − μ)·T = (500 − 250)·4 = 1000 waiting at the end of arrivals.
    let end = *during.last().unwrap();
    assert!((700.0..1300.0).contains(&end), "backlog at 4 s: {end}");
    // Unbounded: nothing dropped, and everything offered is delivered once the queue drains.
    let sum = |f: &str| timeline.iter().map(|r| field(r, f)).sum::<f64>();
    assert_eq!(sum("dropped"), 0.0);
    assert_eq!(sum("delivered"), sum("offered"));
    assert_eq!(field(timeline.last().unwrap(), "backlog"), 0.0);
}
