//! Synthetic scenarios for benchmarks: `fields` mobile factors on an `n^3` lattice.

use serde::Serialize;

use crate::error::Result;
use crate::model::SpeciesKind;
use crate::preset::{
    GridSpec, InitialSpec, LatticeSpec, OutputSpec, Preset, PresetFile, Scenario, Scheme,
    SimDuration, SpeciesSpec, Switches, TimeSpec,
};

/// Which synthetic problem `bench` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// BioFVM's own benchmark problem, exactly: a cube of `n^3` voxels of 20 µm, every
    /// substrate D = 1e5 µm^2/min and decay 0.1/min, dt 0.01 min, backward Euler, no bone,
    /// no-flux faces; a Gaussian bump (centre of the box, sigma 4n µm, amplitude
    /// 1 + 0.1 s for substrate s) on a 0.1 background. Run it beside
    /// `../shared/bench/biofvm/bench_lod N S` (docs/headless.md).
    Biofvm,
    /// The same fields on a bone lattice (BV/TV 0.15, bone permeability 0.2), D from 1e3 to
    /// 1e5 µm^2/min, decay 0.01/min: the per-voxel coefficients of the model's transport.
    Lattice,
}

impl Case {
    /// Every case.
    pub const ALL: [Case; 2] = [Case::Biofvm, Case::Lattice];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Case::Biofvm => "biofvm",
            Case::Lattice => "lattice",
        }
    }
}

impl std::str::FromStr for Case {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Case::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("`{s}`: the synthetic cases are `biofvm` and `lattice`"))
    }
}

/// Voxel edge of the synthetic cases, µm (BioFVM's benchmark).
pub const VOXEL_UM: f64 = 20.0;
/// Step of the synthetic cases, min (BioFVM's benchmark).
pub const DT_MIN: f64 = 0.01;
/// Diffusion coefficient of every substrate of [`Case::Biofvm`], µm^2/min (BioFVM's benchmark).
pub const BIOFVM_DIFFUSION: f64 = 1e5;
/// Decay rate of every substrate of [`Case::Biofvm`], 1/min (BioFVM's benchmark).
pub const BIOFVM_DECAY: f64 = 0.1;

/// The scenario of `case` with `fields` substrates on `n^3` voxels.
pub fn scenario(case: Case, n: usize, fields: usize) -> Result<Scenario> {
    match case {
        Case::Biofvm => biofvm_scenario(n, fields),
        Case::Lattice => bench_scenario(n, fields),
    }
}

/// [`Case::Biofvm`].
fn biofvm_scenario(n: usize, fields: usize) -> Result<Scenario> {
    let species = (0..fields)
        .map(|f| SpeciesSpec {
            name: format!("s{f}"),
            kind: SpeciesKind::Factor,
            unit: None,
            diffusion: BIOFVM_DIFFUSION,
            decay: BIOFVM_DECAY,
            bone_permeability: 1.0,
            growth: 0.0,
            capacity: 1.0,
            solver: Default::default(),
            initial: InitialSpec::Gaussian {
                center_um: [n as f64 * VOXEL_UM / 2.0; 3],
                sigma_um: n as f64 * 4.0,
                amplitude: 1.0 + 0.1 * f as f64,
                background: 0.1,
            },
            dirichlet: None,
            source: "BioFVM 1.0.4 benchmark (Ghaffarizadeh et al. 2016, Bioinformatics 32:1256)"
                .into(),
        })
        .collect();
    build(format!("biofvm-{n}-{fields}"), n, species, None)
}

/// [`Case::Lattice`]: `fields` mobile factors (D from 1e3 to 1e5 µm^2/min, decay 0.01/min,
/// bone permeability 0.2) plus one bone field from a BV/TV 0.15 lattice, on `n^3` voxels of
/// 20 µm, dt 0.01 min.
pub fn bench_scenario(n: usize, fields: usize) -> Result<Scenario> {
    let mut species: Vec<SpeciesSpec> = (0..fields)
        .map(|f| SpeciesSpec {
            name: format!("s{f}"),
            kind: SpeciesKind::Factor,
            unit: None,
            diffusion: 1e3 * 100f64.powf(f as f64 / fields.max(2).saturating_sub(1) as f64),
            decay: 0.01,
            bone_permeability: 0.2,
            growth: 0.0,
            capacity: 1.0,
            solver: Default::default(),
            initial: InitialSpec::Gaussian {
                center_um: [n as f64 * 10.0; 3],
                sigma_um: n as f64 * 4.0,
                amplitude: 1.0,
                background: 0.1,
            },
            dirichlet: None,
            source: "synthetic".into(),
        })
        .collect();
    species.push(SpeciesSpec {
        name: "bone".into(),
        kind: SpeciesKind::Bone,
        unit: None,
        diffusion: 0.0,
        decay: 0.0,
        bone_permeability: 1.0,
        growth: 0.0,
        capacity: 1.0,
        solver: Default::default(),
        initial: InitialSpec::Lattice {
            of: crate::preset::LatticePart::Bone,
            scale: 1.0,
            layer_um: None,
        },
        dirichlet: None,
        source: String::new(),
    });
    let lattice = LatticeSpec::Procedural {
        bv_tv: Some(0.15),
        tb_th_um: Some(45.0),
        tb_sp_um: None,
        anisotropy: 1.0,
        axis: crate::preset::Axis::Z,
        plate_fraction: 0.5,
        cortical: None,
        vessels: None,
    };
    build(format!("bench-{n}-{fields}"), n, species, Some(lattice))
}

/// A preset of `species` on `n^3` voxels of [`VOXEL_UM`], steps of [`DT_MIN`], backward
/// Euler, one simulated minute.
fn build(
    name: String,
    n: usize,
    species: Vec<SpeciesSpec>,
    lattice: Option<LatticeSpec>,
) -> Result<Scenario> {
    let file = PresetFile {
        name,
        description: "synthetic benchmark".into(),
        seed: 1,
        grid: GridSpec {
            size: [n, n, n],
            voxel_um: VOXEL_UM,
        },
        time: TimeSpec {
            dt: SimDuration::from_minutes(DT_MIN),
            duration: SimDuration::from_minutes(1.0),
            scheme: Scheme::BackwardEuler,
            implicit_tolerance: crate::numerics::TOLERANCE,
        },
        output: OutputSpec::default(),
        switches: Switches::default(),
        lattice,
        species,
        sources: vec![],
        model: None,
        pharmacology: None,
        dose: vec![],
        extends: None,
    };
    let text = toml::to_string(&file).expect("serialisable");
    Preset::parse(&text, "<bench>")?.scenario(None, None)
}
