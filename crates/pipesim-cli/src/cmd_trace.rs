//! `pipesim trace export`: a scenario's arrivals and faults as files, and a scenario that
//! replays them.

use crate::args::{CommonArgs, TraceExportArgs};
use crate::cmd_validate::load_options;
use crate::exit;
use crate::output::{err_line, error, out};
use pipesim_engine::RngStreams;
use pipesim_models::Registry;
use pipesim_report::{OutputError, StagedDir, TRACE_FOLDER};
use pipesim_scenario::{Scenario, fault_trace_lines, load, replay_scenario};
use pipesim_workload::input::io_words;
use pipesim_workload::{ArrivalGen, TRACE_COLUMNS};
use std::io::{BufWriter, Write};

/// The file names written into the output folder.
const ARRIVALS: &str = "arrivals.csv";
const FAULTS: &str = "faults.jsonl";
const SCENARIO: &str = "scenario.toml";

/// Exports expected to write more events than this get a notice first.
const NOTICE_ARRIVALS: f64 = 10_000_000.0;

/// Why an export stopped: bad input (exit 2) in every case, with the message.
struct Failed(String);

#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
pub(crate) fn export(args: TraceExportArgs, registry: &Registry) -> u8 {
    let common = CommonArgs {
        scenarios: vec![args.scenario.clone()],
        seed: args.seed,
        set: args.set.clone(),
        models: None,
        max_memory: None,
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
    // A large export says what it will write before it starts (about 30 bytes a line).
    let arrivals = scenario.workload.expected_arrivals();
    if arrivals > NOTICE_ARRIVALS {
        err_line(&format!(
            "estimate: about {:.1} M events, arrivals.csv about {:.1} GB",
            arrivals / 1e6,
            arrivals * 30.0 / 1e9
        ));
    }
    let dir = &args.out;
    // The folder is built beside the target and swapped in whole once every file is written.
    let out_dir = match StagedDir::new(dir, &TRACE_FOLDER) {
        Ok(d) => d,
        Err(e) => {
            error(format!("--out: {e}"));
            return exit::INVALID_INPUT;
        }
    };
    let written = (|| {
        let events = write_arrivals(&scenario, &out_dir, ARRIVALS)?;
        let faults = fault_trace_lines(&scenario);
        out_dir.write(FAULTS, faults.as_bytes()).map_err(write_error)?;
        let header = format!(
            "# Replays the arrivals of {} (seed {}) exported by `pipesim trace export`.\n",
            scenario.path.display(),
            scenario.seed
        );
        out_dir.write(SCENARIO, (header + &replay).as_bytes()).map_err(write_error)?;
        out_dir.commit().map_err(|e| Failed(format!("cannot replace {e}")))?;
        Ok::<u64, Failed>(events)
    })();
    match written {
        Ok(_) if args.quiet => exit::SUCCESS,
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

fn write_error(e: OutputError) -> Failed {
    Failed(format!("cannot write {e}"))
}

/// Streams the scenario's arrivals to `name` in `out`, one line per event with the exact
/// creation time in nanoseconds; returns the number of events.
fn write_arrivals(s: &Scenario, out: &StagedDir, name: &str) -> Result<u64, Failed> {
    let path = out.path().join(name);
    let shown = out.shown().join(name);
    let io =
        |e: std::io::Error| Failed(format!("cannot write {}: {}", shown.display(), io_words(&e)));
    let file = std::fs::File::create(&path).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    writeln!(w, "{}", TRACE_COLUMNS.join(",")).map_err(io)?;
    // The arrival stream is the same for every model: it depends on the workload and the seed
    // only.
    let mut events = 0u64;
    let mut arrivals = ArrivalGen::new(&s.workload, &RngStreams::new(s.seed));
    for ev in arrivals.by_ref() {
        writeln!(w, "{},{},event,{}", ev.created_ns, ev.key, ev.size_bytes).map_err(io)?;
        events += 1;
    }
    if let Some(e) = arrivals.failure() {
        return Err(Failed(format!("{}: workload.arrivals.file: {e}", s.path.display())));
    }
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(events)
}
