//! Command-line front end: argument parsing, logging, progress bars and exit codes.
//! Everything it does goes through the library.

mod bench;
mod compare;
mod lattice;
mod outputs;
mod run;

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
    },
    /// Run the presets a claims file names and check each claim's ordering.
    Claims {
        /// Claims file (e.g. presets/therapy/claims.toml).
        file: PathBuf,
        /// Voxels on the longest axis (coarser runs faster; the claims are orderings).
        #[arg(long)]
        resolution: Option<usize>,
        /// auto, gpu or cpu.
        #[arg(long, default_value = "auto", value_parser = parse_backend)]
        backend: BackendChoice,
    },
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
        #[cfg(feature = "viewer")]
        Command::View(args) => view(args),
        Command::Lattice(args) => lattice::lattice(args),
        Command::Validate { presets } => validate(&presets),
        Command::Reference {
            model: None,
            drugs: None,
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
        Command::Claims {
            file,
            resolution,
            backend,
        } => claims(&file, resolution, backend),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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

fn claims(
    file: &std::path::Path,
    resolution: Option<usize>,
    backend: BackendChoice,
) -> anyhow::Result<()> {
    use osteoniche::claims::{ClaimsFile, check};
    let claims = ClaimsFile::load(file)?;
    let dir = file.parent().unwrap_or(std::path::Path::new(""));
    let results = check(
        &claims,
        dir,
        resolution,
        |sc| osteoniche::sim::Simulation::new(sc, backend),
        |p| progress(&format!("running {p}")),
    )?;
    print!("{}", osteoniche::claims::markdown(&results));
    let failed = results.iter().filter(|r| !r.holds).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} claims do not hold", results.len());
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
