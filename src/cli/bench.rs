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
    steps: u64,
    seconds: f64,
    ms_per_step: f64,
    /// Million voxel-field updates per second (mobile fields for transport, all for full).
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
                    let (steps, secs) = time_steps(&mut sim, stages, args.seconds)?;
                    let updates = (n * n * n * counted) as f64 * steps as f64;
                    let row = Row {
                        backend: device.kind.clone(),
                        device: device.device.clone(),
                        n,
                        fields,
                        stage,
                        steps,
                        seconds: secs,
                        ms_per_step: 1e3 * secs / steps as f64,
                        mvox_fields_per_s: updates / secs / 1e6,
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

/// Runs steps until `seconds` have passed (after one warm-up step); returns steps and time.
fn time_steps(sim: &mut Simulation, stages: Stages, seconds: f64) -> anyhow::Result<(u64, f64)> {
    let backend: &mut dyn Backend = sim.backend_mut();
    backend.advance(1, stages)?;
    let start = Instant::now();
    let mut steps = 0;
    let mut batch = 1;
    while start.elapsed().as_secs_f64() < seconds {
        backend.advance(batch, stages)?;
        steps += batch;
        batch = (batch * 2).min(64);
    }
    Ok((steps, start.elapsed().as_secs_f64()))
}

fn print_row(r: &Row, header: bool) {
    if header {
        println!(
            "{:<5} {:<40} {:>5} {:>6} {:<10} {:>7} {:>10} {:>14} {:>8}",
            "kind", "device", "n", "fields", "stage", "steps", "ms/step", "M vox-field/s", "B/v-f"
        );
    }
    println!(
        "{:<5} {:<40} {:>5} {:>6} {:<10} {:>7} {:>10.2} {:>14.1} {:>8.1}",
        r.backend,
        r.device.chars().take(40).collect::<String>(),
        r.n,
        r.fields,
        r.stage,
        r.steps,
        r.ms_per_step,
        r.mvox_fields_per_s,
        r.bytes_per_voxel_field
    );
}
