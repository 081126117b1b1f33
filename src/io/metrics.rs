//! metrics.csv: one row per sample time, per field its integral, mean, minimum and maximum,
//! then any named scalars (the model's systemic pools). The header goes through the CSV
//! writer (`super::table`); the rows are numbers, which never need quoting.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::error::Result;
use crate::grid::Grid;
use crate::sim::FieldStats;

/// Collects metric rows and writes them atomically.
pub struct MetricsTable {
    path: PathBuf,
    header: String,
    rows: String,
    voxels: f64,
    voxel_volume: f64,
}

impl MetricsTable {
    /// The table of `sim`'s fields and named scalars (the columns `run` writes), to be
    /// written to `path`.
    pub fn for_simulation(path: &Path, sim: &crate::sim::Simulation) -> Self {
        let names = sim.scenario().species.owned_names();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let scalars = sim.named_scalars().0;
        let scalar_refs: Vec<&str> = scalars.iter().map(String::as_str).collect();
        MetricsTable::new(path, &sim.scenario().grid, &name_refs, &scalar_refs)
    }

    /// A table for the given fields and scalars; written to `path` on
    /// [`MetricsTable::flush`].
    pub fn new(path: &Path, grid: &Grid, names: &[&str], scalars: &[&str]) -> Self {
        let mut cells: Vec<String> = ["step", "time_min", "time_days"].map(String::from).into();
        for n in names {
            for stat in ["integral", "mean", "min", "max"] {
                cells.push(format!("{n}_{stat}"));
            }
        }
        cells.extend(scalars.iter().map(|n| n.to_string()));
        // Through the CSV writer, so a name that needs quoting gets it; the rows are numbers.
        let header = super::table::record(&cells);
        MetricsTable {
            path: path.to_path_buf(),
            header,
            rows: String::new(),
            voxels: grid.len() as f64,
            voxel_volume: grid.voxel_volume_um3(),
        }
    }

    /// Adds a row. Integral: sum times voxel volume (field unit x µm^3).
    pub fn push(&mut self, step: u64, time_min: f64, stats: &[FieldStats], scalars: &[f64]) {
        write!(self.rows, "{step},{time_min},{}", time_min / 1440.0).expect("string write");
        for s in stats {
            write!(
                self.rows,
                ",{:e},{:e},{:e},{:e}",
                s.sum * self.voxel_volume,
                s.sum / self.voxels,
                s.min,
                s.max
            )
            .expect("string write");
        }
        for v in scalars {
            write!(self.rows, ",{v:e}").expect("string write");
        }
        self.rows.push('\n');
    }

    /// The table as CSV text (header and rows so far).
    pub fn to_csv(&self) -> String {
        let mut text = self.header.clone();
        text.push_str(&self.rows);
        text
    }

    /// Restores the rows of an earlier run (the CSV of [`MetricsTable::to_csv`]); refuses a
    /// table with other columns.
    pub fn restore(&mut self, csv: &str) -> Result<()> {
        let rows = csv.strip_prefix(self.header.as_str()).ok_or_else(|| {
            crate::error::Error::Invalid(
                "the saved metrics have other columns than this run".into(),
            )
        })?;
        self.rows = rows.to_string();
        Ok(())
    }

    /// Writes everything collected so far (atomically replacing the previous file).
    pub fn flush(&self) -> Result<()> {
        self.write_to(&self.path)
    }

    /// Writes everything collected so far to `path` (atomically).
    pub fn write_to(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_csv().as_bytes())
    }
}
