//! `--timeline-csv`: every timeline window of each model, streamed to
//! `DIR/timeline/MODEL.csv` as the run closes it (one row in memory at a time, whatever the
//! run's length), in exact integer nanoseconds. The files go into the report's staging folder,
//! so they are swapped in with the rest of the report, and a failed run leaves the previous
//! report whole.

use pipesim_engine::SimTime;
use pipesim_metrics::{WindowRow, WindowSink};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The header line of every file.
pub(crate) const HEADER: &str =
    "start_ns,window_ns,offered,delivered,dropped,backlog,p50_ns,p99_ns,max_ns,late";

/// One model's CSV file, written as windows close.
#[derive(Debug)]
pub(crate) struct CsvSink {
    /// Where the file will be once the report is swapped in, for messages.
    shown: PathBuf,
    out: Mutex<Option<BufWriter<File>>>,
    /// The first write error: the file is then abandoned and the run reports it.
    failed: Mutex<Option<String>>,
}

impl CsvSink {
    fn create(folder: &Path, shown_folder: &Path, model: &str) -> Result<Self, String> {
        let path = folder.join(format!("{model}.csv"));
        let shown = shown_folder.join(format!("{model}.csv"));
        let mut out = File::create(&path)
            .map(BufWriter::new)
            .map_err(|e| format!("cannot create {}: {e}", shown.display()))?;
        writeln!(out, "{HEADER}").map_err(|e| format!("cannot write {}: {e}", shown.display()))?;
        Ok(Self { shown, out: Mutex::new(Some(out)), failed: Mutex::new(None) })
    }

    fn fail(&self, message: String) {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.get_or_insert(message);
    }

    /// Flushes the file; the first error of the run if there was one.
    fn finish(&self) -> Result<(), String> {
        let out = self.out.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(e) = self.failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        let Some(out) = out else { return Ok(()) };
        out.into_inner()
            .map_err(|e| e.to_string())
            .and_then(|f| f.sync_all().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot write {}: {e}", self.shown.display()))
    }
}

impl WindowSink for CsvSink {
    fn window(&self, start_ns: SimTime, width_ns: SimTime, r: &WindowRow) {
        let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let Some(out) = guard.as_mut() else { return };
        let written = writeln!(
            out,
            "{start_ns},{width_ns},{},{},{},{},{},{},{},{}",
            r.offered, r.delivered, r.dropped, r.backlog, r.p50_ns, r.p99_ns, r.max_ns, r.late
        );
        if let Err(e) = written {
            *guard = None;
            drop(guard);
            self.fail(format!("cannot write {}: {e}", self.shown.display()));
        }
    }
}

/// The CSV files of one scenario's models, in scenario order.
pub(crate) struct TimelineCsv {
    sinks: Vec<Arc<CsvSink>>,
}

impl TimelineCsv {
    /// Opens `timeline/MODEL.csv` in the staging folder `staging` for every model (`shown` is
    /// the report folder as the user named it, for messages).
    pub(crate) fn create(staging: &Path, shown: &Path, models: &[String]) -> Result<Self, String> {
        let folder = staging.join("timeline");
        let shown_folder = shown.join("timeline");
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", shown_folder.display()))?;
        let sinks = models
            .iter()
            .map(|m| CsvSink::create(&folder, &shown_folder, m).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Self { sinks })
    }

    /// One sink per model, for the runs.
    pub(crate) fn sinks(&self) -> Vec<Option<Arc<dyn WindowSink>>> {
        self.sinks.iter().map(|s| Some(Arc::clone(s) as Arc<dyn WindowSink>)).collect()
    }

    /// Finishes every file; the first error.
    pub(crate) fn finish(&self) -> Result<(), String> {
        self.sinks.iter().map(|s| s.finish()).collect::<Vec<_>>().into_iter().collect()
    }
}
