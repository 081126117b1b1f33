//! Checks against published numbers (presets/published/checks.toml): each measured outcome
//! of a mouse study, with its spread and source, against the model ratio that corresponds
//! to it, at 16 voxels on the longest axis over three lattice seeds on the CPU. Every check
//! must come out as the file says it does (a check that passes must pass in every seed; one
//! the file says fails must fail for the seed mean), so the file and docs/model.md cannot
//! drift from the model. The finer check is `osteoniche checks
//! presets/published/checks.toml --resolution 24 --seeds 3`.
#![allow(
    clippy::result_large_err,
    reason = "the library's error type, as in src/lib.rs"
)]

mod common;

use std::path::Path;

use osteoniche::checks::{ChecksFile, Rating, Scale, Status, study, verdict_markdown};
use osteoniche::claims::ModelOverrides;

#[test]
fn published_checks_come_out_as_the_file_says_over_three_seeds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/published/checks.toml");
    let file = ChecksFile::load(&path).unwrap();
    assert!(
        file.check.len() >= 3,
        "issue 17 asks for at least three published outcomes"
    );
    for c in &file.check {
        assert!(
            !c.source.is_empty() && !c.data.is_empty() && !c.set_first.is_empty(),
            "{}: a check names its source, where its number was read and what was set first",
            c.id
        );
    }
    let seeds = [Some(1), Some(2), Some(3)];
    let verdicts = study(
        &file,
        path.parent().unwrap(),
        &[Some(16)],
        &seeds,
        &ModelOverrides::default(),
        |sc| Ok(common::cpu_sim(&sc)),
        |p| println!("cpu: running {p}"),
    )
    .unwrap();
    println!("{}", verdict_markdown(&verdicts));
    assert_eq!(verdicts.len(), file.check.len());
    for v in &verdicts {
        let c = v.item();
        assert_eq!(v.per_seed.len(), 3);
        for r in &v.per_seed {
            assert!(r.model.is_finite() && r.numerator > 0.0 && r.denominator > 0.0);
            // The ratio is the one the check names, on its scale.
            let ratio = r.numerator / r.denominator;
            let expect = match c.scale {
                Scale::Linear => ratio,
                Scale::Log10 => ratio.log10(),
            };
            assert!((r.model - expect).abs() < 1e-12, "{}", c.id);
        }
        match c.status {
            Status::Passes => assert_eq!(
                v.rating,
                Rating::EverySeed,
                "{}: the file says it passes; model {:.3} against {:.3} +- {} x {:.3}",
                c.id,
                v.means.model,
                c.observed,
                c.tolerance,
                c.spread
            ),
            Status::Fails => assert_eq!(
                v.rating,
                Rating::Fails,
                "{}: the file says it fails ({}); model {:.3} against {:.3} +- {} x {:.3}",
                c.id,
                c.why.as_deref().unwrap_or(""),
                v.means.model,
                c.observed,
                c.tolerance,
                c.spread
            ),
        }
    }
}

/// The calibration of `mda231-nude.toml` (presets/published/calibration-blake2014.toml:
/// Blake et al. 2014's PBS growth and OPG-Fc effect, six targets) rerun at its grid's
/// resolution and seed: every target comes out as the file says, with a finite
/// chi-square over the six. The fit (a hand grid at 16^3) was made with the voxel-unit
/// surface indicator; with the surface in physical units (2026-12-05) the preset's point is
/// no longer the best of its grid and every target fails, as the file now says, until the
/// recalibration with `calibrate` (issue 34).
#[test]
fn the_calibration_targets_come_out_as_the_file_says() {
    use osteoniche::checks::chi_square;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/published");
    let file = ChecksFile::load(&dir.join("calibration-blake2014.toml")).unwrap();
    assert_eq!(
        file.check.len(),
        6,
        "vehicle growth and OPG-Fc effect at days 11, 18, 25"
    );
    let preset = osteoniche::preset::Preset::load(&dir.join("mda231-nude.toml")).unwrap();
    let set = &preset.file.model.as_ref().unwrap().set;
    assert_eq!(
        (set["tumour_growth"], set["tgf_tumour_boost"]),
        (0.05, 70.0),
        "the fitted point the file's statuses describe"
    );
    let verdicts = study(
        &file,
        &dir,
        &[Some(16)],
        &[Some(1)],
        &ModelOverrides::default(),
        |sc| Ok(common::cpu_sim(&sc)),
        |p| println!("calibration: running {p}"),
    )
    .unwrap();
    println!("{}", verdict_markdown(&verdicts));
    let chi = chi_square(&verdicts);
    assert_eq!(chi.len(), 1);
    assert_eq!(chi[0].2, 6);
    assert!(chi[0].1.is_finite());
    for v in &verdicts {
        assert!(
            v.agrees_with_file(),
            "{}: the file says it {:?}, the model gives {:.3} against {:.3} +- {:.3}",
            v.item().id,
            v.item().status,
            v.means.model,
            v.item().observed,
            v.item().spread
        );
    }
}
