//! Criterion benches of the transport step and the full step on each backend
//! (`cargo bench`); `osteoniche bench` prints the same figures as a table or JSON.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use osteoniche::sim::setup::Setup;
use osteoniche::sim::synthetic::bench_scenario;
use osteoniche::sim::{BackendChoice, Simulation, Stages, make_backend};

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.sample_size(10);
    let gpu_ok = osteoniche::gpu::GpuContext::new(&Default::default()).is_ok();
    for choice in [BackendChoice::Cpu, BackendChoice::Gpu] {
        if choice == BackendChoice::Gpu && !gpu_ok {
            eprintln!("SKIPPED gpu benches: no adapter");
            continue;
        }
        for (n, fields) in [(64usize, 8usize), (64, 24)] {
            let sc = bench_scenario(n, fields).expect("scenario");
            let setup = Setup::new(&sc).expect("setup");
            let (backend, _) = make_backend(&setup, choice).expect("backend");
            let mut sim = Simulation::with_backend(sc, setup, backend, String::new()).expect("sim");
            for (stage, stages, counted) in [
                ("transport", Stages::TRANSPORT, fields),
                ("full", Stages::ALL, fields + 1),
            ] {
                group.throughput(Throughput::Elements((n * n * n * counted) as u64));
                let id = BenchmarkId::new(format!("{choice:?}/{stage}"), format!("{n}^3x{fields}"));
                group.bench_function(id, |b| {
                    b.iter(|| sim.backend_mut().advance(1, stages).expect("step"))
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
