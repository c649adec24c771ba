//! `--timeline-csv`: every timeline window of each model, streamed to
//! `DIR/timeline/MODEL.csv` as the run closes it (one row in memory at a time, whatever the
//! run's length), in exact integer nanoseconds. Each file is written under a temporary name and
//! renamed when its run is over, so a failed run leaves the previous file or none.

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
    tmp: PathBuf,
    path: PathBuf,
    out: Mutex<Option<BufWriter<File>>>,
    /// The first write error: the file is then abandoned and the run reports it.
    failed: Mutex<Option<String>>,
}

impl CsvSink {
    fn create(folder: &Path, model: &str) -> Result<Self, String> {
        let path = folder.join(format!("{model}.csv"));
        let tmp = folder.join(format!(".{model}.csv.tmp"));
        let mut out = File::create(&tmp)
            .map(BufWriter::new)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        writeln!(out, "{HEADER}").map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        Ok(Self { tmp, path, out: Mutex::new(Some(out)), failed: Mutex::new(None) })
    }

    fn fail(&self, message: String) {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.get_or_insert(message);
    }

    /// Flushes the file and gives it its name; the first error of the run if there was one.
    fn finish(&self) -> Result<(), String> {
        let out = self.out.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(e) = self.failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e);
        }
        let Some(out) = out else { return Ok(()) };
        out.into_inner()
            .map_err(|e| e.to_string())
            .and_then(|f| f.sync_all().map_err(|e| e.to_string()))
            .and_then(|()| std::fs::rename(&self.tmp, &self.path).map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
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
            self.fail(format!("cannot write {}: {e}", self.tmp.display()));
        }
    }
}

/// The CSV files of one scenario's models, in scenario order.
pub(crate) struct TimelineCsv {
    sinks: Vec<Arc<CsvSink>>,
}

impl TimelineCsv {
    /// Opens `dir/timeline/MODEL.csv` (under temporary names) for every model; removes other
    /// CSV files there, so the folder shows one run.
    pub(crate) fn create(dir: &Path, models: &[String]) -> Result<Self, String> {
        let folder = dir.join("timeline");
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let ours = models.iter().any(|m| name == format!("{m}.csv"));
                if name.ends_with(".csv") && !ours {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let sinks = models
            .iter()
            .map(|m| CsvSink::create(&folder, m).map(Arc::new))
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

    /// Removes the temporary files (a run that failed).
    pub(crate) fn abandon(&self) {
        for s in &self.sinks {
            let _ = std::fs::remove_file(&s.tmp);
        }
    }
}
