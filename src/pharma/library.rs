//! The drug library: drugs as data (MODEL.md section 4). A library file holds, per drug,
//! its systemic PK (per kg of body weight), its tissue transport, an optional bone
//! affinity, an optional carrier and its pharmacodynamic targets; every number is written
//! `{ value, unit, source }` and checked against the unit and range below.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pk::Compartments;
use crate::error::{Error, Result};
use crate::model::parameters::p;
use crate::preset::ParamEntry;
use crate::preset::locate::{Locator, Seg, path_string};

/// How a dose enters the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// Intravenous bolus: straight into plasma.
    IvBolus,
    /// Intravenous infusion at a constant rate over a duration.
    IvInfusion,
    /// Subcutaneous: absorbed from a depot (absorption rate, bioavailability).
    Subcutaneous,
    /// Oral: absorbed from a depot (absorption rate, bioavailability).
    Oral,
    /// Local injection of a volume at a point of the domain (into tissue).
    Local,
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 5] = [
        Route::IvBolus,
        Route::IvInfusion,
        Route::Subcutaneous,
        Route::Oral,
        Route::Local,
    ];

    /// The name presets use.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::IvBolus => "iv-bolus",
            Route::IvInfusion => "iv-infusion",
            Route::Subcutaneous => "subcutaneous",
            Route::Oral => "oral",
            Route::Local => "local",
        }
    }

    /// Whether the dose goes through the absorption depot.
    pub fn absorbed(self) -> bool {
        matches!(self, Route::Subcutaneous | Route::Oral)
    }
}

impl std::str::FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Route, String> {
        Route::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Route::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown route `{s}` (routes: {})", names.join(", "))
            })
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a drug acts on: each target names the model's therapy parameter it drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// PD-1 blockade (`blockade_pd1`).
    Pd1,
    /// TIGIT blockade (`blockade_tigit`).
    Tigit,
    /// RANKL neutralisation (`blockade_rankl`).
    Rankl,
    /// DKK1 neutralisation (`blockade_dkk1`).
    Dkk1,
    /// IL-1beta blockade (`blockade_il1b`).
    Il1b,
    /// TGF-beta receptor I inhibition (`blockade_tbri`).
    Tbri,
    /// CXCR2 antagonism (`blockade_cxcr2`).
    Cxcr2,
    /// CSF2 / PRMT5 inhibition (`blockade_csf2`).
    Csf2,
    /// TGF-beta ligand neutralisation (`blockade_tgfb`).
    Tgfb,
    /// Vitamin C effect on CXCR2-driven recruitment (`vitamin_c`).
    VitaminC,
    /// Cytotoxic tumour kill (`effect_chemo`).
    Chemo,
    /// PARP-inhibitor tumour kill (`effect_parp`).
    Parp,
    /// Osteoclast kill (`effect_oc_kill`).
    OcKill,
    /// Senescent-osteocyte kill (`effect_senolytic`).
    Senolytic,
    /// Cx43 hemichannel activation (`effect_cx43`).
    Cx43,
}

impl Target {
    /// Every target, in the order of the kernel's therapy array.
    pub const ALL: [Target; 15] = [
        Target::Pd1,
        Target::Tigit,
        Target::Rankl,
        Target::Dkk1,
        Target::Il1b,
        Target::Tbri,
        Target::Cxcr2,
        Target::Csf2,
        Target::Tgfb,
        Target::VitaminC,
        Target::Chemo,
        Target::Parp,
        Target::OcKill,
        Target::Senolytic,
        Target::Cx43,
    ];

    /// The model parameter whose value is the target's effect without drugs.
    pub fn parameter(self) -> usize {
        match self {
            Target::Pd1 => p::BLOCKADE_PD1,
            Target::Tigit => p::BLOCKADE_TIGIT,
            Target::Rankl => p::BLOCKADE_RANKL,
            Target::Dkk1 => p::BLOCKADE_DKK1,
            Target::Il1b => p::BLOCKADE_IL1B,
            Target::Tbri => p::BLOCKADE_TBRI,
            Target::Cxcr2 => p::BLOCKADE_CXCR2,
            Target::Csf2 => p::BLOCKADE_CSF2,
            Target::Tgfb => p::BLOCKADE_TGFB,
            Target::VitaminC => p::VITAMIN_C,
            Target::Chemo => p::EFFECT_CHEMO,
            Target::Parp => p::EFFECT_PARP,
            Target::OcKill => p::EFFECT_OC_KILL,
            Target::Senolytic => p::EFFECT_SENOLYTIC,
            Target::Cx43 => p::EFFECT_CX43,
        }
    }

    /// Position in the kernel's therapy array (the declaration order, which
    /// [`Target::ALL`] follows; a test checks).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name library files use.
    pub fn as_str(self) -> &'static str {
        crate::model::parameters::PARAMS[self.parameter()]
            .name
            .trim_start_matches("blockade_")
            .trim_start_matches("effect_")
    }

    /// WGSL constant of the therapy-array slot, e.g. `T_PD1`.
    pub fn wgsl_name(self) -> String {
        format!("T_{}", self.as_str().to_ascii_uppercase())
    }
}

/// A key of a library section: name, unit, lower bound (inclusive unless `open`), upper
/// bound, whether it must be present, and what it means.
struct Key {
    name: &'static str,
    unit: &'static str,
    lo: f64,
    open: bool,
    hi: f64,
    required: bool,
    meaning: &'static str,
}

const fn key(
    name: &'static str,
    unit: &'static str,
    lo: f64,
    open: bool,
    hi: f64,
    required: bool,
    meaning: &'static str,
) -> Key {
    Key {
        name,
        unit,
        lo,
        open,
        hi,
        required,
        meaning,
    }
}

const INF: f64 = f64::INFINITY;

/// Plasma-tissue exchange, of free drug (`tissue`) and of carriers (`carrier`).
const PERMEABILITY: Key = key(
    "permeability",
    "1/h",
    0.0,
    false,
    1e3,
    true,
    "plasma-tissue exchange rate per unit vessel density",
);

/// `[drug.<name>.pk]`, and the carrier's plasma kinetics in `[drug.<name>.carrier]`.
const PK_KEYS: &[Key] = &[
    key(
        "central_volume",
        "L/kg",
        0.0,
        true,
        1e3,
        true,
        "central (plasma) volume V1",
    ),
    key(
        "clearance",
        "L/h/kg",
        0.0,
        false,
        1e3,
        true,
        "elimination clearance CL",
    ),
    key(
        "peripheral_volume",
        "L/kg",
        0.0,
        false,
        1e4,
        false,
        "first peripheral volume V2",
    ),
    key(
        "peripheral_clearance",
        "L/h/kg",
        0.0,
        false,
        1e3,
        false,
        "inter-compartmental clearance Q2",
    ),
    key(
        "deep_volume",
        "L/kg",
        0.0,
        false,
        1e5,
        false,
        "deep peripheral volume V3 (bone for bisphosphonates)",
    ),
    key(
        "deep_clearance",
        "L/h/kg",
        0.0,
        false,
        1e3,
        false,
        "inter-compartmental clearance Q3",
    ),
    key(
        "absorption_rate",
        "1/h",
        0.0,
        false,
        1e3,
        false,
        "absorption rate ka (subcutaneous, oral)",
    ),
    key(
        "bioavailability",
        "1",
        0.0,
        true,
        1.0,
        false,
        "fraction of a subcutaneous or oral dose absorbed",
    ),
];

/// `[drug.<name>.tissue]`.
const TISSUE_KEYS: &[Key] = &[
    key(
        "diffusion",
        "um^2/min",
        0.0,
        false,
        1e6,
        true,
        "diffusion coefficient in marrow",
    ),
    key(
        "decay",
        "1/h",
        0.0,
        false,
        1e3,
        true,
        "local elimination (metabolism, catabolism)",
    ),
    PERMEABILITY,
    key(
        "bone_permeability",
        "1",
        0.0,
        false,
        1.0,
        true,
        "share of the marrow diffusivity kept inside bone",
    ),
];

/// `[drug.<name>.bone]`.
const BONE_KEYS: &[Key] = &[key(
    "binding",
    "1/h",
    0.0,
    false,
    1e3,
    true,
    "adsorption rate of free drug onto bone surface (indicator s = 1); released by resorption",
)];

/// `[drug.<name>.carrier]` (plus [`PK_KEYS`] for the carrier's plasma kinetics).
const CARRIER_KEYS: &[Key] = &[
    key(
        "plasma_release",
        "1/h",
        0.0,
        false,
        1e3,
        true,
        "payload release from carriers in plasma",
    ),
    key(
        "diffusion",
        "um^2/min",
        0.0,
        false,
        1e6,
        true,
        "carrier diffusion coefficient in marrow",
    ),
    key(
        "decay",
        "1/h",
        0.0,
        false,
        1e3,
        true,
        "carrier clearance in tissue (phagocytosis), payload lost",
    ),
    PERMEABILITY,
    key(
        "epr_boost",
        "1",
        0.0,
        false,
        1e3,
        true,
        "relative rise of extravasation in tumour (EPR)",
    ),
    key(
        "epr_tumour_k",
        "volume fraction",
        0.0,
        true,
        1.0,
        true,
        "tumour fraction at half the EPR rise",
    ),
    key(
        "release",
        "1/h",
        0.0,
        false,
        1e3,
        true,
        "payload release in tissue at neutral pH, no ROS",
    ),
    key(
        "acid_boost",
        "1",
        0.0,
        false,
        1e3,
        true,
        "relative rise of release with acidity (lactate)",
    ),
    key(
        "acid_k",
        "mM",
        0.0,
        true,
        1e3,
        true,
        "lactate at half the acid rise",
    ),
    key(
        "ros_boost",
        "1",
        0.0,
        false,
        1e3,
        true,
        "relative rise of release with ROS (MDSCs, immature neutrophils)",
    ),
    key(
        "ros_k",
        "volume fraction",
        0.0,
        true,
        1.0,
        true,
        "MDSC + immature neutrophil fraction at half the ROS rise",
    ),
    key(
        "bone_binding",
        "1/h",
        0.0,
        false,
        1e3,
        true,
        "ligand (e.g. alendronate) anchoring to bone surface; 0: untargeted",
    ),
];

/// `[[drug.<name>.target]]` numbers.
const TARGET_KEYS: &[Key] = &[
    key("emax", "1", 0.0, true, 1.0, true, "largest effect"),
    key(
        "ec50",
        "nM",
        0.0,
        true,
        1e9,
        true,
        "concentration at half the largest effect",
    ),
    key("hill", "1", 0.0, true, 10.0, true, "Hill coefficient"),
];

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
            let hint = crate::preset::nearest(name, &names)
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

/// Checks one number: unit, finite, within range; `Err((found, allowed))`.
fn check_entry(
    e: &ParamEntry,
    unit: &str,
    lo: f64,
    open: bool,
    hi: f64,
) -> std::result::Result<f64, (String, String)> {
    if e.unit != unit {
        return Err((
            format!("unit \"{}\"", e.unit),
            format!("the unit here is \"{unit}\""),
        ));
    }
    if e.source.trim().is_empty() {
        return Err((
            "source \"\"".into(),
            "every number names its source (paper, label, table) or says \"assumption\"".into(),
        ));
    }
    let below = if open { e.value <= lo } else { e.value < lo };
    if !e.value.is_finite() || below || e.value > hi {
        let lower = if open {
            format!("> {lo}")
        } else {
            format!(">= {lo}")
        };
        let upper = if hi == INF {
            String::new()
        } else {
            format!(" and <= {hi}")
        };
        return Err((
            e.value.to_string(),
            format!("must be {lower}{upper} ({unit})"),
        ));
    }
    Ok(e.value)
}

/// Checks a section against its keys (and `extra` keys also allowed there); absent
/// optional keys read as 0 (bioavailability as 1). `Err((key, found, allowed))`.
fn check_section(
    section: &BTreeMap<String, ParamEntry>,
    keys: &[Key],
    extra: &[Key],
) -> std::result::Result<BTreeMap<&'static str, f64>, (String, String, String)> {
    let all: Vec<&Key> = keys.iter().chain(extra.iter()).collect();
    for name in section.keys() {
        if !all.iter().any(|k| k.name == name) {
            let names: Vec<&str> = all.iter().map(|k| k.name).collect();
            let hint = crate::preset::nearest(name, &names)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err((
                name.clone(),
                name.clone(),
                format!("unknown key; {hint}allowed: {}", names.join(", ")),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for k in all {
        match section.get(k.name) {
            Some(e) => {
                let v = check_entry(e, k.unit, k.lo, k.open, k.hi)
                    .map_err(|(v, a)| (k.name.to_string(), v, a))?;
                out.insert(k.name, v);
            }
            None if k.required => {
                return Err((
                    String::new(),
                    format!("no `{}`", k.name),
                    format!("missing: `{}` ({}, {})", k.name, k.unit, k.meaning),
                ));
            }
            None => {
                out.insert(
                    k.name,
                    if k.name == "bioavailability" {
                        1.0
                    } else {
                        0.0
                    },
                );
            }
        }
    }
    Ok(out)
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

/// Every key a library section accepts, with unit and meaning (for the format docs).
pub fn key_reference() -> String {
    let mut out = String::from(
        "| section | key | unit | required | meaning |\n|---|---|---|---|---|\n\
         | drug | description | - | yes | what it is, with sources |\n\
         | drug | routes | - | yes | iv-bolus, iv-infusion, subcutaneous, oral, local |\n\
         | drug | payload | - | no | another drug this product carries (takes its numbers) |\n\
         | drug | molecular_weight | g/mol | yes, unless payload | converts mg to nmol |\n",
    );
    let sections: [(&str, &[Key]); 6] = [
        ("pk", PK_KEYS),
        ("tissue", TISSUE_KEYS),
        ("bone", BONE_KEYS),
        ("carrier", CARRIER_KEYS),
        ("carrier", PK_KEYS),
        ("target", TARGET_KEYS),
    ];
    for (s, keys) in sections {
        for k in keys {
            out.push_str(&format!(
                "| {s} | {} | {} | {} | {} |\n",
                k.name,
                k.unit,
                if k.required { "yes" } else { "no" },
                k.meaning
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn therapy_slots_follow_the_declaration_order() {
        for (i, t) in Target::ALL.iter().enumerate() {
            assert_eq!(t.index(), i, "{t:?}");
        }
        let names: std::collections::BTreeSet<&str> =
            Target::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), Target::ALL.len(), "distinct names");
        assert_eq!(Target::OcKill.as_str(), "oc_kill");
        assert_eq!(Target::VitaminC.wgsl_name(), "T_VITAMIN_C");
    }
}
