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
