//! Criterion benches of whole steps of the synthetic cases on each backend (`cargo bench
//! --bench transport`); throughput is voxels x fields advanced by one whole step per
//! second, as `osteoniche bench` reports it. `biofvm` is BioFVM's own benchmark problem.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use osteoniche::launch::{BackendChoice, make_backend};
use osteoniche::sim::setup::Setup;
use osteoniche::sim::synthetic::{Case, scenario};
use osteoniche::sim::{Simulation, Stages};

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.sample_size(10);
    let gpu_ok = osteoniche::gpu::GpuContext::new(&Default::default()).is_ok();
    for choice in [BackendChoice::Cpu, BackendChoice::Gpu] {
        if choice == BackendChoice::Gpu && !gpu_ok {
            eprintln!("SKIPPED gpu benches: no adapter");
            continue;
        }
        for (case, n, fields) in [
            (Case::Biofvm, 64usize, 1usize),
            (Case::Biofvm, 64, 8),
            (Case::Lattice, 64, 8),
        ] {
            let sc = scenario(case, n, fields).expect("scenario");
            let setup = Setup::new(&sc).expect("setup");
            let (backend, _) = make_backend(&setup, choice).expect("backend");
            let mut sim = Simulation::with_backend(sc, setup, backend, String::new()).expect("sim");
            group.throughput(Throughput::Elements((n * n * n * fields) as u64));
            let id = BenchmarkId::new(
                format!("{choice:?}/{}", case.name()),
                format!("{n}^3x{fields}"),
            );
            group.bench_function(id, |b| {
                b.iter(|| sim.backend_mut().advance(1, Stages::ALL).expect("step"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
