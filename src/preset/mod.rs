//! Presets: TOML scenario files, parsed, checked and resolved into a [`Scenario`].
//!
//! Every refusal names the file, line and key, says what was found and what is allowed.

mod doses;
pub mod duration;
pub mod model_file;
pub mod reference;
pub mod schema;
pub mod validate;

use std::path::Path;

pub use duration::SimDuration;
pub use model_file::{ModelData, ModelFile, ParamEntry};
pub use schema::*;

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::locate::{Locator, nearest};
use crate::model::{Species, SpeciesKind, SpeciesList};

/// A preset that parsed and passed every check, with the name of the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// The checked contents.
    pub file: PresetFile,
    /// Where it came from (a path, or `<string>`).
    pub origin: String,
    /// The model file `[model] file` names, loaded and checked.
    pub model: Option<ModelData>,
    /// The drug library `[pharmacology] library` names, loaded and checked.
    pub library: Option<crate::pharma::DrugLibrary>,
}

/// Data files a preset names, given as `(text, origin)` instead of read from disk (a
/// checkpoint carries what its run used).
#[derive(Debug, Clone, Copy, Default)]
pub struct Embedded<'a> {
    /// The model file.
    pub model: Option<(&'a str, &'a str)>,
    /// The drug library.
    pub library: Option<(&'a str, &'a str)>,
}

/// A data file a preset names (`[model] file`, `[pharmacology] library`), relative to the
/// preset's folder; refused at its key when there is no such file.
fn data_file(
    locator: &Locator<'_>,
    origin: &str,
    [table, key]: [&str; 2],
    rel: &str,
) -> Result<std::path::PathBuf> {
    let dir = Path::new(origin).parent().unwrap_or(Path::new(""));
    let path = dir.join(rel);
    if path.is_file() {
        return Ok(path);
    }
    Err(Error::Value {
        location: locator.locate(&[
            crate::locate::Seg::Key(table.into()),
            crate::locate::Seg::Key(key.into()),
        ]),
        key: format!("{table}.{key}"),
        value: format!("\"{rel}\""),
        allowed: format!(
            "no such file: {} (the path is relative to the preset's folder)",
            path.display()
        ),
    })
}

/// How deep `extends` chains may go.
const MAX_EXTENDS: usize = 8;

/// Merges `over` into `base` key by key (tables recursively; other values replace).
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Makes the paths a preset's `base` names relative to the extending preset's folder.
fn rebase_paths(base: &mut toml::Table, rel_dir: &Path) {
    let fix = |v: Option<&mut toml::Value>| {
        if let Some(toml::Value::String(p)) = v
            && Path::new(p.as_str()).is_relative()
        {
            *p = rel_dir
                .join(p.as_str())
                .to_string_lossy()
                .replace('\\', "/");
        }
    };
    for (table, key) in [
        ("model", "file"),
        ("pharmacology", "library"),
        ("lattice", "path"),
    ] {
        if let Some(toml::Value::Table(t)) = base.get_mut(table) {
            fix(t.get_mut(key));
        }
    }
}

/// The text of a preset with its `extends` chain resolved: the base (checked as a preset
/// of its own first) with this file's keys merged over it.
fn resolve_extends(text: &str, origin: &str, depth: usize) -> Result<String> {
    let locator = Locator::new(origin, text);
    let mut table: toml::Table = toml::from_str(text).map_err(|e| Error::Preset {
        location: locator.at_offset(e.span().map(|s| s.start)),
        message: explain_toml_error(e.message()),
    })?;
    let Some(ext) = table.remove("extends") else {
        return Ok(text.to_string());
    };
    let at = locator.locate(&[crate::locate::Seg::Key("extends".into())]);
    let fail = |value: String, allowed: String| Error::Value {
        location: at.clone(),
        key: "extends".into(),
        value,
        allowed,
    };
    let toml::Value::String(ext) = ext else {
        return Err(fail(ext.to_string(), "a path to another preset".into()));
    };
    if depth >= MAX_EXTENDS {
        return Err(fail(
            format!("\"{ext}\""),
            format!("at most {MAX_EXTENDS} presets in an extends chain (is there a loop?)"),
        ));
    }
    let dir = Path::new(origin).parent().unwrap_or(Path::new(""));
    let path = dir.join(&ext);
    let base_text = std::fs::read_to_string(&path).map_err(|_| {
        fail(
            format!("\"{ext}\""),
            format!(
                "no such file: {} (the path is relative to the preset's folder)",
                path.display()
            ),
        )
    })?;
    let base_origin = path.display().to_string();
    let base_resolved = resolve_extends(&base_text, &base_origin, depth + 1)?;
    // The base must stand on its own: its errors point into its own file.
    Preset::parse(&base_resolved, &base_origin)?;
    let mut base: toml::Table = toml::from_str(&base_resolved).expect("checked just above");
    rebase_paths(&mut base, Path::new(&ext).parent().unwrap_or(Path::new("")));
    // Doses add up: a combination extends a single-drug preset with its second drug.
    if let (Some(toml::Value::Array(before)), Some(toml::Value::Array(added))) =
        (base.get("dose"), table.get_mut("dose"))
    {
        let mut all = before.clone();
        all.append(added);
        *added = all;
    }
    merge_tables(&mut base, table);
    Ok(toml::to_string_pretty(&base).expect("a TOML table serialises"))
}

/// The preset file at `path` as one TOML table, its `extends` chain merged and the data
/// files it names (model, library, lattice) made absolute, so that the table can be
/// changed and written anywhere (sweep variants). Not checked: load what you write.
pub fn resolved_table(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let origin = path.display().to_string();
    let merged = resolve_extends(&text, &origin, 0)?;
    let locator = Locator::new(&origin, &merged);
    let mut table: toml::Table = toml::from_str(&merged).map_err(|e| Error::Preset {
        location: locator.at_offset(e.span().map(|s| s.start)),
        message: explain_toml_error(e.message()),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    rebase_paths(&mut table, &dir);
    Ok(table)
}

impl Preset {
    /// Reads and checks a preset file.
    pub fn load(path: &Path) -> Result<Preset> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks preset text; `origin` names it in error messages, and a model
    /// file it names is read relative to `origin`'s folder.
    pub fn parse(text: &str, origin: &str) -> Result<Preset> {
        Self::parse_with_model(text, origin, None)
    }

    /// As [`Preset::parse`], with the model file's text given (`(text, origin)`) instead of
    /// read from disk (a checkpoint carries the model it ran).
    pub fn parse_with_model(
        text: &str,
        origin: &str,
        model_text: Option<(&str, &str)>,
    ) -> Result<Preset> {
        Self::parse_embedded(
            text,
            origin,
            Embedded {
                model: model_text,
                library: None,
            },
        )
    }

    /// As [`Preset::parse`], with any of the data files given instead of read from disk.
    pub fn parse_embedded(text: &str, origin: &str, embedded: Embedded<'_>) -> Result<Preset> {
        let merged = resolve_extends(text, origin, 0)?;
        let extended = merged != text;
        // Errors point into the file as written: keys it sets are found there; with
        // `extends`, keys from the base (already checked on its own) get no line.
        let locator = Locator::new(origin, text);
        let text = merged.as_str();
        let model_text = embedded.model;
        let file: PresetFile = toml::from_str(text).map_err(|e| Error::Preset {
            location: locator.at_offset(e.span().filter(|_| !extended).map(|s| s.start)),
            message: explain_toml_error(e.message()),
        })?;
        let model = match (&file.model, model_text) {
            (None, _) => None,
            (Some(_), Some((text, origin))) => Some(ModelData::parse(text, origin)?),
            (Some(spec), None) => Some(ModelData::load(&data_file(
                &locator,
                origin,
                ["model", "file"],
                &spec.file,
            )?)?),
        };
        let library = match (&file.pharmacology, embedded.library) {
            (None, _) => None,
            (Some(_), Some((text, origin))) => {
                Some(crate::pharma::DrugLibrary::parse(text, origin)?)
            }
            (Some(spec), None) => Some(crate::pharma::DrugLibrary::load(&data_file(
                &locator,
                origin,
                ["pharmacology", "library"],
                &spec.library,
            )?)?),
        };
        validate::check(&file, &locator, model.as_ref())?;
        validate::check_pharmacology(&file, &locator, library.as_ref())?;
        Ok(Preset {
            file,
            origin: origin.to_string(),
            model,
            library,
        })
    }

    /// Applies model changes given outside the file (`run --set`, `--mechanism`): parameter
    /// values in the model file's units and mechanism switches, checked like the file's own.
    pub fn override_model(
        &mut self,
        set: &[(String, f64)],
        mechanisms: &[(String, bool)],
    ) -> Result<()> {
        let Some(spec) = self.file.model.as_mut() else {
            return Err(Error::Invalid(format!(
                "{}: --set and --mechanism change the model, and this preset has no [model]",
                self.origin
            )));
        };
        for (name, value) in set {
            let Some((_, d)) = crate::model::parameters::find(name) else {
                let hint = model_file::unknown_parameter(name);
                return Err(Error::Invalid(format!("--set {name}={value}: {hint}")));
            };
            let (lo, hi, allowed) = model_file::allowed_range(d.name, d.unit);
            if !value.is_finite() || *value < lo || *value > hi {
                return Err(Error::Invalid(format!(
                    "--set {name}={value}: {allowed} ({})",
                    d.unit
                )));
            }
            spec.set.insert(name.clone(), *value);
        }
        for (id, on) in mechanisms {
            if !crate::model::parameters::MECHANISMS
                .iter()
                .any(|(m, _)| m == id)
            {
                return Err(Error::Invalid(format!(
                    "--mechanism {id}: mechanisms are named M1..M19"
                )));
            }
            spec.mechanisms.insert(id.clone(), *on);
        }
        Ok(())
    }

    /// The preset as TOML (what was run, with every default filled in).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.file).expect("a checked preset always serialises")
    }

    /// Resolves the preset into what the simulation needs, with optional overrides:
    /// `resolution` re-grids the same physical box with that many voxels on its longest
    /// axis; `seed` replaces the preset's seed.
    pub fn scenario(&self, resolution: Option<usize>, seed: Option<u64>) -> Result<Scenario> {
        let f = &self.file;
        let mut size = f.grid.size;
        let mut dx = f.grid.voxel_um;
        if let Some(n) = resolution {
            if !(1..=4096).contains(&n) {
                return Err(Error::Invalid(format!(
                    "--resolution {n}: allowed 1..=4096 voxels on the longest axis"
                )));
            }
            let longest = *size.iter().max().expect("three axes") as f64;
            let extent = longest * dx;
            dx = extent / n as f64;
            for s in &mut size {
                *s = ((*s as f64 * n as f64 / longest).round() as usize).max(1);
            }
        }
        let grid = Grid::new(size[0], size[1], size[2], dx);
        let mut specs: Vec<SpeciesSpec> = Vec::new();
        let mut model = None;
        if let (Some(spec), Some(data)) = (&f.model, &self.model) {
            for s in &data.file.species {
                let mut s = s.clone();
                if let Some(ic) = spec.initial.get(&s.name) {
                    s.initial = ic.clone();
                }
                specs.push(s);
            }
            let params = crate::model::ModelParams::new(
                &data.file.parameters,
                &spec.set,
                &spec.mechanisms,
                spec.well_mixed,
            );
            let (x1, x2) = crate::model::biology::komarova_steady_state(&params.values);
            if !(x1.is_finite() && x2.is_finite() && x1 > 0.0 && x2 > 0.0) {
                return Err(Error::Invalid(format!(
                    "{}: the remodelling core has no positive steady state with these alpha, beta \
                     and g (Gamma = g12 g21 - (1 - g11)(1 - g22) must not be 0); got x1 = {x1}, x2 = {x2}",
                    self.origin
                )));
            }
            model = Some(params);
        }
        specs.extend(f.species.iter().cloned());
        let grid_for_drugs = grid;
        let pharmacology = match (&f.pharmacology, &self.library) {
            (Some(spec), Some(lib)) => {
                Some(self.drugs_in_use(spec, lib, &mut specs, &grid_for_drugs)?)
            }
            _ => None,
        };
        let species = SpeciesList::new(specs.iter().map(resolve_species).collect());
        let dt_min = f.time.dt.minutes();
        let steps = steps_for(f.time.duration.minutes(), dt_min).ok_or_else(|| {
            Error::Invalid(format!(
                "{}: time.duration = \"{}\" at time.dt = \"{}\" is more than {MAX_STEPS} steps, the most a run takes",
                self.origin, f.time.duration, f.time.dt
            ))
        })?;
        Ok(Scenario {
            name: f.name.clone(),
            grid,
            species,
            dt_min,
            steps,
            theta: f.time.scheme.theta(),
            seed: seed.unwrap_or(f.seed),
            specs,
            model,
            pharmacology,
            preset: f.clone(),
            base_dir: std::path::Path::new(&self.origin)
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default(),
            lattice: None,
        })
    }
}

impl Preset {
    /// The drugs the run doses (scheduled first, in order of first dose, then those loaded
    /// for real-time doses), with their fields appended to `specs`.
    fn drugs_in_use(
        &self,
        spec: &PharmacologySpec,
        lib: &crate::pharma::DrugLibrary,
        specs: &mut Vec<SpeciesSpec>,
        grid: &Grid,
    ) -> Result<crate::pharma::dosing::Pharmacology> {
        use crate::pharma::dosing::{DrugInUse, Pharmacology, drug_species};
        let mut names: Vec<&str> = Vec::new();
        for n in self
            .file
            .dose
            .iter()
            .map(|d| d.drug.as_str())
            .chain(spec.drugs.iter().map(|s| s.as_str()))
        {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut drugs = Vec::new();
        for name in names {
            let drug = lib.get(name).map_err(Error::Invalid)?.clone();
            let (species, fields) = drug_species(&drug, specs.len());
            for s in species {
                if specs.iter().any(|o| o.name == s.name) {
                    return Err(Error::Invalid(format!(
                        "{}: drug `{name}` adds a field `{}`, and the preset already has one",
                        self.origin, s.name
                    )));
                }
                specs.push(SpeciesSpec {
                    name: s.name,
                    kind: s.kind,
                    unit: Some(s.unit),
                    diffusion: s.diffusion_um2_min,
                    decay: 0.0,
                    bone_permeability: s.bone_permeability,
                    growth: 0.0,
                    capacity: 1.0,
                    solver: crate::model::Solver::Split,
                    initial: InitialSpec::default(),
                    dirichlet: None,
                    source: format!("drug library {}", lib.origin),
                });
            }
            drugs.push(DrugInUse::new(drug, fields, spec.body_weight_kg));
        }
        Ok(Pharmacology::new(
            drugs,
            spec.body_weight_kg,
            grid,
            doses::scheduled_doses(&self.file),
        ))
    }
}

/// Species entry with its defaults filled in.
fn resolve_species(s: &SpeciesSpec) -> Species {
    let unit = s.unit.clone().unwrap_or_else(|| match s.kind {
        SpeciesKind::Factor | SpeciesKind::Drug => "nM".to_string(),
        _ => "volume fraction".to_string(),
    });
    Species {
        name: s.name.clone(),
        kind: s.kind,
        unit,
        diffusion_um2_min: s.diffusion,
        decay_per_min: s.decay,
        bone_permeability: s.bone_permeability,
        growth_per_min: s.growth,
        capacity: s.capacity,
        solver: s.solver,
    }
}

/// A resolved run: grid, fields, step and the preset it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Preset name.
    pub name: String,
    /// The grid (after any resolution override).
    pub grid: Grid,
    /// The fields.
    pub species: SpeciesList,
    /// Coupled step, minutes.
    pub dt_min: f64,
    /// Number of steps to cover the duration.
    pub steps: u64,
    /// Transport implicitness (1 backward Euler, 0.5 Crank-Nicolson).
    pub theta: f64,
    /// Seed in use.
    pub seed: u64,
    /// Every field's entry, model fields first (with `[model.initial]` applied), in
    /// memory order.
    pub specs: Vec<SpeciesSpec>,
    /// The model's parameter array, when the preset has a `[model]`.
    pub model: Option<crate::model::ModelParams>,
    /// The drugs of the run with their schedule, when the preset has `[pharmacology]`.
    pub pharmacology: Option<crate::pharma::dosing::Pharmacology>,
    /// The checked preset.
    pub preset: PresetFile,
    /// Folder that relative paths in the preset (lattice files) are resolved against.
    pub base_dir: std::path::PathBuf,
    /// A lattice on `grid` used in place of building the preset's `[lattice]` (a
    /// resolution study's lattice, coarsened from the finest grid); `None` builds it.
    pub lattice: Option<std::sync::Arc<crate::lattice::Lattice>>,
}

impl Scenario {
    /// Whole steps in an output interval (`[output] metrics_every`, `snapshot_every`, a
    /// checkpoint interval): at least one; `default` when there is none.
    pub fn steps_every(&self, interval: Option<SimDuration>, default: u64) -> u64 {
        interval
            .map(|d| ((d.minutes() / self.dt_min).round() as u64).max(1))
            .unwrap_or(default)
    }
}

/// The most steps one run takes (10^9: 114 000 years at a step of 1 h); a longer duration
/// is refused rather than run for ever or wrapped round.
pub const MAX_STEPS: u64 = 1_000_000_000;

/// Whole steps of `dt_min` that cover `minutes` (at least one), or `None` past
/// [`MAX_STEPS`] (or for a duration that is not a finite number).
pub fn steps_for(minutes: f64, dt_min: f64) -> Option<u64> {
    let steps = (minutes / dt_min - 1e-9).ceil().max(1.0);
    (steps.is_finite() && steps <= MAX_STEPS as f64).then_some(steps as u64)
}

/// Makes serde's messages read as advice: nearest valid key for unknown keys.
fn explain_toml_error(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let candidates: Vec<&str> = expected
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        if let Some(best) = nearest(field, &candidates) {
            return format!("{message}; did you mean `{best}`?");
        }
    }
    message.to_string()
}
