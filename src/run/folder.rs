//! A run that writes an output folder: metrics.csv at its cadence, snapshots with their
//! ParaView collection, doses.csv, the periodic checkpoint, an emergency checkpoint when an
//! output cannot be written, summary.json at the end, and interruption (a raised stop
//! flag: the step in hand is finished, then a metrics row, a checkpoint and a summary
//! marked interrupted are written and the run says how to resume).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::summary::{Ending, summary};
use super::{Reached, Run};
use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::io::pvd::Collection;
use crate::io::vti::write_vti;
use crate::preset::SimDuration;
use crate::sim::Simulation;

/// Name of the checkpoint file in an output folder.
pub const CHECKPOINT: &str = "checkpoint.osck";

/// Name of the checkpoint written when an output file could not be.
pub const EMERGENCY_CHECKPOINT: &str = "checkpoint-emergency.osck";

/// What a folder run writes beside the run itself.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The output folder (made and checked by [`prepare_out_dir`]).
    pub out: PathBuf,
    /// Simulated time between checkpoints.
    pub checkpoint_every: Option<SimDuration>,
    /// How a lattice given in place of the preset's was made (recorded in summary.json);
    /// such a run cannot be checkpointed.
    pub lattice_origin: Option<String>,
    /// The checkpoint this run continues, if it is a resumed one.
    pub resumed_from: Option<PathBuf>,
}

/// Who watches a folder run: status lines and progress. The library prints nothing.
pub trait Observer {
    /// A status line (the grid, the lattice, a note, the end).
    fn say(&self, msg: &str);
    /// Something the user must see even in a quiet run (a grid too coarse for its
    /// lattice); by default a status line starting `warning:`.
    fn warn(&self, msg: &str) {
        self.say(&format!("warning: {msg}"));
    }
    /// The run's position: `step` of `end`, simulated day of `days`, steps per second over
    /// the last stretch.
    fn progress(&self, _step: u64, _end: u64, _day: f64, _days: f64, _steps_per_s: f64) {}
    /// Stepping is over (the progress display can go).
    fn done(&self) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn say(&self, _msg: &str) {}
}

// Numbers as people write them, where the folder's status lines have always found it.
pub use crate::numerics::plain;

/// Steps `run` to its preset's end, writing `outputs`; stops early (and says how to
/// resume) when `stop` is raised. On a numerical fault or an output that cannot be
/// written, what was written so far stays, the error says where the last good state is.
pub fn drive(
    run: &mut Run,
    outputs: &Outputs,
    observer: &dyn Observer,
    stop: Option<&AtomicBool>,
) -> Result<Ending> {
    let scenario = run.sim().scenario().clone();
    let out = &outputs.out;
    let info = run.sim().backend_info();
    observer.say(&format!("backend: {info}"));
    observer.say(&format!("  ({})", run.sim().backend_reason()));
    let g = scenario.grid;
    observer.say(&format!(
        "grid {}x{}x{} at {} µm, {} fields, dt {} min, {} steps",
        g.nx,
        g.ny,
        g.nz,
        plain(g.dx_um, 6),
        scenario.species.len(),
        plain(scenario.dt_min, 6),
        scenario.steps
    ));
    let lattice = run.sim().lattice().map(|l| {
        let (m, warning) = l.assess(scenario.preset.lattice.as_ref());
        observer.say(&format!(
            "lattice: BV/TV {:.3}, Tb.Th {:.1} µm, Tb.Sp {:.1} µm, Conn.D {:.1}/mm^3, DA {:.2}",
            m.bv_tv, m.tb_th_um, m.tb_sp_um, m.conn_d_per_mm3, m.da
        ));
        if let Some(w) = &warning {
            observer.warn(w);
        }
        serde_json::json!({
            "resolution_warning": warning,
            "spec": scenario.preset.lattice,
            "seed": scenario.seed,
            "morphometrics": m,
            "vessel_fraction": l.vessel_fraction(),
            "made": outputs.lattice_origin.as_deref().unwrap_or("built from the preset at this grid"),
        })
    });
    let names: Vec<String> = scenario.species.owned_names();
    let snapshot_every = scenario.steps_every(scenario.preset.output.snapshot_every, u64::MAX);
    let checkpoint_every = scenario.steps_every(outputs.checkpoint_every, u64::MAX);
    let snap_dir = out.join("snapshots");
    std::fs::create_dir_all(&snap_dir).map_err(|e| Error::io(&snap_dir, e))?;
    let mut pvd = Collection::open(&out.join("snapshots.pvd"))?;
    if let Some(p) = run.sim().pharmacology() {
        let end = scenario.steps as f64 * scenario.dt_min;
        let late = p.state.pending.iter().filter(|d| d.time_min >= end).count();
        if late > 0 {
            observer.say(&format!(
                "note: {late} scheduled doses fall after the end of the run ({:.2} d) and will not be given",
                end / 1440.0
            ));
        }
    }
    let step = run.sim().step_index();
    // A resumed run's snapshot due at its step may be the write that failed.
    let first = snap_dir.join(format!("step_{step:09}.vti"));
    if step.is_multiple_of(snapshot_every) && (outputs.resumed_from.is_none() || !first.exists()) {
        snapshot(run.sim_mut(), &g, &names, &mut pvd, step)?;
    }
    let mut doses_written = usize::MAX;
    let started = Instant::now();
    let first_step = step;
    let total_days = scenario.steps as f64 * scenario.dt_min / 1440.0;
    let next = |step: u64, every: u64| (step / every).saturating_add(1).saturating_mul(every);
    observer.progress(
        step,
        scenario.steps,
        run.sim().time_min() / 1440.0,
        total_days,
        0.0,
    );
    let mut ending = Ending::Finished;
    while run.sim().step_index() < scenario.steps {
        let s = run.sim().step_index();
        let target = next(s, run.metrics_every())
            .min(next(s, snapshot_every))
            .min(next(s, checkpoint_every))
            .min(scenario.steps);
        let t0 = Instant::now();
        let reached = run
            .advance_to(target, stop)
            .map_err(|e| explain_fault(run, outputs, e))?;
        let now = run.sim().step_index();
        let rate = (now - s) as f64 / t0.elapsed().as_secs_f64().max(1e-9);
        if let Some(p) = run.sim().pharmacology()
            && p.state.log.len() != doses_written
        {
            doses_written = p.state.log.len();
            if let Err(e) = write_dose_log(out, &p.state.log) {
                return Err(save_after_failed_write(run, outputs, e));
            }
        }
        if reached == Reached::Stopped {
            ending = interrupt(run, outputs)?;
            break;
        }
        let at_end = target == scenario.steps;
        if target.is_multiple_of(snapshot_every) || at_end {
            let written = snapshot(run.sim_mut(), &g, &names, &mut pvd, target)
                .and_then(|()| run.flush_metrics());
            if let Err(e) = written {
                return Err(save_after_failed_write(run, outputs, e));
            }
        }
        if target.is_multiple_of(checkpoint_every) && !at_end {
            // Only a state that passed the guard becomes the checkpoint (a metrics row at
            // this step has already checked it).
            if !run.row_due(target) {
                run.guard().map_err(|e| explain_fault(run, outputs, e))?;
            }
            run.flush_metrics()?;
            run.checkpoint()?.write(&out.join(CHECKPOINT))?;
        }
        observer.progress(
            target,
            scenario.steps,
            run.sim().time_min() / 1440.0,
            total_days,
            rate,
        );
    }
    observer.done();
    run.flush_metrics()?;
    let wall = started.elapsed().as_secs_f64();
    let stepped = run.sim().step_index() - first_step;
    let text = summary(
        run,
        outputs.resumed_from.as_deref(),
        lattice,
        &ending,
        wall,
        stepped,
    );
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&text)
            .expect("a summary serialises")
            .as_bytes(),
    )?;
    let rate = stepped as f64 / wall.max(1e-9);
    match &ending {
        Ending::Finished => observer.say(&format!(
            "done: {stepped} steps ({:.2} days) in {:.1} s, {rate:.1} steps/s; output in {}",
            run.sim().time_min() / 1440.0,
            wall,
            out.display()
        )),
        Ending::Interrupted { checkpoint } => observer.say(&format!(
            "interrupted at step {} (day {:.3}) after {stepped} steps in {wall:.1} s; output in {}; {}",
            run.sim().step_index(),
            run.sim().time_min() / 1440.0,
            out.display(),
            match checkpoint {
                Some(ck) => format!("continue with: osteoniche resume {}", ck.display()),
                None => "this run cannot be checkpointed (its lattice was given), so it cannot be resumed".into(),
            }
        )),
    }
    Ok(ending)
}

/// The stop flag was raised: the state (whole, between two steps) passes the guard, becomes
/// the checkpoint, and gets a metrics row of its own. The checkpoint keeps the rows of the
/// run's cadence only, so a resumed run writes the same metrics as an uninterrupted one.
fn interrupt(run: &mut Run, outputs: &Outputs) -> Result<Ending> {
    run.guard().map_err(|e| explain_fault(run, outputs, e))?;
    let checkpoint = if outputs.lattice_origin.is_none() {
        let path = outputs.out.join(CHECKPOINT);
        run.checkpoint()?.write(&path)?;
        Some(path)
    } else {
        None
    };
    if !run.row_due(run.sim().step_index()) {
        run.push_last();
    }
    run.flush_metrics()?;
    Ok(Ending::Interrupted { checkpoint })
}

/// A numerical fault (or any failure while stepping) with the metrics so far written and
/// where the last good checkpoint is.
fn explain_fault(run: &Run, outputs: &Outputs, e: Error) -> Error {
    let Error::Numerical(_) = &e else {
        return e;
    };
    if let Err(w) = run.flush_metrics() {
        return Error::Invalid(format!("{e}; writing the metrics so far failed too: {w}"));
    }
    let ck = outputs.out.join(CHECKPOINT);
    let resume = if ck.exists() {
        format!(
            "the last good checkpoint is {} (osteoniche resume {})",
            ck.display(),
            ck.display()
        )
    } else {
        "no checkpoint was written (use --checkpoint-every)".into()
    };
    Error::Invalid(format!("{e}; metrics so far are written; {resume}"))
}

/// An output file could not be written (full disk, vanished folder): keep the state in an
/// emergency checkpoint if at all possible, and say where.
fn save_after_failed_write(run: &mut Run, outputs: &Outputs, e: Error) -> Error {
    let path = outputs.out.join(EMERGENCY_CHECKPOINT);
    let saved = run.checkpoint().and_then(|c| c.write(&path));
    match saved {
        Ok(()) => Error::Invalid(format!(
            "writing output failed: {e}; the state at step {} was saved to {} (osteoniche resume {})",
            run.sim().step_index(),
            path.display(),
            path.display()
        )),
        Err(e2) => Error::Invalid(format!(
            "writing output failed: {e}; saving the state to {} failed too: {e2}; the last periodic checkpoint, if any, is {}",
            path.display(),
            outputs.out.join(CHECKPOINT).display()
        )),
    }
}

/// Writes the snapshot of step `step` (`snapshots/step_*.vti` in the collection's folder)
/// and lists it in the run's ParaView collection.
pub fn snapshot(
    sim: &mut Simulation,
    g: &Grid,
    names: &[String],
    pvd: &mut Collection,
    step: u64,
) -> Result<()> {
    let file = format!("snapshots/step_{step:09}.vti");
    let dir = pvd.folder();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    write_vti(&dir.join(&file), g, &names, &sim.fields()?, sim.time_min())?;
    pvd.add(sim.time_min() / 1440.0, &file)
}

/// doses.csv: every dose given so far (time, origin, drug, route, amount).
pub fn write_dose_log(out: &Path, log: &[crate::pharma::dose::DoseRecord]) -> Result<()> {
    use crate::io::table::record;
    let mut text = record([
        "time_h",
        "time_days",
        "origin",
        "drug",
        "route",
        "mg",
        "nmol",
        "infusion_h",
        "point_x_um",
        "point_y_um",
        "point_z_um",
        "volume_nl",
    ]);
    for r in log {
        let d = &r.dose;
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let p = d
            .point_um
            .map(|p| p.map(|x| x.to_string()))
            .unwrap_or_default();
        text.push_str(&record([
            r.time_h.to_string(),
            (r.time_h / 24.0).to_string(),
            r.origin.to_string(),
            d.drug.to_string(),
            d.route.to_string(),
            format!("{:e}", r.mg),
            format!("{:e}", r.nmol),
            opt(d.duration_h),
            p[0].clone(),
            p[1].clone(),
            p[2].clone(),
            opt(d.volume_nl),
        ]));
    }
    write_atomic(&out.join("doses.csv"), text.as_bytes())
}

/// `out/<name>`, or `out/<name>-2`, `-3`, ... when earlier runs hold the first ones.
pub fn fresh_out_dir(name: &str) -> PathBuf {
    let base = Path::new("out");
    let is_free =
        |p: &Path| !p.exists() || std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_none());
    let first = base.join(name);
    if is_free(&first) {
        return first;
    }
    (2..)
        .map(|i| base.join(format!("{name}-{i}")))
        .find(|p| is_free(p))
        .expect("an unused name exists")
}

/// Creates the output folder; refuses to mix with an earlier run's files unless asked.
pub fn prepare_out_dir(out: &Path, overwrite: bool) -> Result<()> {
    if out.exists() {
        if !out.is_dir() {
            return Err(Error::Invalid(format!(
                "--out {}: exists and is not a folder",
                out.display()
            )));
        }
        let used = std::fs::read_dir(out)
            .map_err(|e| Error::io(out, e))?
            .next()
            .is_some();
        if used && !overwrite {
            return Err(Error::Invalid(format!(
                "output folder {} already holds files; choose another --out or pass --overwrite",
                out.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let probe = out.join(".osteoniche-write-test");
    std::fs::write(&probe, b"").map_err(|e| {
        Error::Invalid(format!(
            "output folder {} is not writable: {e}",
            out.display()
        ))
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn numbers_are_printed_as_people_write_them() {
        assert_eq!(plain(213.33333333333334, 6), "213.333");
        assert_eq!(plain(12.0, 6), "12");
        assert_eq!(plain(60.0, 6), "60");
        assert_eq!(plain(0.5, 6), "0.5");
        assert_eq!(plain(1.0 / 3.0, 4), "0.3333");
        assert_eq!(plain(1234567.0, 3), "1234567");
    }
}
