//! The species list: the single source of truth for which fields exist, their order in
//! memory, and their transport properties. The WGSL constants the shaders are built with
//! (field indices, counts) are generated from it by [`SpeciesList::wgsl_constants`].

use serde::{Deserialize, Serialize};

/// What a field represents; decides defaults and whether it may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpeciesKind {
    /// A soluble factor (cytokine, chemokine, matrix protein): diffuses and decays.
    Factor,
    /// A drug concentration in tissue (free, carrier-bound or bone-bound).
    Drug,
    /// A cell density as a volume fraction of the voxel (moves by random motility).
    Cell,
    /// The mineralised bone fraction of the voxel: never transported, slows transport.
    Bone,
    /// Any other fixed geometry (vessel density): never transported.
    Geometry,
}

impl SpeciesKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [SpeciesKind; 5] = [
        SpeciesKind::Factor,
        SpeciesKind::Drug,
        SpeciesKind::Cell,
        SpeciesKind::Bone,
        SpeciesKind::Geometry,
    ];

    /// The kind's name as written in presets.
    pub fn as_str(self) -> &'static str {
        match self {
            SpeciesKind::Factor => "factor",
            SpeciesKind::Drug => "drug",
            SpeciesKind::Cell => "cell",
            SpeciesKind::Bone => "bone",
            SpeciesKind::Geometry => "geometry",
        }
    }

    /// Whether fields of this kind may be transported at all.
    pub fn can_move(self) -> bool {
        !matches!(self, SpeciesKind::Bone | SpeciesKind::Geometry)
    }
}

/// How the transport stage advances a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Solver {
    /// Locally one-dimensional implicit sweeps, with sources and decay split off (fast,
    /// positivity preserving; biased when `dt` is long against the field's own time scale).
    #[default]
    Split,
    /// Backward Euler on the whole 3-D operator with the field's decay, supply and uptake
    /// inside, solved by preconditioned conjugate gradients: lands on the exact
    /// quasi-steady state at any `dt` (for fast cytokines at biological steps).
    Implicit,
}

/// One field of the simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Species {
    /// Identifier used in presets, outputs and the generated WGSL constant `F_<NAME>`.
    pub name: String,
    /// What the field represents.
    pub kind: SpeciesKind,
    /// Unit of the field's values (e.g. `nM`, `volume fraction`).
    pub unit: String,
    /// Diffusion (or random-motility) coefficient in free marrow, µm^2/min.
    pub diffusion_um2_min: f64,
    /// First-order decay rate, 1/min.
    pub decay_per_min: f64,
    /// Fraction of the free-marrow diffusivity kept inside fully mineralised bone, 0..1
    /// (0: bone is a wall, 1: bone does not hinder this species).
    pub bone_permeability: f64,
    /// Logistic growth rate, 1/min (0: no growth).
    pub growth_per_min: f64,
    /// Logistic carrying capacity, in the field's unit (used when growth > 0).
    pub capacity: f64,
    /// How the transport stage advances the field.
    pub solver: Solver,
}

impl Species {
    /// Whether the transport step moves this field.
    pub fn mobile(&self) -> bool {
        self.kind.can_move() && self.diffusion_um2_min > 0.0
    }

    /// The WGSL constant naming this field's index, e.g. `F_TGF_BETA`.
    pub fn wgsl_name(&self) -> String {
        let mut s = String::from("F_");
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                s.push(c.to_ascii_uppercase());
            } else {
                s.push('_');
            }
        }
        s
    }
}

/// The ordered list of fields: field `f` is the `f`-th entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeciesList {
    species: Vec<Species>,
}

impl SpeciesList {
    /// Builds the list; names must be unique identifiers (checked by the preset loader).
    pub fn new(species: Vec<Species>) -> Self {
        SpeciesList { species }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.species.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.species.is_empty()
    }

    /// The fields in memory order.
    pub fn iter(&self) -> std::slice::Iter<'_, Species> {
        self.species.iter()
    }

    /// Field `f`.
    pub fn get(&self, f: usize) -> &Species {
        &self.species[f]
    }

    /// Index of the field called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.species.iter().position(|s| s.name == name)
    }

    /// Names in memory order.
    pub fn names(&self) -> Vec<&str> {
        self.species.iter().map(|s| s.name.as_str()).collect()
    }

    /// Names in memory order, owned (for outputs that outlive the list).
    pub fn owned_names(&self) -> Vec<String> {
        self.species.iter().map(|s| s.name.clone()).collect()
    }

    /// The bone fraction field, if the list has one (the first of kind `bone`).
    pub fn bone(&self) -> Option<usize> {
        self.species
            .iter()
            .position(|s| s.kind == SpeciesKind::Bone)
    }

    /// Number of fields the transport step moves.
    pub fn mobile_count(&self) -> usize {
        self.species.iter().filter(|s| s.mobile()).count()
    }

    /// WGSL constants generated from this list: `NF`, one `F_<NAME>` per field and
    /// `BONE_FIELD` (`NF` when there is no bone field). Prepended to every shader.
    pub fn wgsl_constants(&self) -> String {
        let mut out = String::from("// Generated from the Rust species list: do not edit.\n");
        out.push_str(&format!("const NF: u32 = {}u;\n", self.len()));
        for (f, s) in self.species.iter().enumerate() {
            out.push_str(&format!(
                "const {}: u32 = {f}u; // {} [{}], {}\n",
                s.wgsl_name(),
                s.name,
                s.unit,
                s.kind.as_str()
            ));
        }
        let bone = self.bone().unwrap_or(self.len());
        out.push_str(&format!("const BONE_FIELD: u32 = {bone}u;\n"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(name: &str, kind: SpeciesKind, d: f64) -> Species {
        Species {
            name: name.into(),
            kind,
            unit: "nM".into(),
            diffusion_um2_min: d,
            decay_per_min: 0.0,
            bone_permeability: 1.0,
            growth_per_min: 0.0,
            capacity: 1.0,
            solver: Solver::Split,
        }
    }

    #[test]
    fn constants_follow_the_list_order() {
        let list = SpeciesList::new(vec![
            sp("tgf-beta", SpeciesKind::Factor, 4000.0),
            sp("bone", SpeciesKind::Bone, 1000.0),
        ]);
        let c = list.wgsl_constants();
        assert!(c.contains("const NF: u32 = 2u;"));
        assert!(c.contains("const F_TGF_BETA: u32 = 0u;"));
        assert!(c.contains("const BONE_FIELD: u32 = 1u;"));
        assert_eq!(list.mobile_count(), 1, "bone never moves, whatever its D");
    }
}
