//! The `stations` model against queueing theory, through the real scenario files
//! (`scenarios/validation/*.toml`), the real loader and the real runner.
//!
//! # How the tolerances are set
//!
//! Each case runs R independent replications of its scenario file: the same file with seeds
//! 1..=R (`LoadOptions.seed`; every random stream derives from the root seed), each 510 s long
//! with a 10 s warmup (≈ 400,000 customers measured at 800/s). Each replication yields one
//! estimate of every quantity (a mean over its customers, a time average over its 500 s, a p99
//! read from its HdrHistogram), so the R estimates are i.i.d. and the standard error of their
//! mean is SE = s/√R, s being their sample standard deviation. The strong within-run
//! autocorrelation of a queue at ρ = 0.8 is thereby accounted for without modelling it. Every
//! check asserts
//!
//! 1. |mean − theory| ≤ 4·SE + res·|theory|. `res` is the value resolution of the measurement:
//!    0.1 % for quantities read from an HdrHistogram with 3 significant digits (a percentile is
//!    reported as the top of its bucket, a mean from bucket midpoints), 0 for exact counters
//!    and time integrals. (mean − θ)/SE follows Student's t with R − 1 = 31 degrees of
//!    freedom (63 in the long mode), and P(|t₃₁| > 4) ≈ 0.0004 per check. The runs are deterministic, so for the
//!    fixed seeds a check either always passes or always fails.
//! 2. SE ≤ 2 % of theory (0.5 % under `PIPESIM_LONG_VALIDATION=1`), so the window of 1. is
//!    narrow and a wrong model cannot hide behind noise. In practice the windows are 0.1 % to
//!    2 % of the theory values (docs/validation.md lists them).
//!
//! How narrow that is: at ρ = 0.8 a service time 5 % too long gives ρ = 0.84 and an M/M/1 mean
//! sojourn of 1.05/(1 − 0.84) = 6.56 ms instead of 5 ms (+31 %), a utilisation of 0.84 (+5 %),
//! against windows of about ±1 % and ±0.1 %. `mm1_checks_reject_a_5_percent_service_error`
//! runs exactly that broken model and requires the checks to fail.
//!
//! Little's law is a sample-path identity: the time-average number in the system L̄ and λ̄·W̄
//! differ only by edge effects (customers present at the start or the end of the measured
//! interval, of relative size ~W/T ≈ 1e-5) and the histogram's mean resolution (≤ 0.05 %). It
//! is asserted on every replication to 0.1 %.
//!
//! Default: R = 32 runs per case (≈ 12.8 M customers), about 14 s for the whole file in
//! `cargo test --profile ci` on 2 cores. `PIPESIM_LONG_VALIDATION=1`: R = 64 runs of 4010 s per
//! case (≈ 205 M customers, 16× as many; SE 4× smaller) and the tighter SE bound.
//! Print the comparison with `cargo test --profile ci -p pipesim-cli --test it theory -- --nocapture`;
//! docs/validation.md records the numbers.

use pipesim_cli::runner::run_scenario;
use pipesim_models::ModelOutcome;
use pipesim_scenario::{LoadOptions, Override, load};
use std::path::Path;

/// How many standard errors a simulated mean may stray from theory.
const Z: f64 = 4.0;

/// HdrHistogram with 3 significant digits: a recorded value is known to ±0.1 %.
const HDR_RES: f64 = 1e-3;

fn long() -> bool {
    std::env::var("PIPESIM_LONG_VALIDATION").is_ok_and(|v| v == "1")
}

/// Replications per case.
fn reps() -> u64 {
    if long() { 64 } else { 32 }
}

/// The largest SE accepted, relative to the theory value.
fn max_rel_se() -> f64 {
    if long() { 0.005 } else { 0.02 }
}

/// One replication: the outcome of the scenario's only model, and the measured seconds.
struct Rep {
    out: ModelOutcome,
    measured_s: f64,
}

impl Rep {
    /// A column of the `stations` table, for the station in `row`.
    fn station(&self, row: usize, column: &str) -> f64 {
        self.out
            .details
            .iter()
            .find(|t| t.name == "stations")
            .and_then(|t| t.number(row, column))
            .unwrap_or_else(|| panic!("no stations[{row}].{column}"))
    }

    fn e2e_mean_ms(&self) -> f64 {
        self.out.results.e2e.summary().mean_ns / 1e6
    }

    fn e2e_quantile_ms(&self, q: f64) -> f64 {
        self.out.results.e2e.quantile_ns(q) as f64 / 1e6
    }
}

/// Runs `scenarios/validation/<file>` with seeds 1..=`reps`, plus `sets` overrides; in long mode
/// for 4010 s (4000 s measured) instead of the file's 510 s.
fn replicate(file: &str, sets: &[&str], reps: u64) -> Vec<Rep> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/validation").join(file);
    let mut overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    if long() {
        overrides.push(Override::parse("duration=4010s").unwrap());
    }
    (1..=reps)
        .map(|seed| {
            let opts = LoadOptions {
                overrides: overrides.clone(),
                seed: Some(seed),
                ..Default::default()
            };
            let s = load(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.models.len(), 1, "{file}: one model per validation file");
            let measured_s = (s.duration_ns - s.warmup_ns) as f64 / 1e9;
            let mut run = run_scenario(&s, Some(1)).expect("the run reads its inputs");
            let out = run.outcomes.remove(0);
            let inv = &out.results.invariants;
            assert_eq!(inv.lost, 0, "{file} seed {seed}: lost events");
            assert_eq!(inv.duplicates, 0, "{file} seed {seed}: duplicates");
            assert_eq!(
                inv.in_flight_at_end, 0,
                "{file} seed {seed}: the drain did not empty the queues"
            );
            Rep { out, measured_s }
        })
        .collect()
}

/// Mean and standard error of R independent estimates.
#[derive(Clone, Copy, Debug)]
struct Est {
    mean: f64,
    se: f64,
    n: usize,
}

fn est(xs: impl IntoIterator<Item = f64>) -> Est {
    let xs: Vec<f64> = xs.into_iter().collect();
    let n = xs.len();
    assert!(n >= 2, "need at least two replications");
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Est { mean, se: (var / n as f64).sqrt(), n }
}

/// Compares a simulated estimate with theory: `Err` says why it fails.
/// `res` is the relative value resolution of the measurement (HDR_RES or 0).
fn compare(what: &str, e: Est, theory: f64, res: f64, max_rel_se: f64) -> Result<(), String> {
    let tol = Z * e.se + res * theory.abs();
    let line = format!(
        "{what}: sim {:.6} ± {:.6} (SE, R = {}), theory {theory:.6}, diff {:+.3} %, tolerance ±{:.6} (±{:.2} %)",
        e.mean,
        e.se,
        e.n,
        (e.mean / theory - 1.0) * 100.0,
        tol,
        tol / theory.abs() * 100.0
    );
    eprintln!("{line}");
    if (e.mean - theory).abs() > tol {
        return Err(format!("{line}: outside {Z}·SE + resolution"));
    }
    if e.se > max_rel_se * theory.abs() {
        return Err(format!(
            "{line}: SE is {:.2} % of theory, above {:.2} %: too noisy to discriminate",
            e.se / theory.abs() * 100.0,
            max_rel_se * 100.0
        ));
    }
    Ok(())
}

#[track_caller]
fn check(what: &str, e: Est, theory: f64, res: f64) {
    compare(what, e, theory, res, max_rel_se()).unwrap_or_else(|m| panic!("{m}"));
}

/// Little's law on each replication: the time-average number in the system equals the rate of
/// customers that completed (created in the measured interval and delivered) times their mean
/// end-to-end time, up to edge effects and the histogram's mean resolution (see the file doc).
#[track_caller]
fn check_little(case: &str, reps: &[Rep]) {
    let mut worst: f64 = 0.0;
    for (i, r) in reps.iter().enumerate() {
        let l = r.out.results.mean_in_system;
        let lambda_eff = r.out.results.e2e.count() as f64 / r.measured_s;
        let lw = lambda_eff * r.e2e_mean_ms() / 1e3;
        let rel = (l / lw - 1.0).abs();
        worst = worst.max(rel);
        assert!(
            rel <= 1e-3,
            "{case} seed {}: Little's law: L = {l:.6} but λ_eff·W = {lw:.6} ({:+.3} %)",
            i + 1,
            rel * 100.0
        );
    }
    eprintln!(
        "{case} Little's law: max |L/(λ_eff·W) − 1| over {} runs = {:.4} % (bound 0.1 %)",
        reps.len(),
        worst * 100.0
    );
}

/// Customers measured over all replications (events created after the warmup, delivered).
fn customers(reps: &[Rep]) -> u64 {
    reps.iter().map(|r| r.out.results.e2e.count()).sum()
}

/// Erlang C: probability that an arrival waits in an M/M/c queue with offered load `a` Erlangs,
/// through the Erlang B recursion B(k) = a·B(k−1)/(k + a·B(k−1)).
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// The q-quantile of the sum of independent Exp(a1) and Exp(a2), a1 ≠ a2 (hypoexponential):
/// P(T > t) = (a2·e^(−a1·t) − a1·e^(−a2·t))/(a2 − a1), solved by bisection.
fn hypoexp_quantile(a1: f64, a2: f64, q: f64) -> f64 {
    let tail = |t: f64| (a2 * (-a1 * t).exp() - a1 * (-a2 * t).exp()) / (a2 - a1);
    let (mut lo, mut hi) = (0.0, 100.0 / a1.min(a2));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn formulas() {
    // The helpers against values computed by hand.
    assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12, "M/M/1: C = ρ");
    assert!((erlang_c(4, 3.2) - 0.596_432_471_787).abs() < 1e-9);
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    // Nearly equal rates tend to Erlang-2: e^(−x)(1 + x) = 0.01 at x = 6.638352.
    let t = hypoexp_quantile(200.0, 200.0 * (1.0 + 1e-7), 0.99);
    assert!((t * 200.0 - 6.638_352).abs() < 1e-4, "{}", t * 200.0);
    assert!((hypoexp_quantile(200.0, 450.0, 0.99) * 1e3 - 25.961_41).abs() < 1e-4);
}

/// M/M/1 at λ = 800/s, μ = 1000/s (ρ = 0.8): every check, named, with its verdict.
fn mm1_checks(reps: &[Rep], max_rel_se: f64) -> Vec<(&'static str, Result<(), String>)> {
    let (lambda, mu) = (800.0, 1000.0);
    let rho = lambda / mu;
    let w_ms = 1e3 / (mu - lambda);
    let stat = |column: &'static str| est(reps.iter().map(|r| r.station(0, column)));
    // (name, estimate, theory, resolution). Sojourn ~ Exp(μ − λ): mean 1/(μ−λ), p50
    // ln 2/(μ−λ), p99 ln 100/(μ−λ); P(wait) = ρ by PASTA; Wq = ρ/(μ−λ); L = ρ/(1−ρ).
    let checks = [
        ("mean sojourn ms (e2e)", est(reps.iter().map(Rep::e2e_mean_ms)), w_ms, HDR_RES),
        (
            "p50 sojourn ms (e2e)",
            est(reps.iter().map(|r| r.e2e_quantile_ms(0.50))),
            w_ms * 2f64.ln(),
            HDR_RES,
        ),
        (
            "p99 sojourn ms (e2e)",
            est(reps.iter().map(|r| r.e2e_quantile_ms(0.99))),
            w_ms * 100f64.ln(),
            HDR_RES,
        ),
        ("utilisation", stat("utilisation"), rho, 0.0),
        ("P(wait)", stat("p_wait"), rho, 0.0),
        ("mean wait ms", stat("mean_wait_ms"), rho * w_ms, 0.0),
        (
            "mean number L (time average)",
            est(reps.iter().map(|r| r.out.results.mean_in_system)),
            rho / (1.0 - rho),
            0.0,
        ),
        (
            "offered rate /s",
            est(reps.iter().map(|r| r.out.results.throughput.offered_per_s)),
            lambda,
            0.0,
        ),
    ];
    checks
        .into_iter()
        .map(|(what, e, theory, res)| {
            (what, compare(&format!("mm1 {what}"), e, theory, res, max_rel_se))
        })
        .collect()
}

#[test]
fn mm1() {
    // M/M/1, ρ = 0.8: mean sojourn 1/(μ−λ) = 5 ms, p99 ln(100)/(μ−λ) = 23.026 ms, ρ, L = 4.
    // Tolerance: 4·SE over R replications (+0.1 % for histogram values), SE ≤ 2 % of theory.
    let reps = replicate("mm1.toml", &[], reps());
    eprintln!("mm1: {} customers over {} runs", customers(&reps), reps.len());
    for r in &reps {
        assert_eq!(r.out.results.invariants.ordering_violations, 0, "one FIFO server");
        assert_eq!(r.out.results.invariants.dropped, 0);
    }
    let failures: Vec<String> = mm1_checks(&reps, max_rel_se())
        .into_iter()
        .filter_map(|(_, verdict)| verdict.err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    check_little("mm1", &reps);
}

#[test]
fn mm1_checks_reject_a_5_percent_service_error() {
    // The same checks, on a model whose service time is 5 % too long (1.05 ms): ρ = 0.84,
    // W = 6.56 ms (+31 %), p99 +31 %, P(wait) and utilisation +5 %, L = 5.25 (+31 %). Every
    // check but the arrival rate must fail, or the checks could not catch such a bug. (Fewer
    // replications: the SE is larger, which only makes the checks more lenient.)
    let reps = replicate(
        "mm1.toml",
        &[r#"model[0].station[0].service={ dist = "exp", mean = "1.05ms" }"#],
        8,
    );
    for (what, verdict) in mm1_checks(&reps, max_rel_se()) {
        eprintln!("mm1 with a 5 % service error: {what}: {verdict:?}");
        if what == "offered rate /s" {
            assert!(verdict.is_ok(), "the arrivals do not depend on the service");
        } else {
            assert!(verdict.is_err(), "a 5 % service-time error passed the {what} check");
        }
    }
}

#[test]
fn mmc() {
    // M/M/4, λ = 800/s, μ = 250/s per server, a = 3.2 Erlangs, ρ = 0.8.
    // Erlang C: P(wait) = C(4, 3.2) = 0.596432; Wq = C/(cμ−λ) = 2.982 ms; W = Wq + 4 ms.
    // Tolerance: 4·SE (+0.1 % for the e2e histogram), SE ≤ 2 % of theory.
    let (c, lambda, mu) = (4u32, 800.0, 250.0);
    let a = lambda / mu;
    let pw = erlang_c(c, a);
    let wq_ms = pw / (f64::from(c) * mu - lambda) * 1e3;
    let reps = replicate("mmc.toml", &[], reps());
    eprintln!("mmc: {} customers over {} runs", customers(&reps), reps.len());
    check("mmc P(wait) (Erlang C)", est(reps.iter().map(|r| r.station(0, "p_wait"))), pw, 0.0);
    check("mmc mean wait ms", est(reps.iter().map(|r| r.station(0, "mean_wait_ms"))), wq_ms, 0.0);
    check(
        "mmc mean sojourn ms (e2e)",
        est(reps.iter().map(Rep::e2e_mean_ms)),
        wq_ms + 1e3 / mu,
        HDR_RES,
    );
    check(
        "mmc utilisation",
        est(reps.iter().map(|r| r.station(0, "utilisation"))),
        a / f64::from(c),
        0.0,
    );
    check(
        "mmc mean number L",
        est(reps.iter().map(|r| r.out.results.mean_in_system)),
        lambda * (wq_ms + 1e3 / mu) / 1e3,
        0.0,
    );
    check_little("mmc", &reps);
}

#[test]
fn md1() {
    // M/D/1, λ = 800/s, D = 1 ms, ρ = 0.8. Pollaczek–Khinchine: Wq = ρ/(2μ(1−ρ)) = 2 ms, W = 3 ms.
    // Tolerance: 4·SE (+0.1 % for the e2e histogram), SE ≤ 2 % of theory.
    let (lambda, mu) = (800.0, 1000.0);
    let rho = lambda / mu;
    let wq_ms = rho / (2.0 * mu * (1.0 - rho)) * 1e3;
    let reps = replicate("md1.toml", &[], reps());
    eprintln!("md1: {} customers over {} runs", customers(&reps), reps.len());
    for r in &reps {
        assert_eq!(r.out.results.invariants.ordering_violations, 0);
        // Constant service: nobody is faster than 1 ms (to the histogram's resolution).
        let fastest = r.out.results.e2e.quantile_ns(0.0) as f64;
        assert!((fastest / 1e6 - 1.0).abs() <= HDR_RES, "{fastest}");
    }
    check(
        "md1 mean wait ms (P-K)",
        est(reps.iter().map(|r| r.station(0, "mean_wait_ms"))),
        wq_ms,
        0.0,
    );
    check(
        "md1 mean sojourn ms (e2e)",
        est(reps.iter().map(Rep::e2e_mean_ms)),
        wq_ms + 1e3 / mu,
        HDR_RES,
    );
    check("md1 P(wait)", est(reps.iter().map(|r| r.station(0, "p_wait"))), rho, 0.0);
    check("md1 utilisation", est(reps.iter().map(|r| r.station(0, "utilisation"))), rho, 0.0);
    check(
        "md1 mean number L",
        est(reps.iter().map(|r| r.out.results.mean_in_system)),
        lambda * (wq_ms + 1e3 / mu) / 1e3,
        0.0,
    );
    check_little("md1", &reps);
}

#[test]
fn tandem() {
    // Two M/M/1 in tandem, λ = 800/s, μ1 = 1000/s, μ2 = 1250/s. Sojourns at the two stations
    // are independent exponentials (Burke, Reich) with rates a1 = 200/s, a2 = 450/s, so the
    // end-to-end p99 is the hypoexponential quantile 25.961 ms, well below p99(T1) + p99(T2) =
    // 33.260 ms and well above the first station's own p99, 23.026 ms.
    // Tolerance: 4·SE (+0.1 % for the histogram), SE ≤ 2 % of theory.
    let lambda = 800.0;
    let (mu1, mu2) = (1000.0, 1250.0);
    let (a1, a2) = (mu1 - lambda, mu2 - lambda);
    let p99 = hypoexp_quantile(a1, a2, 0.99) * 1e3;
    let sum_of_p99s = 100f64.ln() * (1.0 / a1 + 1.0 / a2) * 1e3;
    let first_p99 = 100f64.ln() / a1 * 1e3;
    let reps = replicate("tandem.toml", &[], reps());
    eprintln!("tandem: {} customers over {} runs", customers(&reps), reps.len());
    for r in &reps {
        assert_eq!(r.out.results.invariants.ordering_violations, 0);
    }
    let sim_p99 = est(reps.iter().map(|r| r.e2e_quantile_ms(0.99)));
    check("tandem p99 sojourn ms (e2e)", sim_p99, p99, HDR_RES);
    let upper = sim_p99.mean + Z * sim_p99.se + HDR_RES * p99;
    let lower = sim_p99.mean - Z * sim_p99.se - HDR_RES * p99;
    eprintln!(
        "tandem p99 {:.3} ms: below the sum of p99s {sum_of_p99s:.3} ms by {:.1} %",
        sim_p99.mean,
        (1.0 - sim_p99.mean / sum_of_p99s) * 100.0
    );
    assert!(
        upper < 0.9 * sum_of_p99s,
        "the e2e p99 ({:.3} ms) is not clearly below the sum of the stations' p99s ({sum_of_p99s:.3} ms)",
        sim_p99.mean
    );
    assert!(
        lower > 1.05 * first_p99,
        "the e2e p99 ({:.3} ms) is not clearly above the first station's p99 ({first_p99:.3} ms)",
        sim_p99.mean
    );
    check(
        "tandem mean sojourn ms (e2e)",
        est(reps.iter().map(Rep::e2e_mean_ms)),
        1e3 / a1 + 1e3 / a2,
        HDR_RES,
    );
    for (row, a, mu) in [(0, a1, mu1), (1, a2, mu2)] {
        check(
            &format!("tandem station {row} mean sojourn ms"),
            est(reps.iter().map(|r| r.station(row, "mean_sojourn_ms"))),
            1e3 / a,
            0.0,
        );
        check(
            &format!("tandem station {row} utilisation"),
            est(reps.iter().map(|r| r.station(row, "utilisation"))),
            lambda / mu,
            0.0,
        );
    }
    check(
        "tandem mean number L",
        est(reps.iter().map(|r| r.out.results.mean_in_system)),
        lambda * (1.0 / a1 + 1.0 / a2),
        0.0,
    );
    check_little("tandem", &reps);
}

#[test]
fn mm1k() {
    // M/M/1/5, λ = 800/s, μ = 1000/s, ρ = 0.8, K = 5:
    // P_K = (1−ρ)ρ^K/(1−ρ^(K+1)) = 0.088819; L = ρ/(1−ρ) − (K+1)ρ^(K+1)/(1−ρ^(K+1)) = 1.868332;
    // λ_eff = λ(1−P_K); W = L/λ_eff = 2.563065 ms; utilisation λ_eff/μ.
    // Tolerance: 4·SE (+0.1 % for the e2e histogram), SE ≤ 2 % of theory.
    let (lambda, mu, k) = (800.0, 1000.0, 5i32);
    let rho: f64 = lambda / mu;
    let pk = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    let l = rho / (1.0 - rho) - f64::from(k + 1) * rho.powi(k + 1) / (1.0 - rho.powi(k + 1));
    let lambda_eff = lambda * (1.0 - pk);
    let reps = replicate("mm1k.toml", &[], reps());
    eprintln!(
        "mm1k: {} arrivals, {} served customers over {} runs",
        reps.iter().map(|r| r.out.results.throughput.offered).sum::<u64>(),
        customers(&reps),
        reps.len()
    );
    for r in &reps {
        assert_eq!(r.out.results.invariants.ordering_violations, 0);
        // Every drop is a full station, and none is lost.
        let inv = &r.out.results.invariants;
        assert_eq!(inv.dropped_by_reason.len(), 1);
        assert_eq!(inv.dropped_by_reason[0].events, inv.dropped);
        assert_eq!(r.station(0, "dropped") as u64, inv.dropped);
    }
    check("mm1k P(block)", est(reps.iter().map(|r| r.station(0, "p_block"))), pk, 0.0);
    check(
        "mm1k dropped fraction of offered (whole recorder)",
        est(reps.iter().map(|r| {
            let t = &r.out.results.throughput;
            1.0 - r.out.results.e2e.count() as f64 / t.offered as f64
        })),
        pk,
        0.0,
    );
    check("mm1k mean number L", est(reps.iter().map(|r| r.out.results.mean_in_system)), l, 0.0);
    check(
        "mm1k mean sojourn ms (e2e)",
        est(reps.iter().map(Rep::e2e_mean_ms)),
        l / lambda_eff * 1e3,
        HDR_RES,
    );
    check(
        "mm1k utilisation",
        est(reps.iter().map(|r| r.station(0, "utilisation"))),
        lambda_eff / mu,
        0.0,
    );
    check(
        "mm1k delivered rate /s (λ_eff)",
        est(reps.iter().map(|r| r.out.results.throughput.delivered_per_s)),
        lambda_eff,
        0.0,
    );
    check_little("mm1k", &reps);
}

#[test]
fn little_feedback_network() {
    // Jackson network: a (μ = 1000/s) → b (μ = 833.3/s) → exit w.p. 0.8, back to a w.p. 0.2;
    // λ = 500/s, so λa = λb = 625/s, ρa = 0.625, ρb = 0.75, L = 5/3 + 3 = 4.6667, and by
    // Little W = L/λ = 9.3333 ms. Per visit: Wa = 1/(μa−λa) = 2.6667 ms, Wb = 4.8 ms.
    // Tolerance: 4·SE (+0.1 % for the e2e histogram), SE ≤ 2 % of theory; Little's law itself
    // per replication to 0.2 %.
    let lambda = 500.0;
    let visits = 1.0 / (1.0 - 0.2);
    let (mu_a, mu_b) = (1000.0, 1000.0 / 1.2);
    let (la, lb) = (lambda * visits, lambda * visits);
    let (rho_a, rho_b) = (la / mu_a, lb / mu_b);
    let l = rho_a / (1.0 - rho_a) + rho_b / (1.0 - rho_b);
    let reps = replicate("little.toml", &[], reps());
    eprintln!("little: {} customers over {} runs", customers(&reps), reps.len());
    check_little("little", &reps);
    check(
        "little mean number L (Jackson)",
        est(reps.iter().map(|r| r.out.results.mean_in_system)),
        l,
        0.0,
    );
    check(
        "little mean time in network ms (e2e, = L/λ)",
        est(reps.iter().map(Rep::e2e_mean_ms)),
        l / lambda * 1e3,
        HDR_RES,
    );
    for (row, lam, mu) in [(0, la, mu_a), (1, lb, mu_b)] {
        check(
            &format!("little station {row} utilisation"),
            est(reps.iter().map(|r| r.station(row, "utilisation"))),
            lam / mu,
            0.0,
        );
        check(
            &format!("little station {row} mean in station"),
            est(reps.iter().map(|r| r.station(row, "mean_in_station"))),
            (lam / mu) / (1.0 - lam / mu),
            0.0,
        );
        check(
            &format!("little station {row} mean sojourn per visit ms"),
            est(reps.iter().map(|r| r.station(row, "mean_sojourn_ms"))),
            1e3 / (mu - lam),
            0.0,
        );
    }
}
