//! Mutations of scenario text: structure-aware ones on the TOML tree (values replaced by
//! boundary values of every type, keys deleted, known keys inserted, array entries duplicated,
//! subtrees spliced from other corpus files) and byte-level ones (flips, insertions, deletions,
//! line edits, truncation). All draws come from one seeded stream, so a run is reproducible.

use pipesim_engine::StreamRng;
use toml::{Table, Value};

/// Keys scenarios use, so insertions hit real fields more often than random names would.
const KEYS: &[&str] = &[
    "name",
    "kind",
    "duration",
    "warmup",
    "drain",
    "window",
    "seed",
    "rate",
    "count",
    "keys",
    "popularity",
    "exponent",
    "payload",
    "process",
    "on",
    "off",
    "at",
    "ramp",
    "file",
    "on_error",
    "servers",
    "capacity",
    "service",
    "route",
    "to",
    "p",
    "instances",
    "affinity",
    "size",
    "cores",
    "retries",
    "timeout",
    "backoff",
    "partitions",
    "brokers",
    "replication_factor",
    "min_insync_replicas",
    "io_threads",
    "memtable",
    "memtables",
    "shards",
    "writers_per_shard",
    "batch_max",
    "lru",
    "entities",
    "ring",
    "consumers",
    "threads",
    "workers",
    "batch",
    "parallelism",
    "checkpoint_interval",
    "sink",
    "target",
    "interval",
    "nodes",
    "downtime",
    "gap",
    "probability",
    "rto",
    "ahead",
    "scope",
    "machine",
    "guard",
    "client_clock",
    "factor",
    "stop",
    "extra",
    "direction",
    "in_flight",
    "schema",
    "new_type_share",
    "metric",
    "value",
    "model",
    "seeds",
    "enabled",
    "dist",
    "mean",
    "p50",
    "p99",
    "min",
    "max",
    "scale",
    "shape",
    "unit",
    "trace",
    "random",
    "kinds",
    "targets",
    "max_poll_records",
    "max_in_flight",
    "delivery_timeout",
    "linger",
    "acks",
    "idempotence",
];

/// Values at the edges of every quantity pipesim reads.
const STRINGS: &[&str] = &[
    "",
    "0ns",
    "1ns",
    "0s",
    "1ms",
    "999999999h",
    "18446744073709551615ns",
    "-1s",
    "1e308s",
    "nan",
    "1/s",
    "1G/s",
    "999999G/s",
    "0/s",
    "-5/s",
    "1e-300/s",
    "0B",
    "4GiB",
    "999999999GiB",
    "1KiB",
    "zipf",
    "uniform",
    "poisson",
    "constant",
    "bursty",
    "trace",
    "crash",
    "partition",
    "pause",
    "schema_flood",
    "checkpoint_storm",
    "rolling_restart",
    "disk_stall",
    "latency_spike",
    "packet_loss",
    "clock_skew",
    "store",
    "network",
    "log",
    "cache",
    "processor",
    "producer",
    "exit",
    "stations",
    "baseline",
    "sharded",
    "lua_ordered",
    "event_sourced",
    "cached",
    "frozen",
    "infer",
    "auto_register",
    "exactly_once",
    "at_least_once",
    "projection",
    "random",
    "key",
    "all",
    "< 50ms",
    "p99",
    "latency.e2e.p99_ms",
    "5%",
    "../../../etc/passwd",
    "/dev/zero",
    "\u{feff}x",
    "é",
    "a.b",
    ".hidden",
    "x/y",
    "events.csv",
    "faults.jsonl",
    "measured.hgrm",
];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    7,
    64,
    1000,
    16_384,
    16_385,
    65_535,
    65_536,
    1 << 20,
    1 << 24,
    2_147_483_647,
    2_147_483_648,
    4_294_967_295,
    4_294_967_296,
    1 << 40,
    i64::MAX,
    i64::MIN,
];

const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e-300,
    1e300,
    f64::MAX,
    f64::MIN_POSITIVE,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.999_999_999,
    1.000_000_001,
];

/// Draws from the fuzzer's stream.
pub(crate) struct Dice {
    rng: StreamRng,
}

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: pipesim_engine::RngStreams::new(seed).stream("fuzz/mutate") }
    }

    /// A number in `0..n` (`n` ≥ 1).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.rng.below(n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A mutant of `text`, with `others` (the corpus) to splice from.
pub(crate) fn mutate(text: &str, others: &[String], dice: &mut Dice) -> String {
    let rounds = 1 + dice.below(4);
    let mut out = text.to_string();
    for _ in 0..rounds {
        out = match (dice.chance(0.75), out.parse::<Table>()) {
            (true, Ok(mut table)) => {
                structural(&mut table, others, dice);
                toml::to_string(&table).unwrap_or(out)
            }
            _ => bytes(&out, dice),
        };
    }
    out
}

/// One structure-aware mutation of the tree.
fn structural(root: &mut Table, others: &[String], dice: &mut Dice) {
    match dice.below(6) {
        0 | 1 => {
            let v = interesting(dice);
            with_random_value(root, dice, &mut |slot, _| *slot = v.clone());
        }
        2 => {
            // Delete a key of a random table.
            with_random_table(root, dice, &mut |t, dice| {
                let keys: Vec<String> = t.keys().cloned().collect();
                if !keys.is_empty() {
                    t.remove(&keys[dice.below(keys.len())]);
                }
            });
        }
        3 => {
            // Insert a known key with a boundary value.
            let key = dice.pick(KEYS).to_string();
            let v = interesting(dice);
            with_random_table(root, dice, &mut |t, _| {
                t.insert(key.clone(), v.clone());
            });
        }
        4 => {
            // Duplicate an entry of an array (another model or fault, same name and time).
            with_random_value(root, dice, &mut |slot, dice| {
                if let Value::Array(a) = slot
                    && !a.is_empty()
                {
                    let i = dice.below(a.len());
                    let copies = 1 + dice.below(3);
                    for _ in 0..copies {
                        a.push(a[i].clone());
                    }
                }
            });
        }
        _ => {
            // Splice a top-level entry from another corpus file.
            let Some(other) = others.get(dice.below(others.len())) else { return };
            let Ok(other) = other.parse::<Table>() else { return };
            let keys: Vec<&String> = other.keys().collect();
            if keys.is_empty() {
                return;
            }
            let k = keys[dice.below(keys.len())].clone();
            if let Some(v) = other.get(&k) {
                root.insert(k, v.clone());
            }
        }
    }
}

/// A boundary value of a random type.
fn interesting(dice: &mut Dice) -> Value {
    match dice.below(8) {
        0..=2 => Value::String(dice.pick(STRINGS).to_string()),
        3 => Value::Integer(*dice.pick(INTS)),
        4 => Value::Float(*dice.pick(FLOATS)),
        5 => Value::Boolean(dice.chance(0.5)),
        6 => {
            let long = "x".repeat([100, 10_000, 70_000][dice.below(3)]);
            Value::String(long)
        }
        _ => {
            let mut t = Table::new();
            t.insert("dist".to_string(), Value::String(dice.pick(STRINGS).to_string()));
            t.insert(dice.pick(KEYS).to_string(), Value::String(dice.pick(STRINGS).to_string()));
            Value::Table(t)
        }
    }
}

/// A step from a value to one inside it.
enum Step {
    Key(String),
    Index(usize),
}

/// A random path from the root to a value (a leaf, an array or a table).
fn random_path(root: &Table, dice: &mut Dice) -> Vec<Step> {
    let keys: Vec<&String> = root.keys().collect();
    if keys.is_empty() {
        return Vec::new();
    }
    let k = keys[dice.below(keys.len())].clone();
    let mut path = vec![Step::Key(k.clone())];
    let mut v = &root[&k];
    loop {
        if dice.chance(0.3) {
            return path;
        }
        v = match v {
            Value::Table(t) if !t.is_empty() => {
                let keys: Vec<&String> = t.keys().collect();
                let k = keys[dice.below(keys.len())].clone();
                path.push(Step::Key(k.clone()));
                &t[&k]
            }
            Value::Array(a) if !a.is_empty() => {
                let i = dice.below(a.len());
                path.push(Step::Index(i));
                &a[i]
            }
            _ => return path,
        };
    }
}

fn value_at<'a>(root: &'a mut Table, path: &[Step]) -> Option<&'a mut Value> {
    let (Step::Key(first), rest) = path.split_first()? else { return None };
    let mut v = root.get_mut(first)?;
    for step in rest {
        v = match (v, step) {
            (Value::Table(t), Step::Key(k)) => t.get_mut(k)?,
            (Value::Array(a), Step::Index(i)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Calls `f` on a random value of the tree, chosen by a walk from the root.
fn with_random_value(root: &mut Table, dice: &mut Dice, f: &mut dyn FnMut(&mut Value, &mut Dice)) {
    let path = random_path(root, dice);
    if let Some(v) = value_at(root, &path) {
        f(v, dice);
    }
}

/// Calls `f` on a random table of the tree.
fn with_random_table(root: &mut Table, dice: &mut Dice, f: &mut dyn FnMut(&mut Table, &mut Dice)) {
    if dice.chance(0.3) {
        f(root, dice);
        return;
    }
    let mut done = false;
    with_random_value(root, dice, &mut |v, dice| match v {
        Value::Table(t) => {
            f(t, dice);
            done = true;
        }
        Value::Array(a) => {
            if let Some(Value::Table(t)) = a.first_mut() {
                f(t, dice);
                done = true;
            }
        }
        _ => {}
    });
    if !done {
        f(root, dice);
    }
}

/// One byte- or line-level mutation.
fn bytes(text: &str, dice: &mut Dice) -> String {
    let mut b = text.as_bytes().to_vec();
    let n = b.len().max(1);
    match dice.below(7) {
        0 => {
            let i = dice.below(n).min(b.len().saturating_sub(1));
            if let Some(x) = b.get_mut(i) {
                *x ^= 1 << dice.below(8);
            }
        }
        1 => {
            let i = dice.below(n + 1).min(b.len());
            let token = *dice.pick(&[
                "\"",
                "[",
                "]",
                "{",
                "}",
                "=",
                "\n",
                ",",
                "#",
                "\0",
                "\u{feff}",
                "[[model]]\n",
                "[[fault]]\n",
                "9999999999",
            ]);
            b.splice(i..i, token.bytes());
        }
        2 => {
            let i = dice.below(n).min(b.len());
            let len = (1 + dice.below(16)).min(b.len() - i);
            b.drain(i..i + len);
        }
        3 | 4 => {
            let mut lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let i = dice.below(lines.len());
            if dice.chance(0.5) {
                let copies = 1 + dice.below(5);
                for _ in 0..copies {
                    lines.insert(i, lines[i]);
                }
            } else {
                lines.remove(i);
            }
            return lines.join("\n") + "\n";
        }
        5 => b.truncate(dice.below(n)),
        _ => {
            // A number somewhere replaced by a boundary one.
            let text = String::from_utf8_lossy(&b).into_owned();
            let digits: Vec<usize> =
                text.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
            if let Some(&i) = digits.get(dice.below(digits.len().max(1))) {
                let end =
                    text[i..].find(|c: char| !c.is_ascii_digit()).map_or(text.len(), |e| i + e);
                let with = dice.pick(INTS).to_string();
                return format!("{}{}{}", &text[..i], with, &text[end..]);
            }
            return text;
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}
