//! The review's therapy claims (docs/model.md, What holds, where: Claims) as data: each claim names an endpoint,
//! a day, the preset that should do better and the presets it should beat. A claims file
//! is checked by running every preset it names on a backend and comparing the endpoints
//! (`osteoniche claims`, and the `therapy_claims` test on both backends).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::preset::Scenario;
use crate::sim::Simulation;
use serde::ser::SerializeMap;

use crate::study::{
    Scored, Verdict, Wanted, Words, grid_words, measure_all, per_grid_and_seed, point_key,
    seed_words, want,
};
// The study's model changes, endpoints and ratings, where claims callers have always found
// them.
pub use crate::study::{ModelOverrides, Rating, endpoint_value};

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// A lower endpoint is better (tumour burden).
    Lower,
    /// A higher endpoint is better (bone volume, exposure ratio).
    Higher,
}

/// One claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Short identifier.
    pub id: String,
    /// The claim in words.
    pub statement: String,
    /// The review's reference numbers, e.g. `[5]`.
    pub reference: String,
    /// Day at which the endpoint is read.
    pub day: f64,
    /// `<field>` (its domain integral, field unit x µm^3), `bone_to_plasma_auc:<drug>`
    /// (tissue AUC over plasma AUC of the drug) or `bone_to_plasma_auc` (of the preset's
    /// only drug: compares products across presets).
    pub endpoint: String,
    /// Which way is better.
    pub direction: Direction,
    /// The preset that should do better (path relative to the claims file).
    pub better: String,
    /// The presets it should beat.
    #[serde(default)]
    pub than: Vec<String>,
    /// Also require the better preset's endpoint at `day` to beat its own value at this day
    /// (e.g. tumour below its size when dosing began: "drives the tumour towards zero").
    #[serde(default)]
    pub baseline_day: Option<f64>,
}

/// A claims file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsFile {
    /// The claims.
    pub claim: Vec<Claim>,
}

/// What one claim came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimResult {
    /// The claim.
    pub claim: Claim,
    /// The better preset's endpoint.
    pub better_value: f64,
    /// Each compared preset (or `<better> at day <baseline>`) with its endpoint.
    pub others: Vec<(String, f64)>,
    /// The smallest relative margin of the ordering over the others: (other - better) /
    /// |other| when lower is better, (better - other) / |other| when higher is; positive
    /// where the claim holds (see [`margin`]).
    pub margin: f64,
    /// Whether the ordering holds against every other (`margin > 0`).
    pub holds: bool,
}

/// The relative margin by which `better` beats the closest of `others` in `direction`:
/// positive when it beats every one (0.25: 25 % below the nearest when lower is better),
/// negative by the relative amount it misses otherwise. An other of exactly zero counts
/// by the absolute difference.
pub fn margin(direction: Direction, better: f64, others: &[(String, f64)]) -> f64 {
    others
        .iter()
        .map(|(_, v)| {
            let d = match direction {
                Direction::Lower => v - better,
                Direction::Higher => better - v,
            };
            if *v == 0.0 { d } else { d / v.abs() }
        })
        .fold(f64::INFINITY, f64::min)
}

impl ClaimsFile {
    /// Reads a claims file.
    pub fn load(path: &Path) -> Result<ClaimsFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: {}", path.display(), e.message().trim())))
    }
}

/// Runs every preset the claims name (once each, to the last day any claim reads, on the
/// simulations `make_sim` builds, at `resolution`, with `seed` in place of the presets'
/// own and `overrides` applied to their models) and evaluates the claims; fails if any field turns non-finite or negative at a day
/// it reads. `progress` is told each preset as it starts.
pub fn check(
    file: &ClaimsFile,
    dir: &Path,
    resolution: Option<usize>,
    seed: Option<u64>,
    overrides: &ModelOverrides,
    mut make_sim: impl FnMut(Scenario) -> Result<Simulation>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<ClaimResult>> {
    let mut wanted = Wanted::new();
    for c in &file.claim {
        want(&mut wanted, dir, &c.better, c.day, &c.endpoint);
        for t in &c.than {
            want(&mut wanted, dir, t, c.day, &c.endpoint);
        }
        if let Some(b) = c.baseline_day {
            want(&mut wanted, dir, &c.better, b, &c.endpoint);
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
    Ok(file
        .claim
        .iter()
        .map(|c| {
            let better_value = get(&c.better, c.day, &c.endpoint);
            let mut others: Vec<(String, f64)> = c
                .than
                .iter()
                .map(|t| (t.clone(), get(t, c.day, &c.endpoint)))
                .collect();
            if let Some(b) = c.baseline_day {
                others.push((
                    format!("{} at day {b}", c.better),
                    get(&c.better, b, &c.endpoint),
                ));
            }
            let margin = margin(c.direction, better_value, &others);
            ClaimResult {
                claim: c.clone(),
                better_value,
                others,
                margin,
                holds: margin > 0.0,
            }
        })
        .collect())
}

/// A claim's statistics over the seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimMeans {
    /// The better preset's endpoint, mean over the seeds.
    pub better: f64,
    /// Each compared endpoint, mean over the seeds.
    pub others: Vec<(String, f64)>,
    /// The margin of the means (see [`margin`]).
    pub margin: f64,
}

impl Scored for ClaimResult {
    type Item = Claim;
    type Means = ClaimMeans;
    const WORDS: Words = Words {
        item: "claim",
        count: "held_in",
        rating: "rating",
        ratings: ["robust", "holds on average", "fails"],
    };

    fn item(&self) -> &Claim {
        &self.claim
    }

    fn holds(&self) -> bool {
        self.holds
    }

    fn means(per_seed: &[Self]) -> (ClaimMeans, bool) {
        let n = per_seed.len() as f64;
        let better = per_seed.iter().map(|r| r.better_value).sum::<f64>() / n;
        let others: Vec<(String, f64)> = (0..per_seed[0].others.len())
            .map(|k| {
                let name = per_seed[0].others[k].0.clone();
                (
                    name,
                    per_seed.iter().map(|r| r.others[k].1).sum::<f64>() / n,
                )
            })
            .collect();
        let margin = margin(per_seed[0].claim.direction, better, &others);
        (
            ClaimMeans {
                better,
                others,
                margin,
            },
            margin > 0.0,
        )
    }

    fn serialize_means<M: SerializeMap>(
        means: &ClaimMeans,
        map: &mut M,
    ) -> std::result::Result<(), M::Error> {
        map.serialize_entry("mean_better", &means.better)?;
        map.serialize_entry("mean_others", &means.others)?;
        map.serialize_entry("mean_margin", &means.margin)
    }
}

/// One claim over several seeds at one resolution: robust (holds in every seed), holds on
/// average or fails.
pub type ClaimVerdict = Verdict<ClaimResult>;

/// Checks every claim at each resolution in each seed ([`check`] once per pair, each
/// preset run once per pair) and rates each claim per resolution over the seeds: one
/// verdict per claim and resolution, resolutions in the order given.
pub fn study(
    file: &ClaimsFile,
    dir: &Path,
    resolutions: &[Option<usize>],
    seeds: &[Option<u64>],
    overrides: &ModelOverrides,
    mut make_sim: impl FnMut(Scenario) -> Result<Simulation>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<ClaimVerdict>> {
    per_grid_and_seed(
        "claims",
        resolutions,
        seeds,
        |r, s, p| check(file, dir, r, s, overrides, &mut make_sim, p),
        &mut progress,
    )
}

/// The verdicts as a Markdown table (what `osteoniche claims` prints): per claim and
/// resolution the means over the seeds, the margin of the means, the smallest and largest
/// margin in one seed, in how many seeds it holds, and the rating.
pub fn verdict_markdown(verdicts: &[ClaimVerdict]) -> String {
    let mut out = String::from(
        "| claim | ref | day | endpoint | resolution | seeds | better (mean) | compared with (mean) | margin of the means | margin per seed (min, max) | holds in | rating |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for v in verdicts {
        let c = v.item();
        let others: Vec<String> = v
            .means
            .others
            .iter()
            .map(|(p, x)| format!("{p}: {x:.4e}"))
            .collect();
        let (lo, hi) = v
            .per_seed
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (a.min(r.margin), b.max(r.margin))
            });
        let direction = match c.direction {
            Direction::Lower => "lower",
            Direction::Higher => "higher",
        };
        let seeds: Vec<String> = v.seeds.iter().map(|&s| seed_words(s)).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} ({direction} is better) | {} | {} | {}: {:.4e} | {} | {:+.1} % | {:+.1} %, {:+.1} % | {}/{} | {} |\n",
            c.id,
            c.reference,
            c.day,
            c.endpoint,
            grid_words(v.resolution),
            seeds.join(","),
            c.better,
            v.means.better,
            others.join("; "),
            100.0 * v.means.margin,
            100.0 * lo,
            100.0 * hi,
            v.held_in,
            v.seeds.len(),
            v.words(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(direction: Direction) -> Claim {
        Claim {
            id: "c".into(),
            statement: "s".into(),
            reference: "[1]".into(),
            day: 28.0,
            endpoint: "tumour".into(),
            direction,
            better: "a.toml".into(),
            than: vec!["b.toml".into(), "c.toml".into()],
            baseline_day: None,
        }
    }

    fn result(direction: Direction, better: f64, others: [f64; 2]) -> ClaimResult {
        let others: Vec<(String, f64)> = vec![("b".into(), others[0]), ("c".into(), others[1])];
        let m = margin(direction, better, &others);
        ClaimResult {
            claim: claim(direction),
            better_value: better,
            others,
            margin: m,
            holds: m > 0.0,
        }
    }

    #[test]
    fn the_margin_is_the_relative_lead_over_the_closest_other() {
        let o = |a: f64, b: f64| vec![("b".to_string(), a), ("c".to_string(), b)];
        // Lower is better: 8 against 10 and 20 leads the closest (10) by 20 %.
        assert!((margin(Direction::Lower, 8.0, &o(10.0, 20.0)) - 0.2).abs() < 1e-12);
        // Misses 10 by 10 %.
        assert!((margin(Direction::Lower, 11.0, &o(10.0, 20.0)) + 0.1).abs() < 1e-12);
        // Higher is better: 12 against 10 and 4.
        assert!((margin(Direction::Higher, 12.0, &o(10.0, 4.0)) - 0.2).abs() < 1e-12);
        // A zero other counts by the absolute difference.
        assert_eq!(margin(Direction::Higher, 0.5, &o(0.0, 0.1)), 0.5);
    }

    #[test]
    fn ratings_tell_robust_from_holds_on_average_from_fails() {
        let d = Direction::Lower;
        let seeds = [Some(1), Some(2), Some(3)];
        let all = vec![
            result(d, 8.0, [10.0, 12.0]),
            result(d, 9.0, [10.0, 11.0]),
            result(d, 7.0, [9.0, 10.0]),
        ];
        let v = ClaimVerdict::from_seeds(Some(16), &seeds, all);
        assert_eq!((v.rating, v.held_in), (Rating::EverySeed, 3));
        assert!((v.means.better - 8.0).abs() < 1e-12);
        // Fails in one seed, holds for the means: (8 + 11 + 7) / 3 = 8.67 < 9.67.
        let one_fails = vec![
            result(d, 8.0, [10.0, 12.0]),
            result(d, 11.0, [10.0, 11.0]),
            result(d, 7.0, [9.0, 10.0]),
        ];
        let v = ClaimVerdict::from_seeds(Some(16), &seeds, one_fails);
        assert_eq!((v.rating, v.held_in), (Rating::OnAverage, 2));
        assert!(v.means.margin > 0.0);
        // Holds in one seed only, and not for the means.
        let mostly_fails = vec![
            result(d, 8.0, [10.0, 12.0]),
            result(d, 12.0, [10.0, 11.0]),
            result(d, 12.0, [9.0, 10.0]),
        ];
        let v = ClaimVerdict::from_seeds(Some(16), &seeds, mostly_fails);
        assert_eq!((v.rating, v.held_in), (Rating::Fails, 1));
        let table = verdict_markdown(&[v]);
        assert!(table.contains("| 1/3 | fails |"), "{table}");
        assert!(table.contains("16^3"), "{table}");
    }
}
