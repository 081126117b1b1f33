//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod cli;

use osteoniche::cpu::CpuBackend;
use osteoniche::gpu::{GpuBackend, GpuContext, GpuOptions};
use osteoniche::preset::{Preset, Scenario};
use osteoniche::sim::{Backend, Setup, Simulation};

/// Parses a preset from text; panics with the error (tests only).
pub fn scenario(text: &str) -> Scenario {
    Preset::parse(text, "<test>")
        .unwrap_or_else(|e| panic!("test preset rejected: {e}"))
        .scenario(None, None)
        .expect("scenario")
}

/// The text of the test preset `tests/presets/<name>.toml` with each `${key}` replaced by
/// its value; panics on a placeholder left unfilled or a value no placeholder takes.
pub fn preset_text(name: &str, vars: &[(&str, &dyn std::fmt::Display)]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/presets")
        .join(format!("{name}.toml"));
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (key, value) in vars {
        let placeholder = format!("${{{key}}}");
        assert!(
            text.contains(&placeholder),
            "{}: no {placeholder}",
            path.display()
        );
        text = text.replace(&placeholder, &value.to_string());
    }
    if let Some(i) = text.find("${") {
        let left: String = text[i..].chars().take_while(|c| *c != '}').collect();
        panic!("{}: {left}}} is not filled in", path.display());
    }
    text
}

/// The scenario of the test preset `tests/presets/<name>.toml` filled in with `vars`
/// ([`preset_text`]).
pub fn preset_scenario(name: &str, vars: &[(&str, &dyn std::fmt::Display)]) -> Scenario {
    scenario(&preset_text(name, vars))
}

/// A simulation of `sc` on the CPU backend.
pub fn cpu_sim(sc: &Scenario) -> Simulation {
    let setup = Setup::new(sc).expect("setup");
    let backend: Box<dyn Backend> = Box::new(CpuBackend::new(&setup).expect("cpu"));
    Simulation::with_backend(sc.clone(), setup, backend, "test".into()).expect("sim")
}

/// A GPU context, or `None` with the reason printed; with `OSTEONICHE_REQUIRE_GPU=1` a
/// missing adapter fails the test instead.
pub fn gpu_context(test: &str) -> Option<GpuContext> {
    match GpuContext::new(&GpuOptions::default()) {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            if std::env::var("OSTEONICHE_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("{test}: OSTEONICHE_REQUIRE_GPU=1 but no GPU adapter: {e}");
            }
            eprintln!(
                "SKIPPED {test}: no GPU adapter ({e}); set OSTEONICHE_REQUIRE_GPU=1 to make this a failure"
            );
            None
        }
    }
}

/// A simulation of `sc` on the GPU backend of `ctx`.
pub fn gpu_sim(ctx: &GpuContext, sc: &Scenario) -> Simulation {
    let setup = Setup::new(sc).expect("setup");
    let backend: Box<dyn Backend> =
        Box::new(GpuBackend::with_context(ctx.clone(), &setup).expect("gpu backend"));
    Simulation::with_backend(sc.clone(), setup, backend, "test".into()).expect("sim")
}

/// Largest absolute difference, and the largest magnitude of `b`.
pub fn max_diff(a: &[f32], b: &[f32]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max);
    let m = b.iter().map(|y| (*y as f64).abs()).fold(0.0, f64::max);
    (d, m)
}

/// Sum in f64.
pub fn total(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64).sum()
}

/// A simulation of `sc` on the CPU backend with an edited `setup`.
pub fn cpu_sim_with(sc: &Scenario, setup: Setup) -> Simulation {
    let backend: Box<dyn Backend> = Box::new(CpuBackend::new(&setup).expect("cpu"));
    Simulation::with_backend(sc.clone(), setup, backend, "test".into()).expect("sim")
}
