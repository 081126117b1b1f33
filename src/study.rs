//! The study harness that `claims`, `checks` (and the calibration's runs) share: what a
//! study reads (per preset file, endpoints at days), running each preset once through the
//! run driver with the study's model changes and reading the endpoints at their days, and
//! repeating that per grid and seed before each file rates its items over the seeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::preset::{Preset, Scenario};
use crate::run::Run;
use crate::sim::Simulation;

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
/// Every field must stay finite and non-negative (docs/model.md, Checks).
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

/// `16^3`, or `preset grid`.
pub(crate) fn grid_words(resolution: Option<usize>) -> String {
    resolution.map_or("preset grid".to_string(), |n| format!("{n}^3"))
}

/// `3`, or `preset` (the preset's own seed).
pub(crate) fn seed_words(seed: Option<u64>) -> String {
    seed.map_or("preset".to_string(), |s| s.to_string())
}
