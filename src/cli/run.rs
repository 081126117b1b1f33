//! `osteoniche run` and `osteoniche resume`: a preset, headless, with a progress bar,
//! output files, numerical guards and checkpoints.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::interrupt;
use osteoniche::atomic::write_atomic;
use osteoniche::launch::BackendChoice;
use osteoniche::preset::{Preset, SimDuration};
use osteoniche::run::folder::{self, Observer, Outputs, fresh_out_dir, prepare_out_dir};
use osteoniche::run::summary::Ending;
use osteoniche::run::{Run, steps_in_days};
use osteoniche::sim::Simulation;

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

/// How a run of the command line ended: finished, or interrupted (exit status 130).
pub fn exit_for(ending: Ending) -> anyhow::Result<()> {
    match ending {
        Ending::Finished => Ok(()),
        Ending::Interrupted { .. } => Err(interrupt::Interrupted.into()),
    }
}

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
    exit_for(run_preset(preset, opts)?.1)
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
        let dt = preset_run.file.time.dt;
        let duration = SimDuration::from_days(days);
        if duration < dt {
            bail!("--days {days} is shorter than one step (time.dt = \"{dt}\")");
        }
        if let Err(e) = steps_in_days(days, dt.minutes()) {
            bail!("--days {days}: {e}");
        }
        preset_run.file.time.duration = duration;
    }
    Ok(preset_run)
}

/// Runs a preset to its end (or until interrupted); returns the output folder and how the
/// run ended.
pub fn run_preset(preset: Preset, opts: RunOptions) -> anyhow::Result<(PathBuf, Ending)> {
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
    let sim = Simulation::new(scenario, opts.backend)?;
    let mut run = Run::start(sim, preset_run, opts.resolution, &out.join("metrics.csv"))?;
    let outputs = Outputs {
        out: out.clone(),
        checkpoint_every: opts.checkpoint_every,
        lattice_origin: opts.lattice.map(|(_, how)| how),
        resumed_from: None,
    };
    let shown = Shown::new(run.preset().file.name.clone(), opts.bar, opts.quiet);
    let ending = folder::drive(&mut run, &outputs, &shown, Some(interrupt::flag()))?;
    Ok((out, ending))
}

pub fn resume(args: ResumeArgs) -> anyhow::Result<()> {
    let out = args
        .out
        .clone()
        .or_else(|| args.checkpoint.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    prepare_out_dir(&out, true)?;
    let (mut run, header) = Run::resume(&args.checkpoint, args.backend, &out.join("metrics.csv"))?;
    println!(
        "resuming at step {} (day {:.3}) from {}",
        header.step,
        run.sim().time_min() / 1440.0,
        args.checkpoint.display()
    );
    let outputs = Outputs {
        out,
        checkpoint_every: args.checkpoint_every,
        lattice_origin: None,
        resumed_from: Some(args.checkpoint.clone()),
    };
    let shown = Shown::new(run.preset().file.name.clone(), None, args.quiet);
    exit_for(folder::drive(
        &mut run,
        &outputs,
        &shown,
        Some(interrupt::flag()),
    )?)
}

/// A folder run on the terminal: status lines on stdout (above the caller's progress bar
/// when there is one, prefixed with the run's name; stderr carries only warnings and
/// errors) and a progress bar.
struct Shown {
    name: String,
    /// The caller's bar (compare: one per arm), if any.
    theirs: bool,
    bar: ProgressBar,
}

impl Shown {
    fn new(name: String, bar: Option<ProgressBar>, quiet: bool) -> Shown {
        let theirs = bar.is_some();
        let bar = match bar {
            Some(bar) => bar,
            None if quiet => ProgressBar::hidden(),
            None => ProgressBar::new(1),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix}{bar:40} {pos}/{len} steps  day {msg}  [{elapsed_precise} < {eta_precise}]",
            )
            .expect("valid template"),
        );
        Shown { name, theirs, bar }
    }
}

impl Observer for Shown {
    fn say(&self, msg: &str) {
        if self.theirs {
            self.bar.println(format!("[{}] {msg}", self.name));
        } else {
            println!("{msg}");
        }
    }

    fn warn(&self, msg: &str) {
        // On stderr, above the bar, whether or not the run is quiet.
        self.bar
            .suspend(|| eprintln!("warning: [{}] {msg}", self.name));
    }

    fn progress(&self, step: u64, end: u64, day: f64, days: f64, steps_per_s: f64) {
        self.bar.set_length(end);
        self.bar.set_position(step);
        self.bar
            .set_message(format!("{day:.2}/{days:.2}, {steps_per_s:.1} steps/s"));
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}
