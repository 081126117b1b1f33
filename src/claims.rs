//! The review's therapy claims (MODEL.md section 5) as data: each claim names an endpoint,
//! a day, the preset that should do better and the presets it should beat. A claims file
//! is checked by running every preset it names on a backend and comparing the endpoints
//! (`osteoniche claims`, and the `therapy_claims` test on both backends).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::preset::{Preset, Scenario};
use crate::run::Run;
use crate::sim::Simulation;

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

/// Model changes applied to every preset a study runs, on top of each preset's own
/// `[model]` (`claims` and `checks` with `--set` and `--mechanism`): a claim or a check
/// under another value of a rate, e.g. a calibration's grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelOverrides {
    /// Parameter name and value, in the model file's unit.
    pub set: Vec<(String, f64)>,
    /// Mechanism switch (`M1` .. `M19`) and whether it is on.
    pub mechanisms: Vec<(String, bool)>,
}

impl ModelOverrides {
    /// No change: the presets as they are.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.mechanisms.is_empty()
    }

    /// `tumour_growth=0.05, M14=off`, or `none`.
    pub fn words(&self) -> String {
        if self.is_empty() {
            return "none".into();
        }
        self.set
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .chain(
                self.mechanisms
                    .iter()
                    .map(|(m, on)| format!("{m}={}", if *on { "on" } else { "off" })),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Endpoint values of one preset at the days asked for.
/// Every field must stay finite and non-negative (MODEL.md section 5).
fn sound(sim: &mut Simulation, preset: &Path) -> Result<()> {
    let stats = sim.stats()?;
    for (s, name) in stats.iter().zip(sim.setup().species.names()) {
        if s.nonfinite > 0 || s.negative > 0 {
            return Err(Error::Invalid(format!(
                "{}: field `{name}` has {} non-finite and {} negative values at day {:.3}",
                preset.display(),
                s.nonfinite,
                s.negative,
                sim.time_min() / 1440.0
            )));
        }
    }
    Ok(())
}

/// Runs `preset` once (at `resolution`, with `seed` in place of its own and `overrides`
/// applied to its model) to the last day in `points` and reads each endpoint at its day,
/// keyed by [`point_key`]; every field must be sound at each day read.
pub(crate) fn measure(
    preset: &Path,
    points: &[(f64, String)],
    resolution: Option<usize>,
    seed: Option<u64>,
    overrides: &ModelOverrides,
    make_sim: &mut dyn FnMut(Scenario) -> Result<Simulation>,
) -> Result<BTreeMap<String, f64>> {
    let mut p = Preset::load(preset)?;
    if !overrides.is_empty() {
        p.override_model(&overrides.set, &overrides.mechanisms)
            .map_err(|e| Error::Invalid(format!("{}: {e}", preset.display())))?;
    }
    let sc = p.scenario(resolution, seed)?;
    let dt_day = sc.dt_min / 1440.0;
    let at = format!(
        "{} ({}x{}x{} voxels, seed {})",
        preset.display(),
        sc.grid.nx,
        sc.grid.ny,
        sc.grid.nz,
        sc.seed
    );
    let sim = make_sim(sc).map_err(|e| Error::Invalid(format!("{at}: {e}")))?;
    // Through the run driver: the numerical guard at every metrics row of the preset's
    // cadence, as `run` has it (the rows themselves are not kept).
    let mut run = Run::start(sim, p, resolution, Path::new(""))
        .map_err(|e| Error::Invalid(format!("{at}: at day 0: {e}")))?;
    let mut points = points.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = BTreeMap::new();
    for (day, endpoint) in points {
        let step = (day / dt_day).round() as u64;
        if step > run.sim().step_index() {
            let from = run.sim().time_min() / 1440.0;
            run.advance_to(step, None).map_err(|e| {
                Error::Invalid(format!("{at}: between day {from:.2} and day {day}: {e}"))
            })?;
        }
        let sim = run.sim_mut();
        sound(sim, preset)?;
        let value = endpoint_value(sim, &endpoint).map_err(|m| {
            Error::Invalid(format!("{}: endpoint `{endpoint}`: {m}", preset.display()))
        })?;
        out.insert(point_key(day, &endpoint), value);
    }
    Ok(out)
}

/// The key of an endpoint at a day in what [`measure`] returns.
pub(crate) fn point_key(day: f64, endpoint: &str) -> String {
    format!("{day}:{endpoint}")
}

/// The value of an endpoint in the simulation's current state.
pub fn endpoint_value(sim: &mut Simulation, endpoint: &str) -> std::result::Result<f64, String> {
    if let Some(rest) = endpoint.strip_prefix("bone_to_plasma_auc") {
        let p = sim.pharmacology().ok_or("this preset doses no drugs")?;
        let i = match rest.strip_prefix(':') {
            Some(drug) => p
                .position(drug)
                .ok_or_else(|| format!("drug `{drug}` is not dosed in this preset"))?,
            None if p.drugs.len() == 1 && rest.is_empty() => 0,
            None => return Err("name the drug: bone_to_plasma_auc:<drug>".into()),
        };
        let s = &p.state.drugs[i];
        if s.auc_plasma <= 0.0 {
            return Err("no plasma exposure yet".into());
        }
        return Ok(s.auc_tissue / s.auc_plasma);
    }
    let f = sim
        .setup()
        .species
        .index(endpoint)
        .ok_or_else(|| format!("no field `{endpoint}`"))?;
    let volume = sim.setup().grid.voxel_volume_um3();
    let stats = sim.stats().map_err(|e| e.to_string())?;
    Ok(stats[f].sum * volume)
}

/// What a study reads: per preset file, the (day, endpoint) pairs.
pub(crate) type Wanted = BTreeMap<PathBuf, Vec<(f64, String)>>;

/// Adds `endpoint` at `day` of `preset` (a path relative to `dir`) to `wanted`, once.
pub(crate) fn want(wanted: &mut Wanted, dir: &Path, preset: &str, day: f64, endpoint: &str) {
    let v = wanted.entry(dir.join(preset)).or_default();
    if !v.iter().any(|(d, e)| *d == day && e == endpoint) {
        v.push((day, endpoint.to_string()));
    }
}

/// Runs every preset of `wanted` once ([`measure`]); its values by preset, then by
/// [`point_key`]. `progress` is told each preset as it starts.
pub(crate) fn measure_all(
    wanted: &Wanted,
    resolution: Option<usize>,
    seed: Option<u64>,
    overrides: &ModelOverrides,
    make_sim: &mut dyn FnMut(Scenario) -> Result<Simulation>,
    progress: &mut dyn FnMut(&str),
) -> Result<BTreeMap<PathBuf, BTreeMap<String, f64>>> {
    let mut values = BTreeMap::new();
    for (preset, points) in wanted {
        progress(&preset.display().to_string());
        values.insert(
            preset.clone(),
            measure(preset, points, resolution, seed, overrides, make_sim)?,
        );
    }
    Ok(values)
}

/// Runs `one` once per resolution and seed (`what` names the study in the refusal of
/// empty lists; each run's progress lines are prefixed with its grid and seed); `one`
/// gives one result per item (claim or check), and `rate` turns an item's results over the
/// seeds at one resolution into its verdict. The verdicts: per resolution in the order
/// given, per item in the file's order.
#[allow(
    clippy::type_complexity,
    reason = "one run's arguments: grid, seed and its progress line"
)]
pub(crate) fn per_grid_and_seed<R: Clone, V>(
    what: &str,
    resolutions: &[Option<usize>],
    seeds: &[Option<u64>],
    mut one: impl FnMut(Option<usize>, Option<u64>, &mut dyn FnMut(&str)) -> Result<Vec<R>>,
    rate: impl Fn(Option<usize>, &[Option<u64>], Vec<R>) -> V,
    mut progress: impl FnMut(&str),
) -> Result<Vec<V>> {
    if seeds.is_empty() || resolutions.is_empty() {
        return Err(Error::Invalid(format!(
            "{what}: give at least one seed and one resolution"
        )));
    }
    let mut out = Vec::new();
    for &resolution in resolutions {
        let mut runs = Vec::new();
        for &seed in seeds {
            let at = format!("{}, seed {}", grid_words(resolution), seed_words(seed));
            runs.push(one(resolution, seed, &mut |p| {
                progress(&format!("{at}: {p}"))
            })?);
        }
        let items = runs.first().map_or(0, Vec::len);
        for k in 0..items {
            let per_seed = runs.iter().map(|r| r[k].clone()).collect();
            out.push(rate(resolution, seeds, per_seed));
        }
    }
    Ok(out)
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

/// How a claim fares over the seeds at one resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// The ordering holds in every seed.
    Robust,
    /// The ordering of the seed means holds, but not in every seed.
    HoldsOnAverage,
    /// The ordering of the seed means does not hold.
    Fails,
}

impl Rating {
    /// The words `claims` prints.
    pub fn words(self) -> &'static str {
        match self {
            Rating::Robust => "robust",
            Rating::HoldsOnAverage => "holds on average",
            Rating::Fails => "fails",
        }
    }
}

/// One claim over several seeds at one resolution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimVerdict {
    /// The claim.
    pub claim: Claim,
    /// Voxels on the longest axis (`None`: each preset's own grid).
    pub resolution: Option<usize>,
    /// The seeds (lattice; the initial conditions follow from it), in order (`None`: the
    /// presets' own).
    pub seeds: Vec<Option<u64>>,
    /// The result in each seed, in the order of `seeds`.
    pub per_seed: Vec<ClaimResult>,
    /// The better preset's endpoint, mean over the seeds.
    pub mean_better: f64,
    /// Each compared endpoint, mean over the seeds.
    pub mean_others: Vec<(String, f64)>,
    /// The margin of the means (see [`margin`]).
    pub mean_margin: f64,
    /// In how many seeds the ordering holds.
    pub held_in: usize,
    /// Robust, holds on average or fails.
    pub rating: Rating,
}

impl ClaimVerdict {
    /// Rates one claim from its results in each seed.
    pub fn from_seeds(
        resolution: Option<usize>,
        seeds: &[Option<u64>],
        per_seed: Vec<ClaimResult>,
    ) -> Self {
        assert!(!per_seed.is_empty() && per_seed.len() == seeds.len());
        let claim = per_seed[0].claim.clone();
        let n = per_seed.len() as f64;
        let mean_better = per_seed.iter().map(|r| r.better_value).sum::<f64>() / n;
        let mean_others: Vec<(String, f64)> = (0..per_seed[0].others.len())
            .map(|k| {
                let name = per_seed[0].others[k].0.clone();
                (
                    name,
                    per_seed.iter().map(|r| r.others[k].1).sum::<f64>() / n,
                )
            })
            .collect();
        let mean_margin = margin(claim.direction, mean_better, &mean_others);
        let held_in = per_seed.iter().filter(|r| r.holds).count();
        let rating = if held_in == per_seed.len() {
            Rating::Robust
        } else if mean_margin > 0.0 {
            Rating::HoldsOnAverage
        } else {
            Rating::Fails
        };
        ClaimVerdict {
            claim,
            resolution,
            seeds: seeds.to_vec(),
            per_seed,
            mean_better,
            mean_others,
            mean_margin,
            held_in,
            rating,
        }
    }
}

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
        ClaimVerdict::from_seeds,
        &mut progress,
    )
}

/// `16^3`, or `preset grid`.
pub(crate) fn grid_words(resolution: Option<usize>) -> String {
    resolution.map_or("preset grid".to_string(), |n| format!("{n}^3"))
}

fn seed_words(seed: Option<u64>) -> String {
    seed.map_or("preset".to_string(), |s| s.to_string())
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
        let c = &v.claim;
        let others: Vec<String> = v
            .mean_others
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
            v.mean_better,
            others.join("; "),
            100.0 * v.mean_margin,
            100.0 * lo,
            100.0 * hi,
            v.held_in,
            v.seeds.len(),
            v.rating.words(),
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
        assert_eq!((v.rating, v.held_in), (Rating::Robust, 3));
        assert!((v.mean_better - 8.0).abs() < 1e-12);
        // Fails in one seed, holds for the means: (8 + 11 + 7) / 3 = 8.67 < 9.67.
        let one_fails = vec![
            result(d, 8.0, [10.0, 12.0]),
            result(d, 11.0, [10.0, 11.0]),
            result(d, 7.0, [9.0, 10.0]),
        ];
        let v = ClaimVerdict::from_seeds(Some(16), &seeds, one_fails);
        assert_eq!((v.rating, v.held_in), (Rating::HoldsOnAverage, 2));
        assert!(v.mean_margin > 0.0);
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
