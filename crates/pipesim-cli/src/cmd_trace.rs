//! `pipesim trace export`: a scenario's arrivals and faults as files, and a scenario that
//! replays them.

use crate::args::{CommonArgs, TraceExportArgs};
use crate::cmd_validate::load_options;
use crate::exit;
use crate::output::{err_line, error, out};
use pipesim_engine::RngStreams;
use pipesim_models::Registry;
use pipesim_report::write_atomic;
use pipesim_scenario::{Scenario, fault_trace_lines, load, replay_scenario};
use pipesim_workload::{ArrivalGen, TRACE_COLUMNS};
use std::io::{BufWriter, Write};
use std::path::Path;

/// The file names written into the output folder.
const ARRIVALS: &str = "arrivals.csv";
const FAULTS: &str = "faults.jsonl";
const SCENARIO: &str = "scenario.toml";

/// An I/O error in words, without "(os error N)".
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

/// Why an export stopped: bad input (exit 2) in every case, with the message.
struct Failed(String);

pub(crate) fn export(args: TraceExportArgs, registry: &Registry) -> u8 {
    let common = CommonArgs {
        scenarios: vec![args.scenario.clone()],
        seed: args.seed,
        set: args.set.clone(),
        models: None,
    };
    let opts = match load_options(&common, registry) {
        Ok(o) => o,
        Err(e) => {
            error(e);
            return exit::INVALID_INPUT;
        }
    };
    let scenario = match load(&args.scenario, &opts) {
        Ok(s) => s,
        Err(e) => {
            error(e);
            return exit::INVALID_INPUT;
        }
    };
    let replay = match replay_scenario(&scenario, &opts, ARRIVALS, FAULTS) {
        Ok(t) => t,
        Err(e) => {
            error(e);
            return exit::INVALID_INPUT;
        }
    };
    for w in &scenario.warnings {
        err_line(&format!("warning: {}: {w}", scenario.path.display()));
    }
    let dir = &args.out;
    if dir.exists() && !dir.is_dir() {
        error(format!("--out: {} is a file, not a folder", dir.display()));
        return exit::INVALID_INPUT;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        error(format!("--out: cannot create {}: {}", dir.display(), io_reason(&e)));
        return exit::INVALID_INPUT;
    }
    let written = (|| {
        let events = write_arrivals(&scenario, &dir.join(ARRIVALS))?;
        let faults = fault_trace_lines(&scenario);
        write_atomic(&dir.join(FAULTS), faults.as_bytes()).map_err(|e| write_error(dir, &e))?;
        let header = format!(
            "# Replays the arrivals of {} (seed {}) exported by `pipesim trace export`.\n",
            scenario.path.display(),
            scenario.seed
        );
        write_atomic(&dir.join(SCENARIO), (header + &replay).as_bytes())
            .map_err(|e| write_error(dir, &e))?;
        Ok::<u64, Failed>(events)
    })();
    match written {
        Ok(events) => {
            out(&format!(
                "wrote {} ({events} events), {} ({} faults), {}\n",
                dir.join(ARRIVALS).display(),
                dir.join(FAULTS).display(),
                scenario.faults.len(),
                dir.join(SCENARIO).display()
            ));
            exit::SUCCESS
        }
        Err(Failed(msg)) => {
            error(msg);
            exit::INVALID_INPUT
        }
    }
}

fn write_error(dir: &Path, e: &std::io::Error) -> Failed {
    Failed(format!("cannot write to {}: {}", dir.display(), io_reason(e)))
}

/// Streams the scenario's arrivals to `path` (a temporary file, renamed when complete), one
/// line per event with the exact creation time in nanoseconds; returns the number of events.
fn write_arrivals(s: &Scenario, path: &Path) -> Result<u64, Failed> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| write_error(dir, &e))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let io = |e: std::io::Error| write_error(dir, &e);
        writeln!(w, "{}", TRACE_COLUMNS.join(",")).map_err(io)?;
        // The arrival stream is the same for every model: it depends on the workload and the
        // seed only.
        let mut events = 0u64;
        for ev in ArrivalGen::new(&s.workload, &RngStreams::new(s.seed)) {
            writeln!(w, "{},{},event,{}", ev.created_ns, ev.key, ev.size_bytes).map_err(io)?;
            events += 1;
        }
        if let Some(e) = s.workload.trace.as_ref().and_then(|t| t.failure()) {
            return Err(Failed(e.to_string()));
        }
        let file = w.into_inner().map_err(|e| write_error(dir, e.error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(events)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
