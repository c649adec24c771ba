//! Histograms as `.hgrm` files: HdrHistogram's percentile-distribution text, byte for byte the
//! layout of Java's `AbstractHistogram.outputPercentileDistribution(out, 5, 1e6)` (values in
//! milliseconds from our nanosecond histograms), so the tools that plot HdrHistogram output —
//! the online plotter at hdrhistogram.github.io, HistogramLogAnalyzer, wrk2's scripts, our own
//! `dist = "empirical"` reader — read them as they are.

use pipesim_metrics::LatencyHistogram;
use std::fmt::Write as _;

/// Nanoseconds per unit of the file's values (milliseconds).
const UNIT_NS: f64 = 1e6;
/// Java's default percentile ticks per half distance to 100 %.
const TICKS_PER_HALF_DISTANCE: u32 = 5;
/// Decimals of values: the histograms' significant digits, as Java prints them.
const DECIMALS: usize = 3;

/// The percentile distribution of `h` as `.hgrm` text (`None` for an empty histogram: the
/// format has no way to say "no samples" that its readers accept).
pub fn hgrm_text(h: &LatencyHistogram) -> Option<String> {
    let inner = h.inner();
    if inner.is_empty() {
        return None;
    }
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total: u64 = 0;
    for v in inner.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        total += v.count_since_last_iteration();
        let value = inner.highest_equivalent(v.value_iterated_to()) as f64 / UNIT_NS;
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:>12.DECIMALS$} {q:>2.12} {total:>10} {:>14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            // Java leaves 1/(1-p) off the 100 % row.
            let _ = writeln!(out, "{value:>12.DECIMALS$} {q:>2.12} {total:>10}");
        }
    }
    let mean = inner.mean() / UNIT_NS;
    let stdev = inner.stdev() / UNIT_NS;
    let _ =
        writeln!(out, "#[Mean    = {mean:>12.DECIMALS$}, StdDeviation   = {stdev:>12.DECIMALS$}]");
    let max = inner.highest_equivalent(inner.max()) as f64 / UNIT_NS;
    let _ = writeln!(out, "#[Max     = {max:>12.DECIMALS$}, Total count    = {:>12}]", inner.len());
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        inner.buckets(),
        sub_buckets(inner.sigfig())
    );
    Some(out)
}

/// HdrHistogram's sub-bucket count for `sigfig` significant digits: the power of two that holds
/// 2 × 10^sigfig values at unit resolution (2048 for 3 digits). The crate keeps it private.
fn sub_buckets(sigfig: u8) -> u64 {
    let single_unit = 2 * 10u64.pow(u32::from(sigfig));
    single_unit.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_javas() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=4u64 {
            h.record(ms * 1_000_000);
        }
        let text = hgrm_text(&h).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
        assert_eq!(lines[1], "");
        // 1 ms is recorded in a bucket whose highest equivalent value is 1.000447 ms.
        assert_eq!(lines[2], "       1.000 0.000000000000          1           1.00");
        let last = lines.iter().rfind(|l| !l.starts_with('#')).unwrap();
        assert!(last.ends_with(" 1.000000000000          4"), "{last:?}");
        assert!(last.trim_start().starts_with("4.00"), "{last:?}");
        assert_eq!(
            lines[lines.len() - 3],
            "#[Mean    =        2.500, StdDeviation   =        1.118]"
        );
        assert!(
            lines[lines.len() - 2].starts_with("#[Max     =        4.00"),
            "{}",
            lines[lines.len() - 2]
        );
        assert!(lines[lines.len() - 2].ends_with("Total count    =            4]"));
        assert!(
            lines[lines.len() - 1].ends_with("SubBuckets     =         2048]"),
            "{}",
            lines[lines.len() - 1]
        );
        assert!(hgrm_text(&LatencyHistogram::new()).is_none());
    }

    #[test]
    fn our_own_reader_gets_the_quantiles_back() {
        let mut h = LatencyHistogram::new();
        for i in 1..=100_000u64 {
            h.record(i * 10_000 + (i * 7919) % 3_000_000); // 0.01 to 1,003 ms, uneven
        }
        let table = pipesim_config::parse_hgrm(&hgrm_text(&h).unwrap(), UNIT_NS).unwrap();
        for q in [0.1, 0.5, 0.9, 0.99, 0.999] {
            let want = h.quantile_ns(q) as f64;
            let got = table.quantile_ns(q);
            assert!((got / want - 1.0).abs() < 0.01, "q {q}: {got} vs {want}");
        }
    }
}
