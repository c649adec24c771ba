//! An empirical distribution given by points of its CDF, sampled by inversion.

use std::fmt;

/// A distribution given by points `(value_ns, cumulative_fraction)` of its CDF, as an
/// HdrHistogram percentile-distribution file lists them. Between two points the values are
/// spread uniformly (linear interpolation of the inverse CDF).
#[derive(Clone, Debug, PartialEq)]
pub struct EmpiricalTable {
    /// Cumulative fractions, non-decreasing, first 0 (after normalisation), last 1.
    cdf: Vec<f64>,
    /// Values in nanoseconds, non-decreasing, one per CDF point.
    values_ns: Vec<f64>,
    mean_ns: f64,
}

/// Why a list of CDF points does not make a distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum EmpiricalError {
    /// No points at all.
    Empty,
    /// A value or fraction is negative, NaN or infinite; the index of the point.
    NotFinite(usize),
    /// A fraction outside \[0, 1\]; the index of the point.
    FractionOutOfRange(usize),
    /// Values or fractions go down; the index of the point where they do.
    Decreasing(usize),
    /// The last fraction is not 1, so the table does not cover the whole distribution.
    Incomplete(f64),
}

impl fmt::Display for EmpiricalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the distribution has no points"),
            Self::NotFinite(i) => {
                write!(f, "point {} has a value that is negative or not a finite number", i + 1)
            }
            Self::FractionOutOfRange(i) => {
                write!(f, "point {} has a percentile outside 0..1", i + 1)
            }
            Self::Decreasing(i) => {
                write!(f, "point {} goes down: values and percentiles must not decrease", i + 1)
            }
            Self::Incomplete(p) => {
                write!(f, "the last percentile is {p}, not 1: the table stops before the maximum")
            }
        }
    }
}

impl std::error::Error for EmpiricalError {}

impl EmpiricalTable {
    /// Builds a table from `(value_ns, cumulative_fraction)` points in file order.
    ///
    /// The first point's fraction is taken as 0 (the minimum); the last must be 1 (within 1e-9).
    pub fn from_points(points: &[(f64, f64)]) -> Result<Self, EmpiricalError> {
        if points.is_empty() {
            return Err(EmpiricalError::Empty);
        }
        let mut cdf = Vec::with_capacity(points.len());
        let mut values_ns = Vec::with_capacity(points.len());
        for (i, &(value, fraction)) in points.iter().enumerate() {
            if !value.is_finite() || value < 0.0 || !fraction.is_finite() {
                return Err(EmpiricalError::NotFinite(i));
            }
            if !(0.0..=1.0).contains(&fraction) {
                return Err(EmpiricalError::FractionOutOfRange(i));
            }
            if let (Some(&pv), Some(&pf)) = (values_ns.last(), cdf.last())
                && (value < pv || fraction < pf)
            {
                return Err(EmpiricalError::Decreasing(i));
            }
            values_ns.push(value);
            cdf.push(if i == 0 { 0.0 } else { fraction });
        }
        let last = *cdf.last().unwrap_or(&0.0);
        if points.len() > 1 && (1.0 - last).abs() > 1e-9 {
            return Err(EmpiricalError::Incomplete(last));
        }
        if let Some(l) = cdf.last_mut() {
            *l = 1.0;
        }
        // Mean of the piecewise-uniform distribution: each segment holds (F1-F0) of the mass,
        // spread evenly between its two values.
        let mut mean_ns = if points.len() == 1 { values_ns[0] } else { 0.0 };
        for i in 1..cdf.len() {
            mean_ns += (cdf[i] - cdf[i - 1]) * (values_ns[i] + values_ns[i - 1]) / 2.0;
        }
        Ok(Self { cdf, values_ns, mean_ns })
    }

    /// The value at cumulative fraction `u` in (0, 1), in nanoseconds.
    #[inline]
    pub fn quantile_ns(&self, u: f64) -> f64 {
        // First index whose fraction is >= u; the segment is (i-1, i).
        let i = self.cdf.partition_point(|&f| f < u);
        if i == 0 {
            return self.values_ns[0];
        }
        if i >= self.cdf.len() {
            return self.values_ns[self.values_ns.len() - 1];
        }
        let (f0, f1) = (self.cdf[i - 1], self.cdf[i]);
        let (v0, v1) = (self.values_ns[i - 1], self.values_ns[i]);
        if f1 <= f0 { v1 } else { v0 + (v1 - v0) * (u - f0) / (f1 - f0) }
    }

    /// The mean in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        self.mean_ns
    }

    /// The number of CDF points.
    pub fn len(&self) -> usize {
        self.cdf.len()
    }

    /// Whether the table has no points (never true for a built table).
    pub fn is_empty(&self) -> bool {
        self.cdf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_points() {
        let t = EmpiricalTable::from_points(&[(10.0, 0.0), (20.0, 0.5), (40.0, 1.0)]).unwrap();
        assert_eq!(t.quantile_ns(0.25), 15.0);
        assert_eq!(t.quantile_ns(0.75), 30.0);
        assert_eq!(t.mean_ns(), 0.5 * 15.0 + 0.5 * 30.0);
    }

    #[test]
    fn rejects_bad_tables() {
        use EmpiricalError::*;
        let check = |pts: &[(f64, f64)], want: EmpiricalError| {
            assert_eq!(EmpiricalTable::from_points(pts), Err(want));
        };
        check(&[], Empty);
        check(&[(1.0, 0.0), (f64::NAN, 1.0)], NotFinite(1));
        check(&[(1.0, 0.0), (2.0, 1.5)], FractionOutOfRange(1));
        check(&[(5.0, 0.0), (2.0, 1.0)], Decreasing(1));
        check(&[(1.0, 0.0), (2.0, 0.9)], Incomplete(0.9));
    }
}
