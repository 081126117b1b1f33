//! The study harness that `claims`, `checks` (and the calibration's runs) share: what a
//! study reads (per preset file, endpoints at days), running each preset once through the
//! run driver with the study's model changes and reading the endpoints at their days, and
//! repeating that per grid and seed before each file rates its items over the seeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::error::{Error, Result};
use crate::preset::{Preset, Scenario};
use crate::run::Run;
use crate::sim::{FieldStats, Simulation};

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

/// Every field must stay finite and non-negative (docs/model.md, Checks): refuses
/// statistics `stats` of `sim` with a non-finite or negative value.
fn sound(sim: &Simulation, stats: &[FieldStats], preset: &Path) -> Result<()> {
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
        // One reduction per day read, for the check and the endpoint both.
        let stats = sim.stats()?;
        sound(sim, &stats, preset)?;
        let value = endpoint_of(sim, &stats, &endpoint).map_err(|m| {
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
    let stats = sim.stats().map_err(|e| e.to_string())?;
    endpoint_of(sim, &stats, endpoint)
}

/// The value of an endpoint from the simulation and its current statistics `stats`.
fn endpoint_of(
    sim: &Simulation,
    stats: &[FieldStats],
    endpoint: &str,
) -> std::result::Result<f64, String> {
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

/// How an item of a study (a claim, a check) fares over the seeds at one resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    /// It holds in every seed (a claim is robust, a check passes).
    EverySeed,
    /// It holds for the mean over the seeds, not in every seed.
    OnAverage,
    /// It does not hold for the mean.
    Fails,
}

/// What a kind of study item calls things: its key in the JSON verdicts, the keys of the
/// count and the rating, and the rating's words (in the order of [`Rating`]'s variants).
#[derive(Debug, Clone, Copy)]
pub struct Words {
    /// The item's key (`claim`).
    pub item: &'static str,
    /// The key of how many seeds it holds in (`held_in`).
    pub count: &'static str,
    /// The rating's key (`rating`).
    pub rating: &'static str,
    /// The words of every seed, on average and fails (`robust`, ...).
    pub ratings: [&'static str; 3],
}

/// One run's result for one item of a study, as its verdict over the seeds reads it: a
/// claim's ordering and margin, a check's ratio and deviation.
pub trait Scored: Clone + Serialize {
    /// What is rated (a claim, a check).
    type Item: Serialize;
    /// The item's statistics over the seeds (the means it is rated on).
    type Means: std::fmt::Debug + Clone + PartialEq;
    /// How this kind names things.
    const WORDS: Words;
    /// The item.
    fn item(&self) -> &Self::Item;
    /// Whether it holds in this run.
    fn holds(&self) -> bool;
    /// The statistics over the seeds, and whether the item holds for them.
    fn means(per_seed: &[Self]) -> (Self::Means, bool);
    /// Writes the statistics' entries into a verdict's JSON object.
    fn serialize_means<M: SerializeMap>(
        means: &Self::Means,
        map: &mut M,
    ) -> std::result::Result<(), M::Error>;
}

/// One item of a study (a claim, a check) over several seeds at one resolution: the one
/// verdict type of `claims`, `checks` and the calibration's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict<R: Scored> {
    /// Voxels on the longest axis (`None`: each preset's own grid).
    pub resolution: Option<usize>,
    /// The seeds (lattice; the initial conditions follow from it), in order (`None`: the
    /// presets' own).
    pub seeds: Vec<Option<u64>>,
    /// The result in each seed, in the order of `seeds`.
    pub per_seed: Vec<R>,
    /// The statistics over the seeds.
    pub means: R::Means,
    /// In how many seeds the item holds.
    pub held_in: usize,
    /// Every seed, on average or fails.
    pub rating: Rating,
}

impl<R: Scored> Verdict<R> {
    /// Rates one item from its results in each seed.
    pub fn from_seeds(resolution: Option<usize>, seeds: &[Option<u64>], per_seed: Vec<R>) -> Self {
        assert!(!per_seed.is_empty() && per_seed.len() == seeds.len());
        let (means, holds_on_means) = R::means(&per_seed);
        let held_in = per_seed.iter().filter(|r| r.holds()).count();
        let rating = if held_in == per_seed.len() {
            Rating::EverySeed
        } else if holds_on_means {
            Rating::OnAverage
        } else {
            Rating::Fails
        };
        Verdict {
            resolution,
            seeds: seeds.to_vec(),
            per_seed,
            means,
            held_in,
            rating,
        }
    }

    /// The item (from the first seed's result; every seed's is the same).
    pub fn item(&self) -> &R::Item {
        self.per_seed[0].item()
    }

    /// The rating in this kind's words (`robust`, `passes on average`, ...).
    pub fn words(&self) -> &'static str {
        R::WORDS.ratings[self.rating as usize]
    }
}

impl<R: Scored> Serialize for Verdict<R> {
    /// The item under its kind's key, the grid and seeds, each seed's result, the
    /// statistics, the count and the rating (in words, `_` for spaces).
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(R::WORDS.item, self.item())?;
        m.serialize_entry("resolution", &self.resolution)?;
        m.serialize_entry("seeds", &self.seeds)?;
        m.serialize_entry("per_seed", &self.per_seed)?;
        R::serialize_means(&self.means, &mut m)?;
        m.serialize_entry(R::WORDS.count, &self.held_in)?;
        m.serialize_entry(R::WORDS.rating, &self.words().replace(' ', "_"))?;
        m.end()
    }
}

/// Runs `one` once per resolution and seed (`what` names the study in the refusal of
/// empty lists; each run's progress lines are prefixed with its grid and seed); `one`
/// gives one result per item (claim or check), and each item's results over the seeds
/// at one resolution become its [`Verdict`]. The verdicts: per resolution in the order
/// given, per item in the file's order.
#[allow(
    clippy::type_complexity,
    reason = "one run's arguments: grid, seed and its progress line"
)]
pub(crate) fn per_grid_and_seed<R: Scored>(
    what: &str,
    resolutions: &[Option<usize>],
    seeds: &[Option<u64>],
    mut one: impl FnMut(Option<usize>, Option<u64>, &mut dyn FnMut(&str)) -> Result<Vec<R>>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Verdict<R>>> {
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
            out.push(Verdict::from_seeds(resolution, seeds, per_seed));
        }
    }
    Ok(out)
}

/// `16^3`, or `preset grid`.
pub(crate) fn grid_words(resolution: Option<usize>) -> String {
    resolution.map_or("preset grid".to_string(), |n| format!("{n}^3"))
}

/// `3`, or `preset` (the preset's own seed).
pub(crate) fn seed_words(seed: Option<u64>) -> String {
    seed.map_or("preset".to_string(), |s| s.to_string())
}
