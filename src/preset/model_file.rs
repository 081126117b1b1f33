//! Model files: the fields and the parameter set of the bone-metastasis model, each
//! parameter with its value, unit and source. A preset names one in `[model] file` and
//! changes what it needs with `[model.set]`, `[model.mechanisms]` and `[model.initial]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schema::SpeciesSpec;
use crate::error::{Error, Result};
use crate::locate::{Locator, Seg, path_string};
pub use crate::model::parameters::ParamEntry;
use crate::model::parameters::{self, PARAMS};

/// A whole model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Short identifier. Required.
    pub name: String,
    /// What the model represents. Default: empty.
    #[serde(default)]
    pub description: String,
    /// The model's fields, same format as a preset's `[[species]]`; every field of
    /// [`crate::model::biology::MODEL_FIELDS`] must be present with its kind.
    pub species: Vec<SpeciesSpec>,
    /// Every registered parameter ([`crate::model::parameters::PARAMS`]).
    pub parameters: BTreeMap<String, ParamEntry>,
}

impl ModelFile {
    /// Every parameter as JSON for tools (`osteoniche reference --model F --json`): name,
    /// value, unit, source, group (mechanism `M1`..`M19` or `core`, `cells`, ...), meaning,
    /// and `assumption` (the source says the value is assumed rather than measured); a
    /// value in `set` (a preset's `[model.set]`) replaces the file's and is marked
    /// `set_by_preset`.
    pub fn parameters_json(&self, set: &BTreeMap<String, f64>) -> serde_json::Value {
        let list: Vec<serde_json::Value> = self
            .parameters
            .iter()
            .map(|(name, e)| {
                let def = crate::model::parameters::find(name).map(|(_, d)| d);
                serde_json::json!({
                    "name": name,
                    "value": set.get(name).copied().unwrap_or(e.value),
                    "set_by_preset": set.contains_key(name),
                    "unit": e.unit,
                    "source": e.source,
                    "group": def.map(|d| d.group),
                    "meaning": def.map(|d| d.meaning),
                    "assumption": e.source.to_lowercase().contains("assumption"),
                })
            })
            .collect();
        serde_json::Value::Array(list)
    }

    /// The model reference (docs/model.md) with this file's values and sources.
    pub fn reference_markdown(&self) -> String {
        let sources: BTreeMap<String, String> = self
            .species
            .iter()
            .map(|s| (s.name.clone(), s.source.clone()))
            .collect();
        crate::model::reference::markdown(&sources, &self.parameters)
    }
}

/// A loaded model file with its text (kept so a checkpoint can carry it).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelData {
    /// Parsed contents.
    pub file: ModelFile,
    /// Where it came from.
    pub origin: String,
    /// The text as read.
    pub text: String,
}

/// What to say of a name that is not a registered parameter (with the nearest one).
pub fn unknown_parameter(name: &str) -> String {
    let names: Vec<&str> = PARAMS.iter().map(|d| d.name).collect();
    match crate::locate::nearest(name, &names) {
        Some(n) => format!("not a parameter of the model; did you mean `{n}`?"),
        None => "not a parameter of the model (see docs/model.md)".to_string(),
    }
}

/// Allowed range of a registered parameter, from its name and unit.
pub fn allowed_range(name: &str, unit: &str) -> (f64, f64, &'static str) {
    if name.starts_with("blockade_")
        || name.starts_with("effect_")
        || name == "vitamin_c"
        || name == "androgen_deprivation"
    {
        (0.0, 1.0, "must be within 0..=1")
    } else if name.starts_with('g') && name.len() == 3 {
        (-10.0, 10.0, "an exponent within -10..=10")
    } else if name.ends_with("_k")
        || name.ends_with("_unit")
        || name.starts_with("alpha")
        || name.starts_with("beta")
        || name == "bone_per_percent"
        || name == "cell_floor"
        || name == "max_chemotactic_speed"
    {
        (f64::MIN_POSITIVE, f64::MAX, "must be > 0")
    } else if unit == "volume fraction" {
        (0.0, 1.0, "must be within 0..=1")
    } else {
        (0.0, f64::MAX, "must be >= 0")
    }
}

impl ModelData {
    /// Parses and checks a model file's text (everything that does not need the preset).
    pub fn parse(text: &str, origin: &str) -> Result<ModelData> {
        let loc = Locator::new(origin, text);
        let file: ModelFile = toml::from_str(text).map_err(|e| Error::Preset {
            location: loc.at_offset(e.span().map(|s| s.start)),
            message: e.message().trim().to_string(),
        })?;
        let fail = |path: &[Seg], value: String, allowed: &str| Error::Value {
            location: loc.locate(path),
            key: path_string(path),
            value,
            allowed: allowed.to_string(),
        };
        let key = |k: &str| Seg::Key(k.to_string());
        for name in file.parameters.keys() {
            if parameters::find(name).is_none() {
                let hint = unknown_parameter(name);
                return Err(fail(&[key("parameters"), key(name)], name.clone(), &hint));
            }
        }
        for d in PARAMS {
            let Some(e) = file.parameters.get(d.name) else {
                return Err(fail(
                    &[key("parameters")],
                    d.name.to_string(),
                    &format!(
                        "missing: the model needs `{}` ({}, {})",
                        d.name, d.unit, d.meaning
                    ),
                ));
            };
            let path = [key("parameters"), key(d.name)];
            if e.unit != d.unit {
                return Err(fail(
                    &path,
                    format!("unit \"{}\"", e.unit),
                    &format!("the unit of `{}` is \"{}\"", d.name, d.unit),
                ));
            }
            if e.source.trim().is_empty() {
                return Err(fail(
                    &path,
                    "source \"\"".into(),
                    "every parameter names its source (paper, table/figure) or says \"assumption\"",
                ));
            }
            let (lo, hi, allowed) = allowed_range(d.name, d.unit);
            if !e.value.is_finite() || e.value < lo || e.value > hi {
                return Err(fail(&path, e.value.to_string(), allowed));
            }
        }
        Ok(ModelData {
            file,
            origin: origin.to_string(),
            text: text.to_string(),
        })
    }

    /// Reads and checks a model file.
    pub fn load(path: &std::path::Path) -> Result<ModelData> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// A locator over the file, for checks that need the preset too.
    pub fn locator(&self) -> Locator<'_> {
        Locator::new(&self.origin, &self.text)
    }
}
