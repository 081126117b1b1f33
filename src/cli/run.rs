//! `osteoniche run` and `osteoniche resume`: a preset, headless, with a progress bar,
//! output files, numerical guards and checkpoints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use osteoniche::io::checkpoint::Checkpoint;
use osteoniche::io::pvd::Collection;

use super::outputs::{fresh_out_dir, prepare_out_dir, snapshot, write_dose_log};
use osteoniche::atomic::write_atomic;
use osteoniche::io::metrics::MetricsTable;
use osteoniche::launch::{BackendChoice, restart};
use osteoniche::preset::{Preset, SimDuration};
use osteoniche::sim::{FieldStats, Simulation};

#[derive(Args)]
pub struct RunArgs {
    /// Preset file (TOML).
    preset: PathBuf,
    /// Simulated days (overrides the preset's duration).
    #[arg(long)]
    days: Option<f64>,
    /// Output folder (default: out/<preset name>, or out/<preset name>-N if that holds a run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// auto (hardware GPU if present, else CPU), gpu (software adapters too) or cpu.
    #[arg(long, default_value = "auto", value_parser = super::parse_backend)]
    backend: BackendChoice,
    /// Voxels on the longest axis; the physical box is kept.
    #[arg(long)]
    resolution: Option<usize>,
    /// Seed (overrides the preset's).
    #[arg(long)]
    seed: Option<u64>,
    /// Write into an output folder that already holds files.
    #[arg(long)]
    overwrite: bool,
    /// Simulated time between checkpoints, with unit (e.g. "12 h"); the checkpoint is
    /// `<out>/checkpoint.osck`, replaced atomically each time.
    #[arg(long, value_parser = parse_duration)]
    checkpoint_every: Option<SimDuration>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Model parameter NAME=VALUE, in the model file's unit (repeatable), e.g.
    /// `--set tumour_growth=0.3`.
    #[arg(long = "set", value_parser = parse_set)]
    set: Vec<(String, f64)>,
    /// Mechanism switch Mk=on|off (repeatable), e.g. `--mechanism M14=off`.
    #[arg(long = "mechanism", value_parser = parse_mechanism)]
    mechanisms: Vec<(String, bool)>,
}

pub(crate) fn parse_set(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: write NAME=VALUE"))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: `{value}` is not a number"))?;
    Ok((name.trim().to_string(), value))
}

pub(crate) fn parse_mechanism(s: &str) -> Result<(String, bool), String> {
    let (id, state) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: write Mk=on or Mk=off"))?;
    let on = match state.trim() {
        "on" | "true" => true,
        "off" | "false" => false,
        other => return Err(format!("`{s}`: `{other}` is not on or off")),
    };
    Ok((id.trim().to_string(), on))
}

#[derive(Args)]
pub struct ResumeArgs {
    /// A checkpoint written by `run --checkpoint-every`.
    checkpoint: PathBuf,
    /// Output folder (default: the checkpoint's folder, where the run was writing).
    #[arg(long)]
    out: Option<PathBuf>,
    /// auto, gpu or cpu (default: the backend of the interrupted run).
    #[arg(long, value_parser = super::parse_backend)]
    backend: Option<BackendChoice>,
    /// Simulated time between checkpoints, with unit.
    #[arg(long, value_parser = parse_duration)]
    checkpoint_every: Option<SimDuration>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let d = SimDuration::parse(s)?;
    if d.minutes() <= 0.0 {
        return Err(format!("`{s}` must be > 0"));
    }
    Ok(d)
}

/// Name of the checkpoint file in an output folder.
const CHECKPOINT: &str = "checkpoint.osck";

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut preset = Preset::load(&args.preset)?;
    if !args.set.is_empty() || !args.mechanisms.is_empty() {
        preset.override_model(&args.set, &args.mechanisms)?;
    }
    let opts = RunOptions {
        days: args.days,
        resolution: args.resolution,
        seed: args.seed,
        backend: args.backend,
        out: args.out,
        overwrite: args.overwrite,
        checkpoint_every: args.checkpoint_every,
        quiet: args.quiet,
        bar: None,
        lattice: None,
    };
    run_preset(preset, opts).map(|_| ())
}

/// How `run`, `compare` and `sweep` run one preset.
pub struct RunOptions {
    /// Simulated days (overrides the preset's duration).
    pub days: Option<f64>,
    /// Voxels on the longest axis.
    pub resolution: Option<usize>,
    /// Seed (overrides the preset's).
    pub seed: Option<u64>,
    /// Backend.
    pub backend: BackendChoice,
    /// Output folder (default: a fresh one under out/).
    pub out: Option<PathBuf>,
    /// Write into a folder that already holds files.
    pub overwrite: bool,
    /// Simulated time between checkpoints.
    pub checkpoint_every: Option<SimDuration>,
    /// No progress bar.
    pub quiet: bool,
    /// A progress bar the caller made (compare: one per run); messages go above it.
    pub bar: Option<ProgressBar>,
    /// A lattice on the run's grid in place of the preset's, with how it was made
    /// (`converge --lattice-from`: coarsened from the finest grid); recorded in summary.json.
    pub lattice: Option<(std::sync::Arc<osteoniche::lattice::Lattice>, String)>,
}

/// The preset with `days` applied to its duration.
pub fn with_days(preset: &Preset, days: Option<f64>) -> anyhow::Result<Preset> {
    let mut preset_run = preset.clone();
    if let Some(days) = days {
        if !(days.is_finite() && days > 0.0) {
            bail!("--days {days}: must be a positive number of days");
        }
        let duration = SimDuration::from_days(days);
        if duration < preset_run.file.time.dt {
            bail!(
                "--days {days} is shorter than one step (time.dt = \"{}\")",
                preset_run.file.time.dt
            );
        }
        preset_run.file.time.duration = duration;
    }
    Ok(preset_run)
}

/// Runs a preset to its end; returns the output folder.
pub fn run_preset(preset: Preset, opts: RunOptions) -> anyhow::Result<PathBuf> {
    let preset_run = with_days(&preset, opts.days)?;
    let mut scenario = preset_run.scenario(opts.resolution, opts.seed)?;
    if let Some((lattice, _)) = &opts.lattice {
        if opts.checkpoint_every.is_some() {
            bail!("a run on a given lattice cannot be checkpointed (resume rebuilds the preset's)");
        }
        scenario.lattice = Some(lattice.clone());
    }
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| fresh_out_dir(&scenario.name));
    prepare_out_dir(&out, opts.overwrite)?;
    // What was run, before anything else: a run that fails part-way still says what it was.
    write_atomic(
        &out.join("preset.resolved.toml"),
        preset_run.to_toml().as_bytes(),
    )?;
    let sim = Simulation::new(scenario.clone(), opts.backend)?;
    let job = Job {
        preset: preset_run,
        resolution: opts.resolution,
        out: out.clone(),
        checkpoint_every: opts.checkpoint_every,
        quiet: opts.quiet,
        resumed_from: None,
        bar: opts.bar,
        lattice_origin: opts.lattice.map(|(_, how)| how),
    };
    drive(job, sim, None)?;
    Ok(out)
}

pub fn resume(args: ResumeArgs) -> anyhow::Result<()> {
    let ck = Checkpoint::read(&args.checkpoint)?;
    let (preset, sim) = restart::restore(&ck, &args.checkpoint, args.backend)?;
    let h = &ck.header;
    let out = args
        .out
        .clone()
        .or_else(|| args.checkpoint.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    prepare_out_dir(&out, true)?;
    println!(
        "resuming at step {} (day {:.3}) from {}",
        h.step,
        sim.time_min() / 1440.0,
        args.checkpoint.display()
    );
    let job = Job {
        preset,
        resolution: h.resolution,
        out,
        checkpoint_every: args.checkpoint_every,
        quiet: args.quiet,
        resumed_from: Some(args.checkpoint.clone()),
        bar: None,
        lattice_origin: None,
    };
    drive(job, sim, Some(&h.metrics_csv))
}

/// What a run needs beyond the simulation itself.
struct Job {
    preset: Preset,
    resolution: Option<usize>,
    out: PathBuf,
    checkpoint_every: Option<SimDuration>,
    quiet: bool,
    resumed_from: Option<PathBuf>,
    /// A progress bar the caller made; messages go above it, prefixed with the run's name.
    bar: Option<ProgressBar>,
    /// How a lattice given in place of the preset's was made.
    lattice_origin: Option<String>,
}

impl Job {
    /// Prints a status line on stdout (above the caller's progress bar when there is one;
    /// stderr carries only warnings and errors).
    fn say(&self, msg: String) {
        match &self.bar {
            Some(bar) => bar.println(format!("[{}] {msg}", self.preset.file.name)),
            None => println!("{msg}"),
        }
    }
}

/// Steps the simulation to the end, writing metrics, snapshots and checkpoints.
fn drive(job: Job, mut sim: Simulation, earlier_metrics: Option<&str>) -> anyhow::Result<()> {
    let scenario = sim.scenario().clone();
    let out = &job.out;
    let info = sim.backend_info();
    job.say(format!("backend: {info}"));
    job.say(format!("  ({})", sim.backend_reason()));
    let g = scenario.grid;
    job.say(format!(
        "grid {}x{}x{} at {} µm, {} fields, dt {} min, {} steps",
        g.nx,
        g.ny,
        g.nz,
        g.dx_um,
        scenario.species.len(),
        scenario.dt_min,
        scenario.steps
    ));
    // The lattice as built: parameters (in the preset), seed and measured morphometrics.
    let lattice_record = sim.lattice().map(|l| {
        let m = osteoniche::lattice::morphometry::measure(&l.grid, &l.bone);
        job.say(format!(
            "lattice: BV/TV {:.3}, Tb.Th {:.1} µm, Tb.Sp {:.1} µm, Conn.D {:.1}/mm^3, DA {:.2}",
            m.bv_tv, m.tb_th_um, m.tb_sp_um, m.conn_d_per_mm3, m.da
        ));
        serde_json::json!({
            "spec": scenario.preset.lattice,
            "seed": scenario.seed,
            "morphometrics": m,
            "vessel_fraction": l.vessel_fraction(),
            "made": job.lattice_origin.as_deref().unwrap_or("built from the preset at this grid"),
        })
    });
    let names: Vec<String> = scenario.species.owned_names();
    let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let metrics_every = scenario.steps_every(scenario.preset.output.metrics_every, 1);
    let snapshot_every = scenario.steps_every(scenario.preset.output.snapshot_every, u64::MAX);
    let checkpoint_every = scenario.steps_every(job.checkpoint_every, u64::MAX);
    let snap_dir = out.join("snapshots");
    std::fs::create_dir_all(&snap_dir)
        .with_context(|| format!("creating {}", snap_dir.display()))?;
    let mut pvd = Collection::open(&out.join("snapshots.pvd"))?;
    let mut metrics = MetricsTable::for_simulation(&out.join("metrics.csv"), &sim);
    if let Some(p) = sim.pharmacology() {
        let end = scenario.steps as f64 * scenario.dt_min;
        let late = p.state.pending.iter().filter(|d| d.time_min >= end).count();
        if late > 0 {
            job.say(format!(
                "note: {late} scheduled doses fall after the end of the run ({:.2} d) and will not be given",
                end / 1440.0
            ));
        }
    }
    let mut doses_written = usize::MAX;
    let mut last_stats = match earlier_metrics {
        Some(csv) => {
            metrics.restore(csv)?;
            // A snapshot due at the resumed step may be the write that failed.
            let step = sim.step_index();
            let path = snap_dir.join(format!("step_{step:09}.vti"));
            if step.is_multiple_of(snapshot_every) && !path.exists() {
                snapshot(&mut sim, &g, &name_refs, &mut pvd, step)?;
            }
            guard(&mut sim, &job)?
        }
        None => {
            let s = record(&mut sim, &mut metrics, &job)?;
            snapshot(&mut sim, &g, &name_refs, &mut pvd, 0)?;
            s
        }
    };
    let bar = match &job.bar {
        Some(bar) => {
            bar.set_length(scenario.steps);
            bar.clone()
        }
        None if job.quiet => ProgressBar::hidden(),
        None => ProgressBar::new(scenario.steps),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix}{bar:40} {pos}/{len} steps  day {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid template"),
    );
    bar.set_position(sim.step_index());
    let started = Instant::now();
    let first_step = sim.step_index();
    let total_days = scenario.steps as f64 * scenario.dt_min / 1440.0;
    let next = |step: u64, every: u64| (step / every).saturating_add(1).saturating_mul(every);
    while sim.step_index() < scenario.steps {
        let s = sim.step_index();
        let target = next(s, metrics_every)
            .min(next(s, snapshot_every))
            .min(next(s, checkpoint_every))
            .min(scenario.steps);
        let t0 = Instant::now();
        let n = target - s;
        sim.advance(n)?;
        let rate = n as f64 / t0.elapsed().as_secs_f64().max(1e-9);
        let at_end = target == scenario.steps;
        if let Some(p) = sim.pharmacology()
            && p.state.log.len() != doses_written
        {
            doses_written = p.state.log.len();
            if let Err(e) = write_dose_log(out, &p.state.log) {
                return Err(save_after_failed_write(&mut sim, &job, &metrics, e));
            }
        }
        if target % metrics_every == 0 || at_end {
            last_stats = record(&mut sim, &mut metrics, &job)?;
        }
        if target % snapshot_every == 0 || at_end {
            let written =
                snapshot(&mut sim, &g, &name_refs, &mut pvd, target).and_then(|()| metrics.flush());
            if let Err(e) = written {
                return Err(save_after_failed_write(&mut sim, &job, &metrics, e));
            }
        }
        if target % checkpoint_every == 0 && !at_end {
            // Only a state that passed the guard becomes the checkpoint (a metrics sample
            // at this step has already checked it).
            if target % metrics_every != 0 {
                guard(&mut sim, &job)?;
            }
            metrics.flush()?;
            checkpoint(&mut sim, &job, &metrics)?.write(&out.join(CHECKPOINT))?;
        }
        bar.set_position(target);
        bar.set_message(format!(
            "{:.2}/{:.2}, {:.1} steps/s",
            sim.time_min() / 1440.0,
            total_days,
            rate
        ));
    }
    bar.finish_and_clear();
    metrics.flush()?;
    let wall = started.elapsed().as_secs_f64();
    let stepped = scenario.steps - first_step;
    let summary = serde_json::json!({
        "preset": job.preset.file,
        "preset_file": job.preset.origin,
        "preset_toml": job.preset.to_toml(),
        "seed": scenario.seed,
        "grid": scenario.grid,
        "dt_min": scenario.dt_min,
        "steps": scenario.steps,
        "simulated_days": sim.time_min() / 1440.0,
        "backend": info,
        "backend_reason": sim.backend_reason(),
        "lattice": lattice_record,
        "model": job.preset.model.as_ref().map(|m| serde_json::json!({
            "file": m.origin,
            "toml": m.text,
            "mechanisms_off": job.preset.file.model.as_ref().map(|s| {
                s.mechanisms.iter().filter(|(_, on)| !**on).map(|(k, _)| k.clone()).collect::<Vec<_>>()
            }),
            "systemic_final": sim.systemic(),
        })),
        "pharmacology": sim.pharmacology().map(|p| serde_json::json!({
            "library": job.preset.library.as_ref().map(|l| l.origin.clone()),
            "library_toml": job.preset.library.as_ref().map(|l| l.text.clone()),
            "body_weight_kg": p.body_weight_kg,
            "doses": p.state.log,
            "drugs": p.drugs.iter().enumerate().map(|(i, d)| serde_json::json!({
                "name": d.drug.name,
                "balance_nmol": p.balance(i),
                "mass_balance_error": p.balance(i).relative_error(),
                "auc_plasma_nM_h": p.state.drugs[i].auc_plasma,
                "auc_tissue_nM_h": p.state.drugs[i].auc_tissue,
            })).collect::<Vec<_>>(),
        })),
        "resumed_from": job.resumed_from.as_ref().map(|p| p.display().to_string()),
        "versions": versions(),
        "command": std::env::args().collect::<Vec<_>>(),
        "resolution": job.resolution,
        "wall_time_s": wall,
        "steps_per_s": stepped as f64 / wall.max(1e-9),
        "final": names.iter().zip(&last_stats).map(|(n, s)| (n.clone(), serde_json::to_value(s).expect("stats serialise"))).collect::<serde_json::Map<_, _>>(),
    });
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    job.say(format!(
        "done: {} steps ({:.2} days) in {:.1} s, {:.1} steps/s; output in {}",
        stepped,
        sim.time_min() / 1440.0,
        wall,
        stepped as f64 / wall.max(1e-9),
        out.display()
    ));
    Ok(())
}

/// The versions of what produced a run (summary.json).
pub fn versions() -> serde_json::Value {
    serde_json::json!({
        "osteoniche": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("OSTEONICHE_GIT_COMMIT"),
        "rustc": env!("OSTEONICHE_RUSTC"),
        "wgpu": "30.0",
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    })
}

/// The run's state as a checkpoint.
fn checkpoint(
    sim: &mut Simulation,
    job: &Job,
    metrics: &MetricsTable,
) -> anyhow::Result<Checkpoint> {
    Ok(restart::checkpoint(
        sim,
        &job.preset,
        job.resolution,
        metrics.to_csv(),
    )?)
}

/// An output file could not be written (full disk, vanished folder): keep the state in an
/// emergency checkpoint if at all possible, and say where.
fn save_after_failed_write(
    sim: &mut Simulation,
    job: &Job,
    metrics: &MetricsTable,
    e: osteoniche::Error,
) -> anyhow::Error {
    let path = job.out.join("checkpoint-emergency.osck");
    let saved = checkpoint(sim, job, metrics).and_then(|c| Ok(c.write(&path)?));
    match saved {
        Ok(()) => anyhow::anyhow!(
            "writing output failed: {e}; the state at step {} was saved to {} (osteoniche resume {})",
            sim.step_index(),
            path.display(),
            path.display()
        ),
        Err(e2) => anyhow::anyhow!(
            "writing output failed: {e}; saving the state to {} failed too: {e2}; the last periodic checkpoint, if any, is {}",
            path.display(),
            job.out.join(CHECKPOINT).display()
        ),
    }
}

/// Takes the statistics, records them, and stops the run on non-finite values.
fn record(
    sim: &mut Simulation,
    metrics: &mut MetricsTable,
    job: &Job,
) -> anyhow::Result<Vec<FieldStats>> {
    let stats = sim.stats()?;
    metrics.push(
        sim.step_index(),
        sim.time_min(),
        &stats,
        &sim.named_scalars().1,
    );
    if let Err(e) = check(sim, &stats, job) {
        metrics.flush()?;
        return Err(e);
    }
    Ok(stats)
}

/// The numerical guard alone (no metrics row).
fn guard(sim: &mut Simulation, job: &Job) -> anyhow::Result<Vec<FieldStats>> {
    let stats = sim.stats()?;
    check(sim, &stats, job)?;
    Ok(stats)
}

/// Fails on NaN or infinity with the field, the first bad voxel, the step and its
/// parameters, and where the last good checkpoint is; warns on negative values.
fn check(sim: &mut Simulation, stats: &[FieldStats], job: &Job) -> anyhow::Result<()> {
    if let Some(fault) = sim.numerical_fault(stats)? {
        let ck = job.out.join(CHECKPOINT);
        let resume = if ck.exists() {
            format!(
                "the last good checkpoint is {} (osteoniche resume {})",
                ck.display(),
                ck.display()
            )
        } else {
            "no checkpoint was written (use --checkpoint-every)".into()
        };
        bail!("{fault}; metrics so far are written; {resume}");
    }
    let names = sim.scenario().species.owned_names();
    for (name, s) in names.iter().zip(stats) {
        if s.negative > 0 {
            log::warn!(
                "field `{name}` has {} negative values (min {:e}) at step {}",
                s.negative,
                s.min,
                sim.step_index()
            );
        }
    }
    Ok(())
}
