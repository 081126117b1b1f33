//! `osteoniche bench`: one throughput definition (voxels x fields advanced by one whole step
//! per second) and a synthetic case that is BioFVM's benchmark problem.

mod common;

use std::process::Command;

use osteoniche::sim::setup::{Setup, initial_fields};
use osteoniche::sim::synthetic::{Case, scenario};
use serde_json::Value;

/// Runs `bench` with `args` and `--json`, returns the rows.
fn bench_rows(args: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_osteoniche"))
        .arg("bench")
        .args(args)
        .args(["--seconds", "0", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    v["rows"].as_array().unwrap().clone()
}

/// The reported figure is voxels x fields / median step time, with no factor for the
/// sweeps of a step; stage rows report time and bytes only.
#[test]
fn throughput_is_voxels_times_fields_per_whole_step() {
    let rows = bench_rows(&[
        "--backend",
        "cpu",
        "--sizes",
        "8,12",
        "--fields",
        "1,3",
        "--case",
        "biofvm",
    ]);
    let mut synthetic_steps = 0;
    let mut model_steps = 0;
    for r in &rows {
        let n = r["n"].as_u64().unwrap() as f64;
        let fields = r["fields"].as_u64().unwrap() as f64;
        let ms = r["ms_per_step"].as_f64().unwrap();
        assert!(ms > 0.0, "{r}");
        match r["stage"].as_str().unwrap() {
            "step" => {
                let reported = r["mupdates_per_s"].as_f64().unwrap();
                let expected = n * n * n * fields / (ms / 1e3) / 1e6;
                assert!(
                    (reported - expected).abs() <= 1e-9 * expected,
                    "{r}: {reported} M/s, N^3 S / t = {expected}"
                );
                match r["bench"].as_str().unwrap() {
                    "synthetic" => {
                        assert_eq!(r["case"], "biofvm");
                        synthetic_steps += 1;
                    }
                    "model" => model_steps += 1,
                    other => panic!("unexpected bench {other}"),
                }
            }
            _ => assert!(r.get("mupdates_per_s").is_none(), "stage row {r}"),
        }
    }
    assert_eq!(synthetic_steps, 4, "2 sizes x 2 field counts");
    assert_eq!(model_steps, 2, "the model preset at 2 sizes");
    // The model's step counts every field of the preset.
    let model = rows.iter().find(|r| r["bench"] == "model").unwrap();
    let preset = osteoniche::preset::Preset::load(
        "presets/therapy/breast-nanodocetaxel-denosumab.toml".as_ref(),
    )
    .unwrap();
    let species = preset.scenario(Some(8), None).unwrap().species.len();
    assert_eq!(model["fields"].as_u64().unwrap() as usize, species);
}

/// `--case biofvm` resolves to BioFVM's benchmark: D 1e5 µm²/min and decay 0.1/min for
/// every substrate, dx 20 µm, dt 0.01 min, backward Euler, no bone, no fixed faces, and
/// the driver's Gaussian bump on a 0.1 background.
#[test]
fn the_biofvm_case_is_biofvms_problem() {
    let (n, s) = (16, 3);
    let sc = scenario(Case::Biofvm, n, s).unwrap();
    assert_eq!((sc.grid.nx, sc.grid.ny, sc.grid.nz), (n, n, n));
    assert_eq!(sc.grid.dx_um, 20.0);
    assert_eq!(sc.dt_min, 0.01);
    assert_eq!(sc.theta, 1.0, "backward Euler");
    assert!(sc.preset.lattice.is_none());
    assert!(sc.preset.sources.is_empty() && sc.model.is_none());
    assert_eq!(sc.species.len(), s);
    assert!(sc.species.bone().is_none());
    for (spec, sp) in sc.specs.iter().zip(sc.species.iter()) {
        assert_eq!(sp.diffusion_um2_min, 1e5);
        assert_eq!(sp.decay_per_min, 0.1);
        assert!(spec.dirichlet.is_none(), "no-flux faces");
    }
    let setup = Setup::new(&sc).unwrap();
    assert!(
        setup
            .transport
            .iter()
            .all(|t| t.mobile == 1 && t.dirichlet_mask == 0)
    );
    // Decay rides in the last sweep: exp(-0.1 x 0.01) per step, nothing left to react.
    let retain = (-(0.1f32 * 0.01f32)).exp();
    assert!(setup.transport.iter().all(|t| t.retain == retain));
    assert!(!setup.reacts());
    // bench_lod.cpp's initial state: 0.1 + (1 + 0.1 s) exp(-r^2 / (2 sigma^2)), centre at
    // the box centre, sigma = 4 N µm.
    let fields = initial_fields(&sc, None);
    let (c, sigma) = (n as f64 * 10.0, 4.0 * n as f64);
    for f in 0..s {
        for &(i, j, k) in &[(0usize, 0usize, 0usize), (3, 9, 12), (8, 8, 8), (15, 2, 7)] {
            let p = |i: usize| (i as f64 + 0.5) * 20.0 - c;
            let r2 = p(i) * p(i) + p(j) * p(j) + p(k) * p(k);
            let want = 0.1 + (1.0 + 0.1 * f as f64) * (-r2 / (2.0 * sigma * sigma)).exp();
            let got = fields[f * n * n * n + (k * n + j) * n + i] as f64;
            assert!(
                (got - want).abs() < 1e-6,
                "field {f} at {i},{j},{k}: {got} vs {want}"
            );
        }
    }
}

/// A decay folded into the last sweep gives the bits of the same decay in a separate react
/// pass after the sweeps (`exp_update` with no production), on both sweep orders, with
/// and without bone-dependent coefficients.
#[test]
fn folded_decay_gives_the_bits_of_a_separate_react_pass() {
    for case in Case::ALL {
        let sc = scenario(case, 10, 2).unwrap();
        let folded = Setup::new(&sc).unwrap();
        assert!(folded.transport.iter().any(|t| t.retain != 1.0), "{case:?}");
        let mut separate = folded.clone();
        for (ft, (rate, sp)) in separate
            .transport
            .iter_mut()
            .zip(separate.rates.iter_mut().zip(sc.species.iter()))
        {
            ft.retain = 1.0;
            rate.decay = sp.decay_per_min as f32;
        }
        let run = |setup: &Setup| {
            let mut sim = common::cpu_sim_with(&sc, setup.clone());
            sim.advance(3).unwrap();
            sim.fields().unwrap()
        };
        let (a, b) = (run(&folded), run(&separate));
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{case:?}"
        );
        // And it decayed.
        let initial = initial_fields(&sc, osteoniche::sim::setup::lattice(&sc).unwrap().as_ref());
        let n = sc.grid.len();
        let total = |v: &[f32]| v[..n].iter().map(|&x| x as f64).sum::<f64>();
        assert!(total(&a) < total(&initial), "{case:?}");
    }
}
