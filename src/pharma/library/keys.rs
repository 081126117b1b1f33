//! The keys of a drug library's sections: name, unit, range, whether required and what
//! each means; the checks of one number and of one section against them; the key
//! reference the format docs print.

use std::collections::BTreeMap;

use crate::model::parameters::ParamEntry;

/// A key of a library section: name, unit, lower bound (inclusive unless `open`), upper
/// bound, whether it must be present, and what it means.
pub(super) struct Key {
    pub(super) name: &'static str,
    pub(super) unit: &'static str,
    pub(super) lo: f64,
    pub(super) open: bool,
    pub(super) hi: f64,
    pub(super) required: bool,
    pub(super) meaning: &'static str,
}

pub(super) const fn key(
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

pub(super) const INF: f64 = f64::INFINITY;

/// Plasma-tissue exchange, of free drug (`tissue`) and of carriers (`carrier`).
pub(super) const PERMEABILITY: Key = key(
    "permeability",
    "1/h",
    0.0,
    false,
    1e3,
    true,
    "plasma-tissue exchange rate per unit vessel density",
);

/// `[drug.<name>.pk]`, and the carrier's plasma kinetics in `[drug.<name>.carrier]`.
pub(super) const PK_KEYS: &[Key] = &[
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
pub(super) const TISSUE_KEYS: &[Key] = &[
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
pub(super) const BONE_KEYS: &[Key] = &[key(
    "binding",
    "1/h",
    0.0,
    false,
    1e3,
    true,
    "adsorption rate of free drug onto bone surface (at surface share s = 1); released by resorption",
)];

/// `[drug.<name>.carrier]` (plus [`PK_KEYS`] for the carrier's plasma kinetics).
pub(super) const CARRIER_KEYS: &[Key] = &[
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
pub(super) const TARGET_KEYS: &[Key] = &[
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

/// Checks one number: unit, finite, within range; `Err((found, allowed))`.
pub(super) fn check_entry(
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
pub(super) fn check_section(
    section: &BTreeMap<String, ParamEntry>,
    keys: &[Key],
    extra: &[Key],
) -> std::result::Result<BTreeMap<&'static str, f64>, (String, String, String)> {
    let all: Vec<&Key> = keys.iter().chain(extra.iter()).collect();
    for name in section.keys() {
        if !all.iter().any(|k| k.name == name) {
            let names: Vec<&str> = all.iter().map(|k| k.name).collect();
            let hint = crate::locate::nearest(name, &names)
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
