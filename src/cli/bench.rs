//! `osteoniche bench`: time per step and per stage of a model preset on each backend and
//! grid size, throughput and effective bandwidth; plus the transport step of synthetic
//! scenarios with a chosen number of fields.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use osteoniche::atomic::write_atomic;
use osteoniche::launch::{BackendChoice, make_backend};
use osteoniche::preset::Preset;
use osteoniche::sim::profile::{Stage, StageTimes, throughput, traffic};
use osteoniche::sim::setup::Setup;
use osteoniche::sim::synthetic::{self, Case};
use osteoniche::sim::{BackendInfo, Simulation, Stages};
use serde::Serialize;

#[derive(Args)]
pub struct BenchArgs {
    /// Backends to measure (default: cpu, and gpu when an adapter exists).
    #[arg(long, value_delimiter = ',', value_parser = super::parse_backend)]
    backend: Vec<BackendChoice>,
    /// Grid edges in voxels, or `auto`: 32, 64, 128, ... while the grid fits the device
    /// and the next size's predicted step stays under --max-step seconds.
    #[arg(long, default_value = "auto", value_parser = parse_sizes)]
    sizes: Sizes,
    /// Model preset timed stage by stage (its box re-gridded to each size).
    #[arg(
        long,
        default_value = "presets/therapy/breast-nanodocetaxel-denosumab.toml"
    )]
    preset: PathBuf,
    /// Field counts of the synthetic benchmark (0 or empty: skip it).
    #[arg(long, value_delimiter = ',', default_values_t = vec![1usize, 8])]
    fields: Vec<usize>,
    /// The synthetic problem: `biofvm` (BioFVM's benchmark exactly: D 1e5 µm^2/min, decay
    /// 0.1/min, dx 20 µm, dt 0.01 min, no bone) or `lattice` (bone-dependent diffusivity).
    #[arg(long, default_value = "biofvm")]
    case: Case,
    /// Minimum seconds of timing per measurement (at least 5 steps are timed).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// `auto` stops growing the grid when the next size's step, predicted as 8x this
    /// size's (eight times the voxels), would take longer than this (s).
    #[arg(long, default_value_t = 10.0)]
    max_step: f64,
    /// Simulated days the model preset runs before it is timed, so that the solver sees
    /// developed fields rather than the initial state.
    #[arg(long, default_value_t = 0.0, value_parser = parse_days)]
    warmup_days: f64,
    /// Skip the model preset (synthetic transport only).
    #[arg(long)]
    transport_only: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Grid sizes to measure.
#[derive(Clone, Debug)]
pub enum Sizes {
    /// Doubling from 32 while the grid fits and steps stay short.
    Auto,
    /// These edges.
    List(Vec<usize>),
}

fn parse_days(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(d) if d.is_finite() && (0.0..=3650.0).contains(&d) => Ok(d),
        _ => Err(format!("`{s}`: a number of simulated days, 0..=3650")),
    }
}

fn parse_sizes(s: &str) -> Result<Sizes, String> {
    if s == "auto" {
        return Ok(Sizes::Auto);
    }
    s.split(',')
        .map(|v| match v.trim().parse::<usize>() {
            Ok(n) if (4..=2048).contains(&n) => Ok(n),
            _ => Err(format!(
                "`{v}`: grid edges are whole numbers 4..=2048, or `auto`"
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Sizes::List)
}

impl Sizes {
    fn list(&self) -> Vec<usize> {
        match self {
            Sizes::Auto => vec![32, 64, 128, 256, 512, 1024],
            Sizes::List(l) => l.clone(),
        }
    }
}

/// The machine and adapters a report was measured on.
#[derive(Serialize)]
struct Header {
    osteoniche: &'static str,
    date_unix_s: u64,
    cpu: String,
    threads: usize,
    devices: Vec<BackendInfo>,
    /// Per device: true when stage times are GPU timestamps, false when wall time around
    /// a fence after each stage.
    timestamps: Vec<bool>,
}

impl Header {
    /// Records (and prints) a device the first time it is measured.
    fn add(&mut self, info: &BackendInfo, stamps: bool) {
        if !self.devices.contains(info) {
            print_device(info, stamps);
            self.devices.push(info.clone());
            self.timestamps.push(stamps);
        }
    }
}

/// One measured line.
#[derive(Serialize)]
struct Row {
    /// `model` (the preset, stage by stage) or `synthetic` (transport benchmark).
    bench: &'static str,
    /// The synthetic case (`biofvm`, `lattice`); absent for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    case: Option<Case>,
    backend: String,
    n: usize,
    fields: usize,
    /// A stage name, `step` (a whole step without fences between stages) or, for the
    /// synthetic benchmark, `transport` and `step`.
    stage: String,
    /// Steps timed.
    steps: usize,
    /// Median time per step of this stage, ms.
    ms_per_step: f64,
    /// Fastest step, ms.
    ms_fastest: f64,
    /// Share of the profiled step, % (stages only).
    share_pct: Option<f64>,
    /// `step` rows: million voxel-field updates per second at the median, voxels x fields
    /// advanced by one whole step over its time (`sim::profile::throughput`). Stage rows
    /// have only their time and bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    mupdates_per_s: Option<f64>,
    /// Compulsory bytes moved per step over the median time, GB/s (a lower bound).
    gb_per_s: f64,
    /// True when the time is GPU timestamps, false when wall time around a fence.
    device_time: bool,
    /// Model `step` rows: what a step asks of the solver and the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    work: Option<StepWork>,
}

/// Per whole step of the model (the unfenced steps timed for the `step` row).
#[derive(Serialize, Clone, Copy)]
struct StepWork {
    /// Mean conjugate-gradient iterations per implicit field per step.
    iterations_per_solve: f64,
    /// Blocking host waits per step (0 on the CPU backend).
    host_waits_per_step: f64,
    /// Command submissions per step (GPU).
    submits_per_step: f64,
    /// Compute dispatches per step (GPU).
    dispatches_per_step: f64,
    /// Sum of the stages' GPU timestamp times over the wall time of the same (profiled)
    /// steps, the host's work included (GPU with timestamp queries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    busy_fraction: Option<f64>,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let backends = if args.backend.is_empty() {
        let mut b = vec![BackendChoice::Cpu];
        if osteoniche::gpu::GpuContext::new(&Default::default()).is_ok() {
            b.push(BackendChoice::Gpu);
        } else {
            println!("# no GPU adapter: measuring the CPU backend only");
        }
        b
    } else {
        args.backend.clone()
    };
    let preset = if args.transport_only {
        None
    } else {
        Some(
            Preset::load(&args.preset)
                .with_context(|| format!("loading the bench preset {}", args.preset.display()))?,
        )
    };
    let mut header = Header {
        osteoniche: env!("CARGO_PKG_VERSION"),
        date_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        cpu: cpu_model(),
        threads: rayon::current_num_threads(),
        devices: Vec::new(),
        timestamps: Vec::new(),
    };
    let mut rows = Vec::new();
    let mut printed_header = false;
    for &choice in &backends {
        let mut slow = false;
        for n in args.sizes.list() {
            if slow && matches!(args.sizes, Sizes::Auto) {
                break;
            }
            let Some(preset) = &preset else { break };
            let scenario = preset.scenario(Some(n), None)?;
            let sim = Simulation::new(scenario, choice);
            let mut sim = match sim {
                Ok(s) => s,
                Err(e) => {
                    eprintln!(
                        "warning: {choice:?} at {n}^3: does not run here ({e}); stopping this backend"
                    );
                    break;
                }
            };
            if args.warmup_days > 0.0 {
                let steps = (args.warmup_days * 1440.0 / sim.scenario().dt_min).round() as u64;
                sim.advance(steps)?;
            }
            let info = sim.backend_info();
            let stamps = info.kind == "gpu" && sim.profile_step()?.device_s.is_some();
            header.add(&info, stamps);
            let measured = measure_model(&mut sim, n, args.seconds, stamps)?;
            slow = measured
                .iter()
                .any(|r| r.stage == "step" && r.ms_per_step > 1e3 * args.max_step);
            for r in measured {
                print_row(&r, !printed_header);
                printed_header = true;
                rows.push(r);
            }
        }
        for &fields in args.fields.iter().filter(|&&f| f > 0) {
            let mut slow = false;
            for n in args.sizes.list() {
                if slow && matches!(args.sizes, Sizes::Auto) {
                    break;
                }
                let scenario = synthetic::scenario(args.case, n, fields)?;
                let setup = Setup::new(&scenario)?;
                let backend = match make_backend(&setup, choice) {
                    Ok((b, _)) => b,
                    Err(e) => {
                        eprintln!(
                            "warning: {choice:?} at {n}^3 x {fields}: does not run here ({e})"
                        );
                        break;
                    }
                };
                let mut sim =
                    Simulation::with_backend(scenario, setup.clone(), backend, String::new())?;
                let info = sim.backend_info();
                header.add(&info, false);
                for (stage, stages, counted) in [
                    (
                        Stage::Transport.name(),
                        Stages::TRANSPORT,
                        &[Stage::Transport][..],
                    ),
                    ("step", Stages::ALL, &Stage::ALL[..]),
                ] {
                    let (steps, median, fastest) = time_steps(&mut sim, stages, args.seconds)?;
                    let bytes: f64 = counted.iter().map(|&s| traffic(&setup, s, 0).bytes).sum();
                    let row = Row {
                        bench: "synthetic",
                        case: Some(args.case),
                        backend: info.kind.clone(),
                        n,
                        fields,
                        stage: stage.into(),
                        steps,
                        ms_per_step: 1e3 * median,
                        ms_fastest: 1e3 * fastest,
                        share_pct: None,
                        mupdates_per_s: (stage == "step")
                            .then(|| throughput(setup.grid.len(), fields, median) / 1e6),
                        gb_per_s: bytes / median / 1e9,
                        device_time: false,
                        work: None,
                    };
                    slow |= stage == "step" && 8.0 * median > args.max_step;
                    print_row(&row, !printed_header);
                    printed_header = true;
                    rows.push(row);
                }
            }
        }
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({ "header": header, "rows": rows });
        write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        println!("# wrote {}", path.display());
    }
    Ok(())
}

/// Times the model preset: whole steps without fences, then steps stage by stage.
fn measure_model(
    sim: &mut Simulation,
    n: usize,
    seconds: f64,
    stamps: bool,
) -> anyhow::Result<Vec<Row>> {
    let kind = sim.backend_info().kind;
    let setup = sim.setup().clone();
    let fields = setup.species.len();
    let pk_fields = sim.host_summed_fields();
    let mut rows = Vec::new();
    // Whole steps, as a run takes them.
    sim.advance(1)?;
    let before = sim.backend_mut().counters()?;
    let mut samples = repeat_for(seconds, || {
        let t = Instant::now();
        sim.advance(1)?;
        Ok(t.elapsed().as_secs_f64())
    })?;
    let work = sim.backend_mut().counters()?.since(&before);
    let per_step = |x: u64| x as f64 / samples.len() as f64;
    let mut work = StepWork {
        iterations_per_solve: work.mean_iterations(),
        host_waits_per_step: per_step(work.host_waits),
        submits_per_step: per_step(work.submits),
        dispatches_per_step: per_step(work.dispatches),
        busy_fraction: None,
    };
    let (median, fastest) = median_fastest(&mut samples);
    let all: Vec<_> = Stage::ALL
        .iter()
        .map(|&s| traffic(&setup, s, pk_fields))
        .collect();
    rows.push(Row {
        bench: "model",
        case: None,
        backend: kind.clone(),
        n,
        fields,
        stage: "step".into(),
        steps: samples.len(),
        ms_per_step: 1e3 * median,
        ms_fastest: 1e3 * fastest,
        share_pct: None,
        mupdates_per_s: Some(throughput(setup.grid.len(), fields, median) / 1e6),
        gb_per_s: all.iter().map(|t| t.bytes).sum::<f64>() / median / 1e9,
        device_time: false,
        work: None,
    });
    // Stage by stage.
    let profiles: Vec<StageTimes> = repeat_for(seconds, || Ok(sim.profile_step()?))?;
    if stamps {
        // Within the same profiled steps: the device's time in the stages over the
        // steps' wall time (stages and the host's pk work).
        let device: f64 = profiles
            .iter()
            .filter_map(|p| p.device_s.map(|d| d.iter().sum::<f64>()))
            .sum();
        let wall: f64 = profiles.iter().map(|p| p.wall_s.iter().sum::<f64>()).sum();
        work.busy_fraction = Some(device / wall.max(1e-12));
    }
    rows[0].work = Some(work);
    let total: f64 = profiles
        .iter()
        .map(|p| Stage::ALL.iter().map(|&s| p.seconds(s)).sum::<f64>())
        .sum::<f64>()
        / profiles.len() as f64;
    for (i, &stage) in Stage::ALL.iter().enumerate() {
        if all[i].bytes == 0.0 {
            continue;
        }
        let mut s: Vec<f64> = profiles.iter().map(|p| p.seconds(stage)).collect();
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        let (median, fastest) = median_fastest(&mut s);
        let device_time = stamps && stage != Stage::Pk;
        rows.push(Row {
            bench: "model",
            case: None,
            backend: kind.clone(),
            n,
            fields,
            stage: stage.name().into(),
            steps: profiles.len(),
            ms_per_step: 1e3 * median,
            ms_fastest: 1e3 * fastest,
            share_pct: Some(100.0 * mean / total.max(1e-12)),
            mupdates_per_s: None,
            gb_per_s: all[i].bytes / median.max(1e-12) / 1e9,
            device_time,
            work: None,
        });
    }
    Ok(rows)
}

/// Calls `f` until `seconds` have passed, at least five times; returns its results.
fn repeat_for<T>(seconds: f64, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<Vec<T>> {
    let start = Instant::now();
    let mut out = Vec::new();
    while out.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        out.push(f()?);
    }
    Ok(out)
}

fn median_fastest(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0])
}

/// Times single steps of `stages` (after one warm-up step) until `seconds` have passed,
/// at least five; returns the number of steps and the median and fastest time per step.
/// The median resists the noise of shared machines; the fastest is the machine's best.
fn time_steps(
    sim: &mut Simulation,
    stages: Stages,
    seconds: f64,
) -> anyhow::Result<(usize, f64, f64)> {
    let backend = sim.backend_mut();
    backend.advance(1, stages)?;
    let mut samples = repeat_for(seconds, || {
        let t = Instant::now();
        backend.advance(1, stages)?;
        Ok(t.elapsed().as_secs_f64())
    })?;
    let (median, fastest) = median_fastest(&mut samples);
    Ok((samples.len(), median, fastest))
}

/// The CPU's model name (Linux), or the architecture.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

fn print_device(info: &BackendInfo, stamps: bool) {
    let timing = match (info.kind.as_str(), stamps) {
        ("gpu", true) => "stage times: GPU timestamp queries",
        ("gpu", false) => "stage times: wall time around a fence after each stage",
        _ => "stage times: wall time",
    };
    println!("# {info}; {timing}");
}

fn print_row(r: &Row, header: bool) {
    if header {
        println!(
            "# M vox-fld/s (step rows): voxels x fields advanced by one whole time step per \
             second, at the median; stage rows give their time and the effective bandwidth of \
             the bytes they must move"
        );
        println!(
            "{:<9} {:<4} {:>5} {:>6} {:<10} {:>6} {:>10} {:>10} {:>7} {:>12} {:>8} {:>8} {:>6} {:>7} {:>8} {:>5}",
            "bench",
            "kind",
            "n",
            "fields",
            "stage",
            "steps",
            "ms/step",
            "fastest",
            "share",
            "M vox-fld/s",
            "GB/s",
            "it/solve",
            "waits",
            "submits",
            "dispatch",
            "busy"
        );
    }
    let share = r.share_pct.map_or(String::new(), |s| format!("{s:.1}%"));
    let work = r.work.map_or(String::new(), |w| {
        format!(
            " {:>8.2} {:>6.1} {:>7.1} {:>8.0} {:>5}",
            w.iterations_per_solve,
            w.host_waits_per_step,
            w.submits_per_step,
            w.dispatches_per_step,
            w.busy_fraction.map_or("-".into(), |b| format!("{b:.2}"))
        )
    });
    let rate = r
        .mupdates_per_s
        .map_or(String::new(), |m| format!("{m:.1}"));
    println!(
        "{:<9} {:<4} {:>5} {:>6} {:<10} {:>6} {:>10.2} {:>10.2} {:>7} {:>12} {:>8.2}{work}",
        r.case.map_or(r.bench, Case::name),
        r.backend,
        r.n,
        r.fields,
        r.stage,
        r.steps,
        r.ms_per_step,
        r.ms_fastest,
        share,
        rate,
        r.gb_per_s
    );
}
