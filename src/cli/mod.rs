//! Command-line front end: argument parsing, logging, progress bars and exit codes.
//! Everything it does goes through the library.

mod bench;
mod compare;
mod converge;
mod interrupt;
mod lattice;
mod run;
mod sensitivity;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use osteoniche::launch::BackendChoice;

#[derive(Parser)]
#[command(
    name = "osteoniche",
    version,
    about = "3D reaction-diffusion simulator of the bone-metastasis microenvironment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a preset headless and write metrics.csv, .vti snapshots and summary.json.
    Run(run::RunArgs),
    /// Continue an interrupted run from its checkpoint.
    Resume(run::ResumeArgs),
    /// Measure time per step and per stage, throughput and bandwidth on each backend.
    Bench(bench::BenchArgs),
    /// Run presets on the same grid and seed and report them side by side (tables, plots,
    /// HTML); or --collect finished run folders.
    Compare(compare::CompareArgs),
    /// Run a preset at several grids and report each endpoint's convergence: values,
    /// observed order, Richardson-extrapolated value, the grid within a tolerance.
    Converge(converge::ConvergeArgs),
    /// Global sensitivity of a preset's endpoints to model parameters (Morris, Sobol' or
    /// one-at-a-time), sampled and analysed by SALib through the Python package, run by
    /// `sweep` (locally or as a Slurm array).
    Sensitivity(sensitivity::SensitivityArgs),
    /// Run a grid of preset variants (--vary KEY=VALUES) locally, or --emit slurm to write a
    /// job-array script; --collect gathers the finished variants into the report.
    Sweep(compare::SweepArgs),
    /// Open the desktop viewer: the lattice and a field in 3D, run controls, live plots and
    /// real-time dosing.
    #[cfg(feature = "viewer")]
    View(ViewArgs),
    /// Generate or load a preset's lattice, print its morphometrics, write .vti / NRRD.
    Lattice(lattice::LatticeArgs),
    /// Check preset files and report every problem found.
    Validate {
        /// Preset files.
        #[arg(required = true)]
        presets: Vec<PathBuf>,
    },
    /// Print the reference of the preset format, or with --model of a model file, or with
    /// --drugs of a drug library (Markdown).
    Reference {
        /// A model file: print its mechanisms, equations and parameters instead.
        #[arg(long, conflicts_with = "drugs")]
        model: Option<PathBuf>,
        /// A drug library: print every drug with every number, unit and source instead.
        #[arg(long)]
        drugs: Option<PathBuf>,
        /// A preset: print its model's parameters as JSON with the preset's [model.set]
        /// applied (name, value, unit, source, mechanism or group, meaning, whether the
        /// source is an assumption), for tools such as `osteoniche sensitivity`.
        #[arg(long, conflicts_with_all = ["model", "drugs"])]
        parameters_of: Option<PathBuf>,
    },
    /// Run the presets a claims file names and check each claim's ordering.
    Claims(StudyArgs),
    /// Run the presets a checks file names and compare the model with each published
    /// number (presets/published/checks.toml); exits 2 when an outcome differs from what
    /// the file says of it (not compared under --set or --mechanism).
    Checks(StudyArgs),
}

/// The options of `claims` and `checks`.
#[derive(clap::Args)]
struct StudyArgs {
    /// Claims or checks file (presets/therapy/claims.toml, presets/published/checks.toml).
    file: PathBuf,
    /// Voxels on the longest axis, one size or a list (16,24,32): each claim or check is
    /// rated at each (default: each preset's own grid).
    #[arg(long, value_delimiter = ',')]
    resolution: Vec<usize>,
    /// How many seeds (lattice, and the initial conditions that follow from it): seeds
    /// FIRST .. FIRST+N-1 replace each preset's own; without it, each preset's seed.
    #[arg(long)]
    seeds: Option<u64>,
    /// The first seed of --seeds.
    #[arg(long, default_value_t = 1, requires = "seeds")]
    first_seed: u64,
    /// Also write every verdict, with the values in each seed, as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// auto, gpu or cpu.
    #[arg(long, default_value = "auto", value_parser = parse_backend)]
    backend: BackendChoice,
    /// Model parameter NAME=VALUE applied to every preset the file names, in the model
    /// file's unit (repeatable), e.g. `--set tumour_growth=0.3`.
    #[arg(long = "set", value_parser = run::parse_set)]
    set: Vec<(String, f64)>,
    /// Mechanism switch Mk=on|off applied to every preset (repeatable).
    #[arg(long = "mechanism", value_parser = run::parse_mechanism)]
    mechanisms: Vec<(String, bool)>,
}

impl StudyArgs {
    fn overrides(&self) -> osteoniche::study::ModelOverrides {
        osteoniche::study::ModelOverrides {
            set: self.set.clone(),
            mechanisms: self.mechanisms.clone(),
        }
    }
}

#[cfg(feature = "viewer")]
#[derive(clap::Args)]
struct ViewArgs {
    /// Preset to show (one with [pharmacology] drugs can be dosed from the panel).
    preset: PathBuf,
    /// Voxels on the longest axis (e.g. 48 for a fluid view on a CPU).
    #[arg(long)]
    resolution: Option<usize>,
    /// auto, gpu or cpu: where the simulation steps (drawing is always on the GPU adapter
    /// of the window).
    #[arg(long, default_value = "auto", value_parser = parse_backend)]
    backend: BackendChoice,
    /// Replay an action script, then close (see docs/viewer.md).
    #[arg(long)]
    script: Option<PathBuf>,
    /// Window size, WIDTHxHEIGHT in logical pixels.
    #[arg(long, default_value = "1400x900", value_parser = parse_size)]
    size: [u32; 2],
    /// Folder for screenshots, .vti and CSV exports.
    #[arg(long, default_value = "out/view")]
    export_dir: PathBuf,
}

#[cfg(feature = "viewer")]
fn parse_size(s: &str) -> Result<[u32; 2], String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("`{s}`: write WIDTHxHEIGHT, e.g. 1400x900"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (200..=16384).contains(n))
            .ok_or_else(|| format!("`{s}`: sizes are whole numbers 200..=16384"))
    };
    Ok([n(w)?, n(h)?])
}

#[cfg(feature = "viewer")]
fn view(args: ViewArgs) -> anyhow::Result<()> {
    let rates = osteoniche::viewer::run(osteoniche::viewer::ViewerOptions {
        preset: args.preset,
        resolution: args.resolution,
        backend: args.backend,
        script: args.script,
        size: args.size,
        export_dir: args.export_dir,
    })?;
    println!(
        "viewer: {} frames, {:.1} fps; {} steps, {:.2} steps/s",
        rates.frames, rates.fps, rates.steps, rates.steps_per_s
    );
    Ok(())
}

/// Parses `auto`, `gpu` or `cpu`.
pub fn parse_backend(s: &str) -> Result<BackendChoice, String> {
    s.parse()
}

pub fn main() -> ExitCode {
    restore_default_sigpipe();
    // SAFETY: first thing in main, before any thread exists.
    unsafe { osteoniche::gpu::quiet_headless_probing() };
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,wgpu_hal=off,wgpu_core=off,naga=off"),
    )
    .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Resume(args) => run::resume(args),
        Command::Bench(args) => bench::bench(args),
        Command::Compare(args) => compare::compare(args),
        Command::Sweep(args) => compare::sweep(args),
        Command::Converge(args) => converge::converge(args),
        Command::Sensitivity(args) => sensitivity::sensitivity(args),
        #[cfg(feature = "viewer")]
        Command::View(args) => view(args),
        Command::Lattice(args) => lattice::lattice(args),
        Command::Validate { presets } => validate(&presets),
        Command::Reference {
            parameters_of: Some(path),
            ..
        } => parameters_of(&path),
        Command::Reference {
            model: None,
            drugs: None,
            ..
        } => {
            print!("{}", osteoniche::preset::reference::markdown_table());
            Ok(())
        }
        Command::Reference {
            model: Some(path), ..
        } => osteoniche::preset::ModelData::load(&path)
            .map(|m| print!("{}", m.file.reference_markdown()))
            .map_err(anyhow::Error::from),
        Command::Reference {
            drugs: Some(path), ..
        } => osteoniche::pharma::DrugLibrary::load(&path)
            .map(|l| print!("{}", l.markdown()))
            .map_err(anyhow::Error::from),
        Command::Claims(a) => claims(&a),
        Command::Checks(a) => checks(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<interrupt::Interrupted>() => ExitCode::from(interrupt::EXIT_STATUS),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Output piped into `head` and closed early ends the program quietly, as other command-line
/// tools do, instead of panicking on the failed write (Rust ignores SIGPIPE by default).
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; setting the default
    // disposition of SIGPIPE has no other effect on this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The simulation maker and progress line a claims or checks study runs with.
type MakeSim<'a> = &'a mut dyn FnMut(
    osteoniche::preset::Scenario,
) -> osteoniche::Result<osteoniche::sim::Simulation>;

/// Runs a claims or checks study (`study` is given the file's folder, the grids, the seeds,
/// the simulation maker and the progress line), prints its table and, with `json`, writes
/// every verdict there.
fn run_study<V: serde::Serialize>(
    a: &StudyArgs,
    study: impl FnOnce(
        &std::path::Path,
        &[Option<usize>],
        &[Option<u64>],
        &osteoniche::study::ModelOverrides,
        MakeSim,
        &mut dyn FnMut(&str),
    ) -> osteoniche::Result<Vec<V>>,
    markdown: fn(&[V]) -> String,
) -> anyhow::Result<Vec<V>> {
    let dir = a.file.parent().unwrap_or(std::path::Path::new(""));
    let (resolutions, seeds) = grids_and_seeds(&a.resolution, a.seeds, a.first_seed)?;
    let backend = a.backend;
    let overrides = a.overrides();
    if !overrides.is_empty() {
        println!("Model changed on every preset: {}\n", overrides.words());
    }
    let verdicts = study(
        dir,
        &resolutions,
        &seeds,
        &overrides,
        &mut |sc| osteoniche::sim::Simulation::new(sc, backend),
        &mut |p| progress(&format!("running {p}")),
    )?;
    print!("{}", markdown(&verdicts));
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&verdicts)?;
        osteoniche::atomic::write_atomic(path, text.as_bytes())?;
    }
    Ok(verdicts)
}

fn claims(a: &StudyArgs) -> anyhow::Result<()> {
    use osteoniche::claims::{ClaimsFile, Rating, study, verdict_markdown};
    let claims = ClaimsFile::load(&a.file)?;
    let verdicts = run_study(
        a,
        |dir, r, s, o, make_sim, progress| study(&claims, dir, r, s, o, make_sim, progress),
        verdict_markdown,
    )?;
    let not_robust = verdicts
        .iter()
        .filter(|v| v.rating != Rating::EverySeed)
        .count();
    if not_robust > 0 {
        anyhow::bail!(
            "{not_robust} of {} claims are not robust (hold in fewer than every seed)",
            verdicts.len()
        );
    }
    Ok(())
}

/// The --resolution and --seeds of `claims` and `checks` as the lists their studies take.
#[allow(clippy::type_complexity, reason = "two plain lists")]
fn grids_and_seeds(
    resolutions: &[usize],
    seeds: Option<u64>,
    first_seed: u64,
) -> anyhow::Result<(Vec<Option<usize>>, Vec<Option<u64>>)> {
    let resolutions: Vec<Option<usize>> = if resolutions.is_empty() {
        vec![None]
    } else {
        resolutions.iter().map(|&n| Some(n)).collect()
    };
    let seeds: Vec<Option<u64>> = match seeds {
        Some(0) => anyhow::bail!("--seeds: give at least 1"),
        Some(n) => (first_seed..first_seed.saturating_add(n))
            .map(Some)
            .collect(),
        None => vec![None],
    };
    Ok((resolutions, seeds))
}

fn checks(a: &StudyArgs) -> anyhow::Result<()> {
    use osteoniche::checks::{ChecksFile, study, verdict_markdown};
    let checks = ChecksFile::load(&a.file)?;
    let verdicts = run_study(
        a,
        |dir, r, s, o, make_sim, progress| study(&checks, dir, r, s, o, make_sim, progress),
        verdict_markdown,
    )?;
    if !a.set.is_empty() || !a.mechanisms.is_empty() {
        // The file's `status` is what its presets came to as they are.
        println!(
            "\n(outcomes not compared with the file's `status`: it describes the presets without --set or --mechanism)"
        );
        return Ok(());
    }
    let changed: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.agrees_with_file())
        .map(|v| format!("{} ({})", v.item().id, v.words()))
        .collect();
    if !changed.is_empty() {
        anyhow::bail!(
            "{} of {} checks came out otherwise than the file says: {}",
            changed.len(),
            verdicts.len(),
            changed.join(", ")
        );
    }
    Ok(())
}

/// A progress line for a person watching: on stderr when it is a terminal, else nowhere
/// (stdout holds the command's result; stderr, once redirected, only warnings and errors).
fn progress(msg: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("{msg}");
    }
}

fn parameters_of(path: &std::path::Path) -> anyhow::Result<()> {
    let preset = osteoniche::preset::Preset::load(path)?;
    let (Some(model), Some(spec)) = (&preset.model, &preset.file.model) else {
        anyhow::bail!("{}: the preset has no [model]", path.display());
    };
    let json = model.file.parameters_json(&spec.set);
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

fn validate(presets: &[PathBuf]) -> anyhow::Result<()> {
    let mut bad = 0;
    for p in presets {
        match osteoniche::preset::Preset::load(p) {
            Ok(preset) => println!("ok: {} ({})", p.display(), preset.file.name),
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if bad > 0 {
        anyhow::bail!("{bad} of {} presets have problems", presets.len());
    }
    Ok(())
}
