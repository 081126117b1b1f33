//! The run driver: one way to run a simulation, whoever drives it. A [`Run`] owns a
//! [`Simulation`], the preset it came from, the metrics table and its cadence
//! (`[output] metrics_every`, and always the preset's last step), and the numerical guard
//! that every metrics row passes. `osteoniche run`, `resume`, the arms of `compare`,
//! `sweep` and `converge`, `claims` and `checks`, the viewer's session and the Python
//! `Simulation` all step through it, so a row, a guard or a checkpoint means the same
//! thing wherever it was made.
//!
//! [`folder`] adds what a run writes to its output folder (snapshots, dose log,
//! checkpoints, the emergency save, summary.json) and interruption.

pub mod folder;
pub mod summary;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::io::checkpoint::{Checkpoint, CheckpointHeader};
use crate::io::metrics::MetricsTable;
use crate::launch::{BackendChoice, restart};
use crate::preset::{MAX_STEPS, Preset, SimDuration};
use crate::sim::{FieldStats, Simulation};

/// A simulation being run: the simulation, what it was made from, and its metrics.
pub struct Run {
    sim: Simulation,
    preset: Preset,
    resolution: Option<usize>,
    metrics: MetricsTable,
    /// Steps between metrics rows.
    metrics_every: u64,
    /// The statistics of the last row or guard.
    last: Vec<FieldStats>,
}

/// How [`Run::advance_to`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// At the step asked for.
    Target,
    /// Stopped early, between two steps, because the stop flag was raised.
    Stopped,
}

impl Run {
    /// A run of `sim` (made from `preset` at `resolution`), whose metrics table is written
    /// to `metrics_path` by [`Run::flush_metrics`], with no row yet.
    pub fn new(
        sim: Simulation,
        preset: Preset,
        resolution: Option<usize>,
        metrics_path: &Path,
    ) -> Run {
        let sc = sim.scenario();
        let metrics_every = sc.steps_every(sc.preset.output.metrics_every, 1);
        let metrics = MetricsTable::for_simulation(metrics_path, &sim);
        Run {
            sim,
            preset,
            resolution,
            metrics,
            metrics_every,
            last: Vec::new(),
        }
    }

    /// [`Run::new`], then the first metrics row (after the guard).
    pub fn start(
        sim: Simulation,
        preset: Preset,
        resolution: Option<usize>,
        metrics_path: &Path,
    ) -> Result<Run> {
        let mut run = Run::new(sim, preset, resolution, metrics_path);
        run.record()?;
        Ok(run)
    }

    /// A run continued from the checkpoint at `path` (its preset, state and metrics rows),
    /// on `backend` (default: the checkpointed run's), after the guard; with the
    /// checkpoint's header.
    pub fn resume(
        path: &Path,
        backend: Option<BackendChoice>,
        metrics_path: &Path,
    ) -> Result<(Run, CheckpointHeader)> {
        let ck = Checkpoint::read(path)?;
        let (preset, sim) = restart::restore(&ck, path, backend)?;
        let mut run = Run::new(sim, preset, ck.header.resolution, metrics_path);
        run.metrics.restore(&ck.header.metrics_csv)?;
        run.guard()?;
        Ok((run, ck.header))
    }

    /// The simulation.
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    /// The simulation, to dose, read fields or export.
    pub fn sim_mut(&mut self) -> &mut Simulation {
        &mut self.sim
    }

    /// The preset the run was made from.
    pub fn preset(&self) -> &Preset {
        &self.preset
    }

    /// The resolution asked for (voxels on the longest axis), if any.
    pub fn resolution(&self) -> Option<usize> {
        self.resolution
    }

    /// The step at which the preset's duration ends.
    pub fn end_step(&self) -> u64 {
        self.sim.scenario().steps
    }

    /// Steps between metrics rows.
    pub fn metrics_every(&self) -> u64 {
        self.metrics_every
    }

    /// The statistics of the last metrics row or guard.
    pub fn last_stats(&self) -> &[FieldStats] {
        &self.last
    }

    /// The metrics table so far as CSV (metrics.csv's text).
    pub fn metrics_csv(&self) -> String {
        self.metrics.to_csv()
    }

    /// Writes the metrics table to its file (atomically).
    pub fn flush_metrics(&self) -> Result<()> {
        self.metrics.flush()
    }

    /// Writes the metrics table to `path` (atomically).
    pub fn write_metrics_to(&self, path: &Path) -> Result<()> {
        self.metrics.write_to(path)
    }

    /// Whether a metrics row falls at `step`: every `metrics_every` steps and at the
    /// preset's last step.
    pub fn row_due(&self, step: u64) -> bool {
        step.is_multiple_of(self.metrics_every) || step == self.end_step()
    }

    /// The first step after `step` at which a row falls.
    fn next_row(&self, step: u64) -> u64 {
        let every = self.metrics_every;
        let next = (step / every).saturating_add(1).saturating_mul(every);
        if step < self.end_step() {
            next.min(self.end_step())
        } else {
            next
        }
    }

    /// Steps `n` steps, recording a row wherever one falls (see [`Run::row_due`]).
    pub fn advance(&mut self, n: u64) -> Result<()> {
        let target = self.sim.step_index().checked_add(n).ok_or_else(|| {
            Error::Invalid(format!(
                "{n} steps from step {} is past the largest step count",
                self.sim.step_index()
            ))
        })?;
        self.advance_to(target, None).map(|_| ())
    }

    /// Steps to step `target`, recording a row wherever one falls. With `stop`, the flag
    /// is read before every step and the run stops between two steps once it is raised
    /// (the state is then whole: no step is half-taken).
    pub fn advance_to(&mut self, target: u64, stop: Option<&AtomicBool>) -> Result<Reached> {
        // With a model every step is its own loop on the host anyway; a synthetic case
        // records its steps in one submission, so it is split only at rows.
        let one_by_one = stop.is_some() && self.sim.scenario().model.is_some();
        while self.sim.step_index() < target {
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                return Ok(Reached::Stopped);
            }
            let s = self.sim.step_index();
            let until = self.next_row(s).min(target);
            let n = if one_by_one { 1 } else { until - s };
            self.sim.advance(n)?;
            let now = self.sim.step_index();
            if self.row_due(now) {
                self.record()?;
            }
        }
        Ok(Reached::Target)
    }

    /// Steps `n` steps and records one row after them, wherever the cadence falls (the
    /// viewer: a row for every update shown).
    pub fn advance_and_record(&mut self, n: u64) -> Result<()> {
        self.sim.advance(n)?;
        self.record()
    }

    /// A metrics row now, then the guard: a non-finite field is [`Error::Numerical`] (the
    /// row stays in the table, so the table shows where it went wrong).
    pub fn record(&mut self) -> Result<()> {
        let stats = self.sim.stats()?;
        self.metrics.push(
            self.sim.step_index(),
            self.sim.time_min(),
            &stats,
            &self.sim.named_scalars().1,
        );
        self.check(stats)
    }

    /// The guard alone, without a row.
    pub fn guard(&mut self) -> Result<()> {
        let stats = self.sim.stats()?;
        self.check(stats)
    }

    /// A row of the last statistics (taken by [`Run::guard`]) at the current step.
    fn push_last(&mut self) {
        self.metrics.push(
            self.sim.step_index(),
            self.sim.time_min(),
            &self.last,
            &self.sim.named_scalars().1,
        );
    }

    /// Fails on NaN or infinity with the field, the first bad voxel, the step and its
    /// parameters; logs a warning for negative values.
    fn check(&mut self, stats: Vec<FieldStats>) -> Result<()> {
        if let Some(fault) = self.sim.numerical_fault(&stats)? {
            self.last = stats;
            return Err(Error::Numerical(Box::new(fault)));
        }
        let species = &self.sim.scenario().species;
        for (i, s) in stats.iter().enumerate() {
            if s.negative > 0 {
                log::warn!(
                    "field `{}` has {} negative values (min {:e}) at step {}",
                    species.get(i).name,
                    s.negative,
                    s.min,
                    self.sim.step_index()
                );
            }
        }
        self.last = stats;
        Ok(())
    }

    /// The run's state as a checkpoint (with the metrics rows so far).
    pub fn checkpoint(&mut self) -> Result<Checkpoint> {
        let csv = self.metrics.to_csv();
        restart::checkpoint(&mut self.sim, &self.preset, self.resolution, csv)
    }

    /// Whole steps in `days` simulated days (at least one), refused past
    /// [`crate::preset::MAX_STEPS`] or for a number that is not a positive day count.
    pub fn steps_in_days(&self, days: f64) -> Result<u64> {
        steps_in_days(days, self.sim.scenario().dt_min)
    }
}

/// Whole steps of `dt_min` minutes in `days` days (rounded, at least one); refused for a
/// day count that is not positive and finite, or that makes more than
/// [`crate::preset::MAX_STEPS`] steps.
pub fn steps_in_days(days: f64, dt_min: f64) -> Result<u64> {
    if !(days.is_finite() && days > 0.0) {
        return Err(Error::Invalid("must be a positive number of days".into()));
    }
    // Rounded to the nearest whole step, as a day count asks for.
    let steps = (SimDuration::from_days(days).minutes() / dt_min)
        .round()
        .max(1.0);
    if steps > MAX_STEPS as f64 {
        return Err(Error::Invalid(format!(
            "at a step of {dt_min} min that is more than {MAX_STEPS} steps, the most a run takes"
        )));
    }
    Ok(steps as u64)
}
