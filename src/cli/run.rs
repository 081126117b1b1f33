//! `osteoniche run`: a preset, headless, with a progress bar and output files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use osteoniche::io::{atomic::write_atomic, metrics::MetricsTable, vti::write_vti};
use osteoniche::preset::{Preset, SimDuration};
use osteoniche::sim::{BackendChoice, FieldStats, Simulation};

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
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let preset = Preset::load(&args.preset)?;
    let mut preset_run = preset.clone();
    if let Some(days) = args.days {
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
    let scenario = preset_run.scenario(args.resolution, args.seed)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| fresh_out_dir(&scenario.name));
    prepare_out_dir(&out, args.overwrite)?;

    let mut sim = Simulation::new(scenario.clone(), args.backend)?;
    let info = sim.backend_info();
    eprintln!("backend: {info}");
    eprintln!("  ({})", sim.backend_reason());
    let g = scenario.grid;
    eprintln!(
        "grid {}x{}x{} at {} µm, {} fields, dt {} min, {} steps",
        g.nx,
        g.ny,
        g.nz,
        g.dx_um,
        scenario.species.len(),
        scenario.dt_min,
        scenario.steps
    );
    // The lattice as built: parameters (in the preset), seed and measured morphometrics.
    let lattice_record = sim.lattice().map(|l| {
        let m = osteoniche::lattice::morphometry::measure(&l.grid, &l.bone);
        eprintln!(
            "lattice: BV/TV {:.3}, Tb.Th {:.1} µm, Tb.Sp {:.1} µm, Conn.D {:.1}/mm^3, DA {:.2}",
            m.bv_tv, m.tb_th_um, m.tb_sp_um, m.conn_d_per_mm3, m.da
        );
        serde_json::json!({
            "spec": scenario.preset.lattice,
            "seed": scenario.seed,
            "morphometrics": m,
            "vessel_fraction": l.vessels.as_ref().map(|v| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64),
        })
    });
    let names: Vec<String> = scenario
        .species
        .names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let every = |d: Option<SimDuration>, default: u64| -> u64 {
        d.map(|d| ((d.minutes() / scenario.dt_min).round() as u64).max(1))
            .unwrap_or(default)
    };
    let metrics_every = every(scenario.preset.output.metrics_every, 1);
    let snapshot_every = every(scenario.preset.output.snapshot_every, u64::MAX);
    let snap_dir = out.join("snapshots");
    std::fs::create_dir_all(&snap_dir)
        .with_context(|| format!("creating {}", snap_dir.display()))?;
    let mut metrics = MetricsTable::new(&out.join("metrics.csv"), &g, &name_refs);

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(scenario.steps)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} steps  day {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid template"),
    );
    let started = Instant::now();
    let mut last_stats = sample(&mut sim, &mut metrics)?;
    write_vti(
        &snap_dir.join("step_000000000.vti"),
        &g,
        &name_refs,
        &sim.fields()?,
        0.0,
    )?;
    let total_days = scenario.steps as f64 * scenario.dt_min / 1440.0;
    while sim.step_index() < scenario.steps {
        let next_metric = (sim.step_index() / metrics_every + 1) * metrics_every;
        let next_snap = (sim.step_index() / snapshot_every)
            .saturating_add(1)
            .saturating_mul(snapshot_every);
        let target = next_metric.min(next_snap).min(scenario.steps);
        let t0 = Instant::now();
        let n = target - sim.step_index();
        sim.advance(n)?;
        let rate = n as f64 / t0.elapsed().as_secs_f64().max(1e-9);
        if target % metrics_every == 0 || target == scenario.steps {
            last_stats = sample(&mut sim, &mut metrics)?;
        }
        if target % snapshot_every == 0 || target == scenario.steps {
            let path = snap_dir.join(format!("step_{target:09}.vti"));
            write_vti(&path, &g, &name_refs, &sim.fields()?, sim.time_min())?;
            metrics.flush()?;
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
    let summary = serde_json::json!({
        "preset": preset_run.file,
        "preset_file": args.preset.display().to_string(),
        "preset_toml": preset_run.to_toml(),
        "seed": scenario.seed,
        "grid": scenario.grid,
        "dt_min": scenario.dt_min,
        "steps": scenario.steps,
        "simulated_days": sim.time_min() / 1440.0,
        "backend": info,
        "backend_reason": sim.backend_reason(),
        "lattice": lattice_record,
        "versions": { "osteoniche": env!("CARGO_PKG_VERSION"), "wgpu": "30" },
        "wall_time_s": wall,
        "steps_per_s": scenario.steps as f64 / wall.max(1e-9),
        "final": names.iter().zip(&last_stats).map(|(n, s)| (n.clone(), serde_json::to_value(s).expect("stats serialise"))).collect::<serde_json::Map<_, _>>(),
    });
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    eprintln!(
        "done: {} steps ({:.2} days) in {:.1} s, {:.1} steps/s; output in {}",
        scenario.steps,
        sim.time_min() / 1440.0,
        wall,
        scenario.steps as f64 / wall.max(1e-9),
        out.display()
    );
    Ok(())
}

/// Takes the statistics, records them, and stops the run on non-finite values.
fn sample(sim: &mut Simulation, metrics: &mut MetricsTable) -> anyhow::Result<Vec<FieldStats>> {
    let stats = sim.stats()?;
    metrics.push(sim.step_index(), sim.time_min(), &stats);
    let names = sim
        .setup()
        .species
        .names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    for (name, s) in names.iter().zip(&stats) {
        if s.nonfinite > 0 {
            metrics.flush()?;
            bail!(
                "field `{name}` has {} non-finite values at step {} (day {:.3}); metrics so far are written",
                s.nonfinite,
                sim.step_index(),
                sim.time_min() / 1440.0
            );
        }
        if s.negative > 0 {
            log::warn!(
                "field `{name}` has {} negative values at step {}",
                s.negative,
                sim.step_index()
            );
        }
    }
    Ok(stats)
}

/// `out/<name>`, or `out/<name>-2`, `-3`, ... when earlier runs hold the first ones.
fn fresh_out_dir(name: &str) -> PathBuf {
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
fn prepare_out_dir(out: &Path, overwrite: bool) -> anyhow::Result<()> {
    if out.exists() {
        if !out.is_dir() {
            bail!("--out {}: exists and is not a folder", out.display());
        }
        let used = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some();
        if used && !overwrite {
            bail!(
                "output folder {} already holds files; choose another --out or pass --overwrite",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("creating output folder {}", out.display()))?;
    let probe = out.join(".osteoniche-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("output folder {} is not writable", out.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}
