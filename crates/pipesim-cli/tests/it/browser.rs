//! index.html in a real browser (headless Chromium): every chart is in the rendered DOM with
//! drawn elements, screenshots are not blank and show the charts' colours, and the page asks the
//! network for nothing.
//!
//! Two witnesses that the page loads nothing: the page is served by a tiny HTTP server in this
//! test that logs every request (so a relative reference to any other file shows up), and
//! Chromium writes a NetLog of every URL request it starts; a request the *page* started carries
//! the page's origin as its initiator, while Chromium's own background traffic (update checks,
//! network time, sign-in) says "not an origin", so the page's requests can be told apart
//! exactly. A control page with an external stylesheet, an image and a relative stylesheet shows
//! that both witnesses catch them.
//!
//! Skipped (with a message) when Chromium is not installed, unless PIPESIM_REQUIRE_BROWSER=1,
//! as `.ci/run` sets after installing Debian's `chromium`.

use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
    if let Some(p) = candidates.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("chromium")).find(|p| p.exists())
}

/// Chromium, or `None` after saying why the test is skipped; panics when it is required.
fn browser_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var("PIPESIM_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "PIPESIM_REQUIRE_BROWSER=1 but no Chromium found (install Debian's `chromium`)"
        );
        eprintln!(
            "skipped: Chromium is not installed (set PIPESIM_REQUIRE_BROWSER=1 to make this an error)"
        );
    }
    found
}

/// A folder served over HTTP on 127.0.0.1, every request line logged.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let dir = dir.clone();
                let log = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &dir, &log));
            }
        });
        Self { port, log }
    }

    fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn serve(stream: TcpStream, dir: &Path, log: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let line = line.trim().to_string();
    log.lock().unwrap().push(line.clone());
    // The headers, to the blank line.
    let mut h = String::new();
    while reader.read_line(&mut h).unwrap_or(0) > 0 && h.trim() != "" {
        h.clear();
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let file = dir.join(target.trim_start_matches('/'));
    let mut stream = stream;
    if method == "GET" && !target.contains("..") && file.is_file() {
        let body = std::fs::read(&file).unwrap();
        let kind = match file.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
    } else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

/// Runs headless Chromium with `args` and `target`, writing a NetLog to `netlog`; returns stdout.
fn chrome(
    bin: &Path,
    profile: &Path,
    netlog: Option<&Path>,
    args: &[String],
    target: &str,
) -> String {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        // Chromium's own background traffic (network time, sign-in, updates, metrics, safe
        // browsing, field trials): off, so that the request log holds only what the page asks for.
        "--disable-client-side-phishing-detection",
        "--disable-component-extensions-with-background-pages",
        "--disable-domain-reliability",
        "--disable-field-trial-config",
        "--disable-breakpad",
        "--metrics-recording-only",
        "--no-pings",
        "--no-service-autorun",
        "--password-store=basic",
        "--use-mock-keychain",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater,SafeBrowsing,InterestFeedContentSuggestions,PrivacySandboxSettings4",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    if let Some(path) = netlog {
        cmd.arg(format!("--log-net-log={}", path.display()));
        cmd.arg("--net-log-capture-mode=Default");
    }
    cmd.args(args).arg(target);
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    // The wall clock bounds a browser that hangs; it measures nothing.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s: {target}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The URLs of the requests a page started, from a Chromium NetLog: URL_REQUEST_START_JOB events
/// whose initiator is an origin (the page's, or "null" for a file:// page). Chromium's own
/// requests have the initiator "not an origin"; the top-level navigation has none.
fn page_requests(netlog: &Path) -> Vec<String> {
    let text =
        std::fs::read_to_string(netlog).unwrap_or_else(|e| panic!("{}: {e}", netlog.display()));
    let log: serde_json::Value = serde_json::from_str(&text).expect("a complete NetLog");
    let start_job =
        log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    let mut urls = Vec::new();
    for e in log["events"].as_array().unwrap() {
        if e["type"].as_u64() != Some(start_job) {
            continue;
        }
        let p = &e["params"];
        match (p["url"].as_str(), p["initiator"].as_str()) {
            (Some(url), Some(init)) if init != "not an origin" => urls.push(url.to_string()),
            _ => {}
        }
    }
    urls
}

/// RGB pixels of a PNG file, and its size.
fn pixels(path: &Path) -> (Vec<[u8; 3]>, u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = buf[..info.buffer_size()].chunks(channels).map(|c| [c[0], c[1], c[2]]).collect();
    (px, info.width, info.height)
}

/// The fraction of pixels that are not near-white, and whether each colour is present.
fn looks_drawn(px: &[[u8; 3]], colours: &[[u8; 3]]) -> (f64, Vec<bool>) {
    let inked = px.iter().filter(|p| p.iter().any(|&c| c < 235)).count();
    let near = |p: &[u8; 3], c: &[u8; 3]| p.iter().zip(c).all(|(a, b)| a.abs_diff(*b) <= 10);
    let present = colours.iter().map(|c| px.iter().filter(|p| near(p, c)).count() >= 50).collect();
    (inked as f64 / px.len().max(1) as f64, present)
}

/// Tableau 10's first two: every chart draws its first series in one of these.
const BLUE: [u8; 3] = [0x4e, 0x79, 0xa7];
const ORANGE: [u8; 3] = [0xf2, 0x8e, 0x2b];

const SCENARIO: &str = r#"
name = "browser"
seed = 9
duration = "15s"
warmup = "1s"
drain = "10s"
[workload]
arrivals = { process = "poisson", rate = "2k/s" }
keys = { count = 500 }
[[fault]]
kind = "crash"
target = "store"
at = "6s"
duration = "2s"
[[model]]
name = "sync"
kind = "baseline"
[model.client]
retries = 10
[[model]]
name = "async"
kind = "baseline"
[model.client]
retries = 10
[model.store]
synchronous_commit = "off"
"#;

fn generate(dir: &Path) -> Vec<String> {
    std::fs::write(dir.join("browser.toml"), SCENARIO).unwrap();
    let out = command(&root(), &["run"])
        .arg(dir.join("browser.toml"))
        .args(["--quiet", "--out"])
        .arg(dir.join("site"))
        .output()
        .unwrap();
    ok(&out);
    let mut stems: Vec<String> = std::fs::read_dir(dir.join("site/charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".svg").to_string())
        .collect();
    stems.sort();
    stems
}

/// The rendered DOM holds every chart's figure with an SVG that has drawn elements.
fn check_dom(dom: &str, stems: &[String]) {
    assert!(dom.contains("<table>"), "tables rendered");
    assert_eq!(dom.matches("<figure id=\"chart-").count(), stems.len(), "{dom:.2000}");
    for stem in stems {
        let at = dom
            .find(&format!("<figure id=\"chart-{stem}\""))
            .unwrap_or_else(|| panic!("chart {stem} missing"));
        let figure = &dom[at..at + dom[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "{stem}: no svg element");
        let drawn = ["<polyline", "<rect", "<line", "<text"]
            .iter()
            .map(|t| figure.matches(t).count())
            .sum::<usize>();
        assert!(drawn > 20, "{stem}: only {drawn} drawn elements");
        assert!(figure.contains("<text"), "{stem}: no text");
    }
}

#[test]
fn the_page_renders_every_chart_and_asks_the_network_for_nothing() {
    let Some(bin) = browser_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let stems = generate(tmp.path());
    assert!(stems.len() >= 8, "{stems:?}");
    let site = tmp.path().join("site");
    let server = Server::start(site.clone());
    let profile = |n: &str| {
        let p = tmp.path().join(format!("profile-{n}"));
        std::fs::create_dir_all(&p).unwrap();
        p
    };

    // The DOM: every chart. The server saw the page only, and the page started no request.
    let netlog = tmp.path().join("dom.netlog.json");
    let dom = chrome(
        &bin,
        &profile("dom"),
        Some(&netlog),
        &["--dump-dom".to_string()],
        &server.url("index.html"),
    );
    check_dom(&dom, &stems);
    assert_eq!(server.take_log(), ["GET /index.html HTTP/1.1"], "requests to the server");
    assert_eq!(page_requests(&netlog), Vec::<String>::new(), "requests the page started");

    // A screenshot of the whole page: not blank, the charts' colours are there.
    let shot = tmp.path().join("page.png");
    let args =
        vec![format!("--screenshot={}", shot.display()), "--window-size=1280,9000".to_string()];
    chrome(&bin, &profile("shot"), None, &args, &server.url("index.html"));
    let (px, w, h) = pixels(&shot);
    assert_eq!((w, h), (1280, 9000));
    let (inked, present) = looks_drawn(&px, &[BLUE, ORANGE]);
    assert!(inked > 0.03, "the page looks blank: {:.1} % inked", inked * 100.0);
    assert!(present.iter().all(|&p| p), "chart colours missing: {present:?}");
    let log = server.take_log();
    assert_eq!(log.len(), 1, "{log:#?}");

    // Each chart file alone: it renders, with its colours, at its own size.
    for stem in &stems {
        let shot = tmp.path().join(format!("{stem}.png"));
        let svg = std::fs::read_to_string(site.join(format!("charts/{stem}.svg"))).unwrap();
        let size = |attr: &str| -> u32 {
            let at = svg.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
            svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
        };
        let args = vec![
            format!("--screenshot={}", shot.display()),
            format!("--window-size={},{}", size("width"), size("height")),
        ];
        chrome(&bin, &profile(stem), None, &args, &server.url(&format!("charts/{stem}.svg")));
        let (px, _, _) = pixels(&shot);
        let (inked, present) = looks_drawn(&px, &[BLUE, ORANGE]);
        assert!(inked > 0.02, "{stem} looks blank: {:.2} % inked", inked * 100.0);
        assert!(present.iter().any(|&p| p), "{stem}: no series colour drawn");
    }
    server.take_log();

    // Offline, from the file itself: the same DOM, and no request started.
    let netlog = tmp.path().join("file.netlog.json");
    let page = format!("file://{}", site.join("index.html").display());
    let dom = chrome(&bin, &profile("file"), Some(&netlog), &["--dump-dom".to_string()], &page);
    check_dom(&dom, &stems);
    assert_eq!(page_requests(&netlog), Vec::<String>::new(), "requests the offline page started");
}

#[test]
fn the_request_log_does_catch_a_page_that_loads_things() {
    let Some(bin) = browser_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path());
    let site = tmp.path().join("site");
    let page = std::fs::read_to_string(site.join("index.html")).unwrap();
    let leaky = page
        .replacen(
            "</head>",
            "<link rel=\"stylesheet\" href=\"https://cdn.example.com/style.css\">\n</head>",
            1,
        )
        .replacen(
            "<body>",
            "<body>\n<img src=\"http://images.example.com/logo.png\" alt=\"\">\n<link rel=\"stylesheet\" href=\"local.css\">",
            1,
        );
    std::fs::write(site.join("leaky.html"), leaky).unwrap();
    let server = Server::start(site);
    let profile = tmp.path().join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let netlog = tmp.path().join("leaky.netlog.json");
    chrome(&bin, &profile, Some(&netlog), &["--dump-dom".to_string()], &server.url("leaky.html"));
    let started = page_requests(&netlog);
    for url in ["https://cdn.example.com/style.css", "http://images.example.com/logo.png"] {
        assert!(started.iter().any(|u| u == url), "{url} was not seen: {started:#?}");
    }
    let log = server.take_log();
    assert!(
        log.iter().any(|l| l.starts_with("GET /local.css ")),
        "the relative stylesheet was not seen: {log:#?}"
    );
}
