//! `osteoniche converge`: a preset at several grids, with the lattice regenerated at each
//! or coarsened from the finest, and the resolution study of its endpoints.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use osteoniche::converge::Study;
use osteoniche::launch::BackendChoice;
use osteoniche::preset::Preset;
use osteoniche::report::RunData;

use super::run::{RunOptions, run_preset, with_days};

/// Endpoints drawn in converge.png unless --plot names others.
const PLOTTED: [&str; 7] = [
    "tumour_integral",
    "bone_integral",
    "osteoclast_integral",
    "osteoblast_integral",
    "cd8_integral",
    "tam_m2_integral",
    "plasma_opn_nM",
];

#[derive(Args)]
pub struct ConvergeArgs {
    /// The preset.
    #[arg(required_unless_present = "collect")]
    preset: Option<PathBuf>,
    /// Voxels on the longest axis of each grid, at least three (e.g. 16,24,32,48,64).
    #[arg(long, value_delimiter = ',', required_unless_present = "collect")]
    resolutions: Vec<usize>,
    /// Analyse the finished runs of an earlier study folder again (e.g. with another
    /// --day or --tolerance) instead of running.
    #[arg(long, conflicts_with_all = ["preset", "resolutions", "lattice_from", "days", "seed"])]
    collect: Option<PathBuf>,
    /// Build the lattice once at this many voxels (at least the finest resolution) and
    /// give every grid that bone, coarsened by partial volumes; without it each grid
    /// generates its own lattice from the preset.
    #[arg(long)]
    lattice_from: Option<usize>,
    /// Simulated days (overrides the preset's duration).
    #[arg(long)]
    days: Option<f64>,
    /// Day the endpoints are read at (default: the last day; a day the runs write
    /// metrics at).
    #[arg(long)]
    day: Option<f64>,
    /// Relative tolerance for the "within" column (0.05: 5 %).
    #[arg(long, default_value_t = 0.05)]
    tolerance: f64,
    /// Endpoints (metrics columns) to plot.
    #[arg(long, value_delimiter = ',')]
    plot: Vec<String>,
    /// Seed (overrides the preset's).
    #[arg(long)]
    seed: Option<u64>,
    /// auto, gpu or cpu.
    #[arg(long, default_value = "auto", value_parser = super::parse_backend)]
    backend: BackendChoice,
    /// Output folder (default: out/converge-<preset>); each grid's run goes in runs/<N>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write into an output folder that already holds files.
    #[arg(long)]
    overwrite: bool,
}

pub fn converge(args: ConvergeArgs) -> anyhow::Result<()> {
    if !(args.tolerance > 0.0 && args.tolerance < 1.0) {
        bail!("--tolerance {}: a fraction between 0 and 1", args.tolerance);
    }
    if let Some(dir) = &args.collect {
        return collect(dir, &args);
    }
    let preset_path = args.preset.clone().expect("clap requires a preset");
    let mut res = args.resolutions.clone();
    if res.len() < 3 {
        bail!("--resolutions: give at least three grids (an order needs three); got {res:?}");
    }
    if let Some(&n) = res.iter().find(|&&n| n < 2) {
        bail!("--resolutions: {n} is too few voxels");
    }
    res.sort_unstable();
    if res.windows(2).any(|w| w[0] == w[1]) {
        bail!("--resolutions: each grid once; got {:?}", args.resolutions);
    }
    let preset = Preset::load(&preset_path)?;
    let preset = with_days(&preset, args.days)?;
    let day = args
        .day
        .unwrap_or(preset.file.time.duration.minutes() / 1440.0);
    let out = args.out.clone().unwrap_or_else(|| {
        osteoniche::run::folder::fresh_out_dir(&format!("converge-{}", preset.file.name))
    });
    osteoniche::run::folder::prepare_out_dir(&out, args.overwrite)?;
    let finest = *res.last().expect("three resolutions");
    let fine = match args.lattice_from {
        Some(n) if n < finest => {
            bail!("--lattice-from {n}: must be at least the finest resolution, {finest}")
        }
        Some(n) => {
            let sc = preset.scenario(Some(n), args.seed)?;
            let l = osteoniche::sim::setup::lattice(&sc)?
                .with_context(|| format!("{}: the preset has no lattice", preset_path.display()))?;
            println!(
                "lattice: built at {n}^3 ({:.1} µm voxels), BV/TV {:.4}",
                l.grid.dx_um,
                l.bv_tv()
            );
            Some((n, l))
        }
        None => None,
    };
    let how = match &fine {
        Some((n, _)) => format!("coarsened from {n}^3 by partial volumes"),
        None => "regenerated at each grid".to_string(),
    };
    let mut runs = Vec::new();
    for &n in &res {
        let dir = out.join("runs").join(n.to_string());
        let grid = preset.scenario(Some(n), args.seed)?.grid;
        let lattice = match &fine {
            Some((_, l)) => Some((Arc::new(l.coarsen(grid)?), format!("{how} ({n}^3 here)"))),
            None => None,
        };
        println!("== {n}^3 ({:.1} µm voxels) ==", grid.dx_um);
        let (_, ending) = run_preset(
            preset.clone(),
            RunOptions {
                days: None,
                resolution: Some(n),
                seed: args.seed,
                backend: args.backend,
                out: Some(dir.clone()),
                overwrite: args.overwrite,
                checkpoint_every: None,
                quiet: false,
                bar: None,
                lattice,
            },
        )?;
        if ending != osteoniche::run::summary::Ending::Finished {
            eprintln!(
                "interrupted: the study stopped at {n}^3; its finished grids are under {}",
                out.join("runs").display()
            );
            return Err(super::interrupt::Interrupted.into());
        }
        runs.push((n, grid.dx_um, RunData::load(&dir, &n.to_string())?));
    }
    finish(&preset.file.name, &runs, day, &how, &out, &args)
}

/// Analyses the runs, writes the study and prints its table.
fn finish(
    name: &str,
    runs: &[(usize, f64, RunData)],
    day: f64,
    how: &str,
    out: &std::path::Path,
    args: &ConvergeArgs,
) -> anyhow::Result<()> {
    let study = Study::from_runs(name, runs, day, args.tolerance, how)?;
    let plotted: Vec<&str> = if args.plot.is_empty() {
        PLOTTED.to_vec()
    } else {
        for p in &args.plot {
            if !study.endpoints.iter().any(|e| &e.name == p) {
                bail!("--plot {p}: not an endpoint of these runs (see converge.csv)");
            }
        }
        args.plot.iter().map(String::as_str).collect()
    };
    study.write(out, &plotted)?;
    println!("{}", study.markdown());
    println!("wrote {}/converge.{{md,csv,json,svg,png}}", out.display());
    Ok(())
}

/// `--collect DIR`: the runs under DIR/runs/<N>, coarsest first.
fn collect(dir: &std::path::Path, args: &ConvergeArgs) -> anyhow::Result<()> {
    let runs_dir = dir.join("runs");
    let mut found: Vec<usize> = std::fs::read_dir(&runs_dir)
        .with_context(|| format!("{}: not a converge folder (no runs/)", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    found.sort_unstable();
    let mut runs = Vec::new();
    let mut name = String::new();
    let mut how = String::new();
    let mut last_day = 0.0;
    for n in found {
        let run = RunData::load(&runs_dir.join(n.to_string()), &n.to_string())?;
        let dx = run.summary["grid"]["dx_um"]
            .as_f64()
            .with_context(|| format!("{}/runs/{n}/summary.json: no grid", dir.display()))?;
        name = run.summary["preset"]["name"]
            .as_str()
            .unwrap_or("preset")
            .to_string();
        how = match run.summary["lattice"]["made"].as_str() {
            Some(m) if m.starts_with("coarsened") => m.split(" (").next().unwrap_or(m).to_string(),
            _ => "regenerated at each grid".to_string(),
        };
        last_day = run.days().last().copied().unwrap_or(0.0);
        runs.push((n, dx, run));
    }
    let day = args.day.unwrap_or(last_day);
    finish(&name, &runs, day, &how, dir, args)
}
