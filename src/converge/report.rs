//! What a resolution study writes: the table as Markdown and CSV, the study as JSON, and
//! the plot of the endpoints against the voxel edge (SVG and PNG). The analysis itself
//! (observed order, Richardson extrapolation, the grid within a tolerance) is in
//! [`super`].

use std::path::Path;

use super::{Behaviour, Study};
use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::report::plot::{PALETTE, Plot, Series};

impl Study {
    /// The table as Markdown: values per grid, order, extrapolated value, error of the
    /// finest grid and the grid that is within the tolerance.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Resolution study of `{}` at day {} (lattice {}); order from the three finest grids, errors against the Richardson-extrapolated value (or, where there is none, the finest grid).\n\n| endpoint |",
            self.preset, self.day, self.lattice
        );
        for (n, h) in self.resolutions.iter().zip(&self.voxel_um) {
            out.push_str(&format!(" {n}^3 ({h:.0} µm) |"));
        }
        out.push_str(&format!(
            " order | extrapolated | error of {}^3 | within {:.0} % from |\n|---|",
            self.resolutions.last().copied().unwrap_or(0),
            100.0 * self.tolerance
        ));
        out.push_str(&"---|".repeat(self.resolutions.len() + 4));
        out.push('\n');
        for e in &self.endpoints {
            out.push_str(&format!("| {} |", e.name));
            for v in &e.values {
                out.push_str(&format!(" {v:.4e} |"));
            }
            let order = match e.behaviour {
                Behaviour::Order { p } if e.monotone => format!("{p:.2}"),
                Behaviour::Order { p } => format!("{p:.2} (turns on coarser grids)"),
                Behaviour::Converged => "converged".into(),
                Behaviour::Oscillating => "oscillates".into(),
                Behaviour::NotConverging => "not converging".into(),
                Behaviour::OutOfRange { p } => format!("out of range ({p:.1})"),
            };
            let finest = e.errors.last().copied().unwrap_or(f64::NAN);
            let within = match (e.resolution_within, e.against_extrapolated) {
                (Some(n), true) => format!("{n}^3"),
                (Some(n), false) => format!("{n}^3 (vs finest)"),
                (None, true) => "not within".into(),
                (None, false) => "unknown: finer grids needed".into(),
            };
            out.push_str(&format!(
                " {order} | {} | {} | {within} |\n",
                e.extrapolated
                    .map_or("-".to_string(), |x| format!("{x:.4e}")),
                if e.against_extrapolated {
                    format!("{:.1} %", 100.0 * finest)
                } else {
                    "-".to_string()
                },
            ));
        }
        out
    }

    /// The table as CSV: one row per endpoint.
    pub fn csv(&self) -> String {
        let mut header: Vec<String> = vec!["endpoint".into()];
        header.extend(self.resolutions.iter().map(|n| format!("value_{n}")));
        header.extend(
            [
                "behaviour",
                "order",
                "monotone",
                "extrapolated",
                "reference",
                "against_extrapolated",
            ]
            .map(String::from),
        );
        header.extend(self.resolutions.iter().map(|n| format!("error_{n}")));
        header.push("resolution_within".into());
        let mut out = crate::io::table::record(&header);
        for e in &self.endpoints {
            let mut cells = vec![e.name.clone()];
            cells.extend(e.values.iter().map(|v| format!("{v:e}")));
            let (kind, p) = match e.behaviour {
                Behaviour::Order { p } => ("order", p),
                Behaviour::Converged => ("converged", f64::NAN),
                Behaviour::Oscillating => ("oscillating", f64::NAN),
                Behaviour::NotConverging => ("not_converging", f64::NAN),
                Behaviour::OutOfRange { p } => ("out_of_range", p),
            };
            cells.push(kind.into());
            cells.push(format!("{p}"));
            cells.push(e.monotone.to_string());
            cells.push(e.extrapolated.map_or(String::new(), |x| format!("{x:e}")));
            cells.push(format!("{:e}", e.reference));
            cells.push(e.against_extrapolated.to_string());
            cells.extend(e.errors.iter().map(|v| format!("{v:e}")));
            cells.push(e.resolution_within.map_or(String::new(), |n| n.to_string()));
            out.push_str(&crate::io::table::record(&cells));
        }
        out
    }

    /// A plot of `names` (each relative to its reference value) against the voxel edge.
    pub fn plot(&self, names: &[&str]) -> Plot {
        let series = names
            .iter()
            .filter_map(|n| self.endpoints.iter().find(|e| e.name == *n))
            .enumerate()
            .map(|(i, e)| Series {
                label: e.name.trim_end_matches("_integral").to_string(),
                x: self.voxel_um.clone(),
                y: e.values.iter().map(|v| v / e.reference).collect(),
                color: PALETTE[i % PALETTE.len()],
            })
            .collect();
        Plot {
            title: format!("{}: resolution study, day {}", self.preset, self.day),
            x_label: "voxel edge (µm)".into(),
            y_label: "endpoint / extrapolated (or finest-grid) value".into(),
            series,
            marks: vec![],
            log_y: false,
        }
    }

    /// Writes `converge.md`, `converge.csv`, `converge.json` and `converge.svg` / `.png`
    /// (the endpoints named in `plotted`) into `out`.
    pub fn write(&self, out: &Path, plotted: &[&str]) -> Result<()> {
        write_atomic(&out.join("converge.md"), self.markdown().as_bytes())?;
        write_atomic(&out.join("converge.csv"), self.csv().as_bytes())?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Invalid(format!("converge.json: {e}")))?;
        write_atomic(&out.join("converge.json"), json.as_bytes())?;
        let plot = self.plot(plotted);
        write_atomic(&out.join("converge.svg"), plot.svg().as_bytes())?;
        write_atomic(&out.join("converge.png"), &plot.png()?)?;
        Ok(())
    }
}
