//! Checks against published numbers: each check names a measured outcome of a study (its
//! value, spread and source), the preset that represents the study's set-up and the model
//! quantity that corresponds to what was measured (an endpoint at a day relative to the
//! same preset at another day, or to another preset at the same day), and how many spreads
//! the model may sit from the published value. A checks file also states what each check
//! came to when it was written (`status`), so the file, the docs and the model cannot
//! drift apart silently: `osteoniche checks` and the `published_checks` test compare.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::preset::Scenario;
use crate::sim::Simulation;
use serde::ser::SerializeMap;

pub use crate::study::Rating;
use crate::study::{
    ModelOverrides, Scored, Verdict, Wanted, Words, grid_words, measure_all, per_grid_and_seed,
    point_key, want,
};

/// The scale a ratio is compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// The ratio itself (`observed` and `spread` are ratios).
    Linear,
    /// Its decimal logarithm (bioluminescence, reported as log10 photons/s).
    Log10,
}

/// What a check says of itself: how it came out when the file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within the tolerance in every seed.
    Passes,
    /// Outside it for the mean over the seeds (the file says why).
    Fails,
}

/// One published outcome and the model quantity it is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Short identifier.
    pub id: String,
    /// What was measured, in words.
    pub statement: String,
    /// The study (authors, year, journal, volume, pages).
    pub source: String,
    /// Where the number and spread were read (figure, table, digitised data file).
    pub data: String,
    /// Day at which the endpoint is read.
    pub day: f64,
    /// A field (its domain integral) or `bone_to_plasma_auc[:<drug>]`, as in claims.
    pub endpoint: String,
    /// The preset that represents the study's arm (path relative to the checks file).
    pub preset: String,
    /// The ratio's denominator: the same preset's endpoint at this day ...
    #[serde(default)]
    pub relative_to_day: Option<f64>,
    /// ... or another preset's endpoint at `day` (exactly one of the two).
    #[serde(default)]
    pub relative_to_preset: Option<String>,
    /// The scale of `observed` and `spread`.
    pub scale: Scale,
    /// The published value of the ratio on that scale.
    pub observed: f64,
    /// Its spread on that scale (> 0).
    pub spread: f64,
    /// What the spread is (standard error of the mean over n mice, ...).
    pub spread_kind: String,
    /// How many spreads the model may sit from `observed` (> 0).
    pub tolerance: f64,
    /// Which of the model's parameters this outcome depends on were set from other data
    /// first, and whether any was set with this study in view.
    pub set_first: String,
    /// How the check came out when the file was written.
    pub status: Status,
    /// Why it fails, or what limits it (required when `status = "fails"`).
    #[serde(default)]
    pub why: Option<String>,
}

/// A checks file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    /// The checks.
    pub check: Vec<Check>,
}

impl ChecksFile {
    /// Reads and checks a checks file: every check compares against exactly one
    /// denominator, has a positive spread and tolerance, finite numbers, a unique id, and
    /// says why when it is marked as failing.
    pub fn load(path: &Path) -> Result<ChecksFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let file: ChecksFile = toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: {}", path.display(), e.message().trim())))?;
        file.validate()
            .map_err(|m| Error::Invalid(format!("{}: {m}", path.display())))?;
        Ok(file)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.check.is_empty() {
            return Err("no [[check]] entries".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.check {
            let at = format!("check `{}`", c.id);
            if !seen.insert(c.id.as_str()) {
                return Err(format!("{at}: the id is used twice"));
            }
            match (&c.relative_to_day, &c.relative_to_preset) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(format!(
                        "{at}: give exactly one of relative_to_day and relative_to_preset"
                    ));
                }
                (Some(d), None) if !(d.is_finite() && *d >= 0.0 && *d != c.day) => {
                    return Err(format!(
                        "{at}: relative_to_day = {d} must be a day >= 0 other than day = {}",
                        c.day
                    ));
                }
                _ => {}
            }
            if !(c.day.is_finite() && c.day > 0.0) {
                return Err(format!("{at}: day = {} must be > 0", c.day));
            }
            if !c.observed.is_finite() {
                return Err(format!("{at}: observed = {} is not finite", c.observed));
            }
            if c.scale == Scale::Linear && c.observed <= 0.0 {
                return Err(format!(
                    "{at}: observed = {} must be a positive ratio on the linear scale",
                    c.observed
                ));
            }
            for (name, v) in [("spread", c.spread), ("tolerance", c.tolerance)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(format!("{at}: {name} = {v} must be > 0"));
                }
            }
            if c.status == Status::Fails && c.why.as_deref().is_none_or(|w| w.trim().is_empty()) {
                return Err(format!("{at}: status = \"fails\" needs a `why`"));
            }
        }
        Ok(())
    }
}

/// The model's ratio on the check's scale, from the numerator and denominator endpoints.
pub fn model_value(
    scale: Scale,
    numerator: f64,
    denominator: f64,
) -> std::result::Result<f64, String> {
    let sound =
        denominator.is_finite() && denominator > 0.0 && numerator.is_finite() && numerator >= 0.0;
    if !sound {
        return Err(format!(
            "the ratio {numerator:.4e} / {denominator:.4e} is not of two non-negative endpoints with a positive denominator"
        ));
    }
    let r = numerator / denominator;
    match scale {
        Scale::Linear => Ok(r),
        Scale::Log10 if r > 0.0 => Ok(r.log10()),
        Scale::Log10 => Err("the ratio is 0: no log10".into()),
    }
}

/// How far the model sits from the published value, in spreads (signed).
pub fn deviation(check: &Check, model: f64) -> f64 {
    (model - check.observed) / check.spread
}

/// One check in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// The numerator endpoint.
    pub numerator: f64,
    /// The denominator endpoint.
    pub denominator: f64,
    /// The ratio on the check's scale.
    pub model: f64,
    /// `(model - observed) / spread`.
    pub deviation: f64,
    /// `|deviation| <= tolerance`.
    pub passes: bool,
}

/// Runs every preset the checks name (each once, at `resolution`, with `seed` in place of
/// the presets' own and `overrides` applied to their models) and compares each check; fails if a field turns non-finite or
/// negative at a day read, or if a ratio cannot be formed.
pub fn check(
    file: &ChecksFile,
    dir: &Path,
    resolution: Option<usize>,
    seed: Option<u64>,
    overrides: &ModelOverrides,
    mut make_sim: impl FnMut(Scenario) -> Result<Simulation>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<CheckResult>> {
    let mut wanted = Wanted::new();
    for c in &file.check {
        want(&mut wanted, dir, &c.preset, c.day, &c.endpoint);
        if let Some(d) = c.relative_to_day {
            want(&mut wanted, dir, &c.preset, d, &c.endpoint);
        }
        if let Some(p) = &c.relative_to_preset {
            want(&mut wanted, dir, p, c.day, &c.endpoint);
        }
    }
    let values = measure_all(
        &wanted,
        resolution,
        seed,
        overrides,
        &mut make_sim,
        &mut progress,
    )?;
    let get = |p: &str, day: f64, e: &str| values[&dir.join(p)][&point_key(day, e)];
    file.check
        .iter()
        .map(|c| {
            let numerator = get(&c.preset, c.day, &c.endpoint);
            let denominator = match (&c.relative_to_day, &c.relative_to_preset) {
                (Some(d), _) => get(&c.preset, *d, &c.endpoint),
                (None, Some(p)) => get(p, c.day, &c.endpoint),
                (None, None) => unreachable!("validated on load"),
            };
            let model = model_value(c.scale, numerator, denominator)
                .map_err(|m| Error::Invalid(format!("check `{}`: {m}", c.id)))?;
            let deviation = deviation(c, model);
            Ok(CheckResult {
                check: c.clone(),
                numerator,
                denominator,
                model,
                deviation,
                passes: deviation.abs() <= c.tolerance,
            })
        })
        .collect()
}

/// A check's statistics over the seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckMeans {
    /// The model's ratio (on the check's scale), mean over the seeds.
    pub model: f64,
    /// Its deviation in spreads.
    pub deviation: f64,
}

impl Scored for CheckResult {
    type Item = Check;
    type Means = CheckMeans;
    const WORDS: Words = Words {
        item: "check",
        count: "passed_in",
        rating: "outcome",
        ratings: ["passes", "passes on average", "fails"],
    };

    fn item(&self) -> &Check {
        &self.check
    }

    fn holds(&self) -> bool {
        self.passes
    }

    fn means(per_seed: &[Self]) -> (CheckMeans, bool) {
        let check = &per_seed[0].check;
        let model = per_seed.iter().map(|r| r.model).sum::<f64>() / per_seed.len() as f64;
        let deviation = deviation(check, model);
        (
            CheckMeans { model, deviation },
            deviation.abs() <= check.tolerance,
        )
    }

    fn serialize_means<M: SerializeMap>(
        means: &CheckMeans,
        map: &mut M,
    ) -> std::result::Result<(), M::Error> {
        map.serialize_entry("mean_model", &means.model)?;
        map.serialize_entry("mean_deviation", &means.deviation)
    }
}

/// One check over several seeds at one resolution: passes (within the tolerance in every
/// seed), passes on average or fails.
pub type CheckVerdict = Verdict<CheckResult>;

impl CheckVerdict {
    /// Whether it came out as the file says of it (`status`): passes in every seed, or
    /// fails for the mean.
    pub fn agrees_with_file(&self) -> bool {
        matches!(
            (self.rating, self.item().status),
            (Rating::EverySeed, Status::Passes) | (Rating::Fails, Status::Fails)
        )
    }
}

/// Every check at each resolution in each seed, rated per resolution over the seeds.
pub fn study(
    file: &ChecksFile,
    dir: &Path,
    resolutions: &[Option<usize>],
    seeds: &[Option<u64>],
    overrides: &ModelOverrides,
    mut make_sim: impl FnMut(Scenario) -> Result<Simulation>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<CheckVerdict>> {
    per_grid_and_seed(
        "checks",
        resolutions,
        seeds,
        |r, s, p| check(file, dir, r, s, overrides, &mut make_sim, p),
        &mut progress,
    )
}

/// Per resolution (in the order of the verdicts), the sum of the squared deviations of the
/// seed means in spreads over its checks, and how many checks it sums: the calibration
/// score of docs/model.md ("Published checks") when the checks are a calibration's targets.
pub fn chi_square(verdicts: &[CheckVerdict]) -> Vec<(Option<usize>, f64, usize)> {
    let mut out: Vec<(Option<usize>, f64, usize)> = Vec::new();
    for v in verdicts {
        let d2 = v.means.deviation * v.means.deviation;
        match out.iter_mut().find(|(r, _, _)| *r == v.resolution) {
            Some((_, sum, n)) => {
                *sum += d2;
                *n += 1;
            }
            None => out.push((v.resolution, d2, 1)),
        }
    }
    out
}

/// The verdicts as a Markdown table (what `osteoniche checks` prints), then the
/// chi-square of each resolution ([`chi_square`]).
pub fn verdict_markdown(verdicts: &[CheckVerdict]) -> String {
    let mut out = String::from(
        "| check | day | ratio | scale | published (spread) | model, mean | model per seed (min, max) | deviation (spreads) | tolerance | within in | outcome | file says |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for v in verdicts {
        let c = v.item();
        let denominator = match (&c.relative_to_day, &c.relative_to_preset) {
            (Some(d), _) => format!("day {d}"),
            (None, Some(p)) => p.clone(),
            (None, None) => String::new(),
        };
        let (lo, hi) = v
            .per_seed
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (a.min(r.model), b.max(r.model))
            });
        let scale = match c.scale {
            Scale::Linear => "linear",
            Scale::Log10 => "log10",
        };
        let says = match c.status {
            Status::Passes => "passes",
            Status::Fails => "fails",
        };
        let grid = grid_words(v.resolution);
        out.push_str(&format!(
            "| {} ({grid}) | {} | {} of {} / {} | {scale} | {:.3} ({:.3}) | {:.3} | {:.3}, {:.3} | {:+.2} | {} | {}/{} | {} | {says} |\n",
            c.id,
            c.day,
            c.endpoint,
            c.preset,
            denominator,
            c.observed,
            c.spread,
            v.means.model,
            lo,
            hi,
            v.means.deviation,
            c.tolerance,
            v.held_in,
            v.seeds.len(),
            v.words(),
        ));
    }
    for (resolution, sum, n) in chi_square(verdicts) {
        out.push_str(&format!(
            "\nchi-square at {}: {sum:.2} over {n} checks (sum of the squared deviations of the seed means, in spreads)\n",
            grid_words(resolution)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(scale: Scale, observed: f64, spread: f64) -> Check {
        Check {
            id: "c".into(),
            statement: "s".into(),
            source: "a study".into(),
            data: "its figure".into(),
            day: 28.0,
            endpoint: "bone".into(),
            preset: "a.toml".into(),
            relative_to_day: Some(0.0),
            relative_to_preset: None,
            scale,
            observed,
            spread,
            spread_kind: "SE".into(),
            tolerance: 2.0,
            set_first: "none".into(),
            status: Status::Passes,
            why: None,
        }
    }

    fn result(c: &Check, model: f64) -> CheckResult {
        let deviation = deviation(c, model);
        CheckResult {
            check: c.clone(),
            numerator: model,
            denominator: 1.0,
            model,
            deviation,
            passes: deviation.abs() <= c.tolerance,
        }
    }

    #[test]
    fn ratios_on_each_scale() {
        assert_eq!(model_value(Scale::Linear, 3.0, 4.0), Ok(0.75));
        let l = model_value(Scale::Log10, 1.0, 100.0).unwrap();
        assert!((l + 2.0).abs() < 1e-12);
        assert!(model_value(Scale::Log10, 0.0, 1.0).is_err());
        assert!(model_value(Scale::Linear, 1.0, 0.0).is_err());
        assert!(model_value(Scale::Linear, f64::NAN, 1.0).is_err());
    }

    #[test]
    fn outcomes_over_seeds() {
        let c = check(Scale::Linear, 0.76, 0.19);
        // 0.76 +- 2 x 0.19 = [0.38, 1.14].
        let seeds = [Some(1), Some(2), Some(3)];
        let v = CheckVerdict::from_seeds(
            Some(16),
            &seeds,
            vec![result(&c, 0.80), result(&c, 0.85), result(&c, 1.10)],
        );
        assert_eq!((v.rating, v.held_in), (Rating::EverySeed, 3));
        assert!((v.means.deviation - (0.916_666_666_666_666_6 - 0.76) / 0.19).abs() < 1e-9);
        assert!(v.agrees_with_file());
        let v = CheckVerdict::from_seeds(
            Some(16),
            &seeds,
            vec![result(&c, 0.80), result(&c, 0.85), result(&c, 1.20)],
        );
        assert_eq!((v.rating, v.held_in), (Rating::OnAverage, 2));
        assert!(!v.agrees_with_file());
        let failing = |v: &CheckVerdict| {
            let mut f = v.clone();
            for r in &mut f.per_seed {
                r.check.status = Status::Fails;
            }
            f
        };
        assert!(!failing(&v).agrees_with_file());
        let v = CheckVerdict::from_seeds(
            Some(16),
            &seeds,
            vec![result(&c, 1.20), result(&c, 1.30), result(&c, 1.0)],
        );
        assert_eq!((v.rating, v.held_in), (Rating::Fails, 1));
        assert!(!v.agrees_with_file() && failing(&v).agrees_with_file());
        let table = verdict_markdown(&[v]);
        assert!(table.contains("| 1/3 | fails | passes |"), "{table}");
    }

    #[test]
    fn chi_square_sums_squared_mean_deviations_per_grid() {
        let a = check(Scale::Linear, 0.76, 0.19);
        let b = Check {
            id: "d".into(),
            ..check(Scale::Log10, -1.0, 0.5)
        };
        let one = [Some(1)];
        let v = |c: &Check, r: usize, m: f64| {
            CheckVerdict::from_seeds(Some(r), &one, vec![result(c, m)])
        };
        // 16^3: deviations +1 and -2 (squares 1 and 4); 24^3: 0 and +0.5.
        let verdicts = [
            v(&a, 16, 0.95),
            v(&b, 16, -2.0),
            v(&a, 24, 0.76),
            v(&b, 24, -0.75),
        ];
        let chi = chi_square(&verdicts);
        assert_eq!(chi.len(), 2);
        assert_eq!((chi[0].0, chi[0].2), (Some(16), 2));
        assert!((chi[0].1 - 5.0).abs() < 1e-9, "{chi:?}");
        assert_eq!((chi[1].0, chi[1].2), (Some(24), 2));
        assert!((chi[1].1 - 0.25).abs() < 1e-9, "{chi:?}");
        let table = verdict_markdown(&verdicts);
        assert!(
            table.contains("chi-square at 16^3: 5.00 over 2 checks"),
            "{table}"
        );
        assert!(
            table.contains("chi-square at 24^3: 0.25 over 2 checks"),
            "{table}"
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_check_named() {
        let ok = check(Scale::Linear, 0.76, 0.19);
        let refuse = |c: Check, words: &str| {
            let f = ChecksFile { check: vec![c] };
            let e = f.validate().unwrap_err();
            assert!(e.contains("check `c`") && e.contains(words), "{e}");
        };
        refuse(
            Check {
                relative_to_preset: Some("b.toml".into()),
                ..ok.clone()
            },
            "exactly one",
        );
        refuse(
            Check {
                relative_to_day: None,
                ..ok.clone()
            },
            "exactly one",
        );
        refuse(
            Check {
                relative_to_day: Some(28.0),
                ..ok.clone()
            },
            "other than day",
        );
        refuse(
            Check {
                spread: 0.0,
                ..ok.clone()
            },
            "spread",
        );
        refuse(
            Check {
                tolerance: -1.0,
                ..ok.clone()
            },
            "tolerance",
        );
        refuse(
            Check {
                observed: -0.5,
                ..ok.clone()
            },
            "positive ratio",
        );
        refuse(
            Check {
                status: Status::Fails,
                ..ok.clone()
            },
            "needs a `why`",
        );
        let twice = ChecksFile {
            check: vec![ok.clone(), ok.clone()],
        };
        assert!(twice.validate().unwrap_err().contains("used twice"));
        // A log10 ratio may be negative.
        let log = ChecksFile {
            check: vec![check(Scale::Log10, -1.1, 0.27)],
        };
        assert_eq!(log.validate(), Ok(()));
    }
}
