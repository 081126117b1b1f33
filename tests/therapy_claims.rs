//! The review's therapy claims (docs/model.md, Claims; presets/therapy/claims.toml), each an
//! ordering of an endpoint at a day, checked at 16 voxels on the longest axis (the
//! presets' 2.56 mm box at 160 µm): over three lattice seeds on the CPU, where every claim
//! must be robust (hold in every seed), and at one seed on the GPU. The check at each
//! claim's converged resolution is `osteoniche claims presets/therapy/claims.toml
//! --resolution 24 --seeds 3` (docs/model.md, "What holds, where").
#![allow(
    clippy::result_large_err,
    reason = "the library's error type, as in src/lib.rs"
)]

mod common;

use std::path::Path;

use osteoniche::claims::{
    ClaimVerdict, ClaimsFile, ModelOverrides, Rating, study, verdict_markdown,
};

const RESOLUTION: usize = 16;

fn report(verdicts: &[ClaimVerdict], backend: &str, seeds: usize) {
    println!("{backend}:\n{}", verdict_markdown(verdicts));
    assert_eq!(
        verdicts.len(),
        12,
        "every claim of presets/therapy/claims.toml with a drug, once"
    );
    let weak: Vec<String> = verdicts
        .iter()
        .filter(|v| v.rating != Rating::EverySeed)
        .map(|v| format!("{} ({})", v.item().id, v.words()))
        .collect();
    assert!(
        weak.is_empty(),
        "{backend}: claims that do not hold in every seed: {weak:?}"
    );
    for v in verdicts {
        assert_eq!(v.per_seed.len(), seeds);
        assert_eq!(v.resolution, Some(RESOLUTION));
        assert!(v.means.margin > 0.0 && v.per_seed.iter().all(|r| r.margin > 0.0));
    }
}

fn claims() -> ClaimsFile {
    ClaimsFile::load(Path::new("presets/therapy/claims.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_therapy_claim_is_robust_over_three_seeds_on_the_cpu() {
    let seeds = [Some(1), Some(2), Some(3)];
    let verdicts = study(
        &claims(),
        Path::new("presets/therapy"),
        &[Some(RESOLUTION)],
        &seeds,
        &ModelOverrides::default(),
        |sc| Ok(common::cpu_sim(&sc)),
        |p| println!("cpu: running {p}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    report(&verdicts, "cpu", seeds.len());
    // The seeds give different lattices, so the endpoints differ between seeds.
    let tumour = &verdicts[0].per_seed;
    assert!(
        tumour[0].better_value != tumour[1].better_value,
        "seeds 1 and 2 gave the same endpoint: the seed does not reach the lattice"
    );
}

#[test]
fn every_therapy_claim_holds_on_the_gpu() {
    let Some(ctx) = common::gpu_context("every_therapy_claim_holds_on_the_gpu") else {
        return;
    };
    let verdicts = study(
        &claims(),
        Path::new("presets/therapy"),
        &[Some(RESOLUTION)],
        &[Some(1)],
        &ModelOverrides::default(),
        |sc| Ok(common::gpu_sim(&ctx, &sc)),
        |p| println!("gpu: running {p}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    report(&verdicts, "gpu", 1);
}
