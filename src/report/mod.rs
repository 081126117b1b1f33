//! Reports over finished runs (`compare`, `sweep`): endpoints per run, side-by-side tables
//! (CSV, Markdown), overlaid time-series plots (SVG, PNG) and one self-contained HTML page.

pub mod html;
pub mod plot;
pub mod raster;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// µm^3 per mm^3.
pub const UM3_PER_MM3: f64 = 1e9;

/// One finished run, read back from its output folder.
#[derive(Debug, Clone)]
pub struct RunData {
    /// Label in tables and legends.
    pub label: String,
    /// The output folder.
    pub dir: PathBuf,
    /// metrics.csv by column name.
    pub columns: BTreeMap<String, Vec<f64>>,
    /// summary.json.
    pub summary: serde_json::Value,
    /// Dose times from doses.csv, days, with the drug.
    pub doses: Vec<(f64, String)>,
}

/// Whether `dir` holds a run that reached its end (summary.json there, and not marked
/// interrupted).
pub fn finished(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|s| s["status"] != "interrupted")
}

impl RunData {
    /// Reads `dir/metrics.csv`, `dir/summary.json` and `dir/doses.csv` (when present).
    pub fn load(dir: &Path, label: &str) -> Result<RunData> {
        let summary_path = dir.join("summary.json");
        let summary_text = std::fs::read_to_string(&summary_path).map_err(|e| {
            Error::Invalid(format!(
                "{}: no finished run here ({e}); a run writes summary.json when it ends",
                dir.display()
            ))
        })?;
        let summary: serde_json::Value = serde_json::from_str(&summary_text)
            .map_err(|e| Error::Invalid(format!("{}: {e}", summary_path.display())))?;
        if summary["status"] == "interrupted" {
            return Err(Error::Invalid(format!(
                "{}: the run was interrupted at day {:.3}, before its end; continue it with `{}`",
                dir.display(),
                summary["simulated_days"].as_f64().unwrap_or(f64::NAN),
                summary["resume_command"]
                    .as_str()
                    .unwrap_or("osteoniche resume <its checkpoint>")
            )));
        }
        let metrics_path = dir.join("metrics.csv");
        let text =
            std::fs::read_to_string(&metrics_path).map_err(|e| Error::io(&metrics_path, e))?;
        let columns = parse_csv(&text, &metrics_path)?;
        let doses_path = dir.join("doses.csv");
        let mut doses = Vec::new();
        if let Ok(text) = std::fs::read_to_string(&doses_path) {
            let (header, rows) = crate::io::table::read(&text, &doses_path)?;
            let col = |name| header.iter().position(|h| *h == name);
            if let (Some(t), Some(d)) = (col("time_days"), col("drug")) {
                for (line, cells) in rows {
                    let time = cells.get(t).and_then(|v| v.parse::<f64>().ok());
                    match (time, cells.get(d)) {
                        (Some(time), Some(drug)) => doses.push((time, drug.to_string())),
                        _ => {
                            return Err(Error::Invalid(format!(
                                "{}:{line}: not a dose line",
                                doses_path.display()
                            )));
                        }
                    }
                }
            }
        }
        Ok(RunData {
            label: label.to_string(),
            dir: dir.to_path_buf(),
            columns,
            summary,
            doses,
        })
    }

    /// A metrics column, if the run has it.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns.get(name).map(Vec::as_slice)
    }

    /// Simulated days of each metrics row.
    pub fn days(&self) -> &[f64] {
        self.column("time_days").unwrap_or(&[])
    }

    /// Names of the drugs the run dosed (from summary.json).
    pub fn drugs(&self) -> Vec<String> {
        self.summary["pharmacology"]["drugs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Parses a numeric CSV with a header line into columns.
fn parse_csv(text: &str, path: &Path) -> Result<BTreeMap<String, Vec<f64>>> {
    let (header, rows) = crate::io::table::read(text, path)?;
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for (line, cells) in rows {
        for (c, v) in cols.iter_mut().zip(cells.iter()) {
            c.push(v.trim().parse().map_err(|_| {
                Error::Invalid(format!("{}:{line}: `{v}` is not a number", path.display()))
            })?);
        }
    }
    Ok(header.into_iter().zip(cols).collect())
}

/// One endpoint column of the tables.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Column key (CSV header).
    pub key: String,
    /// Heading with unit (Markdown, HTML).
    pub title: String,
    /// Value per run (NaN: the run has no such quantity; +inf: not reached).
    pub values: Vec<f64>,
}

impl Endpoint {
    /// Whether the endpoint is itself a percentage (key `*_pct`): runs then differ in
    /// percentage points, not by a relative difference of percentages.
    pub fn is_percent(&self) -> bool {
        self.key.ends_with("_pct")
    }

    /// Run `i`'s difference from run 0 as the tables print it: "0" when equal; in
    /// percentage points (`pp`) for a percentage endpoint, else a signed relative
    /// percentage; "n/a" where it is undefined.
    pub fn fmt_difference(&self, i: usize) -> String {
        let (v, reference) = (self.values[i], self.values[0]);
        if !self.is_percent() {
            return fmt_difference(v, reference);
        }
        let d = v - reference;
        if v == reference {
            "0".into()
        } else if !d.is_finite() {
            "n/a".into()
        } else {
            format!("{d:+.3} pp")
        }
    }

    /// Run `i`'s difference from run 0 as a fraction: relative, or for a percentage
    /// endpoint its percentage points / 100; 0 when equal or when either is missing
    /// (NaN), +inf when only one is defined.
    fn difference(&self, i: usize) -> f64 {
        let (v, r) = (self.values[i], self.values[0]);
        if v.is_nan() || r.is_nan() || v == r {
            return 0.0;
        }
        let d = if self.is_percent() {
            (v - r) / 100.0
        } else {
            relative_difference(v, r)
        };
        if d.is_finite() {
            d.abs()
        } else {
            f64::INFINITY
        }
    }
}

/// The endpoints of every run: tumour burden at start and end, its change and the time to
/// doubling or halving; bone volume change and final BV/TV; CD8 infiltration (CD8 volume
/// and CD8 per tumour volume); plasma OPN; per drug the exposure (AUC) in plasma and in
/// the tissue of the bone niche.
pub fn endpoints(runs: &[RunData]) -> Vec<Endpoint> {
    let mut out = Vec::new();
    let mut push = |key: &str, title: &str, f: &dyn Fn(&RunData) -> Option<f64>| {
        out.push(Endpoint {
            key: key.into(),
            title: title.into(),
            values: runs.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect(),
        });
    };
    let first = |r: &RunData, c: &str| r.column(c).and_then(|v| v.first().copied());
    let last = |r: &RunData, c: &str| r.column(c).and_then(|v| v.last().copied());
    push("days", "simulated days", &|r| r.days().last().copied());
    push("tumour_start_mm3", "tumour at start (mm³)", &|r| {
        first(r, "tumour_integral").map(|v| v / UM3_PER_MM3)
    });
    push("tumour_end_mm3", "tumour at end (mm³)", &|r| {
        last(r, "tumour_integral").map(|v| v / UM3_PER_MM3)
    });
    push("tumour_change_pct", "tumour change (%)", &|r| {
        Some(100.0 * (last(r, "tumour_integral")? / first(r, "tumour_integral")? - 1.0))
    });
    push("tumour_doubling_days", "tumour doubling time (d)", &|r| {
        crossing(r.days(), r.column("tumour_integral")?, 2.0)
    });
    push("tumour_halving_days", "tumour halving time (d)", &|r| {
        crossing(r.days(), r.column("tumour_integral")?, 0.5)
    });
    push("bone_change_pct", "bone volume change (%)", &|r| {
        Some(100.0 * (last(r, "bone_integral")? / first(r, "bone_integral")? - 1.0))
    });
    push("bv_tv_end", "BV/TV at end", &|r| last(r, "bone_mean"));
    push("cd8_end_mm3", "CD8 at end (mm³)", &|r| {
        last(r, "cd8_integral").map(|v| v / UM3_PER_MM3)
    });
    push("cd8_per_tumour", "CD8 per tumour volume", &|r| {
        Some(last(r, "cd8_integral")? / last(r, "tumour_integral")?)
    });
    push("plasma_opn_nM", "plasma OPN at end (nM)", &|r| {
        last(r, "plasma_opn_nM")
    });
    let mut drugs: Vec<String> = runs.iter().flat_map(RunData::drugs).collect();
    drugs.sort();
    drugs.dedup();
    for d in &drugs {
        push(
            &format!("{d}_auc_plasma_nM_h"),
            &format!("{d} plasma AUC (nM·h)"),
            &|r| last(r, &format!("{d}_auc_plasma_nM_h")),
        );
        push(
            &format!("{d}_auc_tissue_nM_h"),
            &format!("{d} bone-niche tissue AUC (nM·h)"),
            &|r| last(r, &format!("{d}_auc_tissue_nM_h")),
        );
    }
    out
}

/// First time (linear interpolation between samples) at which `values` reaches `factor`
/// times its first value; +inf when it never does within the run.
fn crossing(days: &[f64], values: &[f64], factor: f64) -> Option<f64> {
    let v0 = *values.first()?;
    if v0 <= 0.0 || days.len() != values.len() {
        return None;
    }
    let target = factor * v0;
    let reached = |v: f64| {
        if factor > 1.0 {
            v >= target
        } else {
            v <= target
        }
    };
    for i in 1..values.len() {
        if reached(values[i]) {
            let (a, b) = (values[i - 1], values[i]);
            let s = if b != a { (target - a) / (b - a) } else { 1.0 };
            return Some(days[i - 1] + s.clamp(0.0, 1.0) * (days[i] - days[i - 1]));
        }
    }
    Some(f64::INFINITY)
}

/// A number as the tables print it: 4 significant digits, "n/a" for NaN, "not reached"
/// for +inf.
pub fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v == f64::INFINITY {
        "not reached".into()
    } else if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e-3 && v.abs() < 1e5 {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.3e}")
    }
}

/// Relative difference of `v` from `reference` (0 when equal, NaN when undefined).
pub fn relative_difference(v: f64, reference: f64) -> f64 {
    if v == reference {
        0.0
    } else if reference != 0.0 && v.is_finite() && reference.is_finite() {
        (v - reference) / reference.abs()
    } else {
        f64::NAN
    }
}

/// What the difference tables hold.
pub const DIFFERENCE_NOTE: &str =
    "relative, in %; endpoints that are themselves percentages in percentage points, pp";

/// A relative difference as the tables print it: "0" when equal, else a signed percentage.
pub fn fmt_difference(v: f64, reference: f64) -> String {
    let d = relative_difference(v, reference);
    if d.is_nan() {
        "n/a".into()
    } else if d == 0.0 {
        "0".into()
    } else if d.abs() < 1e-5 {
        format!("{:+.2e}%", 100.0 * d)
    } else {
        format!("{:+.3}%", 100.0 * d)
    }
}

/// endpoints.csv: one line per run, one column per endpoint (full precision).
pub fn csv(runs: &[RunData], eps: &[Endpoint]) -> String {
    use crate::io::table::record;
    let mut s = record(
        ["run", "folder"]
            .into_iter()
            .chain(eps.iter().map(|e| e.key.as_str())),
    );
    for (i, r) in runs.iter().enumerate() {
        let cells = [r.label.clone(), r.dir.display().to_string()]
            .into_iter()
            .chain(eps.iter().map(|e| e.values[i].to_string()));
        s.push_str(&record(cells));
    }
    s
}

/// endpoints.md: the endpoints side by side (one column per run), then each run's
/// relative difference from the first run.
pub fn markdown(runs: &[RunData], eps: &[Endpoint]) -> String {
    let mut s = String::from("| endpoint |");
    for r in runs {
        s.push_str(&format!(" {} |", r.label.replace('|', "/")));
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(runs.len()));
    s.push('\n');
    for e in eps {
        s.push_str(&format!("| {} |", e.title));
        for v in &e.values {
            s.push_str(&format!(" {} |", fmt_value(*v)));
        }
        s.push('\n');
    }
    if runs.len() > 1 {
        s.push_str(&format!(
            "\nDifference from `{}` ({DIFFERENCE_NOTE}):\n\n| endpoint |",
            runs[0].label
        ));
        for r in &runs[1..] {
            s.push_str(&format!(" {} |", r.label.replace('|', "/")));
        }
        s.push_str("\n|---|");
        s.push_str(&"---:|".repeat(runs.len() - 1));
        s.push('\n');
        for e in eps {
            s.push_str(&format!("| {} |", e.title));
            for i in 1..e.values.len() {
                s.push_str(&format!(" {} |", e.fmt_difference(i)));
            }
            s.push('\n');
        }
    }
    s
}

/// The largest difference of any endpoint of any run from the first run, over the
/// endpoints both have, as a fraction (relative; percentage points / 100 for percentage
/// endpoints): 0 when every run matches the first exactly; +inf when one is "not reached"
/// and the other a time.
pub fn max_difference(eps: &[Endpoint]) -> f64 {
    eps.iter()
        .flat_map(|e| (1..e.values.len()).map(move |i| e.difference(i)))
        .fold(0.0, f64::max)
}

/// One plotted quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// File stem under plots/.
    pub stem: String,
    /// Plot title.
    pub title: String,
    /// y-axis label with unit.
    pub y_label: String,
    /// metrics.csv column.
    pub column: String,
    /// Factor from the column's unit to the plotted one.
    pub scale: f64,
}

fn quantity(stem: &str, title: &str, y_label: &str, column: &str, scale: f64) -> Quantity {
    Quantity {
        stem: stem.into(),
        title: title.into(),
        y_label: y_label.into(),
        column: column.into(),
        scale,
    }
}

/// The quantities plotted for a set of runs: tumour, bone, CD8, plasma OPN, then each drug
/// any run dosed in plasma and in tissue; those no run has are left out.
pub fn series(runs: &[RunData]) -> Vec<Quantity> {
    let per_mm3 = 1.0 / UM3_PER_MM3;
    let mut out = vec![
        quantity(
            "tumour",
            "Tumour burden",
            "tumour volume (mm³)",
            "tumour_integral",
            per_mm3,
        ),
        quantity("bone", "Bone volume", "BV/TV", "bone_mean", 1.0),
        quantity(
            "cd8",
            "CD8 T cells",
            "CD8 volume (mm³)",
            "cd8_integral",
            per_mm3,
        ),
        quantity(
            "plasma_opn",
            "Plasma osteopontin",
            "plasma OPN (nM)",
            "plasma_opn_nM",
            1.0,
        ),
    ];
    let mut drugs: Vec<String> = runs.iter().flat_map(RunData::drugs).collect();
    drugs.sort();
    drugs.dedup();
    for d in drugs {
        out.push(quantity(
            &format!("{d}_plasma"),
            &format!("{d} in plasma"),
            "plasma concentration (nM)",
            &format!("{d}_plasma_nM"),
            1.0,
        ));
        out.push(quantity(
            &format!("{d}_tissue"),
            &format!("{d} in the bone niche"),
            "tissue concentration (nM)",
            &format!("{d}_tissue_nM"),
            1.0,
        ));
    }
    out.retain(|q| runs.iter().any(|r| r.column(&q.column).is_some()));
    out
}

/// Everything a report writes.
pub struct Written {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// The largest endpoint difference from the first run ([`max_difference`]).
    pub max_difference: f64,
    /// The Markdown table.
    pub markdown: String,
}

/// Writes endpoints.csv, endpoints.md, plots/<name>.svg and .png and report.html into
/// `out` (each file atomically).
pub fn write(runs: &[RunData], out: &Path, title: &str) -> Result<Written> {
    if runs.is_empty() {
        return Err(Error::Invalid(
            "a report needs at least one finished run".into(),
        ));
    }
    std::fs::create_dir_all(out.join("plots")).map_err(|e| Error::io(out, e))?;
    let eps = endpoints(runs);
    let md = markdown(runs, &eps);
    let mut files = Vec::new();
    let mut put = |name: PathBuf, bytes: &[u8]| -> Result<()> {
        write_atomic(&name, bytes)?;
        files.push(name);
        Ok(())
    };
    put(out.join("endpoints.csv"), csv(runs, &eps).as_bytes())?;
    put(out.join("endpoints.md"), md.as_bytes())?;
    let mut svgs = Vec::new();
    for q in series(runs) {
        let p = plot::Plot::from_runs(runs, &q.title, &q.y_label, &q.column, q.scale);
        let svg = p.svg();
        let plots = out.join("plots");
        put(plots.join(format!("{}.svg", q.stem)), svg.as_bytes())?;
        put(plots.join(format!("{}.png", q.stem)), &p.png()?)?;
        svgs.push((q.title, svg));
    }
    put(
        out.join("report.html"),
        html::page(title, runs, &eps, &svgs).as_bytes(),
    )?;
    Ok(Written {
        files,
        max_difference: max_difference(&eps),
        markdown: md,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_interpolates_and_reports_not_reached() {
        let days = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(crossing(&days, &[1.0, 1.5, 2.5, 4.0], 2.0), Some(1.5));
        assert_eq!(crossing(&days, &[1.0, 0.8, 0.6, 0.4], 0.5), Some(2.5));
        assert_eq!(
            crossing(&days, &[1.0, 1.1, 1.2, 1.3], 2.0),
            Some(f64::INFINITY)
        );
        assert_eq!(crossing(&days, &[0.0, 1.0, 2.0, 3.0], 2.0), None);
    }

    /// A run folder whose cells hold commas and quotes (a preset named with a comma, a
    /// dose origin with one) loads, and endpoints.csv gives the label back whole.
    #[test]
    fn csv_with_commas_loads_and_round_trips() {
        use crate::io::table::{read, record};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("summary.json"), "{}").unwrap();
        std::fs::write(
            d.join("metrics.csv"),
            "step,time_min,time_days,tumour_integral\n0,0,0,1e9\n24,1440,1,2e9\n",
        )
        .unwrap();
        let mut doses = record(["time_h", "time_days", "origin", "drug"]);
        doses.push_str(&record([
            "12",
            "0.5",
            "viewer, local \"spot\"",
            "zoledronate",
        ]));
        std::fs::write(d.join("doses.csv"), doses).unwrap();
        let run = RunData::load(d, "breast, osteolytic").unwrap();
        assert_eq!(run.doses, vec![(0.5, "zoledronate".to_string())]);
        assert_eq!(run.column("tumour_integral"), Some(&[1e9, 2e9][..]));
        let eps = endpoints(std::slice::from_ref(&run));
        let text = csv(std::slice::from_ref(&run), &eps);
        let (header, rows) = read(&text, Path::new("endpoints.csv")).unwrap();
        assert_eq!(header.len(), 2 + eps.len());
        assert_eq!(&rows[0].1[0], "breast, osteolytic");
        std::fs::write(d.join("metrics.csv"), "step,time_min\n0\n").unwrap();
        let e = RunData::load(d, "x").unwrap_err().to_string();
        assert!(e.contains("metrics.csv:2"), "{e}");
    }

    #[test]
    fn formats_and_differences() {
        assert_eq!(fmt_value(f64::NAN), "n/a");
        assert_eq!(fmt_value(f64::INFINITY), "not reached");
        assert_eq!(fmt_value(3.98e9), "3.980e9");
        assert_eq!(fmt_value(12.3456), "12.35");
        assert_eq!(relative_difference(2.0, 2.0), 0.0);
        assert!((relative_difference(3.0, 2.0) - 0.5).abs() < 1e-15);
        let eps = vec![Endpoint {
            key: "a".into(),
            title: "a".into(),
            values: vec![1.0, 1.0, 1.1],
        }];
        assert!((max_difference(&eps) - 0.1).abs() < 1e-12);
        // A percentage endpoint differs in percentage points: -100.281 % against -50 %
        // is -50.281 pp, not a relative difference of percentages.
        let pct = Endpoint {
            key: "tumour_change_pct".into(),
            title: "tumour change (%)".into(),
            values: vec![-50.0, -100.281, -50.0, f64::NAN],
        };
        assert!(pct.is_percent() && !eps[0].is_percent());
        assert_eq!(pct.fmt_difference(1), "-50.281 pp");
        assert_eq!(pct.fmt_difference(2), "0");
        assert_eq!(pct.fmt_difference(3), "n/a");
        assert_eq!(eps[0].fmt_difference(2), "+10.000%");
        assert!((max_difference(&[pct]) - 0.50281).abs() < 1e-12);
    }
}
