//! The preset file format, as serde structs. Every key documents its unit, default and
//! allowed range; `docs/preset-format.md` is generated from [`super::reference::KEYS`] and a
//! test checks that table against these structs.

use serde::{Deserialize, Serialize};

use super::duration::SimDuration;
pub use crate::grid::Axis;
pub use crate::lattice::spec::{CorticalSpec, LatticeSpec, RoiSpec, VesselSpec};
use crate::model::SpeciesKind;

/// A whole preset file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    /// Another preset this one starts from, relative to this file: its tables are merged
    /// key by key under this file's (`[[dose]]` entries add to the base's, other arrays
    /// replace). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Short identifier of the scenario. Required.
    pub name: String,
    /// What the scenario represents, with sources. Default: empty.
    #[serde(default)]
    pub description: String,
    /// Seed of every random choice (lattice phases). Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The grid. Required.
    pub grid: GridSpec,
    /// Time stepping. Required.
    pub time: TimeSpec,
    /// What is written and how often. Default: metrics every step, no snapshots.
    #[serde(default)]
    pub output: OutputSpec,
    /// Which operator-splitting stages run. Default: all.
    #[serde(default)]
    pub switches: Switches,
    /// The bone lattice. Default: none (pure marrow).
    #[serde(default)]
    pub lattice: Option<LatticeSpec>,
    /// The fields, in memory order (after the model's). At least one, unless the preset
    /// has a `[model]`.
    #[serde(default)]
    pub species: Vec<SpeciesSpec>,
    /// Supply and uptake regions. Default: none.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// The bone-metastasis model (its fields come first in memory). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSpec>,
    /// Drugs: the library and the body they are dosed into (needs `[model]`). Default:
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pharmacology: Option<PharmacologySpec>,
    /// Scheduled doses (`[[dose]]`), applied at the start of the step that contains their
    /// time. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dose: Vec<DoseSpec>,
}

/// `[pharmacology]`: where drugs come from and who receives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PharmacologySpec {
    /// Drug library file, relative to the preset. Required.
    pub library: String,
    /// Body weight, kg; 0 < w <= 500. Default 0.025 (a 25 g mouse; assumption).
    #[serde(default = "default_body_weight")]
    pub body_weight_kg: f64,
    /// Drugs loaded for real-time doses besides the scheduled ones (each adds its fields).
    /// Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drugs: Vec<String>,
}

fn default_body_weight() -> f64 {
    0.025
}

/// `[[dose]]`: one dose, or a series of equal doses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseSpec {
    /// A drug of the library. Required.
    pub drug: String,
    /// `iv-bolus`, `iv-infusion`, `subcutaneous`, `oral` or `local`; one the drug allows.
    pub route: crate::pharma::Route,
    /// Amount per dose, mg per kg of body weight; 0 < x <= 5000. Give this or `mg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mg_per_kg: Option<f64>,
    /// Amount per dose, mg; 0 < x <= 5000 x body weight in kg. Give this or `mg_per_kg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mg: Option<f64>,
    /// Time of the first dose, with unit; >= 0 (doses after the end of the run are not
    /// given; the run says how many).
    pub start: SimDuration,
    /// Time between doses, with unit; > 0. Required when `count` > 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<SimDuration>,
    /// Number of doses, 1..=1000. Default 1.
    #[serde(default = "default_count")]
    pub count: u32,
    /// Infusion duration, with unit; > 0 and <= 7 d. Required for `iv-infusion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<SimDuration>,
    /// Injection point, µm, inside the domain. Required for `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_um: Option<[f64; 3]>,
    /// Injected volume, nL; > 0. Required for `local` (spread over a sphere of this volume,
    /// marrow only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_nl: Option<f64>,
}

fn default_count() -> u32 {
    1
}

/// `[model]`: the bone-metastasis model of a model file, with this scenario's changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Model file (fields and parameters with units and sources), relative to the preset.
    pub file: String,
    /// Mechanism switches, `M1`..`M19` = true/false; unnamed ones stay on. Default: all on.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mechanisms: std::collections::BTreeMap<String, bool>,
    /// Parameter values replacing the model file's, in the unit the file states.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub set: std::collections::BTreeMap<String, f64>,
    /// Initial conditions replacing the model file's, by field name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub initial: std::collections::BTreeMap<String, InitialSpec>,
    /// One voxel without transport (grid 1x1x1): the bone-surface share is held at 1.
    /// Default false.
    #[serde(default)]
    pub well_mixed: bool,
}

fn default_seed() -> u64 {
    1
}

/// `[grid]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    /// Voxels along x, y, z; each 1..=4096.
    pub size: [usize; 3],
    /// Voxel edge, µm; 0 < voxel_um <= 1000 (20 by default; 10-40 µm resolves tissue).
    pub voxel_um: f64,
}

/// Time scheme of the transport solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Implicit Euler per axis (BioFVM's LOD): first order in time, unconditionally
    /// stable and positivity preserving.
    BackwardEuler,
    /// Crank-Nicolson per axis, axis order alternating each step: second order in time,
    /// unconditionally stable; may undershoot near sharp fronts at very large `D dt/dx^2`.
    CrankNicolson,
}

impl Scheme {
    /// The implicitness theta of the per-axis theta-scheme.
    pub fn theta(self) -> f64 {
        match self {
            Scheme::BackwardEuler => 1.0,
            Scheme::CrankNicolson => 0.5,
        }
    }
}

/// `[time]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// Coupled step, with unit; > 0 and <= duration.
    pub dt: SimDuration,
    /// Simulated time, with unit; > 0.
    pub duration: SimDuration,
    /// Transport time scheme. Default `backward-euler`.
    #[serde(default = "default_scheme")]
    pub scheme: Scheme,
    /// Relative residual at which an implicit solve stops, 1e-8..=1e-2. Default 1e-5.
    #[serde(default = "default_tolerance")]
    pub implicit_tolerance: f64,
}

fn default_tolerance() -> f64 {
    crate::numerics::TOLERANCE
}

fn default_scheme() -> Scheme {
    Scheme::BackwardEuler
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Interval between rows of metrics.csv, with unit. Default: every step.
    #[serde(default)]
    pub metrics_every: Option<SimDuration>,
    /// Interval between .vti snapshots, with unit. Default: none but the final one.
    #[serde(default)]
    pub snapshot_every: Option<SimDuration>,
}

/// `[switches]`: operator-splitting stages that can be turned off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switches {
    /// Supply/uptake regions. Default true.
    #[serde(default = "yes")]
    pub sources: bool,
    /// Diffusion / random motility. Default true.
    #[serde(default = "yes")]
    pub transport: bool,
    /// Per-voxel reactions (decay, growth, and the model's terms). Default true.
    #[serde(default = "yes")]
    pub reactions: bool,
}

fn yes() -> bool {
    true
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            sources: true,
            transport: true,
            reactions: true,
        }
    }
}

/// One `[[species]]` entry: a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeciesSpec {
    /// Identifier: letters, digits, `-` and `_`, starting with a letter; unique.
    pub name: String,
    /// `factor`, `drug`, `cell`, `bone` or `geometry`. Default `factor`.
    #[serde(default = "default_kind")]
    pub kind: SpeciesKind,
    /// Unit of the values. Default `nM` (`volume fraction` for cell, bone, geometry).
    #[serde(default)]
    pub unit: Option<String>,
    /// Diffusion coefficient in free marrow, µm^2/min; >= 0. Default 0.
    #[serde(default)]
    pub diffusion: f64,
    /// First-order decay rate, 1/min; >= 0. Default 0.
    #[serde(default)]
    pub decay: f64,
    /// Fraction of the diffusivity kept inside fully mineralised bone, 0..=1. Default 1.
    #[serde(default = "one")]
    pub bone_permeability: f64,
    /// Logistic growth rate, 1/min; >= 0. Default 0.
    #[serde(default)]
    pub growth: f64,
    /// Logistic carrying capacity, field unit; > 0. Default 1.
    #[serde(default = "one")]
    pub capacity: f64,
    /// `split` (default) or `implicit` (see [`crate::model::Solver`]).
    #[serde(default)]
    pub solver: crate::model::Solver,
    /// Initial condition. Default uniform 0.
    #[serde(default)]
    pub initial: InitialSpec,
    /// Fixed values on chosen outer faces (Dirichlet). Default: all faces no-flux.
    #[serde(default)]
    pub dirichlet: Option<DirichletSpec>,
    /// Where the numbers come from (paper, table or figure, or "assumption"). Default: empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

fn default_kind() -> SpeciesKind {
    SpeciesKind::Factor
}
fn one() -> f64 {
    1.0
}

/// Which part of the lattice an initial condition copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatticePart {
    /// The bone fraction.
    Bone,
    /// One minus the bone fraction.
    Marrow,
    /// The bone-surface share: a layer depth (`layer_um`, or the model's
    /// `surface_layer_um`) times the bone-surface area density |grad b| in 1/µm; 0 deep in
    /// bone or marrow.
    Surface,
    /// The vessel (sinusoid) density, when the lattice has vessels.
    Vessels,
}

/// `initial = { kind = ..., ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum InitialSpec {
    /// The same value everywhere.
    Uniform {
        /// Value, field unit; >= 0.
        value: f64,
    },
    /// `background + amplitude exp(-|x - c|^2 / (2 sigma^2))`.
    Gaussian {
        /// Centre, µm from the grid's origin corner.
        center_um: [f64; 3],
        /// Standard deviation, µm; > 0.
        sigma_um: f64,
        /// Peak above background, field unit; >= 0.
        amplitude: f64,
        /// Value far away, field unit; >= 0. Default 0.
        #[serde(default)]
        background: f64,
    },
    /// `value` inside the axis-aligned box (voxel centres), `background` outside.
    Box {
        /// Lower corner, µm.
        min_um: [f64; 3],
        /// Upper corner, µm.
        max_um: [f64; 3],
        /// Value inside, field unit; >= 0.
        value: f64,
        /// Value outside, field unit; >= 0. Default 0.
        #[serde(default)]
        background: f64,
    },
    /// `mean + amplitude cos(modes pi x / L)` along one axis (L: the domain length on it),
    /// which satisfies the no-flux walls; the BioFVM 1-D convergence test.
    Cosine {
        /// Axis.
        axis: Axis,
        /// Mean, field unit.
        mean: f64,
        /// Amplitude, field unit; |amplitude| <= mean.
        amplitude: f64,
        /// Number of half-waves across the domain, >= 1. Default 1.
        #[serde(default = "one_u32")]
        modes: u32,
    },
    /// `scale` times a part of the lattice.
    Lattice {
        /// `bone`, `marrow`, `vessels` or `surface` (the surface share: `layer_um` times the
        /// bone-surface area density in 1/µm).
        of: LatticePart,
        /// Factor, field unit; >= 0. Default 1.
        #[serde(default = "one")]
        scale: f64,
        /// For `of = "surface"`: the depth of the surface layer, µm (> 0). Default: the
        /// model's `surface_layer_um`; required in a preset without a model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        layer_um: Option<f64>,
    },
}

fn one_u32() -> u32 {
    1
}

impl Default for InitialSpec {
    fn default() -> Self {
        InitialSpec::Uniform { value: 0.0 }
    }
}

/// `dirichlet = { x_min = 1.0, ... }`: fixed values on outer faces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DirichletSpec {
    /// Value held on the x = 0 face, field unit; >= 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_min: Option<f64>,
    /// Value held on the x = Lx face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_max: Option<f64>,
    /// Value held on the y = 0 face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_min: Option<f64>,
    /// Value held on the y = Ly face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_max: Option<f64>,
    /// Value held on the z = 0 face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_min: Option<f64>,
    /// Value held on the z = Lz face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_max: Option<f64>,
}

impl DirichletSpec {
    /// Faces in the order x_min, x_max, y_min, y_max, z_min, z_max.
    pub fn faces(&self) -> [Option<f64>; 6] {
        [
            self.x_min, self.x_max, self.y_min, self.y_max, self.z_min, self.z_max,
        ]
    }
}

/// One `[[sources]]` entry: BioFVM-style bulk supply and uptake,
/// `du/dt = supply_rate (target - u) - uptake_rate u` inside the region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Field the region acts on (a `[[species]]` name).
    pub species: String,
    /// Where it acts.
    pub region: RegionSpec,
    /// Supply rate, 1/min; >= 0. Default 0.
    #[serde(default)]
    pub supply_rate: f64,
    /// Saturation value the supply drives towards, field unit; >= 0. Default 0.
    #[serde(default)]
    pub target: f64,
    /// Uptake rate, 1/min; >= 0. Default 0.
    #[serde(default)]
    pub uptake_rate: f64,
}

/// `region = { kind = ..., ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum RegionSpec {
    /// Every voxel.
    Everywhere,
    /// Voxels whose centre is in the axis-aligned box.
    Box {
        /// Lower corner, µm.
        min_um: [f64; 3],
        /// Upper corner, µm.
        max_um: [f64; 3],
    },
    /// Voxels whose centre is within `radius_um` of `center_um`.
    Sphere {
        /// Centre, µm.
        center_um: [f64; 3],
        /// Radius, µm; > 0.
        radius_um: f64,
    },
    /// Voxels whose centre is closer than `width_um` to any outer face (BioFVM's
    /// convergence test 2 strips).
    Shell {
        /// Width, µm; > 0.
        width_um: f64,
    },
    /// Every voxel, with the rates scaled by another field's value there (e.g. a
    /// `geometry` field holding the bone-surface share, or a cell density).
    Field {
        /// Name of the weighting field (a `[[species]]` name).
        species: String,
    },
}
