//! Progress on stderr while models run: simulated time, events per second and an ETA, one bar
//! per model. Only on a terminal, only for runs longer than a second, never with `--quiet`; the
//! bars are cleared before the summary table is printed. The wall clock is read here only.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipesim_models::RunProgress;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Nothing is drawn for runs shorter than this.
const QUIET_FOR: Duration = Duration::from_secs(1);
/// How often the bars are redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Whether progress should be shown: stderr is a terminal and `--quiet` was not given.
pub(crate) fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A running display; [`Display::stop`] clears it.
pub(crate) struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Starts drawing `runs` (model name, its progress), each ending at `end_ns` simulated.
    pub(crate) fn start(runs: Vec<(String, Arc<RunProgress>)>, end_ns: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || draw(&runs, end_ns, &flag));
        Self { stop, thread: Some(thread) }
    }

    /// Stops drawing and clears the bars.
    pub(crate) fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

// The wall clock measures the display's own pace; nothing here reaches a report.
#[allow(clippy::disallowed_methods)]
fn draw(runs: &[(String, Arc<RunProgress>)], end_ns: u64, stop: &AtomicBool) {
    let started = std::time::Instant::now();
    let all_done = || runs.iter().all(|(_, p)| p.is_done());
    while started.elapsed() < QUIET_FOR {
        if stop.load(Ordering::Acquire) || all_done() {
            return;
        }
        std::thread::sleep(TICK);
    }
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>24} [{bar:30}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let width = runs.iter().map(|(n, _)| n.len()).max().unwrap_or(0).min(24);
    let bars: Vec<ProgressBar> = runs
        .iter()
        .map(|(name, _)| {
            let b = multi.add(ProgressBar::new(end_ns.max(1) / 1_000_000));
            b.set_style(style.clone());
            b.set_prefix(format!("{name:>width$}"));
            b
        })
        .collect();
    let mut last: Vec<(u64, u64)> = runs.iter().map(|(_, p)| (p.now_ns(), p.events())).collect();
    let mut last_at = std::time::Instant::now();
    loop {
        std::thread::sleep(TICK);
        let dt = last_at.elapsed().as_secs_f64().max(1e-6);
        last_at = std::time::Instant::now();
        for (i, ((_, p), bar)) in runs.iter().zip(&bars).enumerate() {
            if bar.is_finished() {
                continue;
            }
            let (now, events) = (p.now_ns(), p.events());
            if p.is_done() {
                bar.finish_and_clear();
                continue;
            }
            let (then, then_events) = last[i];
            let sim_rate = (now.saturating_sub(then)) as f64 / dt; // simulated ns per wall second
            let eta = if sim_rate > 0.0 {
                format!("ETA {:.0} s", end_ns.saturating_sub(now) as f64 / sim_rate)
            } else {
                "ETA –".to_string()
            };
            bar.set_position(now / 1_000_000);
            bar.set_message(format!(
                "{:.1} / {:.1} s simulated · {:.2} M events/s · {eta}",
                secs(now),
                secs(end_ns),
                events.saturating_sub(then_events) as f64 / dt / 1e6
            ));
            last[i] = (now, events);
        }
        if stop.load(Ordering::Acquire) || all_done() {
            break;
        }
    }
    for b in &bars {
        b.finish_and_clear();
    }
    let _ = multi.clear();
}
