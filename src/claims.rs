//! The review's therapy claims (MODEL.md section 5) as data: each claim names an endpoint,
//! a day, the preset that should do better and the presets it should beat. A claims file
//! is checked by running every preset it names on a backend and comparing the endpoints
//! (`osteoniche claims`, and the `therapy_claims` test on both backends).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::preset::{Preset, Scenario};
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
    /// Whether the ordering holds against every other.
    pub holds: bool,
}

impl ClaimsFile {
    /// Reads a claims file.
    pub fn load(path: &Path) -> Result<ClaimsFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: {}", path.display(), e.message().trim())))
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

fn measure(
    preset: &Path,
    points: &[(f64, String)],
    resolution: Option<usize>,
    make_sim: &mut dyn FnMut(Scenario) -> Result<Simulation>,
) -> Result<BTreeMap<String, f64>> {
    let p = Preset::load(preset)?;
    let sc = p.scenario(resolution, None)?;
    let dt_day = sc.dt_min / 1440.0;
    let mut sim = make_sim(sc)?;
    let mut points = points.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = BTreeMap::new();
    for (day, endpoint) in points {
        let step = (day / dt_day).round() as u64;
        if step > sim.step_index() {
            sim.advance(step - sim.step_index())?;
        }
        sound(&mut sim, preset)?;
        let value = endpoint_value(&mut sim, &endpoint).map_err(|m| {
            Error::Invalid(format!("{}: endpoint `{endpoint}`: {m}", preset.display()))
        })?;
        out.insert(key(day, &endpoint), value);
    }
    Ok(out)
}

fn key(day: f64, endpoint: &str) -> String {
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

/// Runs every preset the claims name (once each, to the last day any claim reads, on the
/// simulations `make_sim` builds) and evaluates the claims; fails if any field turns
/// non-finite or negative at a day it reads. `progress` is told each preset as it starts.
pub fn check(
    file: &ClaimsFile,
    dir: &Path,
    resolution: Option<usize>,
    mut make_sim: impl FnMut(Scenario) -> Result<Simulation>,
    mut progress: impl FnMut(&str),
) -> Result<Vec<ClaimResult>> {
    let mut wanted: BTreeMap<PathBuf, Vec<(f64, String)>> = BTreeMap::new();
    for c in &file.claim {
        let mut add = |p: &str, day: f64| {
            let v = wanted.entry(dir.join(p)).or_default();
            if !v.iter().any(|(d, e)| *d == day && *e == c.endpoint) {
                v.push((day, c.endpoint.clone()));
            }
        };
        add(&c.better, c.day);
        for t in &c.than {
            add(t, c.day);
        }
        if let Some(b) = c.baseline_day {
            add(&c.better, b);
        }
    }
    let mut values: BTreeMap<PathBuf, BTreeMap<String, f64>> = BTreeMap::new();
    for (preset, points) in &wanted {
        progress(&preset.display().to_string());
        values.insert(
            preset.clone(),
            measure(preset, points, resolution, &mut make_sim)?,
        );
    }
    let get = |p: &str, day: f64, e: &str| values[&dir.join(p)][&key(day, e)];
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
            let holds = others.iter().all(|(_, v)| match c.direction {
                Direction::Lower => better_value < *v,
                Direction::Higher => better_value > *v,
            });
            ClaimResult {
                claim: c.clone(),
                better_value,
                others,
                holds,
            }
        })
        .collect())
}

/// The results as a Markdown table (what `osteoniche claims` prints).
pub fn markdown(results: &[ClaimResult]) -> String {
    let mut out = String::from(
        "| claim | ref | day | endpoint | better | value | compared with | holds |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        let c = &r.claim;
        let others: Vec<String> = r
            .others
            .iter()
            .map(|(p, v)| format!("{p}: {v:.6e}"))
            .collect();
        let direction = match c.direction {
            Direction::Lower => "lower is better",
            Direction::Higher => "higher is better",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} ({direction}) | {} | {:.6e} | {} | {} |\n",
            c.id,
            c.reference,
            c.day,
            c.endpoint,
            c.better,
            r.better_value,
            others.join("; "),
            if r.holds { "yes" } else { "NO" }
        ));
    }
    out
}
