//! `osteoniche bench`: transport and full-step throughput per backend, grid and field count.

use std::time::Instant;

use clap::Args;
use osteoniche::sim::setup::Setup;
use osteoniche::sim::synthetic::bench_scenario;
use osteoniche::sim::{Backend, BackendChoice, Simulation, Stages, make_backend};
use serde::Serialize;

#[derive(Args)]
pub struct BenchArgs {
    /// Backends to measure (default: cpu, and gpu when an adapter exists).
    #[arg(long, value_delimiter = ',', value_parser = super::parse_backend)]
    backend: Vec<BackendChoice>,
    /// Grid edges (voxels).
    #[arg(long, value_delimiter = ',', default_values_t = vec![64usize, 128])]
    sizes: Vec<usize>,
    /// Mobile field counts.
    #[arg(long, value_delimiter = ',', default_values_t = vec![8usize, 24])]
    fields: Vec<usize>,
    /// Minimum seconds of timing per measurement.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    backend: String,
    device: String,
    n: usize,
    fields: usize,
    stage: &'static str,
    /// Steps timed.
    steps: usize,
    /// Median time per step.
    ms_per_step: f64,
    /// Fastest step.
    ms_per_step_fastest: f64,
    /// Million voxel-field updates per second at the median step time (mobile fields for
    /// transport, all fields for the full step).
    mvox_fields_per_s: f64,
    bytes_per_voxel_field: f64,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let backends = if args.backend.is_empty() {
        let mut b = vec![BackendChoice::Cpu];
        if osteoniche::gpu::GpuContext::new(&Default::default()).is_ok() {
            b.push(BackendChoice::Gpu);
        }
        b
    } else {
        args.backend.clone()
    };
    let mut rows = Vec::new();
    for &choice in &backends {
        for &n in &args.sizes {
            for &fields in &args.fields {
                let scenario = bench_scenario(n, fields)?;
                let setup = Setup::new(&scenario)?;
                let (backend, _) = match make_backend(&setup, choice) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("skipping {choice:?} at {n}^3 x {fields}: {e}");
                        continue;
                    }
                };
                let mut sim =
                    Simulation::with_backend(scenario, setup.clone(), backend, String::new())?;
                let device = sim.backend_info();
                for (stage, stages, counted) in [
                    ("transport", Stages::TRANSPORT, fields),
                    ("full step", Stages::ALL, fields + 1),
                ] {
                    let (steps, median, fastest) = time_steps(&mut sim, stages, args.seconds)?;
                    let updates = (n * n * n * counted) as f64;
                    let row = Row {
                        backend: device.kind.clone(),
                        device: device.device.clone(),
                        n,
                        fields,
                        stage,
                        steps,
                        ms_per_step: 1e3 * median,
                        ms_per_step_fastest: 1e3 * fastest,
                        mvox_fields_per_s: updates / median / 1e6,
                        bytes_per_voxel_field: setup.field_bytes() as f64
                            / (n * n * n * (fields + 1)) as f64,
                    };
                    if !args.json {
                        print_row(&row, rows.is_empty());
                    }
                    rows.push(row);
                }
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

/// Times single steps (after one warm-up step) until `seconds` have passed, at least five;
/// returns the number of steps and the median and fastest time per step. The median
/// resists the noise of shared machines; the fastest is the machine's best.
fn time_steps(
    sim: &mut Simulation,
    stages: Stages,
    seconds: f64,
) -> anyhow::Result<(usize, f64, f64)> {
    let backend: &mut dyn Backend = sim.backend_mut();
    backend.advance(1, stages)?;
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        backend.advance(1, stages)?;
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    Ok((samples.len(), samples[samples.len() / 2], samples[0]))
}

fn print_row(r: &Row, header: bool) {
    if header {
        println!(
            "{:<5} {:<40} {:>5} {:>6} {:<10} {:>7} {:>10} {:>10} {:>14} {:>8}",
            "kind",
            "device",
            "n",
            "fields",
            "stage",
            "steps",
            "ms/step",
            "fastest",
            "M vox-field/s",
            "B/v-f"
        );
    }
    println!(
        "{:<5} {:<40} {:>5} {:>6} {:<10} {:>7} {:>10.2} {:>10.2} {:>14.1} {:>8.1}",
        r.backend,
        r.device.chars().take(40).collect::<String>(),
        r.n,
        r.fields,
        r.stage,
        r.steps,
        r.ms_per_step,
        r.ms_per_step_fastest,
        r.mvox_fields_per_s,
        r.bytes_per_voxel_field
    );
}
