//! Range checks on a parsed preset, each reported at the key's line.

use super::model_file::ModelData;
use super::schema::*;
use crate::error::{Error, Result};
use crate::locate::{Locator, Seg, path_string};

mod lattice;
use lattice::check_lattice;

struct Checker<'a, 'b> {
    loc: &'a Locator<'b>,
}

/// A plausible range: `key` (as the key reference names it) within `lo..=hi`, or above
/// `lo` when `lo_open`; `text` is what the reference and the error say.
pub struct Plausible {
    /// Key path, e.g. `species[].decay`.
    pub key: &'static str,
    /// Lowest value.
    pub lo: f64,
    /// Whether `lo` itself is refused.
    pub lo_open: bool,
    /// Highest value.
    pub hi: f64,
    /// The range as written in the reference and the errors.
    pub text: &'static str,
}

const fn range(
    key: &'static str,
    lo: f64,
    lo_open: bool,
    hi: f64,
    text: &'static str,
) -> Plausible {
    Plausible {
        key,
        lo,
        lo_open,
        hi,
        text,
    }
}

/// Plausible ranges of the species and source rates: bounds far outside any tissue
/// biology (assumptions, documented in docs/preset-format.md), so that a typo or a slipped
/// exponent (`decay = 1e300`) is refused instead of run.
pub const PLAUSIBLE: &[Plausible] = &[
    // 100 times oxygen's diffusivity in water (~1.2e5 µm²/min).
    range("species[].diffusion", 0.0, false, 1e7, "0..=1e7"),
    // A half-life of 4 ms, far below any step.
    range("species[].decay", 0.0, false, 1e4, "0..=1e4"),
    // A doubling every 4 s; the fastest bacteria double in ~10 min.
    range("species[].growth", 0.0, false, 10.0, "0..=10"),
    range("species[].capacity", 0.0, true, 1e12, "> 0, <= 1e12"),
    range("sources[].supply_rate", 0.0, false, 1e4, "0..=1e4"),
    range("sources[].target", 0.0, false, 1e12, "0..=1e12"),
    range("sources[].uptake_rate", 0.0, false, 1e4, "0..=1e4"),
];

impl Checker<'_, '_> {
    /// `v` within the [`PLAUSIBLE`] range of `name`.
    fn plausible(&self, path: &[Seg], name: &str, v: f64) -> Result<()> {
        let r = PLAUSIBLE
            .iter()
            .find(|r| r.key == name)
            .expect("a key of the plausible table");
        self.finite(path, v)?;
        let below = if r.lo_open { v <= r.lo } else { v < r.lo };
        if below || v > r.hi {
            // Huge and tiny values as the preset writes them (1e300, not 301 digits).
            let shown = if v != 0.0 && !(1e-4..1e6).contains(&v.abs()) {
                format!("{v:e}")
            } else {
                v.to_string()
            };
            return Err(self.fail(
                path,
                shown,
                &format!(
                    "must be {} (its plausible range; docs/preset-format.md)",
                    r.text
                ),
            ));
        }
        Ok(())
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

impl Checker<'_, '_> {
    fn fail(&self, path: &[Seg], value: impl std::fmt::Display, allowed: &str) -> Error {
        Error::Value {
            location: self.loc.locate(path),
            key: path_string(path),
            value: value.to_string(),
            allowed: allowed.to_string(),
        }
    }

    fn finite(&self, path: &[Seg], v: f64) -> Result<()> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(self.fail(path, v, "must be a finite number"))
        }
    }

    fn non_negative(&self, path: &[Seg], v: f64) -> Result<()> {
        self.finite(path, v)?;
        if v < 0.0 {
            return Err(self.fail(path, v, "must be >= 0"));
        }
        Ok(())
    }

    fn positive(&self, path: &[Seg], v: f64) -> Result<()> {
        self.finite(path, v)?;
        if v <= 0.0 {
            return Err(self.fail(path, v, "must be > 0"));
        }
        Ok(())
    }

    fn within(&self, path: &[Seg], v: f64, lo: f64, hi: f64, allowed: &str) -> Result<()> {
        self.finite(path, v)?;
        if v < lo || v > hi {
            return Err(self.fail(path, v, allowed));
        }
        Ok(())
    }

    fn point(&self, path: &[Seg], p: [f64; 3]) -> Result<()> {
        for v in p {
            self.finite(path, v)?;
        }
        Ok(())
    }

    fn duration(&self, path: &[Seg], d: super::SimDuration) -> Result<()> {
        if d.minutes() <= 0.0 {
            return Err(self.fail(path, format!("\"{d}\""), "must be > 0"));
        }
        Ok(())
    }
}

/// Checks every value of a parsed preset against its allowed range.
pub(super) fn check(file: &PresetFile, loc: &Locator<'_>, model: Option<&ModelData>) -> Result<()> {
    let c = Checker { loc };
    if file.name.trim().is_empty() {
        return Err(c.fail(&[key("name")], "\"\"", "must not be empty"));
    }
    // [grid]
    for (axis, &n) in file.grid.size.iter().enumerate() {
        if !(1..=4096).contains(&n) {
            return Err(c.fail(
                &[key("grid"), key("size"), Seg::Index(axis)],
                n,
                "each axis must have 1..=4096 voxels",
            ));
        }
    }
    c.within(
        &[key("grid"), key("voxel_um")],
        file.grid.voxel_um,
        f64::MIN_POSITIVE,
        1000.0,
        "must be > 0 and <= 1000 µm",
    )?;
    // [time]
    c.duration(&[key("time"), key("dt")], file.time.dt)?;
    c.duration(&[key("time"), key("duration")], file.time.duration)?;
    if file.time.dt > file.time.duration {
        return Err(c.fail(
            &[key("time"), key("dt")],
            format!("\"{}\"", file.time.dt),
            &format!("must not exceed time.duration (\"{}\")", file.time.duration),
        ));
    }
    c.within(
        &[key("time"), key("implicit_tolerance")],
        file.time.implicit_tolerance,
        1e-8,
        1e-2,
        "must be within 1e-8..=1e-2",
    )?;
    // [output]
    if let Some(d) = file.output.metrics_every {
        c.duration(&[key("output"), key("metrics_every")], d)?;
    }
    if let Some(d) = file.output.snapshot_every {
        c.duration(&[key("output"), key("snapshot_every")], d)?;
    }
    // [lattice]
    if let Some(l) = &file.lattice {
        check_lattice(&c, l)?;
    }
    // [[species]]
    if file.species.is_empty() && file.model.is_none() {
        return Err(c.fail(
            &[key("species")],
            "[]",
            "at least one [[species]] is needed (or a [model])",
        ));
    }
    check_species(
        &c,
        &file.species,
        file.lattice.as_ref(),
        file.model.is_some(),
    )?;
    let mut names: Vec<&str> = file.species.iter().map(|s| s.name.as_str()).collect();
    if let Some(m) = model {
        let mc = Checker { loc: &m.locator() };
        check_model(&c, &mc, file, m)?;
        names.extend(m.file.species.iter().map(|s| s.name.as_str()));
    }
    // [[sources]]
    for (i, src) in file.sources.iter().enumerate() {
        let p = |k: &str| vec![key("sources"), Seg::Index(i), key(k)];
        check_species_name(&c, &p("species"), &src.species, &names)?;
        c.plausible(&p("supply_rate"), "sources[].supply_rate", src.supply_rate)?;
        c.plausible(&p("target"), "sources[].target", src.target)?;
        c.plausible(&p("uptake_rate"), "sources[].uptake_rate", src.uptake_rate)?;
        let r = |k: &str| vec![key("sources"), Seg::Index(i), key("region"), key(k)];
        match &src.region {
            RegionSpec::Everywhere => {}
            RegionSpec::Box { min_um, max_um } => {
                c.point(&r("min_um"), *min_um)?;
                c.point(&r("max_um"), *max_um)?;
            }
            RegionSpec::Sphere {
                center_um,
                radius_um,
            } => {
                c.point(&r("center_um"), *center_um)?;
                c.positive(&r("radius_um"), *radius_um)?;
            }
            RegionSpec::Shell { width_um } => c.positive(&r("width_um"), *width_um)?,
            RegionSpec::Field { species } => {
                check_species_name(&c, &r("species"), species, &names)?
            }
        }
    }
    Ok(())
}

fn check_species_name(c: &Checker<'_, '_>, path: &[Seg], name: &str, names: &[&str]) -> Result<()> {
    if names.contains(&name) {
        return Ok(());
    }
    let hint = match crate::locate::nearest(name, names) {
        Some(n) => format!(
            "no such species; did you mean \"{n}\"? (known: {})",
            names.join(", ")
        ),
        None => format!("no such species (known: {})", names.join(", ")),
    };
    Err(c.fail(path, format!("\"{name}\""), &hint))
}

fn check_initial(
    c: &Checker<'_, '_>,
    lattice: Option<&LatticeSpec>,
    has_model: bool,
    prefix: &[Seg],
    ic: &InitialSpec,
) -> Result<()> {
    let p = |k: &str| {
        let mut v = prefix.to_vec();
        v.push(key(k));
        v
    };
    match ic {
        InitialSpec::Uniform { value } => c.non_negative(&p("value"), *value),
        InitialSpec::Gaussian {
            center_um,
            sigma_um,
            amplitude,
            background,
        } => {
            c.point(&p("center_um"), *center_um)?;
            c.positive(&p("sigma_um"), *sigma_um)?;
            c.non_negative(&p("amplitude"), *amplitude)?;
            c.non_negative(&p("background"), *background)
        }
        InitialSpec::Box {
            min_um,
            max_um,
            value,
            background,
        } => {
            c.point(&p("min_um"), *min_um)?;
            c.point(&p("max_um"), *max_um)?;
            c.non_negative(&p("value"), *value)?;
            c.non_negative(&p("background"), *background)
        }
        InitialSpec::Cosine {
            mean,
            amplitude,
            modes,
            ..
        } => {
            c.finite(&p("mean"), *mean)?;
            c.finite(&p("amplitude"), *amplitude)?;
            if amplitude.abs() > *mean {
                return Err(c.fail(
                    &p("amplitude"),
                    amplitude,
                    "|amplitude| must not exceed mean (fields are non-negative)",
                ));
            }
            if *modes < 1 {
                return Err(c.fail(&p("modes"), modes, "must be >= 1"));
            }
            Ok(())
        }
        InitialSpec::Lattice {
            scale,
            of,
            layer_um,
        } => {
            c.non_negative(&p("scale"), *scale)?;
            match (of, layer_um) {
                (LatticePart::Surface, Some(l)) => c.positive(&p("layer_um"), *l)?,
                (LatticePart::Surface, None) if !has_model => {
                    return Err(c.fail(
                        &p("of"),
                        "\"surface\"",
                        "the surface share needs `layer_um` (µm of surface layer per µm^2 of bone surface) in a preset without a [model], whose `surface_layer_um` is the default",
                    ));
                }
                (_, Some(l)) => {
                    return Err(c.fail(&p("layer_um"), l, "applies to of = \"surface\" only"));
                }
                _ => {}
            }
            let Some(lattice) = lattice else {
                return Err(c.fail(
                    &p("of"),
                    "lattice",
                    "a lattice initial condition needs a [lattice] table",
                ));
            };
            let has_vessels = match lattice {
                LatticeSpec::Procedural { vessels, .. } | LatticeSpec::File { vessels, .. } => {
                    vessels.is_some()
                }
            };
            if *of == LatticePart::Vessels && !has_vessels {
                return Err(c.fail(
                    &p("of"),
                    "\"vessels\"",
                    "needs `vessels = { density, calibre_um }` in [lattice]",
                ));
            }
            Ok(())
        }
    }
}

/// The `[model]` table against its model file: fields, switches, overrides.
fn check_model(
    c: &Checker<'_, '_>,
    mc: &Checker<'_, '_>,
    file: &PresetFile,
    m: &ModelData,
) -> Result<()> {
    use crate::model::biology::MODEL_FIELDS;
    let spec = file.model.as_ref().expect("called with a model");
    let list = &m.file.species;
    // The model file's initial conditions, except those the preset replaces (checked
    // below, at the preset's line).
    let effective: Vec<SpeciesSpec> = list
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if spec.initial.contains_key(&s.name) {
                s.initial = InitialSpec::default();
            }
            s
        })
        .collect();
    check_species(mc, &effective, file.lattice.as_ref(), true)?;
    for (name, kind, what) in MODEL_FIELDS {
        match list.iter().position(|s| s.name == *name) {
            None => {
                return Err(mc.fail(
                    &[key("species")],
                    format!("no \"{name}\""),
                    &format!(
                        "the model needs a field \"{name}\" of kind {} ({what})",
                        kind.as_str()
                    ),
                ));
            }
            Some(i) if list[i].kind != *kind => {
                return Err(mc.fail(
                    &[key("species"), Seg::Index(i), key("kind")],
                    format!("\"{}\"", list[i].kind.as_str()),
                    &format!("the model's \"{name}\" is of kind {}", kind.as_str()),
                ));
            }
            Some(_) => {}
        }
    }
    for (i, s) in file.species.iter().enumerate() {
        if list.iter().any(|o| o.name == s.name) {
            return Err(c.fail(
                &[key("species"), Seg::Index(i), key("name")],
                format!("\"{}\"", s.name),
                &format!("the model file {} already defines this field; change it with [model.initial] or [model.set]", m.origin),
            ));
        }
    }
    let mp = |k: &str, sub: &str| vec![key("model"), key(k), key(sub)];
    for name in spec.mechanisms.keys() {
        let known = crate::model::parameters::MECHANISMS
            .iter()
            .any(|(id, _)| id == name);
        if !known {
            return Err(c.fail(
                &mp("mechanisms", name),
                name,
                "mechanisms are named M1..M19",
            ));
        }
    }
    for (name, &v) in &spec.set {
        let Some((_, d)) = crate::model::parameters::find(name) else {
            let hint = super::model_file::unknown_parameter(name);
            return Err(c.fail(&mp("set", name), v, &hint));
        };
        let (lo, hi, allowed) = super::model_file::allowed_range(d.name, d.unit);
        if !v.is_finite() || v < lo || v > hi {
            return Err(c.fail(&mp("set", name), v, &format!("{allowed} ({})", d.unit)));
        }
    }
    let model_names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    for (name, ic) in &spec.initial {
        check_species_name(c, &mp("initial", name), name, &model_names)?;
        check_initial(c, file.lattice.as_ref(), true, &mp("initial", name), ic)?;
    }
    if spec.well_mixed && file.grid.size != [1, 1, 1] {
        return Err(c.fail(
            &[key("model"), key("well_mixed")],
            "true",
            "the well-mixed mode runs one voxel: set grid.size = [1, 1, 1]",
        ));
    }
    Ok(())
}

/// Checks a `[[species]]` list (of a preset or a model file).
fn check_species(
    c: &Checker<'_, '_>,
    list: &[SpeciesSpec],
    lattice: Option<&LatticeSpec>,
    has_model: bool,
) -> Result<()> {
    let mut bones = 0;
    for (i, s) in list.iter().enumerate() {
        let p = |k: &str| vec![key("species"), Seg::Index(i), key(k)];
        let valid_name = s
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && s.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_name {
            return Err(c.fail(
                &p("name"),
                format!("\"{}\"", s.name),
                "a name starts with a letter and has only letters, digits, '-' and '_'",
            ));
        }
        if let Some(j) = list[..i].iter().position(|o| o.name == s.name) {
            return Err(c.fail(
                &p("name"),
                format!("\"{}\"", s.name),
                &format!("duplicate: species[{j}] has the same name"),
            ));
        }
        if s.kind == crate::model::SpeciesKind::Bone {
            bones += 1;
            if bones > 1 {
                return Err(c.fail(
                    &p("kind"),
                    "\"bone\"",
                    "only one species may be of kind bone",
                ));
            }
        }
        c.plausible(&p("diffusion"), "species[].diffusion", s.diffusion)?;
        c.plausible(&p("decay"), "species[].decay", s.decay)?;
        c.within(
            &p("bone_permeability"),
            s.bone_permeability,
            0.0,
            1.0,
            "must be within 0..=1",
        )?;
        c.plausible(&p("growth"), "species[].growth", s.growth)?;
        c.plausible(&p("capacity"), "species[].capacity", s.capacity)?;
        if s.solver == crate::model::Solver::Implicit && !(s.kind.can_move() && s.diffusion > 0.0) {
            return Err(c.fail(
                &p("solver"),
                "\"implicit\"",
                "the implicit solver needs a mobile species (diffusion > 0, kind not bone/geometry)",
            ));
        }
        check_initial(
            c,
            lattice,
            has_model,
            &[key("species"), Seg::Index(i), key("initial")],
            &s.initial,
        )?;
        if let Some(d) = &s.dirichlet {
            let names = ["x_min", "x_max", "y_min", "y_max", "z_min", "z_max"];
            for (face, v) in names.iter().zip(d.faces()) {
                if let Some(v) = v {
                    let path = vec![key("species"), Seg::Index(i), key("dirichlet"), key(face)];
                    c.non_negative(&path, v)?;
                    if !s.kind.can_move() || s.diffusion <= 0.0 {
                        return Err(c.fail(
                            &path,
                            v,
                            "a fixed face value needs a mobile species (diffusion > 0, kind not bone/geometry)",
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Checks `[pharmacology]` and every `[[dose]]` against the library and the run.
pub(super) fn check_pharmacology(
    file: &PresetFile,
    loc: &Locator<'_>,
    library: Option<&crate::pharma::DrugLibrary>,
) -> Result<()> {
    let c = Checker { loc };
    let Some(spec) = &file.pharmacology else {
        if !file.dose.is_empty() {
            return Err(c.fail(
                &[key("dose")],
                format!("{} doses", file.dose.len()),
                "doses need a [pharmacology] table naming the drug library",
            ));
        }
        return Ok(());
    };
    let lib = library.expect("loaded with [pharmacology]");
    if file.model.is_none() {
        return Err(c.fail(
            &[key("pharmacology")],
            "[pharmacology]",
            "drugs act on the bone-metastasis model: the preset needs a [model] too",
        ));
    }
    c.within(
        &[key("pharmacology"), key("body_weight_kg")],
        spec.body_weight_kg,
        1e-4,
        500.0,
        "must be within 0.0001..=500 kg",
    )?;
    for (i, name) in spec.drugs.iter().enumerate() {
        if let Err(m) = lib.get(name) {
            return Err(c.fail(
                &[key("pharmacology"), key("drugs"), Seg::Index(i)],
                name,
                &m,
            ));
        }
    }
    let g = file.grid.size;
    let grid = crate::grid::Grid::new(g[0], g[1], g[2], file.grid.voxel_um);
    for (i, d) in file.dose.iter().enumerate() {
        let at = |k: &str| [key("dose"), Seg::Index(i), key(k)];
        let drug = lib
            .get(&d.drug)
            .map_err(|m| c.fail(&at("drug"), &d.drug, &m))?;
        match (d.mg_per_kg, d.mg) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(c.fail(
                    &[key("dose"), Seg::Index(i)],
                    "mg_per_kg and mg",
                    "give the amount once: mg_per_kg or mg",
                ));
            }
            _ => {}
        }
        let start = d.start.minutes();
        if !(start.is_finite() && start >= 0.0) {
            return Err(c.fail(&at("start"), format!("\"{}\"", d.start), "must be >= 0"));
        }
        if !(1..=1000).contains(&d.count) {
            return Err(c.fail(&at("count"), d.count, "must be within 1..=1000"));
        }
        match d.every {
            None if d.count > 1 => {
                return Err(c.fail(&at("count"), d.count, "a series of doses needs `every`"));
            }
            Some(e) if e.minutes() <= 0.0 => {
                return Err(c.fail(&at("every"), format!("\"{e}\""), "must be > 0"));
            }
            _ => {}
        }
        let request = super::doses::dose_request(d).expect("an amount, checked above");
        if let Err(m) = request.check(drug, spec.body_weight_kg, &grid) {
            return Err(c.fail(&[key("dose"), Seg::Index(i)], &d.drug, &m));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The key reference (and so docs/preset-format.md) states each plausible range as the
    /// error does.
    #[test]
    fn the_reference_states_every_plausible_range() {
        for r in super::PLAUSIBLE {
            let doc = super::super::reference::KEYS
                .iter()
                .find(|k| k.path == r.key)
                .unwrap_or_else(|| panic!("{} in the key reference", r.key));
            assert_eq!(doc.allowed, r.text, "{}", r.key);
        }
    }
}
