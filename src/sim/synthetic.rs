//! Synthetic scenarios for benchmarks: `fields` mobile factors on an `n^3` lattice.

use crate::error::Result;
use crate::model::SpeciesKind;
use crate::preset::{
    GridSpec, InitialSpec, LatticeSpec, OutputSpec, Preset, PresetFile, Scenario, Scheme,
    SimDuration, SpeciesSpec, Switches, TimeSpec,
};

/// `fields` mobile factors (D from 1e3 to 1e5 µm^2/min, decay 0.01/min, bone permeability
/// 0.2) plus one bone field from a BV/TV 0.15 lattice, on `n^3` voxels of 20 µm, dt 0.01 min
/// (the conditions of BioFVM's published throughput figures).
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
        },
        dirichlet: None,
        source: String::new(),
    });
    let file = PresetFile {
        name: format!("bench-{n}-{fields}"),
        description: "synthetic benchmark".into(),
        seed: 1,
        grid: GridSpec {
            size: [n, n, n],
            voxel_um: 20.0,
        },
        time: TimeSpec {
            dt: SimDuration::from_minutes(0.01),
            duration: SimDuration::from_minutes(1.0),
            scheme: Scheme::BackwardEuler,
            implicit_tolerance: crate::cpu::implicit::TOLERANCE,
        },
        output: OutputSpec::default(),
        switches: Switches::default(),
        lattice: Some(LatticeSpec::Procedural {
            bv_tv: Some(0.15),
            tb_th_um: Some(45.0),
            tb_sp_um: None,
            anisotropy: 1.0,
            axis: crate::preset::Axis::Z,
            plate_fraction: 0.5,
            cortical: None,
            vessels: None,
        }),
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
