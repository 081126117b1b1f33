//! The review's therapy claims (MODEL.md section 5; presets/therapy/claims.toml), each an
//! ordering of an endpoint at a day, checked on both backends at 8 voxels on the longest
//! axis (the presets' 2.56 mm box at 320 µm). The full-size check is
//! `osteoniche claims presets/therapy/claims.toml` (docs/pharmacology.md).
#![allow(
    clippy::result_large_err,
    reason = "the library's error type, as in src/lib.rs"
)]

mod common;

use std::path::Path;

use osteoniche::claims::{ClaimResult, ClaimsFile, check, markdown};

const RESOLUTION: usize = 8;

fn report(results: &[ClaimResult], backend: &str) {
    println!("{backend}:\n{}", markdown(results));
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.holds)
        .map(|r| r.claim.id.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "{backend}: claims that do not hold: {failed:?}"
    );
    assert_eq!(
        results.len(),
        12,
        "every claim of MODEL.md section 5 with a drug"
    );
}

fn claims() -> ClaimsFile {
    ClaimsFile::load(Path::new("presets/therapy/claims.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_therapy_claim_holds_on_the_cpu() {
    let results = check(
        &claims(),
        Path::new("presets/therapy"),
        Some(RESOLUTION),
        |sc| Ok(common::cpu_sim(&sc)),
        |p| println!("cpu: running {p}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    report(&results, "cpu");
}

#[test]
fn every_therapy_claim_holds_on_the_gpu() {
    let Some(ctx) = common::gpu_context("every_therapy_claim_holds_on_the_gpu") else {
        return;
    };
    let results = check(
        &claims(),
        Path::new("presets/therapy"),
        Some(RESOLUTION),
        |sc| Ok(common::gpu_sim(&ctx, &sc)),
        |p| println!("gpu: running {p}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    report(&results, "gpu");
}
