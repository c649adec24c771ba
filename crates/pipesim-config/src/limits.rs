//! The bound on every count a scenario can set (TigerBeetle's rule: a limit on everything).
//!
//! Each limit is far above what a real system has, so no sensible scenario meets it, and low
//! enough that what a limit admits can be allocated and counted without overflow. Memory that a
//! scenario's counts add up to (keys × per-key state, LRU capacity × producers, …) is checked
//! as a whole by the run estimate, before anything runs; these bounds stop each count on its
//! own. docs/scenario.md's "Limits" table lists them with the reasons written here.

use crate::ConfigError;

/// An upper bound on one kind of count, and why it is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The largest value accepted.
    pub max: u64,
    /// What is counted, for messages: "producer instances".
    pub what: &'static str,
}

/// Producer instances, and the clients of a fleet (each has a connection and its state).
pub const INSTANCES: Limit = Limit { max: 100_000, what: "producer instances" };
/// Connections of a pool or a writer, servers, threads, workers, cores, consumers.
pub const WORKERS: Limit = Limit { max: 100_000, what: "connections, servers, threads or workers" };
/// Partitions of a topic (Kafka clusters hold up to about 200,000 in all) and shards.
pub const PARTITIONS: Limit = Limit { max: 100_000, what: "partitions or shards" };
/// Brokers of a log, servers of a store.
pub const BROKERS: Limit = Limit { max: 10_000, what: "brokers or servers" };
/// Records in one batch, statement, fetch or request, and requests in flight.
pub const BATCH: Limit = Limit { max: 1_000_000, what: "records in one batch or request" };
/// Retries of one request (Kafka's default, 2^31 − 1, is the largest).
pub const RETRIES: Limit = Limit { max: 2_147_483_647, what: "retries" };
/// Entries a cache or an LRU holds, entities of a cache, entities one read asks for. What they
/// cost together is the estimate's to check.
pub const ENTRIES: Limit = Limit { max: 1_000_000_000, what: "entries" };
/// Events a cache keeps per entity, rows read per entity.
pub const PER_ENTITY: Limit = Limit { max: 1_000_000, what: "events or rows per entity" };
/// Memtables of a broker's store.
pub const MEMTABLES: Limit = Limit { max: 1_024, what: "memtables" };
/// Stations of a `stations` model (each is checked against every other by name).
pub const STATIONS: Limit = Limit { max: 1_000, what: "stations" };
/// The longest name (scenario, model, station): names become file and folder names
/// (`MODEL.METRIC.hgrm` must stay within the 255 bytes of a file name) and table columns.
pub const MAX_NAME_CHARS: usize = 100;
/// Polling readers of a model.
pub const READERS: Limit = Limit { max: 100_000, what: "readers" };

/// Models of one scenario (each runs the whole workload; names are checked pairwise).
pub const MODELS: Limit = Limit { max: 64, what: "models" };
/// Faults of one scenario, from every source together (each fault window keeps two latency
/// histograms per model, and every event is checked against every window).
pub const FAULTS: Limit = Limit { max: 1_000, what: "faults" };
/// Nodes one rolling restart takes down (each is a crash of its own).
pub const RESTART_NODES: Limit = Limit { max: 1_000, what: "nodes of a rolling restart" };
/// Schema changes or checkpoints of one `schema_flood` or `checkpoint_storm` (window ÷
/// interval).
pub const FAULT_EVENTS: Limit = Limit { max: 100_000, what: "changes or checkpoints of one fault" };
/// Timeline windows of a run, (duration + drain) ÷ window (each keeps a histogram: about
/// 22 KB of memory and 130 bytes of report.json per model).
pub const WINDOWS: Limit = Limit { max: 100_000, what: "timeline windows" };
/// Distinct keys (16 bytes of state per key in the checker and the generator, more in some
/// models).
pub const KEYS: Limit = Limit { max: 1_000_000_000, what: "keys" };
/// Rate phases of a workload.
pub const PHASES: Limit = Limit { max: 10_000, what: "rate phases" };
/// Claims, gate thresholds, gate tolerances of one scenario.
pub const TABLE_ENTRIES: Limit = Limit { max: 1_000, what: "claims, thresholds or tolerances" };
/// Points of one sweep (parameter combinations × seeds; each runs every model).
pub const SWEEP_POINTS: Limit = Limit { max: 10_000, what: "sweep points" };
/// Seeds of one sweep.
pub const SWEEP_SEEDS: Limit = Limit { max: 1_000, what: "seeds" };
/// Expected arrivals of one run (about ten hours at the engine's fastest, 29 M events/s).
pub const ARRIVALS: Limit = Limit { max: 1_000_000_000_000, what: "expected arrivals" };
/// The highest arrival or read rate, per second: one event per simulated nanosecond, the
/// clock's resolution.
pub const MAX_RATE_PER_S: f64 = 1e9;
/// The longest run, duration + drain, in ns: 100 years, so that sums of simulated times stay
/// far from the 584 years a u64 of nanoseconds holds.
pub const MAX_RUN_NS: u64 = 100 * 365 * 24 * 3_600 * 1_000_000_000;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// Checks `value` against `limit`; the error names the field at `path`.
pub fn at_most(path: &str, value: u64, limit: &Limit) -> Result<(), ConfigError> {
    if value <= limit.max {
        return Ok(());
    }
    Err(ConfigError::new(
        path,
        format!(
            "{} is more than the {} {} pipesim accepts (a documented limit: see \"Limits\" in docs/scenario.md)",
            grouped(value),
            grouped(limit.max),
            limit.what
        ),
    ))
}

/// `1234567` as "1,234,567".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Longest run of non-space characters an error message quotes whole.
const MAX_WORD_CHARS: usize = 160;
/// Longest error message.
const MAX_MESSAGE_CHARS: usize = 2_000;

/// `text` for an error message: every run of more than 160 non-space characters (a value, a
/// key, a path) is cut to its first 80 and a count of the rest, and the whole to 2,000
/// characters, so an error never echoes a 100 kB value.
pub fn shorten(text: &str) -> String {
    /// Characters kept from the end of a cut word (its closing quote and punctuation).
    const TAIL: usize = 8;
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE_CHARS + 64));
    let mut word = String::new();
    let mut tail: std::collections::VecDeque<char> = std::collections::VecDeque::new();
    let mut word_chars = 0usize;
    let flush = |out: &mut String,
                 word: &mut String,
                 tail: &mut std::collections::VecDeque<char>,
                 n: &mut usize| {
        if *n > MAX_WORD_CHARS {
            let head: String = word.chars().take(80).collect();
            let end: String = tail.iter().collect();
            out.push_str(&format!("{head}…({} more characters)…{end}", *n - 80 - tail.len()));
        } else {
            out.push_str(word);
        }
        word.clear();
        tail.clear();
        *n = 0;
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut out, &mut word, &mut tail, &mut word_chars);
            out.push(c);
        } else {
            word_chars += 1;
            if word_chars <= MAX_WORD_CHARS {
                word.push(c);
            } else {
                tail.push_back(c);
                if tail.len() > TAIL {
                    tail.pop_front();
                }
            }
        }
        if out.len() > MAX_MESSAGE_CHARS * 4 {
            break;
        }
    }
    flush(&mut out, &mut word, &mut tail, &mut word_chars);
    if out.chars().count() > MAX_MESSAGE_CHARS {
        let head: String = out.chars().take(MAX_MESSAGE_CHARS).collect();
        return format!("{head}… (message cut)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_name_the_value_and_the_limit() {
        assert!(at_most("instances", 100_000, &INSTANCES).is_ok());
        let e = at_most("instances", 3_000_000, &INSTANCES).unwrap_err();
        assert_eq!(e.path, "instances");
        assert!(e.message.starts_with("3,000,000 is more than the 100,000 producer instances"));
        assert_eq!(grouped(1), "1");
        assert_eq!(grouped(1000), "1,000");
    }

    #[test]
    fn long_values_are_cut() {
        let value = "x".repeat(100_000);
        let short = shorten(&format!("unknown kind `{value}`; known: a, b"));
        assert!(short.len() < 250, "{short}");
        assert!(short.contains("more characters)") && short.ends_with("; known: a, b"));
        assert_eq!(shorten("servers: must be at least 1"), "servers: must be at least 1");
        assert!(shorten(&"ab ".repeat(10_000)).chars().count() < 2_100);
    }
}
