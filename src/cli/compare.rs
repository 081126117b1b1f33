//! `osteoniche compare` (presets side by side) and `osteoniche sweep` (a grid of variants,
//! locally or as a Slurm job array), both ending in the same report.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar};
use osteoniche::atomic::write_atomic;
use osteoniche::launch::BackendChoice;
use osteoniche::preset::{Preset, SimDuration};
use osteoniche::report::{self, RunData};
use osteoniche::run::summary::Ending;
use osteoniche::sweep::{self, Manifest, RunSettings, SlurmOptions};

use super::run::{RunOptions, run_preset, with_days};

#[derive(Args)]
pub struct CompareArgs {
    /// Presets to run side by side (the first is the reference of the difference table).
    #[arg(required_unless_present = "collect")]
    presets: Vec<PathBuf>,
    /// Report finished run folders instead of running presets (into --out, default a
    /// fresh out/compare).
    #[arg(long, num_args = 1.., conflicts_with = "presets")]
    collect: Vec<PathBuf>,
    /// Simulated days (overrides every preset's duration).
    #[arg(long)]
    days: Option<f64>,
    /// Output folder (default: out/compare, or out/compare-N if that holds files).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Voxels on the longest axis, for every preset.
    #[arg(long)]
    resolution: Option<usize>,
    /// Seed for every preset (default: the first preset's).
    #[arg(long)]
    seed: Option<u64>,
    /// auto, gpu or cpu.
    #[arg(long, default_value = "auto", value_parser = super::parse_backend)]
    backend: BackendChoice,
    /// Runs at once (default: 1 on the CPU backend, whose runs use every core; up to 4 on
    /// a GPU).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write into an output folder that already holds files.
    #[arg(long)]
    overwrite: bool,
}

pub fn compare(args: CompareArgs) -> anyhow::Result<()> {
    if !args.collect.is_empty() {
        let runs = args
            .collect
            .iter()
            .map(|d| {
                let label = d
                    .file_name()
                    .map_or("run".into(), |n| n.to_string_lossy().to_string());
                RunData::load(d, &label)
            })
            .collect::<osteoniche::Result<Vec<_>>>()?;
        let out = match &args.out {
            Some(o) => o.clone(),
            None => osteoniche::run::folder::fresh_out_dir("compare"),
        };
        osteoniche::run::folder::prepare_out_dir(&out, args.overwrite)?;
        return finish_report(&runs, &out, "osteoniche comparison");
    }
    let presets = args
        .presets
        .iter()
        .map(|p| Preset::load(p).with_context(|| format!("loading {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Same grid and seed for every run.
    let seed = args.seed.unwrap_or(presets[0].file.seed);
    let mut grids = Vec::new();
    for (p, path) in presets.iter().zip(&args.presets) {
        let sc = with_days(p, args.days)?.scenario(args.resolution, Some(seed))?;
        grids.push((path, sc.grid));
    }
    if let Some((path, g)) = grids.iter().find(|(_, g)| *g != grids[0].1) {
        let (p0, g0) = &grids[0];
        bail!(
            "compare runs every preset on the same grid: {} makes {}x{}x{} at {} µm, {} makes {}x{}x{} at {} µm (set [grid] alike; --resolution re-grids each box but keeps its size)",
            p0.display(),
            g0.nx,
            g0.ny,
            g0.nz,
            g0.dx_um,
            path.display(),
            g.nx,
            g.ny,
            g.nz,
            g.dx_um
        );
    }
    let out = match &args.out {
        Some(o) => o.clone(),
        None => osteoniche::run::folder::fresh_out_dir("compare"),
    };
    osteoniche::run::folder::prepare_out_dir(&out, args.overwrite)?;
    // Labels: preset names, made unique.
    let mut labels: Vec<String> = Vec::new();
    for p in &presets {
        let mut label = p.file.name.clone();
        let mut k = 2;
        while labels.contains(&label) {
            label = format!("{}-{k}", p.file.name);
            k += 1;
        }
        labels.push(label);
    }
    let jobs = args.jobs.unwrap_or(match args.backend {
        BackendChoice::Cpu => 1,
        _ if osteoniche::gpu::probe_hardware_adapter().is_some() => 4,
        _ => 1,
    });
    let tasks: Vec<(Preset, PathBuf, String)> = presets
        .into_iter()
        .zip(&labels)
        .map(|(p, l)| (p, out.join("runs").join(l), l.clone()))
        .collect();
    let settings = |dir: PathBuf, bar: ProgressBar| RunOptions {
        days: args.days,
        resolution: args.resolution,
        seed: Some(seed),
        backend: args.backend,
        out: Some(dir),
        overwrite: args.overwrite,
        checkpoint_every: None,
        quiet: false,
        bar: Some(bar),
        lattice: None,
    };
    run_all(tasks, jobs, settings)?;
    let runs = labels
        .iter()
        .map(|l| RunData::load(&out.join("runs").join(l), l))
        .collect::<osteoniche::Result<Vec<_>>>()?;
    finish_report(&runs, &out, "osteoniche comparison")
}

/// Runs each (preset, folder, label) with up to `jobs` at once, one progress bar each.
pub(super) fn run_all(
    tasks: Vec<(Preset, PathBuf, String)>,
    jobs: usize,
    options: impl Fn(PathBuf, ProgressBar) -> RunOptions + Sync,
) -> anyhow::Result<()> {
    let multi = MultiProgress::new();
    // Popped from the end: reversed so the runs start in the order given.
    let mut items: Vec<_> = tasks
        .into_iter()
        .map(|(p, dir, label)| {
            let bar = multi.add(ProgressBar::new(1));
            bar.set_prefix(format!("{label:<28} "));
            (p, dir, bar)
        })
        .collect();
    items.reverse();
    let queue = Mutex::new(items);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    if super::interrupt::raised() {
                        // Interrupted: the runs in hand save themselves; none starts.
                        break;
                    }
                    let next = queue.lock().expect("queue lock").pop();
                    let Some((preset, dir, bar)) = next else {
                        break;
                    };
                    let name = preset.file.name.clone();
                    match run_preset(preset, options(dir.clone(), bar.clone())) {
                        Ok((_, Ending::Finished)) => {}
                        Ok((_, Ending::Interrupted { .. })) => {
                            bar.abandon_with_message("interrupted");
                        }
                        Err(e) => {
                            bar.abandon_with_message(format!("failed: {e:#}"));
                            failures
                                .lock()
                                .expect("failure lock")
                                .push(format!("{name} ({}): {e:#}", dir.display()));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failure lock");
    if super::interrupt::raised() {
        // Each interrupted run has said how to resume it; no report of half-runs.
        eprintln!(
            "interrupted: no report written; each run folder under runs/ holds its checkpoint \
             (osteoniche resume <folder>/checkpoint.osck), then `compare --collect` or `sweep --collect`"
        );
        return Err(super::interrupt::Interrupted.into());
    }
    if !failures.is_empty() {
        bail!(
            "{} run(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Writes the report and prints where it is and the table.
fn finish_report(runs: &[RunData], out: &Path, title: &str) -> anyhow::Result<()> {
    let w = report::write(runs, out, title)?;
    println!("{}", w.markdown);
    if runs.len() > 1 {
        println!(
            "largest endpoint difference from `{}` (relative; percentage points / 100 for endpoints in %): {}",
            runs[0].label,
            if w.max_difference == 0.0 {
                "0 (identical)".to_string()
            } else if w.max_difference.is_infinite() {
                "a time endpoint (doubling/halving) is reached in one run and not in another".into()
            } else {
                format!("{:.3e}", w.max_difference)
            }
        );
    }
    println!(
        "report: {} ({} files: endpoints.csv, endpoints.md, plots/*.svg|png)",
        out.join("report.html").display(),
        w.files.len()
    );
    Ok(())
}

#[derive(Args)]
pub struct SweepArgs {
    /// Preset to vary.
    #[arg(required_unless_present = "collect")]
    preset: Option<PathBuf>,
    /// KEY=VALUES (repeatable): `seed=1:8:8`, `tumour_growth=0.2,0.3`, `M14=on,off`,
    /// `dose.0.mg_per_kg=0.1:10:5:log`, `dose.0.every=3 d,7 d`. Every combination runs.
    #[arg(long = "vary", required_unless_present_any = ["collect", "samples"])]
    vary: Vec<String>,
    /// A listed design instead of a grid: a CSV whose header names the keys (as --vary
    /// takes them) and whose rows are the variants, one value per key (e.g. the sample
    /// matrix of `osteoniche sensitivity`).
    #[arg(long, conflicts_with = "vary")]
    samples: Option<PathBuf>,
    /// Gather the finished runs of this sweep folder into the report.
    #[arg(long, conflicts_with_all = ["preset", "vary", "samples", "emit"])]
    collect: Option<PathBuf>,
    /// With --collect: report the finished variants even if some are missing.
    #[arg(long, requires = "collect")]
    partial: bool,
    /// `slurm`: write the variants, a manifest and a job-array script instead of running.
    #[arg(long, value_parser = ["slurm"])]
    emit: Option<String>,
    /// Output folder (default: out/sweep-<preset name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulated days for every variant.
    #[arg(long)]
    days: Option<f64>,
    /// Voxels on the longest axis for every variant.
    #[arg(long)]
    resolution: Option<usize>,
    /// auto, gpu or cpu.
    #[arg(long, default_value = "auto", value_parser = ["auto", "gpu", "cpu"])]
    backend: String,
    /// Simulated time between checkpoints of each variant (e.g. "1 d"); a requeued array
    /// task resumes from it.
    #[arg(long)]
    checkpoint_every: Option<String>,
    /// Runs at once when running locally.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Write into an output folder that already holds files.
    #[arg(long)]
    overwrite: bool,
    /// Slurm: wall-time limit per task.
    #[arg(long, default_value = "04:00:00")]
    slurm_time: String,
    /// Slurm: CPUs per task.
    #[arg(long, default_value_t = 8)]
    slurm_cpus: usize,
    /// Slurm: memory per task.
    #[arg(long, default_value = "16G")]
    slurm_mem: String,
    /// Slurm: partition.
    #[arg(long)]
    slurm_partition: Option<String>,
    /// Slurm: GPUs per task.
    #[arg(long, default_value_t = 0)]
    slurm_gpus: usize,
    /// Slurm: most tasks running at once (0: no limit).
    #[arg(long, default_value_t = 0)]
    slurm_max_running: usize,
}

pub fn sweep(args: SweepArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.collect {
        return collect(dir, args.partial);
    }
    let preset_path = args.preset.clone().expect("clap requires a preset");
    // The base as one table; every variant is written whole and checked like any preset.
    let base = osteoniche::preset::resolved_table(&preset_path)?;
    let base_preset = Preset::load(&preset_path)?;
    let (axes, variants) = match &args.samples {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading --samples {}", file.display()))?;
            sweep::listed(&text, file, &base)?
        }
        None => {
            let axes = args
                .vary
                .iter()
                .map(|v| sweep::parse_vary(v, &base))
                .collect::<osteoniche::Result<Vec<_>>>()?;
            let variants = sweep::variants(&axes)?;
            (axes, variants)
        }
    };
    if let Some(c) = &args.checkpoint_every {
        let d =
            SimDuration::parse(c).map_err(|e| anyhow::anyhow!("--checkpoint-every {c}: {e}"))?;
        if d.minutes() <= 0.0 {
            bail!("--checkpoint-every {c}: must be > 0");
        }
    }
    with_days(&base_preset, args.days)?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => osteoniche::run::folder::fresh_out_dir(&format!("sweep-{}", base_preset.file.name)),
    };
    let out = std::path::absolute(&out)?;
    let vdir = out.join("variants");
    // Every variant is a whole preset, checked before anything is written.
    let mut texts = Vec::new();
    for v in &variants {
        let table = sweep::apply(&base, &axes, v);
        let text = format!(
            "# {} of the sweep of {} (osteoniche sweep; manifest ../{})\n{}",
            v.label(),
            preset_path.display(),
            Manifest::FILE,
            toml::to_string_pretty(&table)?
        );
        let path = vdir.join(format!("{}.toml", v.id));
        Preset::parse(&text, &path.display().to_string()).with_context(|| {
            format!(
                "variant {} is not a valid preset (nothing was written)",
                v.label()
            )
        })?;
        texts.push((path, text));
    }
    osteoniche::run::folder::prepare_out_dir(&out, args.overwrite)?;
    std::fs::create_dir_all(&vdir).with_context(|| format!("creating {}", vdir.display()))?;
    for (path, text) in &texts {
        write_atomic(path, text.as_bytes())?;
    }
    let manifest = Manifest {
        osteoniche: env!("CARGO_PKG_VERSION").into(),
        preset: std::path::absolute(&preset_path)?.display().to_string(),
        axes,
        run: RunSettings {
            days: args.days,
            resolution: args.resolution,
            backend: args.backend.clone(),
            checkpoint_every: args.checkpoint_every.clone(),
        },
        variants,
    };
    write_atomic(
        &out.join(Manifest::FILE),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if args.emit.is_some() {
        let exe = std::env::current_exe().context("locating the osteoniche binary")?;
        let script = sweep::slurm_script(
            &manifest,
            &out,
            &exe,
            &SlurmOptions {
                time: args.slurm_time.clone(),
                cpus: args.slurm_cpus,
                mem: args.slurm_mem.clone(),
                partition: args.slurm_partition.clone(),
                gpus: args.slurm_gpus,
                max_running: args.slurm_max_running,
            },
        );
        let path = out.join("sweep.slurm");
        write_atomic(&path, script.as_bytes())?;
        println!(
            "{} variants written to {}\nsubmit:   sbatch {}\nafterwards: osteoniche sweep --collect {}",
            manifest.variants.len(),
            vdir.display(),
            path.display(),
            out.display()
        );
        return Ok(());
    }
    let backend: BackendChoice = args
        .backend
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let checkpoint_every = args
        .checkpoint_every
        .as_deref()
        .map(SimDuration::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let tasks = manifest
        .variants
        .iter()
        .map(|v| {
            let p = Preset::load(&vdir.join(format!("{}.toml", v.id)))?;
            Ok((p, out.join("runs").join(&v.id), v.label()))
        })
        .collect::<osteoniche::Result<Vec<_>>>()?;
    let settings = |dir: PathBuf, bar: ProgressBar| RunOptions {
        days: args.days,
        resolution: args.resolution,
        seed: None,
        backend,
        out: Some(dir),
        overwrite: true,
        checkpoint_every,
        quiet: false,
        bar: Some(bar),
        lattice: None,
    };
    run_all(tasks, args.jobs, settings)?;
    collect(&out, false)
}

/// Gathers a sweep folder's finished variants into the report.
fn collect(dir: &Path, partial: bool) -> anyhow::Result<()> {
    let m = Manifest::load(dir)?;
    let mut runs = Vec::new();
    let mut missing = Vec::new();
    for v in &m.variants {
        let run_dir = dir.join("runs").join(&v.id);
        if osteoniche::report::finished(&run_dir) {
            runs.push(RunData::load(&run_dir, &v.label())?);
        } else if run_dir.join("checkpoint.osck").is_file() {
            missing.push(format!(
                "{} (unfinished: a checkpoint is there; rerun its array task to resume)",
                v.id
            ));
        } else {
            missing.push(format!(
                "{} (no output: array task {} has not run or failed; see {}/logs)",
                v.id,
                v.index,
                dir.display()
            ));
        }
    }
    if !missing.is_empty() {
        let list = missing.join("\n  ");
        if !partial || runs.is_empty() {
            bail!(
                "{} of {} variants have not finished:\n  {list}\n(--partial reports the finished ones)",
                missing.len(),
                m.variants.len()
            );
        }
        eprintln!(
            "warning: reporting {} finished variants; missing:\n  {list}",
            runs.len()
        );
    }
    finish_report(&runs, dir, &format!("osteoniche sweep of {}", m.preset))
}
