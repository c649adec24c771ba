//! `pipesim trace export`: a scenario's arrivals and faults as files, and a scenario that
//! replays them.

use crate::args::{CommonArgs, TraceExportArgs};
use crate::cmd_run::print_warnings;
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

/// What an export wrote, for the line it prints.
struct Exported {
    events: u64,
    faults: usize,
}

/// `pipesim trace export`: the files written, and a line saying so unless quiet; the exit code.
pub(crate) fn export(args: TraceExportArgs, registry: &Registry) -> u8 {
    match export_files(&args, registry) {
        Ok(_) if args.quiet => exit::SUCCESS,
        Ok(Exported { events, faults }) => {
            let dir = &args.out;
            out(&format!(
                "wrote {} ({events} events), {} ({faults} faults), {}\n",
                dir.join(ARRIVALS).display(),
                dir.join(FAULTS).display(),
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

/// Loads the scenario and writes its arrivals, its faults and the scenario that replays them
/// into `--out`, swapped in whole.
fn export_files(args: &TraceExportArgs, registry: &Registry) -> Result<Exported, Failed> {
    let (scenario, replay) = load_replayable(args, registry)?;
    print_warnings(&scenario, &scenario.warnings);
    // A large export says what it will write before it starts (about 30 bytes a line).
    let arrivals = scenario.workload.expected_arrivals();
    if arrivals > NOTICE_ARRIVALS {
        err_line(&format!(
            "estimate: about {:.1} M events, arrivals.csv about {:.1} GB",
            arrivals / 1e6,
            arrivals * 30.0 / 1e9
        ));
    }
    // The folder is built beside the target and swapped in whole once every file is written.
    let out_dir =
        StagedDir::new(&args.out, &TRACE_FOLDER).map_err(|e| Failed(format!("--out: {e}")))?;
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
    Ok(Exported { events, faults: scenario.faults.len() })
}

/// The scenario with `--seed` and `--set` applied, and the text of the scenario that replays
/// its exported files.
fn load_replayable(
    args: &TraceExportArgs,
    registry: &Registry,
) -> Result<(Scenario, String), Failed> {
    let common = CommonArgs {
        scenarios: vec![args.scenario.clone()],
        seed: args.seed,
        set: args.set.clone(),
        models: None,
        max_memory: None,
    };
    let opts = load_options(&common, registry).map_err(Failed)?;
    let scenario = load(&args.scenario, &opts).map_err(|e| Failed(e.to_string()))?;
    let replay =
        replay_scenario(&scenario, &opts, ARRIVALS, FAULTS).map_err(|e| Failed(e.to_string()))?;
    Ok((scenario, replay))
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
