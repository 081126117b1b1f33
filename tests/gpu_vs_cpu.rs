//! Every GPU kernel against its CPU mirror on small grids. Tolerance: 2e-5 of the field's
//! magnitude (f32 arithmetic, fused multiply-adds and exp() differ between the two).
//! Without an adapter these tests print SKIPPED, unless OSTEONICHE_REQUIRE_GPU=1 (CI).

mod common;
use common::*;
use osteoniche::gpu::{GpuBackend, XSweep};
use osteoniche::sim::{Backend, Stages};

const TOL: f64 = 2e-5;

/// A preset exercising every kernel: bone lattice, Dirichlet faces, sources of all shapes,
/// decay and logistic growth.
fn rich_preset(scheme: &str, size: [usize; 3]) -> String {
    preset_text(
        "rich",
        &[
            ("nx", &size[0]),
            ("ny", &size[1]),
            ("nz", &size[2]),
            ("scheme", &scheme),
        ],
    )
}

fn compare(
    test: &str,
    scheme: &str,
    size: [usize; 3],
    stages: Stages,
    steps: u64,
    chunk_limit: Option<u64>,
) {
    let Some(ctx) = gpu_context(test) else {
        return;
    };
    compare_on(ctx, test, scheme, size, stages, steps, chunk_limit);
}

fn compare_on(
    mut ctx: osteoniche::gpu::GpuContext,
    test: &str,
    scheme: &str,
    size: [usize; 3],
    stages: Stages,
    steps: u64,
    chunk_limit: Option<u64>,
) {
    if let Some(limit) = chunk_limit {
        ctx.limits.max_storage_buffer_binding_size = limit;
    }
    let sc = scenario(&rich_preset(scheme, size));
    let mut cpu = cpu_sim(&sc);
    let mut gpu = gpu_sim(&ctx, &sc);
    let start = cpu.fields().unwrap();
    assert_eq!(
        start,
        gpu.fields().unwrap(),
        "{test}: upload/readback must be exact"
    );
    cpu.backend_mut().advance(steps, stages).unwrap();
    gpu.backend_mut().advance(steps, stages).unwrap();
    let (c, g) = (cpu.fields().unwrap(), gpu.fields().unwrap());
    let n = sc.grid.len();
    for (f, name) in sc.species.names().iter().enumerate() {
        let (d, m) = max_diff(&g[f * n..(f + 1) * n], &c[f * n..(f + 1) * n]);
        println!("{test}: field {name}: max |gpu - cpu| = {d:.2e} (magnitude {m:.2e})");
        assert!(
            d <= TOL * m.max(1.0),
            "{test}: field {name} differs by {d} (magnitude {m})"
        );
    }
    assert_ne!(c, start, "{test}: the stages changed something");
    // Statistics: the GPU reduction against the CPU one.
    let (cs, gs) = (cpu.stats().unwrap(), gpu.stats().unwrap());
    for (a, b) in cs.iter().zip(&gs) {
        assert!(
            (a.sum - b.sum).abs() <= 1e-5 * a.sum.abs().max(1.0),
            "{test}: sums {} vs {}",
            a.sum,
            b.sum
        );
        assert!((a.min - b.min).abs() <= TOL * a.max.abs().max(1.0));
        assert!((a.max - b.max).abs() <= TOL * a.max.abs().max(1.0));
        assert_eq!((a.nonfinite, a.negative), (b.nonfinite, b.negative));
    }
}

#[test]
fn transport_backward_euler_matches_cpu() {
    compare(
        "transport_backward_euler",
        "backward-euler",
        [20, 14, 12],
        Stages::TRANSPORT,
        3,
        None,
    );
}

/// Both x-sweep kernels (one line per invocation; whole lines through workgroup memory)
/// match the CPU, on a grid whose x lines do not fill the last tile.
#[test]
fn plain_and_tiled_x_sweeps_match_cpu() {
    let Some(ctx) = gpu_context("plain_and_tiled_x_sweeps_match_cpu") else {
        return;
    };
    for (kernel, scheme) in [
        (XSweep::Plain, "backward-euler"),
        (XSweep::Tiled, "backward-euler"),
        (XSweep::Tiled, "crank-nicolson"),
    ] {
        let mut ctx = ctx.clone();
        ctx.x_sweep = kernel;
        let size = [61, 9, 7];
        let sc = scenario(&rich_preset(scheme, size));
        let (_, gpu, _) = gpu_backend(&ctx, &sc);
        // 2040 / 62 = 32 lines per tile, 63 lines: the last tile holds 31.
        let expected = if kernel == XSweep::Tiled { 32 } else { 0 };
        assert_eq!(gpu.x_sweep_tile(), expected, "{kernel:?}");
        let test = format!("x sweep {kernel:?} {scheme}");
        compare_on(ctx, &test, scheme, size, Stages::TRANSPORT, 2, None);
    }
}

#[test]
fn transport_crank_nicolson_matches_cpu() {
    compare(
        "transport_crank_nicolson",
        "crank-nicolson",
        [12, 18, 10],
        Stages::TRANSPORT,
        2,
        None,
    );
}

#[test]
fn sources_match_cpu() {
    let only = Stages {
        sources: true,
        transport: false,
        reactions: false,
    };
    compare("sources", "backward-euler", [16, 12, 10], only, 3, None);
}

#[test]
fn react_matches_cpu() {
    let only = Stages {
        sources: false,
        transport: false,
        reactions: true,
    };
    compare("react", "backward-euler", [16, 12, 10], only, 3, None);
}

#[test]
fn full_steps_match_cpu() {
    compare(
        "full_steps",
        "crank-nicolson",
        [16, 16, 16],
        Stages::ALL,
        4,
        None,
    );
}

/// Fields split over several buffers (as on adapters with small binding limits) give the
/// same answer: the limit is lowered to two fields per chunk.
#[test]
fn chunked_field_buffers_match_cpu() {
    let bytes = 4 * 16 * 12 * 10 * 2;
    compare(
        "chunked",
        "backward-euler",
        [16, 12, 10],
        Stages::ALL,
        3,
        Some(bytes),
    );
}

/// Non-finite and negative values are counted by the GPU reduction.
#[test]
fn gpu_reduction_counts_bad_values() {
    let Some(ctx) = gpu_context("gpu_reduction_counts_bad_values") else {
        return;
    };
    let sc = scenario(&rich_preset("backward-euler", [9, 7, 5]));
    let mut gpu = gpu_sim(&ctx, &sc);
    let mut f = gpu.fields().unwrap();
    let n = sc.grid.len();
    f[2 * n + 3] = f32::NAN;
    f[2 * n + 4] = f32::INFINITY;
    f[3 * n + 5] = -1.0;
    gpu.backend_mut().write_fields(&f).unwrap();
    let s = gpu.stats().unwrap();
    assert_eq!(s[2].nonfinite, 2);
    assert_eq!(s[3].negative, 1);
    assert_eq!(s[3].min, -1.0);
}

/// The same preset on the GPU twice gives identical fields.
#[test]
fn gpu_runs_are_deterministic() {
    let Some(ctx) = gpu_context("gpu_runs_are_deterministic") else {
        return;
    };
    let sc = scenario(&rich_preset("crank-nicolson", [12, 10, 8]));
    let run = || {
        let mut s = gpu_sim(&ctx, &sc);
        s.advance(5).unwrap();
        s.fields().unwrap()
    };
    assert_eq!(run(), run());
}

/// A lost device is an error with a message on the next operation, never a panic.
#[test]
fn a_lost_device_is_reported() {
    let Some(ctx) = gpu_context("a_lost_device_is_reported") else {
        return;
    };
    let sc = scenario(&rich_preset("backward-euler", [8, 8, 8]));
    let mut gpu = gpu_sim(&ctx, &sc);
    gpu.advance(1).unwrap();
    ctx.device.destroy();
    let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gpu.advance(1).map_err(Box::new)
    }));
    let e = *step
        .expect("no panic")
        .expect_err("a destroyed device cannot step");
    // Typed, so a caller can tell a lost device from a refused input.
    assert!(matches!(e, osteoniche::Error::DeviceLost { .. }), "{e:?}");
    let err = e.to_string();
    assert!(
        err.contains("lost") && err.contains("--backend cpu"),
        "{err}"
    );
}

/// Grids of more than 65535 x 64 voxels need the second dispatch dimension in the
/// per-voxel kernels (162^3 = 4.25 M voxels).
#[test]
fn large_grids_use_the_second_dispatch_dimension() {
    let Some(ctx) = gpu_context("large_grids_use_the_second_dispatch_dimension") else {
        return;
    };
    let text = r#"
name = "large"
grid = { size = [162, 162, 162], voxel_um = 20.0 }
time = { dt = "1 min", duration = "2 min" }
[[species]]
name = "u"
decay = 0.3
growth = 0.2
capacity = 2.0
initial = { kind = "gaussian", center_um = [1600.0, 1600.0, 3000.0], sigma_um = 400.0, amplitude = 1.0, background = 0.1 }
[[sources]]
species = "u"
region = { kind = "box", min_um = [0.0, 0.0, 3000.0], max_um = [3240.0, 3240.0, 3240.0] }
supply_rate = 1.0
target = 5.0
"#;
    let sc = scenario(text);
    assert!(sc.grid.len() > 65535 * 64);
    let (mut cpu, mut gpu) = (cpu_sim(&sc), gpu_sim(&ctx, &sc));
    let stages = Stages {
        sources: true,
        transport: false,
        reactions: true,
    };
    cpu.backend_mut().advance(2, stages).unwrap();
    gpu.backend_mut().advance(2, stages).unwrap();
    let (c, g) = (cpu.fields().unwrap(), gpu.fields().unwrap());
    let (d, m) = max_diff(&g, &c);
    assert!(d <= TOL * m, "max difference {d} (magnitude {m})");
    // The last voxels (only reached through the second dimension) changed.
    let n = c.len();
    assert!(g[n - 1] > 0.2, "last voxel {}", g[n - 1]);
}

/// The implicit solver on the GPU against its CPU mirror: bone, fixed faces, a sphere sink,
/// a field-weighted supply, decay; several long steps. The conjugate-gradient iterations
/// stop at a relative residual of 1e-5 on both, so they agree to that order.
/// The rich preset with fields `a` and `b` solved implicitly, at steps of 15 min for 1 h.
fn implicit_preset(size: [usize; 3]) -> String {
    rich_preset("backward-euler", size)
        .replace(
            "name = \"a\"\ndiffusion = 4000.0",
            "name = \"a\"\nsolver = \"implicit\"\ndiffusion = 4000.0",
        )
        .replace(
            "name = \"b\"\ndiffusion = 200.0",
            "name = \"b\"\nsolver = \"implicit\"\ndiffusion = 200.0",
        )
        .replace(
            "dt = \"0.5 min\", duration = \"5 min\"",
            "dt = \"15 min\", duration = \"1 h\"",
        )
}

#[test]
fn implicit_solver_matches_cpu() {
    let Some(ctx) = gpu_context("implicit_solver_matches_cpu") else {
        return;
    };
    let text = implicit_preset([18, 14, 12]);
    assert!(text.matches("solver = \"implicit\"").count() == 2);
    let sc = scenario(&text);
    let (mut cpu, mut gpu) = (cpu_sim(&sc), gpu_sim(&ctx, &sc));
    cpu.advance(sc.steps).unwrap();
    gpu.advance(sc.steps).unwrap();
    let (c, g) = (cpu.fields().unwrap(), gpu.fields().unwrap());
    let n = sc.grid.len();
    for (f, name) in sc.species.names().iter().enumerate() {
        let (d, m) = max_diff(&g[f * n..(f + 1) * n], &c[f * n..(f + 1) * n]);
        println!("implicit: field {name}: max |gpu - cpu| = {d:.2e} (magnitude {m:.2e})");
        assert!(
            d <= 2e-4 * m.max(1e-6),
            "field {name} differs by {d} (magnitude {m})"
        );
    }
}

/// One multigrid V-cycle (coarse operators, transfers, red-black smoothing, coarsest
/// solve: every kernel of `shaders/multigrid.wgsl`) on the GPU equals its CPU mirror
/// (`cpu::multigrid`) for the same operator, on an odd-sized lattice with bone, fixed
/// faces and a source region, for two implicit fields in one batch.
#[test]
fn multigrid_vcycle_matches_cpu() {
    let Some(ctx) = gpu_context("multigrid_vcycle_matches_cpu") else {
        return;
    };
    // One level (the coarsest solve alone), two, and four with odd axes.
    for (size, levels) in [([4, 4, 3], 1), ([8, 6, 4], 2), ([19, 14, 11], 4)] {
        vcycle_case(&ctx, size, levels);
    }
}

/// A GPU backend (not a simulation: the tests drive its steps) holding `sc`'s initial
/// fields, with its set-up and those fields.
fn gpu_backend(
    ctx: &osteoniche::gpu::GpuContext,
    sc: &osteoniche::preset::Scenario,
) -> (osteoniche::sim::Setup, GpuBackend, Vec<f32>) {
    let setup = osteoniche::sim::Setup::new(sc).expect("setup");
    let mut gpu = GpuBackend::with_context(ctx.clone(), &setup).expect("gpu backend");
    let lattice = osteoniche::sim::setup::lattice(sc).expect("lattice");
    let fields = osteoniche::sim::setup::initial_fields(sc, lattice.as_ref());
    gpu.write_fields(&fields).expect("upload");
    (setup, gpu, fields)
}

fn vcycle_case(ctx: &osteoniche::gpu::GpuContext, size: [usize; 3], levels: usize) {
    let text = implicit_preset(size);
    let sc = scenario(&text);
    let (setup, mut gpu, fields) = gpu_backend(ctx, &sc);
    let n = sc.grid.len();
    // A rough residual (the V-cycle is linear: any right-hand side will do).
    let r: Vec<f32> = (0..setup.implicit.len() * n)
        .map(|v| ((v * 7919) % 97) as f32 / 97.0 - 0.3)
        .collect();
    let z_gpu = gpu.implicit_vcycle(&r).expect("gpu v-cycle");
    for (slot, &f) in setup.implicit.iter().enumerate() {
        let mut work = osteoniche::cpu::implicit::Work::default();
        osteoniche::cpu::implicit::assemble(
            &fields,
            f,
            setup.species.bone(),
            &setup.grid,
            &setup.step,
            &setup.transport[f],
            setup.species.get(f).decay_per_min as f32,
            &setup.implicit_regions,
            None,
            &mut work,
        );
        let mg = work.multigrid();
        mg.build();
        assert_eq!(mg.levels(), levels, "{size:?}");
        let mut z = vec![0f32; n];
        mg.cycle(&r[slot * n..(slot + 1) * n], &mut z);
        let (d, m) = max_diff(&z_gpu[slot * n..(slot + 1) * n], &z);
        println!(
            "{size:?}, {} levels: v-cycle of field {f}: max |gpu - cpu| = {d:.2e} (magnitude {m:.2e})",
            mg.levels()
        );
        assert!(m > 0.0, "the cycle did something");
        assert!(
            d <= 1e-5 * m,
            "field {f}: V-cycle differs by {d} (magnitude {m})"
        );
    }
}

/// A solve that runs out of the iterations recorded for it continues from where it
/// stopped (one iteration recorded per step here, so every solve continues) and lands
/// where the CPU does.
#[test]
fn implicit_solves_continue_past_a_short_budget() {
    let Some(ctx) = gpu_context("implicit_solves_continue_past_a_short_budget") else {
        return;
    };
    let sc = scenario(&implicit_preset([14, 12, 10]));
    let (setup, mut gpu, fields) = gpu_backend(&ctx, &sc);
    let mut cpu = osteoniche::cpu::CpuBackend::new(&setup).expect("cpu");
    cpu.write_fields(&fields).expect("upload");
    for _ in 0..sc.steps {
        gpu.set_implicit_budget(1);
        gpu.advance(1, setup.stages).expect("gpu step");
        cpu.advance(1, setup.stages).expect("cpu step");
    }
    let work = gpu.counters().expect("counters");
    assert!(
        work.implicit_iterations > work.implicit_solves,
        "the solves needed more than the one recorded iteration: {work:?}"
    );
    let (c, g) = (cpu.read_fields().unwrap(), gpu.read_fields().unwrap());
    let n = sc.grid.len();
    for (f, name) in sc.species.names().iter().enumerate() {
        let (d, m) = max_diff(&g[f * n..(f + 1) * n], &c[f * n..(f + 1) * n]);
        assert!(
            d <= 2e-4 * m.max(1e-6),
            "field {name} differs by {d} (magnitude {m})"
        );
    }
}

/// A grid whose implicit reaction rates pass the adapter's binding size is refused with
/// the sizes and a resolution that fits, not a validation error at bind-group creation.
#[test]
fn implicit_rates_beyond_the_binding_limit_are_refused() {
    let Some(mut ctx) = gpu_context("implicit_rates_beyond_the_binding_limit_are_refused") else {
        return;
    };
    // 256 KiB per binding: the 16^3 default preset's 11 implicit fields need 352 KiB of
    // rates; its fields and multigrid levels fit in chunks and batches of that size.
    ctx.limits.max_storage_buffer_binding_size = 256 * 1024;
    let sc =
        osteoniche::preset::Preset::load(std::path::Path::new("presets/breast-osteolytic.toml"))
            .expect("preset")
            .scenario(Some(16), None)
            .expect("scenario");
    let setup = osteoniche::sim::Setup::new(&sc).expect("setup");
    let err = match GpuBackend::with_context(ctx, &setup) {
        Ok(_) => panic!("a rate buffer past the binding limit was accepted"),
        Err(e) => e.to_string(),
    };
    // 11 x 2 rates x 4096 voxels x 4 B = 0.34 MiB; 14^3 is the largest grid that fits.
    assert!(
        err.contains("11 implicit fields on 16x16x16 voxels need 0.3 MiB in one buffer"),
        "{err}"
    );
    assert!(err.contains("binds at most 0.2 MiB"), "{err}");
    assert!(
        err.contains("--resolution 14 or smaller") && err.contains("--backend cpu"),
        "{err}"
    );
}

/// A kernel that is in no table of the product: built and dispatched from its record, its
/// WGSL and its CPU mirror alone, through the code every voxel-wise kernel goes through
/// (the generated prelude with `WG`, `MAX_GROUPS` and the chunk accessors, the bindings
/// reflected and checked against the record's `host`, the pipeline, the host of
/// `gpu/voxelwise.rs`). This is what docs/architecture.md says adding a kernel takes.
const SCRATCH_WGSL: &str = r#"
struct Scratch { gain: f32, pad0: f32, pad1: f32, pad2: f32 }
@group(0) @binding(0) var<uniform> step: Scratch;

@compute @workgroup_size(WG)
fn scratch(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = gid.x + gid.y * MAX_GROUPS * WG;
    if (v >= NV) {
        return;
    }
    let x = v % NX;
    let right = v - x + min(x + 1u, NX - 1u);
    let up = select(v + NX * NY, v, v / (NX * NY) + 1u >= NZ);
    store(1u, v, step.gain * load(0u, v) + load(0u, right) - 0.5 * load(0u, up));
}
"#;

/// The scratch kernel's record, as it would stand in `src/kernels.rs`.
const SCRATCH: osteoniche::kernels::KernelSpec = osteoniche::kernels::KernelSpec {
    name: "scratch",
    source: SCRATCH_WGSL,
    includes: &[],
    host: &["step"],
    chunks: osteoniche::kernels::Chunks::All,
    needs_model: false,
    workgroup: 32,
};

/// The scratch kernel's CPU mirror: field 1 from field 0 and its +x and +z neighbours
/// (clamped at the walls).
fn scratch_cpu(gain: f32, u: &[f32], [nx, ny, nz]: [usize; 3]) -> Vec<f32> {
    (0..nx * ny * nz)
        .map(|v| {
            let x = v % nx;
            let right = v - x + (x + 1).min(nx - 1);
            let up = if v / (nx * ny) + 1 >= nz {
                v
            } else {
                v + nx * ny
            };
            gain * u[v] + u[right] - 0.5 * u[up]
        })
        .collect()
}

#[test]
fn a_scratch_kernel_runs_from_its_record_wgsl_and_cpu_mirror_alone() {
    use osteoniche::gpu::layout::FieldLayout;
    use osteoniche::gpu::voxelwise::Voxelwise;
    use osteoniche::model::{Solver, Species, SpeciesKind, SpeciesList};
    use wgpu::util::DeviceExt;
    let Some(ctx) = gpu_context("a_scratch_kernel_runs_from_its_record_wgsl_and_cpu_mirror_alone")
    else {
        return;
    };
    assert_eq!(osteoniche::kernels::Kernel::named(SCRATCH.name), None);
    let species = SpeciesList::new(
        ["u", "w"]
            .map(|name| Species {
                name: name.into(),
                kind: SpeciesKind::Factor,
                unit: "nM".into(),
                diffusion_um2_min: 0.0,
                decay_per_min: 0.0,
                bone_permeability: 1.0,
                growth_per_min: 0.0,
                capacity: 1.0,
                solver: Solver::Split,
            })
            .to_vec(),
    );
    let size = [9, 7, 5];
    let grid = osteoniche::grid::Grid::new(size[0], size[1], size[2], 20.0);
    let n = grid.len();
    // One field per buffer, so the kernel reaches its two fields through two chunks.
    let limits = wgpu::Limits {
        max_storage_buffer_binding_size: 4 * n as u64,
        ..ctx.limits.clone()
    };
    let fl = FieldLayout::new(grid, species.len(), &limits).unwrap();
    assert_eq!(fl.chunks(), 2);
    let u: Vec<f32> = (0..n).map(|v| ((v * 37) % 101) as f32 / 7.0).collect();
    let device = &ctx.device;
    let usage =
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    let chunks = [
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("scratch.u"),
            contents: bytemuck::cast_slice(&u),
            usage,
        }),
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("scratch.w"),
            contents: bytemuck::cast_slice(&vec![0f32; n]),
            usage,
        }),
    ];
    let gain = 0.75f32;
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("scratch.step"),
        contents: bytemuck::cast_slice(&[gain, 0.0, 0.0, 0.0]),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let kernel = Voxelwise::new(device, SCRATCH, &fl, &species, &uniform, &[], &chunks)
        .unwrap_or_else(|e| panic!("{e}"));
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("scratch.readback"),
        size: 4 * n as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        assert_eq!(kernel.encode(&mut pass), 1);
    }
    enc.copy_buffer_to_buffer(&chunks[1], 0, &readback, 0, 4 * n as u64);
    ctx.queue.submit([enc.finish()]);
    readback.map_async(wgpu::MapMode::Read, .., |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let gpu: Vec<f32> = bytemuck::cast_slice(&readback.get_mapped_range(..).unwrap()).to_vec();
    let cpu = scratch_cpu(gain, &u, size);
    let (d, m) = max_diff(&gpu, &cpu);
    assert!(
        m > 1.0 && d <= 1e-6 * m,
        "max difference {d} (magnitude {m})"
    );

    // A record whose host disagrees with its WGSL is refused before any pipeline, with
    // both lists.
    let wrong = osteoniche::kernels::KernelSpec {
        host: &["params"],
        ..SCRATCH
    };
    let e = Voxelwise::new(device, wrong, &fl, &species, &uniform, &[], &chunks)
        .err()
        .expect("a host naming `params` where the shader binds `step`")
        .to_string();
    assert!(
        e.contains("scratch")
            && e.contains("[step, chunk0, chunk1]")
            && e.contains("[params, chunk0, chunk1]"),
        "{e}"
    );
}
