//! Resolution studies: one preset's endpoints at several grids, the observed order of
//! convergence from the three finest, the Richardson-extrapolated value and the coarsest
//! grid within a tolerance of it (`osteoniche converge`).
//!
//! With voxel edges h1 > h2 > h3 and values f1, f2, f3, the observed order p solves
//! (f1 - f2) / (f2 - f3) = (h1^p - h2^p) / (h2^p - h3^p) (for a constant refinement ratio r
//! this is p = ln((f1 - f2) / (f2 - f3)) / ln r), and the extrapolated value is
//! f3 + (f3 - f2) / ((h2 / h3)^p - 1) (Roache 1998, "Verification and Validation in
//! Computational Science and Engineering", ch. 5; the grid convergence index of Roache
//! 1994, J Fluids Eng 116:405). An extrapolation is only offered where the three finest
//! differences have one sign (monotone convergence) and the order lies in 0.25..=8: beyond
//! that the grids are not in the asymptotic range and the table says so.

mod report;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::RunData;

/// Orders accepted as asymptotic.
const ORDERS: std::ops::RangeInclusive<f64> = 0.25..=8.0;

/// How the three finest values of an endpoint behave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Behaviour {
    /// Monotone, with this observed order.
    Order {
        /// Observed order p.
        p: f64,
    },
    /// The two finest values agree to rounding (relative 1e-9): nothing left to resolve.
    Converged,
    /// The differences change sign: oscillating, no order.
    Oscillating,
    /// Monotone, but the finest refinement changes the value by more than an error law
    /// h^p with p > 0 allows: the grids are too coarse to show convergence.
    NotConverging,
    /// Monotone but with an order outside 0.25..=8: not in the asymptotic range.
    OutOfRange {
        /// The order found (infinite where the ratio admits none).
        p: f64,
    },
}

/// The observed order of three values at voxel edges `h` (coarsest first).
pub fn observed_order(h: [f64; 3], f: [f64; 3]) -> Behaviour {
    let (d12, d23) = (f[0] - f[1], f[1] - f[2]);
    let scale = f
        .iter()
        .map(|v| v.abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    if d23.abs() <= 1e-9 * scale {
        return Behaviour::Converged;
    }
    if d12 * d23 <= 0.0 {
        return Behaviour::Oscillating;
    }
    let ratio = d12 / d23;
    // g(p) = (h1^p - h2^p) / (h2^p - h3^p) rises monotonically in p from
    // ln(h1/h2) / ln(h2/h3) at p -> 0; bisect on it.
    let g = |p: f64| (h[0].powf(p) - h[1].powf(p)) / (h[1].powf(p) - h[2].powf(p));
    let (mut lo, mut hi) = (1e-6, 40.0);
    if ratio <= g(lo) {
        return Behaviour::NotConverging;
    }
    if ratio >= g(hi) {
        return Behaviour::OutOfRange { p: f64::INFINITY };
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) < ratio {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let p = 0.5 * (lo + hi);
    if ORDERS.contains(&p) {
        Behaviour::Order { p }
    } else {
        Behaviour::OutOfRange { p }
    }
}

/// The Richardson-extrapolated value from the two finest values at edges `h2 > h3` and
/// order `p`.
pub fn richardson(h2: f64, h3: f64, f2: f64, f3: f64, p: f64) -> f64 {
    f3 + (f3 - f2) / ((h2 / h3).powf(p) - 1.0)
}

/// One endpoint across the grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointStudy {
    /// Metrics column.
    pub name: String,
    /// Value on each grid, coarsest first.
    pub values: Vec<f64>,
    /// How the three finest behave.
    pub behaviour: Behaviour,
    /// Whether every refinement moves the value the same way (over all grids, not only
    /// the three finest): an order from a sequence that turns is not to be trusted.
    pub monotone: bool,
    /// The Richardson-extrapolated value (with an order in range), else `None`.
    pub extrapolated: Option<f64>,
    /// The value the errors are measured against: the extrapolated one, else the finest.
    pub reference: f64,
    /// Whether `reference` is the extrapolated value.
    pub against_extrapolated: bool,
    /// |value - reference| / |reference| on each grid.
    pub errors: Vec<f64>,
    /// The coarsest grid (voxels on the longest axis) from which on every finer one is
    /// within the tolerance of the reference, if any (against the finest this can only be
    /// a coarser grid than the finest).
    pub resolution_within: Option<usize>,
}

/// A resolution study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Study {
    /// Preset name.
    pub preset: String,
    /// Day the endpoints are read at.
    pub day: f64,
    /// Voxels on the longest axis of each grid, coarsest first.
    pub resolutions: Vec<usize>,
    /// Voxel edge of each grid, µm.
    pub voxel_um: Vec<f64>,
    /// Relative tolerance of `resolution_within`.
    pub tolerance: f64,
    /// How the lattice was made ("regenerated at each grid" or "coarsened from N^3").
    pub lattice: String,
    /// Every endpoint.
    pub endpoints: Vec<EndpointStudy>,
}

/// The endpoint columns of a run's metrics: every field's integral and every named scalar
/// (systemic pools, plasma levels), not the per-field mean, min and max.
pub fn endpoint_columns(run: &RunData) -> Vec<String> {
    run.columns
        .keys()
        .filter(|k| {
            !["step", "time_min", "time_days"].contains(&k.as_str())
                && !k.ends_with("_mean")
                && !k.ends_with("_min")
                && !k.ends_with("_max")
        })
        .cloned()
        .collect()
}

/// The value of column `name` at the last metrics row at or before `day`.
fn at_day(run: &RunData, name: &str, day: f64) -> Result<f64> {
    let days = run.days();
    let row = days.iter().rposition(|&d| d <= day + 1e-9).ok_or_else(|| {
        Error::Invalid(format!(
            "{}: no metrics row by day {day}",
            run.dir.display()
        ))
    })?;
    if (days[row] - day).abs() > 1e-6 {
        return Err(Error::Invalid(format!(
            "{}: no metrics row at day {day} (the nearest before is day {}); read at a day the runs write",
            run.dir.display(),
            days[row]
        )));
    }
    run.column(name)
        .map(|c| c[row])
        .ok_or_else(|| Error::Invalid(format!("{}: no column `{name}`", run.dir.display())))
}

impl Study {
    /// The study of finished runs (one per grid, coarsest first, with the voxels on the
    /// longest axis and the voxel edge of each), read at `day`.
    pub fn from_runs(
        preset: &str,
        runs: &[(usize, f64, RunData)],
        day: f64,
        tolerance: f64,
        lattice: &str,
    ) -> Result<Study> {
        if runs.len() < 3 {
            return Err(Error::Invalid(format!(
                "converge: give at least three resolutions (an order needs three grids); got {}",
                runs.len()
            )));
        }
        if runs.windows(2).any(|w| w[1].1 >= w[0].1) {
            return Err(Error::Invalid(
                "converge: resolutions must be distinct, coarsest first".into(),
            ));
        }
        let h: Vec<f64> = runs.iter().map(|r| r.1).collect();
        let n = runs.len();
        let mut endpoints = Vec::new();
        for name in endpoint_columns(&runs[n - 1].2) {
            let values = runs
                .iter()
                .map(|r| at_day(&r.2, &name, day))
                .collect::<Result<Vec<f64>>>()?;
            let behaviour = observed_order(
                [h[n - 3], h[n - 2], h[n - 1]],
                [values[n - 3], values[n - 2], values[n - 1]],
            );
            let steps: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
            let monotone = steps.iter().all(|d| *d >= 0.0) || steps.iter().all(|d| *d <= 0.0);
            let extrapolated = match behaviour {
                Behaviour::Order { p } if monotone => Some(richardson(
                    h[n - 2],
                    h[n - 1],
                    values[n - 2],
                    values[n - 1],
                    p,
                )),
                Behaviour::Converged => Some(values[n - 1]),
                _ => None,
            };
            let reference = extrapolated.unwrap_or(values[n - 1]);
            let errors: Vec<f64> = values
                .iter()
                .map(|v| {
                    if reference == 0.0 {
                        if *v == 0.0 { 0.0 } else { f64::INFINITY }
                    } else {
                        ((v - reference) / reference).abs()
                    }
                })
                .collect();
            // Against the finest value the finest is within by definition: only a coarser
            // grid can be named.
            let last = if extrapolated.is_some() { n } else { n - 1 };
            let resolution_within = (0..last)
                .find(|&i| errors[i..last].iter().all(|e| *e <= tolerance))
                .map(|i| runs[i].0);
            endpoints.push(EndpointStudy {
                name,
                values,
                behaviour,
                monotone,
                extrapolated,
                reference,
                against_extrapolated: extrapolated.is_some(),
                errors,
                resolution_within,
            });
        }
        Ok(Study {
            preset: preset.to_string(),
            day,
            resolutions: runs.iter().map(|r| r.0).collect(),
            voxel_um: h,
            tolerance,
            lattice: lattice.to_string(),
            endpoints,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_extrapolation_recover_a_known_error_law_at_uneven_ratios() {
        // f(h) = 3 + 2 h^p at the edges of 32, 48 and 64 voxels over 2560 µm.
        let h = [80.0, 2560.0 / 48.0, 40.0];
        for p in [1.0, 1.5, 2.0, 3.0] {
            let f = h.map(|x: f64| 3.0 + 2e-4 * x.powf(p));
            match observed_order(h, f) {
                Behaviour::Order { p: got } => {
                    assert!((got - p).abs() < 1e-6, "order {got} for {p}");
                    let x = richardson(h[1], h[2], f[1], f[2], got);
                    assert!((x - 3.0).abs() < 1e-9, "extrapolated {x} for p = {p}");
                }
                b => panic!("p = {p}: {b:?}"),
            }
        }
        // Decreasing values converge the same way.
        let f = h.map(|x: f64| 3.0 - 1e-3 * x);
        assert!(matches!(observed_order(h, f), Behaviour::Order { p } if (p - 1.0).abs() < 1e-6));
    }

    #[test]
    fn oscillation_rounding_and_non_asymptotic_grids_are_named() {
        let h = [80.0, 60.0, 40.0];
        assert_eq!(observed_order(h, [1.0, 1.1, 1.05]), Behaviour::Oscillating);
        assert_eq!(observed_order(h, [1.0, 2.0, 2.0]), Behaviour::Converged);
        // The finest step much larger than the coarser one: no positive order.
        assert_eq!(
            observed_order(h, [1.0, 1.001, 1.5]),
            Behaviour::NotConverging
        );
        // Nearly all of the change in the coarsest step: order beyond 8.
        assert!(matches!(
            observed_order(h, [1.0, 2.0, 2.0 + 1e-6]),
            Behaviour::OutOfRange { p } if p > 8.0
        ));
    }

    fn run(n: usize, values: &[(&str, f64)]) -> (usize, f64, RunData) {
        let mut columns = std::collections::BTreeMap::new();
        columns.insert("time_days".to_string(), vec![0.0, 28.0]);
        for (k, v) in values {
            columns.insert(k.to_string(), vec![0.0, *v]);
            columns.insert(format!("{k}_mean"), vec![0.0, *v]);
        }
        (
            n,
            2560.0 / n as f64,
            RunData {
                label: format!("{n}"),
                dir: std::path::PathBuf::from(format!("{n}")),
                columns,
                summary: serde_json::Value::Null,
                doses: vec![],
            },
        )
    }

    /// +-0.1 alternating over 16, 24, 32, 48, then 0.05 at 64: oscillating at the finest.
    fn wobble(n: usize) -> f64 {
        match n {
            16 | 32 => 0.1,
            64 => 0.05,
            _ => -0.1,
        }
    }

    #[test]
    fn a_study_rates_each_endpoint_and_names_the_grid_within_tolerance() {
        let res = [16usize, 24, 32, 48, 64];
        let runs: Vec<_> = res
            .iter()
            .map(|&n| {
                let h = 2560.0 / n as f64;
                run(
                    n,
                    &[
                        ("a_integral", 1.0 + 1e-4 * h * h),
                        ("b_integral", 2.0 + wobble(n)),
                    ],
                )
            })
            .collect();
        let s = Study::from_runs("p", &runs, 28.0, 0.05, "regenerated at each grid").unwrap();
        assert_eq!(s.endpoints.len(), 2, "means are not endpoints");
        let a = &s.endpoints[0];
        assert!(matches!(a.behaviour, Behaviour::Order { p } if (p - 2.0).abs() < 1e-6));
        assert!(a.monotone);
        assert!((a.extrapolated.unwrap() - 1.0).abs() < 1e-9);
        // Errors 1e-4 h^2 at h = 160, 107, 80, 53, 40 µm: 2.56 .. 0.16, none within 5 %.
        assert_eq!(a.resolution_within, None);
        let b = &s.endpoints[1];
        assert_eq!(b.behaviour, Behaviour::Oscillating);
        assert!(!b.monotone);
        assert!(!b.against_extrapolated);
        assert!(s.markdown().contains("oscillates"));
        let csv = s.csv();
        let cells: Vec<usize> = csv.lines().map(|l| l.split(',').count()).collect();
        assert_eq!(cells.len(), 3, "{csv}");
        assert!(cells.iter().all(|&c| c == cells[0]), "ragged CSV: {csv}");
        // A tighter error law puts the 5 % grid in the middle.
        let runs: Vec<_> = res
            .iter()
            .map(|&n| {
                run(
                    n,
                    &[("c_integral", 1.0 + 4e-6 * (2560.0 / n as f64).powi(2))],
                )
            })
            .collect();
        let s = Study::from_runs("p", &runs, 28.0, 0.05, "x").unwrap();
        // Errors 4e-6 h^2: 0.102, 0.046, 0.026, ...: within from 24^3.
        assert_eq!(s.endpoints[0].resolution_within, Some(24));
        // A sequence that turns on the coarser grids gets its order but no extrapolation.
        let turning: Vec<_> = res
            .iter()
            .map(|&n| {
                let h = 2560.0 / n as f64;
                let v = if n == 16 { 0.5 } else { 1.0 + 4e-6 * h * h };
                run(n, &[("d_integral", v)])
            })
            .collect();
        let t = Study::from_runs("p", &turning, 28.0, 0.05, "x").unwrap();
        let d = &t.endpoints[0];
        assert!(matches!(d.behaviour, Behaviour::Order { .. }) && !d.monotone);
        assert_eq!(d.extrapolated, None);
        assert!(t.markdown().contains("turns on coarser grids"));
        let e = Study::from_runs("p", &runs[..2], 28.0, 0.05, "x").unwrap_err();
        assert!(e.to_string().contains("at least three"), "{e}");
        let e = Study::from_runs("p", &runs, 27.5, 0.05, "x").unwrap_err();
        assert!(e.to_string().contains("no metrics row at day 27.5"), "{e}");
    }
}
