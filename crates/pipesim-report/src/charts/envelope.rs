//! Thinning long lines to the pixels they cover: a line of more points than its plot has pixel
//! columns keeps, in each column, only the lowest and the highest of its points (in time
//! order), so the drawn shape, every spike and every dip included, is what all the points would
//! draw, while a chart of a million windows stays the size of one of a thousand.

/// The points of a line (x non-decreasing, over `0..x_end`) thinned to at most two per pixel
/// column of a plot `columns` pixels wide. A line with no more points than columns is returned
/// unchanged.
pub(crate) fn envelope(points: Vec<(f64, f64)>, x_end: f64, columns: u32) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    if points.len() <= columns as usize || x_end <= 0.0 {
        return points;
    }
    let column = |x: f64| ((x / x_end * f64::from(columns)).floor().max(0.0)) as u64;
    let mut out = Vec::with_capacity(2 * columns as usize + 2);
    let mut i = 0;
    while i < points.len() {
        let c = column(points[i].0);
        let (mut lo, mut hi) = (i, i);
        let mut j = i + 1;
        while j < points.len() && column(points[j].0) == c {
            if points[j].1 < points[lo].1 {
                lo = j;
            }
            if points[j].1 > points[hi].1 {
                hi = j;
            }
            j += 1;
        }
        out.push(points[lo.min(hi)]);
        if lo != hi {
            out.push(points[lo.max(hi)]);
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_untouched() {
        let pts: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), f64::from(i % 7))).collect();
        assert_eq!(envelope(pts.clone(), 100.0, 800), pts);
    }

    #[test]
    fn long_lines_keep_each_columns_extremes_in_order() {
        // A million points over 800 columns, flat at 1 but for one spike and one dip.
        let mut pts: Vec<(f64, f64)> = (0..1_000_000).map(|i| (f64::from(i), 1.0)).collect();
        pts[500_123].1 = 900.0;
        pts[777_777].1 = -5.0;
        let out = envelope(pts, 1_000_000.0, 800);
        assert!(out.len() <= 1_600, "{}", out.len());
        assert!(out.contains(&(500_123.0, 900.0)), "the spike survives");
        assert!(out.contains(&(777_777.0, -5.0)), "the dip survives");
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
    }
}
