//! The drug library: drugs as data (docs/pharmacology.md). A library file holds, per drug,
//! its systemic PK (per kg of body weight), its tissue transport, an optional bone
//! affinity, an optional carrier and its pharmacodynamic targets; every number is written
//! `{ value, unit, source }` and checked against the unit and range below.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pk::Compartments;
use crate::error::{Error, Result};
use crate::locate::{Locator, Seg, path_string};
use crate::model::parameters::ParamEntry;

mod keys;
mod route;

pub use crate::model::therapy::Target;
pub use keys::key_reference;
use keys::{
    BONE_KEYS, CARRIER_KEYS, PK_KEYS, TARGET_KEYS, TISSUE_KEYS, check_entry, check_section,
};
pub use route::Route;

/// A library file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    name: String,
    #[serde(default)]
    description: String,
    drug: BTreeMap<String, DrugEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrugEntry {
    description: String,
    routes: Vec<Route>,
    /// Another drug of the library this one carries: its molecular weight, PK, tissue
    /// transport, bone affinity and targets are the payload's (given here: refused).
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    molecular_weight: Option<ParamEntry>,
    #[serde(default)]
    pk: Option<BTreeMap<String, ParamEntry>>,
    #[serde(default)]
    tissue: Option<BTreeMap<String, ParamEntry>>,
    #[serde(default)]
    bone: Option<BTreeMap<String, ParamEntry>>,
    #[serde(default)]
    carrier: Option<BTreeMap<String, ParamEntry>>,
    #[serde(default)]
    target: Vec<TargetEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    target: Target,
    emax: ParamEntry,
    ec50: ParamEntry,
    hill: ParamEntry,
}

/// Systemic PK per kg of body weight (volumes L/kg, clearances L/h/kg).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PkPerKg(pub Compartments);

impl PkPerKg {
    /// The compartments of an animal of `kg` (volumes and clearances scale linearly, so
    /// half-lives are those of the source; no allometry).
    pub fn for_weight(&self, kg: f64) -> Compartments {
        let c = self.0;
        Compartments {
            central_l: c.central_l * kg,
            clearance_l_h: c.clearance_l_h * kg,
            peripheral_l: c.peripheral_l * kg,
            peripheral_l_h: c.peripheral_l_h * kg,
            deep_l: c.deep_l * kg,
            deep_l_h: c.deep_l_h * kg,
            ..c
        }
    }
}

/// Tissue transport of free drug.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tissue {
    /// µm^2/min.
    pub diffusion_um2_min: f64,
    /// 1/h.
    pub decay_per_h: f64,
    /// 1/h per unit vessel density.
    pub permeability_per_h: f64,
    /// 0..1.
    pub bone_permeability: f64,
}

/// A nanocarrier (or a carrier cell) holding the drug as payload; amounts are payload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Carrier {
    /// Plasma kinetics of the carrier.
    pub pk: PkPerKg,
    /// 1/h.
    pub plasma_release_per_h: f64,
    /// µm^2/min.
    pub diffusion_um2_min: f64,
    /// 1/h.
    pub decay_per_h: f64,
    /// 1/h per unit vessel density.
    pub permeability_per_h: f64,
    /// Relative EPR rise.
    pub epr_boost: f64,
    /// Volume fraction.
    pub epr_tumour_k: f64,
    /// 1/h.
    pub release_per_h: f64,
    /// Relative rise with acidity.
    pub acid_boost: f64,
    /// mM lactate.
    pub acid_k_mm: f64,
    /// Relative rise with ROS.
    pub ros_boost: f64,
    /// Volume fraction.
    pub ros_k: f64,
    /// 1/h at a full bone surface.
    pub bone_binding_per_h: f64,
}

/// One pharmacodynamic target: `E = emax C^h / (ec50^h + C^h)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Effect {
    /// What it acts on.
    pub target: Target,
    /// 0..1.
    pub emax: f64,
    /// nM.
    pub ec50_nm: f64,
    /// Hill coefficient.
    pub hill: f64,
}

impl Effect {
    /// The effect at concentration `c` nM.
    pub fn at(&self, c: f64) -> f64 {
        if c <= 0.0 {
            return 0.0;
        }
        let r = (c / self.ec50_nm).powf(self.hill);
        self.emax * r / (1.0 + r)
    }
}

/// One drug of the library.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drug {
    /// Identifier (field names derive from it).
    pub name: String,
    /// What it is, with sources.
    pub description: String,
    /// Routes it may be given by.
    pub routes: Vec<Route>,
    /// g/mol (of the payload, for carriers).
    pub molecular_weight: f64,
    /// Systemic PK of the free drug.
    pub pk: PkPerKg,
    /// Tissue transport of the free drug.
    pub tissue: Tissue,
    /// Adsorption onto bone surfaces, 1/h; `None`: no bone affinity.
    pub bone_binding_per_h: Option<f64>,
    /// The carrier it is dosed in, if any (doses then enter the carrier).
    pub carrier: Option<Carrier>,
    /// Pharmacodynamics.
    pub effects: Vec<Effect>,
}

impl Drug {
    /// nmol in `mg` of the drug.
    pub fn nmol(&self, mg: f64) -> f64 {
        mg / self.molecular_weight * 1e6
    }
}

/// A checked drug library with the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugLibrary {
    /// Library name.
    pub name: String,
    /// Drugs by name.
    pub drugs: BTreeMap<String, Drug>,
    /// Where it came from.
    pub origin: String,
    /// The text as read (kept so a checkpoint can carry it).
    pub text: String,
}

impl DrugLibrary {
    /// Reads and checks a library file.
    pub fn load(path: &std::path::Path) -> Result<DrugLibrary> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks library text; errors name the file, line and key.
    pub fn parse(text: &str, origin: &str) -> Result<DrugLibrary> {
        let loc = Locator::new(origin, text);
        let file: LibraryFile = toml::from_str(text).map_err(|e| Error::Preset {
            location: loc.at_offset(e.span().map(|s| s.start)),
            message: e.message().trim().to_string(),
        })?;
        let mut drugs: BTreeMap<String, Drug> = BTreeMap::new();
        // Drugs without a payload first: a carrier entry takes its payload's numbers.
        let order = file
            .drug
            .iter()
            .filter(|(_, e)| e.payload.is_none())
            .chain(file.drug.iter().filter(|(_, e)| e.payload.is_some()));
        for (name, entry) in order {
            let base = [Seg::Key("drug".into()), Seg::Key(name.clone())];
            let fail = |rel: &[&str], value: String, allowed: String| {
                let mut path = base.to_vec();
                path.extend(
                    rel.iter()
                        .filter(|k| !k.is_empty())
                        .map(|k| Seg::Key(k.to_string())),
                );
                Error::Value {
                    location: loc.locate(&path),
                    key: path_string(&path),
                    value,
                    allowed,
                }
            };
            if !is_identifier(name) {
                return Err(fail(
                    &[],
                    name.clone(),
                    "a drug name is lower-case letters, digits and _ (its fields are named after it)".into(),
                ));
            }
            if entry.routes.is_empty() {
                return Err(fail(&["routes"], "[]".into(), "at least one route".into()));
            }
            let payload = match &entry.payload {
                None => None,
                Some(p) => {
                    let own = [
                        ("molecular_weight", entry.molecular_weight.is_some()),
                        ("pk", entry.pk.is_some()),
                        ("tissue", entry.tissue.is_some()),
                        ("bone", entry.bone.is_some()),
                        ("target", !entry.target.is_empty()),
                    ];
                    if let Some((k, _)) = own.iter().find(|(_, given)| *given) {
                        return Err(fail(
                            &[k],
                            (*k).to_string(),
                            format!("a carrier of `{p}` takes its payload's {k}; remove it here"),
                        ));
                    }
                    let Some(d) = drugs.get(p) else {
                        return Err(fail(
                            &["payload"],
                            p.clone(),
                            "the payload must be another drug of this library, without a payload of its own".into(),
                        ));
                    };
                    if entry.carrier.is_none() {
                        return Err(fail(
                            &["payload"],
                            p.clone(),
                            "a drug with a payload needs a [carrier] section".into(),
                        ));
                    }
                    Some(d.clone())
                }
            };
            let (mw, pk, tissue) = match &payload {
                Some(d) => (d.molecular_weight, d.pk, d.tissue),
                None => {
                    let need = |k: &str, present: bool| {
                        if present {
                            Ok(())
                        } else {
                            Err(fail(
                                &[],
                                format!("no `{k}`"),
                                format!("missing: `{k}` (or a `payload`)"),
                            ))
                        }
                    };
                    need("molecular_weight", entry.molecular_weight.is_some())?;
                    need("pk", entry.pk.is_some())?;
                    need("tissue", entry.tissue.is_some())?;
                    let mw = check_entry(
                        entry.molecular_weight.as_ref().expect("checked"),
                        "g/mol",
                        1.0,
                        false,
                        1e8,
                    )
                    .map_err(|(v, a)| fail(&["molecular_weight"], v, a))?;
                    let pk_values =
                        check_section(entry.pk.as_ref().expect("checked"), PK_KEYS, &[])
                            .map_err(|(k, v, a)| fail(&["pk", &k], v, a))?;
                    let t =
                        check_section(entry.tissue.as_ref().expect("checked"), TISSUE_KEYS, &[])
                            .map_err(|(k, v, a)| fail(&["tissue", &k], v, a))?;
                    let tissue = Tissue {
                        diffusion_um2_min: t["diffusion"],
                        decay_per_h: t["decay"],
                        permeability_per_h: t["permeability"],
                        bone_permeability: t["bone_permeability"],
                    };
                    (mw, pk_from(&pk_values), tissue)
                }
            };
            if entry.routes.iter().any(|r| r.absorbed()) && pk.0.absorption_per_h <= 0.0 {
                return Err(fail(
                    &["pk"],
                    "no absorption_rate".into(),
                    "a drug given subcutaneously or orally needs pk.absorption_rate > 0".into(),
                ));
            }
            let bone_binding_per_h = match &entry.bone {
                None if payload.is_some() => payload.as_ref().and_then(|d| d.bone_binding_per_h),
                None => None,
                Some(b) => {
                    let v = check_section(b, BONE_KEYS, &[])
                        .map_err(|(k, v, a)| fail(&["bone", &k], v, a))?;
                    Some(v["binding"])
                }
            };
            let carrier = match &entry.carrier {
                None => None,
                Some(c) => {
                    let v = check_section(c, CARRIER_KEYS, PK_KEYS)
                        .map_err(|(k, v, a)| fail(&["carrier", &k], v, a))?;
                    Some(Carrier {
                        pk: pk_from(&v),
                        plasma_release_per_h: v["plasma_release"],
                        diffusion_um2_min: v["diffusion"],
                        decay_per_h: v["decay"],
                        permeability_per_h: v["permeability"],
                        epr_boost: v["epr_boost"],
                        epr_tumour_k: v["epr_tumour_k"],
                        release_per_h: v["release"],
                        acid_boost: v["acid_boost"],
                        acid_k_mm: v["acid_k"],
                        ros_boost: v["ros_boost"],
                        ros_k: v["ros_k"],
                        bone_binding_per_h: v["bone_binding"],
                    })
                }
            };
            if carrier.is_some() && entry.routes.iter().any(|r| r.absorbed()) {
                return Err(fail(
                    &["routes"],
                    format!(
                        "{:?}",
                        entry.routes.iter().map(|r| r.as_str()).collect::<Vec<_>>()
                    ),
                    "a carrier is given intravenously or locally (iv-bolus, iv-infusion, local)"
                        .into(),
                ));
            }
            let mut effects = payload
                .as_ref()
                .map(|d| d.effects.clone())
                .unwrap_or_default();
            for (i, te) in entry.target.iter().enumerate() {
                let at = |k: &str| {
                    let mut path = base.to_vec();
                    path.extend([Seg::Key("target".into()), Seg::Index(i), Seg::Key(k.into())]);
                    path
                };
                let mut nums = [0.0; 3];
                for (j, (k, e)) in [("emax", &te.emax), ("ec50", &te.ec50), ("hill", &te.hill)]
                    .into_iter()
                    .enumerate()
                {
                    let d = &TARGET_KEYS[j];
                    nums[j] = check_entry(e, d.unit, d.lo, d.open, d.hi).map_err(|(v, a)| {
                        let path = at(k);
                        Error::Value {
                            location: loc.locate(&path),
                            key: path_string(&path),
                            value: v,
                            allowed: a,
                        }
                    })?;
                }
                if effects.iter().any(|e: &Effect| e.target == te.target) {
                    let path = at("target");
                    return Err(Error::Value {
                        location: loc.locate(&path),
                        key: path_string(&path),
                        value: te.target.as_str().into(),
                        allowed: "each target once per drug".into(),
                    });
                }
                effects.push(Effect {
                    target: te.target,
                    emax: nums[0],
                    ec50_nm: nums[1],
                    hill: nums[2],
                });
            }
            if effects.len() > MAX_TARGETS {
                return Err(fail(
                    &["target"],
                    format!("{} targets", effects.len()),
                    format!("at most {MAX_TARGETS} targets per drug"),
                ));
            }
            drugs.insert(
                name.clone(),
                Drug {
                    name: name.clone(),
                    description: entry.description.clone(),
                    routes: entry.routes.clone(),
                    molecular_weight: mw,
                    pk,
                    tissue,
                    bone_binding_per_h,
                    carrier,
                    effects,
                },
            );
        }
        Ok(DrugLibrary {
            name: file.name,
            drugs,
            origin: origin.to_string(),
            text: text.to_string(),
        })
    }

    /// The drug called `name`, or an error listing the library's drugs (with the nearest).
    pub fn get(&self, name: &str) -> std::result::Result<&Drug, String> {
        self.drugs.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.drugs.keys().map(|s| s.as_str()).collect();
            let hint = crate::locate::nearest(name, &names)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            format!(
                "no drug `{name}` in the library {} ({hint}drugs: {})",
                self.origin,
                names.join(", ")
            )
        })
    }

    /// Markdown reference of the library: every drug with every number, unit and source.
    pub fn markdown(&self) -> String {
        let raw: LibraryFile = toml::from_str(&self.text).expect("checked when loaded");
        let mut out = format!(
            "# Drug library `{}`\n\nGenerated by `osteoniche reference --drugs {}`.\n\n{}\n\n\
             ## Keys of a library entry\n\n{}",
            raw.name,
            self.origin,
            raw.description,
            key_reference()
        );
        for (name, e) in &raw.drug {
            out.push_str(&format!("\n## `{name}`\n\n{}\n\n", e.description.trim()));
            out.push_str(&format!(
                "Routes: {}.\n\n| key | value | unit | source |\n|---|---|---|---|\n",
                e.routes
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if let Some(p) = &e.payload {
                out.push_str(&format!(
                    "Payload: `{p}` (its molecular weight, PK, tissue transport and targets).\n\n"
                ));
            }
            let row = |k: &str, p: &ParamEntry| {
                format!(
                    "| {k} | {} | {} | {} |\n",
                    p.value,
                    p.unit,
                    p.source.replace('|', "/")
                )
            };
            if let Some(mw) = &e.molecular_weight {
                out.push_str(&row("molecular_weight", mw));
            }
            let sections = [
                ("pk", e.pk.as_ref()),
                ("tissue", e.tissue.as_ref()),
                ("bone", e.bone.as_ref()),
                ("carrier", e.carrier.as_ref()),
            ];
            for (s, m) in sections {
                for (k, p) in m.into_iter().flatten() {
                    out.push_str(&row(&format!("{s}.{k}"), p));
                }
            }
            for t in &e.target {
                let s = t.target.as_str();
                out.push_str(&row(&format!("target {s}: emax"), &t.emax));
                out.push_str(&row(&format!("target {s}: ec50"), &t.ec50));
                out.push_str(&row(&format!("target {s}: hill"), &t.hill));
            }
        }
        out
    }
}

/// Most targets one drug may have (the kernel's per-drug block holds this many).
pub const MAX_TARGETS: usize = 4;

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn pk_from(v: &BTreeMap<&'static str, f64>) -> PkPerKg {
    PkPerKg(Compartments {
        central_l: v["central_volume"],
        clearance_l_h: v["clearance"],
        peripheral_l: v["peripheral_volume"],
        peripheral_l_h: v["peripheral_clearance"],
        deep_l: v["deep_volume"],
        deep_l_h: v["deep_clearance"],
        absorption_per_h: v["absorption_rate"],
        bioavailability: v["bioavailability"],
    })
}
