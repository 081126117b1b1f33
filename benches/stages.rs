//! Criterion benches of each kernel (stage) of the model step on each backend
//! (`cargo bench --bench stages`): every iteration runs a whole profiled step and books only
//! the named stage's time (GPU timestamps where the adapter has them, else wall time around
//! a fence), so each kernel is measured in the state a real run gives it. The field
//! reduction behind metrics is benched as `reduce`. `osteoniche bench` prints the same
//! stage table for any size.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use osteoniche::launch::BackendChoice;
use osteoniche::preset::Preset;
use osteoniche::sim::Simulation;
use osteoniche::sim::profile::{Stage, traffic};

/// Grid edge of the benched preset (small: the GPU here is lavapipe).
const N: usize = 32;

fn stages(c: &mut Criterion) {
    let preset = Preset::load("presets/therapy/breast-nanodocetaxel-denosumab.toml".as_ref())
        .expect("bench preset");
    let gpu_ok = osteoniche::gpu::GpuContext::new(&Default::default()).is_ok();
    let mut group = c.benchmark_group("stage");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for choice in [BackendChoice::Cpu, BackendChoice::Gpu] {
        if choice == BackendChoice::Gpu && !gpu_ok {
            eprintln!("SKIPPED gpu stage benches: no adapter");
            continue;
        }
        let scenario = preset.scenario(Some(N), None).expect("scenario");
        let mut sim = Simulation::new(scenario, choice).expect("simulation");
        let setup = sim.setup().clone();
        let pk = sim.host_summed_fields();
        for stage in Stage::ALL {
            let t = traffic(&setup, stage, pk);
            if t.bytes == 0.0 {
                continue;
            }
            // A stage's throughput is the bytes it must move (a whole step's is voxels x
            // fields, `benches/transport.rs`).
            group.throughput(Throughput::Bytes(t.bytes as u64));
            let id = format!("{choice:?}/{}/{N}^3", stage.name());
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let mut total = 0.0;
                    for _ in 0..iters {
                        total += sim.profile_step().expect("step").seconds(stage);
                    }
                    Duration::from_secs_f64(total)
                })
            });
        }
        let fields = setup.species.len() * setup.grid.len();
        group.throughput(Throughput::Elements(fields as u64));
        group.bench_function(format!("{choice:?}/reduce/{N}^3"), |b| {
            b.iter(|| sim.stats().expect("reduce"))
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
