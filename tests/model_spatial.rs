//! The bone-metastasis model on a lattice: tumour-free bone holds, osteolytic tumours
//! resorb faster as they grow, osteoblastic ones add bone around them, senescent osteocytes
//! gather near tumour; the GPU backend agrees with the CPU backend on every field.

mod common;

use osteoniche::preset::{Preset, Scenario};
use osteoniche::sim::Simulation;

fn preset_scenario(name: &str, resolution: usize) -> Scenario {
    Preset::load(format!("presets/{name}.toml").as_ref())
        .unwrap()
        .scenario(Some(resolution), None)
        .unwrap()
}

/// Sum of a field.
fn integral(sim: &mut Simulation, field: &str) -> f64 {
    common::total(&sim.field(field).unwrap())
}

/// Advances `days` days.
fn run_days(sim: &mut Simulation, days: f64) {
    let steps = (days * 1440.0 / sim.scenario().dt_min).round() as u64;
    sim.advance(steps).unwrap();
}

#[test]
fn tumour_free_bone_holds_for_200_days() {
    let sc = preset_scenario("healthy-remodelling", 16);
    let mut sim = common::cpu_sim(&sc);
    let start = integral(&mut sim, "bone");
    run_days(&mut sim, 200.0);
    let end = integral(&mut sim, "bone");
    let change = (end - start) / start;
    println!(
        "healthy, 16^3, 200 days: bone volume change {:+.3e}",
        change
    );
    assert!(change.abs() < 0.02, "bone volume moved by {change}");
    for (s, name) in sim.stats().unwrap().iter().zip(sc.species.names()) {
        assert!(s.nonfinite == 0 && s.negative == 0, "{name}");
    }
}

#[test]
fn osteolytic_tumour_resorbs_faster_as_it_grows() {
    let sc = preset_scenario("breast-osteolytic", 16);
    let mut sim = common::cpu_sim(&sc);
    let mut bone = vec![integral(&mut sim, "bone")];
    let mut tumour = vec![integral(&mut sim, "tumour")];
    for _ in 0..2 {
        run_days(&mut sim, 14.0);
        bone.push(integral(&mut sim, "bone"));
        tumour.push(integral(&mut sim, "tumour"));
    }
    let first = bone[0] - bone[1];
    let second = bone[1] - bone[2];
    println!(
        "breast osteolytic, 16^3: bone lost in days 0-14 {:.2} %, days 14-28 {:.2} %; tumour x{:.1} then x{:.1}",
        100.0 * first / bone[0],
        100.0 * second / bone[0],
        tumour[1] / tumour[0],
        tumour[2] / tumour[1]
    );
    assert!(
        tumour[2] > tumour[1] && tumour[1] > tumour[0],
        "the tumour grows"
    );
    assert!(first > 0.0, "bone is lost");
    assert!(
        second > 2.0 * first,
        "loss accelerates with the tumour (vicious cycle)"
    );
}

/// Sum of `field` over the voxels where `mask` exceeds `threshold`.
fn masked_sum(field: &[f32], mask: &[f32], threshold: f32) -> f64 {
    field
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m > threshold)
        .map(|(v, _)| *v as f64)
        .sum()
}

#[test]
fn osteoblastic_tumour_adds_bone_around_it() {
    let sc = preset_scenario("prostate-osteoblastic", 20);
    let mut sim = common::cpu_sim(&sc);
    let bone0 = sim.field("bone").unwrap();
    run_days(&mut sim, 42.0);
    let bone = sim.field("bone").unwrap();
    let tumour = sim.field("tumour").unwrap();
    let near0 = masked_sum(&bone0, &tumour, 0.05);
    let near = masked_sum(&bone, &tumour, 0.05);
    println!(
        "prostate osteoblastic, 20^3, 42 days: bone where tumour > 0.05 went {near0:.3} -> {near:.3} voxels ({:+.2} %)",
        100.0 * (near - near0) / near0
    );
    assert!(near0 > 1.0, "the tumour reaches bone");
    assert!(near > near0, "bone is added around the tumour");
}

#[test]
fn senescent_osteocytes_gather_near_tumour_and_raise_osteoclasts() {
    let run = |m14: bool| {
        let mut preset = Preset::load("presets/breast-osteolytic.toml".as_ref()).unwrap();
        preset
            .override_model(&[], &[("M14".to_string(), m14)])
            .unwrap();
        let sc = preset.scenario(Some(16), None).unwrap();
        let mut sim = common::cpu_sim(&sc);
        run_days(&mut sim, 14.0);
        let grid = sc.grid;
        let centre = [1280.0; 3];
        let dist: Vec<f64> = (0..grid.len())
            .map(|v| {
                let p = grid.center_of(v);
                (0..3)
                    .map(|a| (p[a] - centre[a]).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let near: Vec<f32> = dist
            .iter()
            .map(|&d| if d < 400.0 { 1.0 } else { 0.0 })
            .collect();
        let far: Vec<f32> = dist
            .iter()
            .map(|&d| if d > 900.0 { 1.0 } else { 0.0 })
            .collect();
        let bone = sim.field("bone").unwrap();
        let sen = sim.field("senescent_osteocyte").unwrap();
        let oc = sim.field("osteoclast").unwrap();
        let per_bone = |mask: &[f32]| masked_sum(&sen, mask, 0.5) / masked_sum(&bone, mask, 0.5);
        (per_bone(&near), per_bone(&far), masked_sum(&oc, &near, 0.5))
    };
    let (sen_near, sen_far, oc_near) = run(true);
    let (_, _, oc_near_off) = run(false);
    println!(
        "day 14: senescent osteocytes per unit bone near tumour {sen_near:.3e}, far {sen_far:.3e}; osteoclasts near tumour with M14 {oc_near:.4}, without {oc_near_off:.4}"
    );
    assert!(
        sen_near > 5.0 * sen_far,
        "senescence gathers near the tumour"
    );
    assert!(
        oc_near > oc_near_off,
        "the SASP raises osteoclasts near the tumour"
    );
}

#[test]
fn gpu_matches_cpu_on_every_model_field() {
    let Some(ctx) = common::gpu_context("gpu_matches_cpu_on_every_model_field") else {
        return;
    };
    for name in ["breast-osteolytic", "prostate-osteoblastic"] {
        let mut sc = preset_scenario(name, 10);
        // Tight solves, so that what differs is the backends, not the stopping point.
        sc.preset.time.implicit_tolerance = 1e-6;
        let mut cpu = common::cpu_sim(&sc);
        let mut gpu = common::gpu_sim(&ctx, &sc);
        // Two days in one-hour steps (chemotaxis, implicit solves, remodelling all active).
        cpu.advance(48).unwrap();
        gpu.advance(48).unwrap();
        let (a, b) = (cpu.fields().unwrap(), gpu.fields().unwrap());
        let n = sc.grid.len();
        let mut worst = (0.0, "");
        for (f, field) in sc.species.names().into_iter().enumerate() {
            let (d, m) = common::max_diff(&b[f * n..(f + 1) * n], &a[f * n..(f + 1) * n]);
            let rel = if m > 0.0 { d / m } else { d };
            if rel > worst.0 {
                worst = (rel, field);
            }
            assert!(rel < 2e-3, "{name}: {field} differs by {d:.3e} of {m:.3e}");
        }
        for (s, field) in gpu.stats().unwrap().iter().zip(sc.species.names()) {
            assert!(s.nonfinite == 0 && s.negative == 0, "{name}: GPU {field}");
        }
        println!(
            "{name}, 10^3, 48 steps: worst GPU-CPU difference {:.2e} of the field's largest value ({})",
            worst.0, worst.1
        );
    }
}

#[test]
fn every_model_preset_stays_finite_and_non_negative_on_the_gpu_for_its_whole_run() {
    let Some(ctx) = common::gpu_context(
        "every_model_preset_stays_finite_and_non_negative_on_the_gpu_for_its_whole_run",
    ) else {
        return;
    };
    for entry in std::fs::read_dir("presets").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let preset = Preset::load(&path).unwrap();
        if preset.model.is_none() {
            continue;
        }
        // Six voxels on the longest axis keep lavapipe's whole runs to seconds; the
        // well-mixed calibration (192,000 short steps) runs its first 10^4, as on the CPU.
        let sc = preset.scenario(Some(6), None).unwrap();
        let steps = sc.steps.min(10_000);
        let mut sim = common::gpu_sim(&ctx, &sc);
        let chunk = (steps / 4).max(1);
        let mut done = 0;
        while done < steps {
            let n = chunk.min(steps - done);
            sim.advance(n).unwrap();
            done += n;
            for (s, name) in sim.stats().unwrap().iter().zip(sc.species.names()) {
                assert!(
                    s.nonfinite == 0 && s.negative == 0,
                    "{}: {name} at step {done} (min {})",
                    path.display(),
                    s.min
                );
            }
        }
        println!(
            "{}: {steps} steps on the GPU, every field finite and non-negative",
            path.display()
        );
    }
}

/// The bone-loss speed (µm/day, bone volume lost per unit area of a flat face) of a slab
/// filling z < `face_um` in a `box_um` cube at `n`^3 with exact partial volumes, with
/// `excess` Komarova osteoclasts above the steady state per unit surface and osteoblasts at
/// theirs: the model's rates, every other field zero.
fn slab_speed(n: usize, box_um: f64, face_um: f64, excess: f32) -> (f64, f64) {
    use osteoniche::lattice::surface;
    use osteoniche::model::biology::{ModelIndex, biology};
    use osteoniche::model::parameters::p;
    let sc = preset_scenario("breast-osteolytic", 16);
    let m = sc.model.as_ref().expect("the default preset has the model");
    let ix = ModelIndex::new(&sc.species).unwrap();
    let pv = &m.values;
    let grid = osteoniche::grid::Grid::cube(n, box_um / n as f64);
    let h = grid.dx_um;
    let nv = grid.len();
    // Fields: bone, then the surface share.
    let mut geo = vec![0f32; 2 * nv];
    for (v, b) in geo[..nv].iter_mut().enumerate() {
        let z = grid.coords(v)[2] as f64 * h;
        *b = ((face_um - z) / h).clamp(0.0, 1.0) as f32;
    }
    surface::surface(&mut geo, &grid, 0, 1, false, m.surface_layer_um());
    let x1 = pv[osteoniche::model::parameters::Slot::XBar1.index()] + excess;
    let x2 = pv[osteoniche::model::parameters::Slot::XBar2.index()];
    let th = osteoniche::pharma::tissue::therapy_defaults::<f32>(pv);
    let (mut lost, mut shares) = (0.0f64, 0.0f64);
    let mut u = vec![0f32; sc.species.len()];
    for v in 0..nv {
        let s = geo[nv + v];
        u.fill(0.0);
        u[ix.bone] = geo[v];
        u[ix.surface] = s;
        u[ix.osteoclast] = pv[p::OC_UNIT] * x1 * s;
        u[ix.osteoblast] = pv[p::OB_UNIT] * x2 * s;
        let (mut prod, mut loss) = (vec![0f32; u.len()], vec![0f32; u.len()]);
        biology::<f32>(&u, &ix, pv, &th, &mut prod, &mut loss);
        lost += (loss[ix.bone] * geo[v] - prod[ix.bone]) as f64;
        shares += s as f64;
    }
    let area = box_um * box_um;
    let volume = grid.voxel_volume_um3();
    (lost * volume / area, shares * volume / area)
}

/// A flat bone face with a fixed osteoclast density per unit surface: the surface share
/// integrates to `surface_layer_um` per unit of area on every grid and wherever the face
/// sits within a voxel, and the face recedes at the same speed on every grid for a given
/// position of the face within its voxel. What is not yet exact (issue 31, next step): the
/// share on the marrow side of the face resorbs nothing (there is no bone in that voxel),
/// so the speed is 1/2 of `surface_layer_um bone_per_percent k1 y1` for a face on a voxel
/// boundary, 7/8 a quarter voxel in and 3/4 half a voxel in; the test pins those numbers so that the
/// fix (resorption on the bone side of the face) shows as a change here.
#[test]
fn a_slab_with_fixed_osteoclasts_recedes_at_one_speed_on_every_grid() {
    use osteoniche::model::parameters::p;
    let sc = preset_scenario("breast-osteolytic", 16);
    let pv = &sc.model.as_ref().unwrap().values;
    let excess = 3.0;
    let nominal = (pv[p::SURFACE_LAYER] * pv[p::BONE_PER_PERCENT] * pv[p::K1] * excess) as f64;
    // The face's position within its voxel, and the share of the nominal speed it gets: the
    // share in voxels with bone over the whole (0.5 of 0.5 + 0.5 on a voxel boundary;
    // 0.375 + 0.5 of 0.375 + 0.5 + 0.125 with b = 1, 1/4, 0 a quarter voxel in; 0.25 + 0.5
    // of 0.25 + 0.5 + 0.25 half a voxel in).
    let expected = [(0.0, 0.5), (0.25, 0.875), (0.5, 0.75)];
    let mut seen = Vec::new();
    for n in [16, 32, 64] {
        let h = 1000.0 / n as f64;
        for (offset, share) in expected {
            let (speed, layer) = slab_speed(n, 1000.0, 500.0 + offset * h, excess);
            seen.push((n, offset, speed / nominal, layer));
            assert!(
                (layer / pv[p::SURFACE_LAYER] as f64 - 1.0).abs() < 1e-4,
                "{n}^3, face at +{offset} voxel: share per area {layer:.4} um"
            );
            assert!(
                (speed / nominal - share).abs() < 1e-4,
                "{n}^3, face at +{offset} voxel: {speed:.4} um/day, {share} of {nominal:.4} expected ({seen:?})"
            );
        }
    }
}
