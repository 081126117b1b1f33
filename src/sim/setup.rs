//! Turns a [`Scenario`] into the plain data both backends run on: initial fields and the
//! per-field, per-region parameter arrays.

use rayon::prelude::*;

use super::params::{Chemotaxis, Stages};
use super::params::{FieldTransport, SourceRegion, StepUniform, shape};
use crate::error::{Error, Limit, Result};
use crate::grid::Grid;
use crate::lattice::Lattice;
use crate::model::parameters::p;
use crate::model::{ModelIndex, ModelParams, ReactionParams, Solver, SpeciesList, SpeciesRates};
use crate::preset::{InitialSpec, LatticePart, RegionSpec, Scenario};

/// Everything a backend needs to run a scenario.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The grid.
    pub grid: Grid,
    /// The fields.
    pub species: SpeciesList,
    /// Grid and step constants.
    pub step: StepUniform,
    /// One entry per field.
    pub transport: Vec<FieldTransport>,
    /// One entry per field.
    pub rates: Vec<SpeciesRates>,
    /// Supply/uptake regions of split fields, applied in order by the sources stage.
    pub regions: Vec<SourceRegion>,
    /// Fields advanced by the implicit solver.
    pub implicit: Vec<usize>,
    /// Relative residual at which an implicit solve stops.
    pub implicit_tolerance: f64,
    /// Supply/uptake regions of implicit fields (inside their solve).
    pub implicit_regions: Vec<SourceRegion>,
    /// Stages the preset switches on.
    pub stages: Stages,
    /// The bone-metastasis model, when the preset has one.
    pub model: Option<ModelSetup>,
    /// The drugs, their fields and their schedule, before any dose.
    pub pharmacology: Option<crate::pharma::dosing::Pharmacology>,
}

/// The model's data for the backends.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSetup {
    /// Where the model's fields are.
    pub index: ModelIndex,
    /// The kernel's parameter array (systemic slots updated every step).
    pub params: ModelParams,
    /// Chemotaxis pairs whose mechanism is on and sensitivity positive.
    pub chemotaxis: Vec<Chemotaxis>,
}

impl ModelSetup {
    fn new(
        params: &ModelParams,
        species: &SpeciesList,
        pharma: Option<&crate::pharma::dosing::Pharmacology>,
        dt_min: f64,
        dx_um: f64,
    ) -> Result<Self> {
        let index = ModelIndex::new(species).map_err(|name| {
            Error::Invalid(format!(
                "the model's field `{name}` is missing from the species list"
            ))
        })?;
        let vmax = params.get(p::MAX_CHEMOTACTIC_SPEED);
        // (cell, attractant, sensitivity, mechanism)
        let pairs = [
            (index.precursor, index.rankl, p::CHEMOTAXIS_PRECURSOR, 1),
            (index.cd8, index.ccl5, p::CHEMOTAXIS_CD8, 19),
            (index.mdsc, index.cxcl, p::CHEMOTAXIS_MDSC, 9),
            (index.neut_immature, index.cxcl, p::CHEMOTAXIS_NEUTROPHIL, 5),
            (index.macrophage, index.ccl5, p::CHEMOTAXIS_MACROPHAGE, 8),
        ];
        // Outflow through six faces at the saturation speed must not exceed the content.
        let substeps = ((6.0 * vmax as f64 * dt_min / dx_um).ceil() as u32).max(1);
        let chemotaxis = pairs
            .iter()
            .filter(|&&(_, _, chi, m)| params.get(chi) > 0.0 && params.mechanism(m))
            .map(|&(cell, attractant, chi, _)| Chemotaxis {
                cell: cell as u32,
                attractant: attractant as u32,
                substeps,
                _pad: 0,
                chi: params.get(chi),
                vmax,
                dt_sub: (dt_min / substeps as f64) as f32,
                dx: dx_um as f32,
            })
            .collect();
        // The drug blocks follow the model's parameters (header: drug count, first drug
        // field).
        let mut params = params.clone();
        let first_drug = pharma
            .and_then(|p| p.drugs.first())
            .map_or(species.len(), |d| d.fields.free);
        match pharma {
            Some(p) => {
                params.values.resize(p.array_len(), 0.0);
                p.write_blocks(&mut params.values, first_drug);
            }
            None => {
                params.values.resize(crate::pharma::tissue::BASE, 0.0);
                params.values[crate::pharma::tissue::HEADER + 1] = first_drug as f32;
            }
        }
        Ok(ModelSetup {
            index,
            params,
            chemotaxis,
        })
    }
}

impl Setup {
    /// Builds the parameter arrays of a scenario.
    pub fn new(sc: &Scenario) -> Result<Setup> {
        let grid = sc.grid;
        let n = grid.len();
        if n > u32::MAX as usize / sc.species.len().max(1) {
            return Err(Error::Resources {
                message: format!(
                    "{}x{}x{} voxels x {} fields exceeds 2^32 values: use --resolution to coarsen",
                    grid.nx,
                    grid.ny,
                    grid.nz,
                    sc.species.len()
                ),
                limit: Some(Limit::count(
                    (n * sc.species.len()) as u64,
                    u32::MAX as u64,
                    "values",
                )),
            });
        }
        let step = StepUniform {
            nx: grid.nx as u32,
            ny: grid.ny as u32,
            nz: grid.nz as u32,
            nf: sc.species.len() as u32,
            n_vox: n as u32,
            field_base: 0,
            n_regions: sc.preset.sources.len() as u32,
            chunk_fields: 0,
            dt: sc.dt_min as f32,
            dt_over_dx2: (sc.dt_min / (grid.dx_um * grid.dx_um)) as f32,
            theta: sc.theta as f32,
            dx: grid.dx_um as f32,
        };
        let mut transport: Vec<FieldTransport> = sc
            .specs
            .iter()
            .zip(sc.species.iter())
            .map(|(spec, s)| {
                let mut ft = FieldTransport {
                    diffusion: s.diffusion_um2_min as f32,
                    bone_permeability: s.bone_permeability as f32,
                    dirichlet_mask: 0,
                    // Implicit fields are not swept: their own solver moves them.
                    mobile: u32::from(s.mobile() && s.solver == Solver::Split),
                    dirichlet: [0.0; 6],
                    retain: 1.0,
                    _pad: 0.0,
                };
                if let Some(d) = &spec.dirichlet {
                    for (bit, v) in d.faces().iter().enumerate() {
                        if let Some(v) = v {
                            ft.dirichlet_mask |= 1 << bit;
                            ft.dirichlet[bit] = *v as f32;
                        }
                    }
                }
                ft
            })
            .collect();
        let index = |name: &str| sc.species.index(name).expect("validated species name") as u32;
        let all_regions: Vec<SourceRegion> = sc
            .preset
            .sources
            .iter()
            .map(|src| {
                let mut r = SourceRegion {
                    shape: shape::EVERYWHERE,
                    field: index(&src.species),
                    weight_field: 0,
                    _pad0: 0,
                    supply: src.supply_rate as f32,
                    target: src.target as f32,
                    uptake: src.uptake_rate as f32,
                    _pad1: 0.0,
                    a: [0.0; 4],
                    b: [0.0; 4],
                };
                match &src.region {
                    RegionSpec::Everywhere => {}
                    RegionSpec::Box { min_um, max_um } => {
                        r.shape = shape::BOX;
                        r.a = [min_um[0] as f32, min_um[1] as f32, min_um[2] as f32, 0.0];
                        r.b = [max_um[0] as f32, max_um[1] as f32, max_um[2] as f32, 0.0];
                    }
                    RegionSpec::Sphere {
                        center_um,
                        radius_um,
                    } => {
                        r.shape = shape::SPHERE;
                        r.a = [
                            center_um[0] as f32,
                            center_um[1] as f32,
                            center_um[2] as f32,
                            *radius_um as f32,
                        ];
                    }
                    RegionSpec::Shell { width_um } => {
                        r.shape = shape::SHELL;
                        r.a[0] = *width_um as f32;
                    }
                    RegionSpec::Field { species } => {
                        r.shape = shape::FIELD;
                        r.weight_field = index(species);
                    }
                }
                r
            })
            .collect();
        let is_implicit = |f: usize| sc.species.get(f).solver == Solver::Implicit;
        let (implicit_regions, regions): (Vec<SourceRegion>, Vec<SourceRegion>) = all_regions
            .into_iter()
            .partition(|r| is_implicit(r.field as usize));
        let implicit = (0..sc.species.len()).filter(|&f| is_implicit(f)).collect();
        let step = StepUniform {
            n_regions: regions.len() as u32,
            ..step
        };
        let mut rates = ReactionParams::from_species(&sc.species).rates;
        let sw = &sc.preset.switches;
        for (f, r) in rates.iter_mut().enumerate() {
            if is_implicit(f) && sw.transport {
                // Decay, and the rates the react step computes, act inside the implicit
                // solve (which runs with the transport).
                r.decay = 0.0;
                let slot = (0..f).filter(|&g| is_implicit(g)).count();
                r.implicit = slot as u32 + 1;
            }
        }
        if sc.model.is_none() && sw.transport && sw.reactions {
            // A swept field whose only reaction is linear decay decays as its last sweep
            // writes it back, by the react step's own exact factor `exp(-decay dt)`
            // (`exp_update` with no production): the same bits, without a separate pass
            // over the field. With a model the react step reads every field anyway.
            for (r, ft) in rates.iter_mut().zip(&mut transport) {
                if ft.mobile == 1 && r.growth == 0.0 && r.implicit == 0 && r.decay > 0.0 {
                    ft.retain = crate::lanes::exp(-(r.decay * step.dt));
                    r.decay = 0.0;
                }
            }
        }
        let model = sc
            .model
            .as_ref()
            .map(|m| {
                ModelSetup::new(
                    m,
                    &sc.species,
                    sc.pharmacology.as_ref(),
                    sc.dt_min,
                    grid.dx_um,
                )
            })
            .transpose()?;
        Ok(Setup {
            grid,
            species: sc.species.clone(),
            step,
            transport,
            rates,
            regions,
            implicit,
            implicit_tolerance: sc.preset.time.implicit_tolerance,
            implicit_regions,
            stages: Stages {
                sources: sw.sources,
                transport: sw.transport,
                reactions: sw.reactions,
            },
            model,
            pharmacology: sc.pharmacology.clone(),
        })
    }

    /// Whether the react step changes anything: a model, or a field with decay or growth
    /// left to it (decay folded into the transport sweeps is not).
    pub fn reacts(&self) -> bool {
        self.model.is_some() || self.rates.iter().any(|r| r.decay != 0.0 || r.growth != 0.0)
    }

    /// Fields whose reaction rates the react step hands to their implicit solve (each has
    /// two arrays, production and loss, in the rate buffer).
    pub fn implicit_rate_slots(&self) -> usize {
        self.rates.iter().filter(|r| r.implicit > 0).count()
    }

    /// Bytes of field storage (`4 * voxels * fields`).
    pub fn field_bytes(&self) -> u64 {
        4 * self.grid.len() as u64 * self.species.len() as u64
    }
}

/// The scenario's lattice, if it has one: the one it carries, or built from the preset.
pub fn lattice(sc: &Scenario) -> Result<Option<Lattice>> {
    if let Some(l) = &sc.lattice {
        if l.grid != sc.grid {
            return Err(Error::Invalid(format!(
                "{}: the lattice given is on a {:?} grid, the run on {:?}",
                sc.name,
                l.grid.dims(),
                sc.grid.dims()
            )));
        }
        return Ok(Some(l.as_ref().clone()));
    }
    sc.preset
        .lattice
        .as_ref()
        .map(|l| crate::lattice::build(l, sc.grid, sc.seed, &sc.base_dir))
        .transpose()
}

/// Initial values of every field, field-major (`f * voxels + voxel`).
pub fn initial_fields(sc: &Scenario, lattice: Option<&Lattice>) -> Vec<f32> {
    let grid = sc.grid;
    let n = grid.len();
    let ext = grid.extent_um();
    // The bone-surface area density (1/µm) once; a `surface` initial condition is its
    // surface share, `layer_um` (or the model's `surface_layer_um`) times it.
    let area = lattice.map(|l| l.area_density());
    let model_layer = sc.model.as_ref().map(|m| m.surface_layer_um() as f64);
    let mut out = vec![0f32; n * sc.species.len()];
    for (spec, field) in sc.specs.iter().zip(out.chunks_mut(n)) {
        field.par_iter_mut().enumerate().for_each(|(v, value)| {
            let p = grid.center_of(v);
            *value = match &spec.initial {
                InitialSpec::Uniform { value } => *value,
                InitialSpec::Gaussian {
                    center_um,
                    sigma_um,
                    amplitude,
                    background,
                } => {
                    let r2: f64 = (0..3).map(|a| (p[a] - center_um[a]).powi(2)).sum();
                    background + amplitude * (-r2 / (2.0 * sigma_um * sigma_um)).exp()
                }
                InitialSpec::Box {
                    min_um,
                    max_um,
                    value,
                    background,
                } => {
                    if (0..3).all(|a| p[a] >= min_um[a] && p[a] <= max_um[a]) {
                        *value
                    } else {
                        *background
                    }
                }
                InitialSpec::Cosine {
                    axis,
                    mean,
                    amplitude,
                    modes,
                } => {
                    let a = axis.index();
                    let x = p[a] / ext[a];
                    mean + amplitude * (*modes as f64 * std::f64::consts::PI * x).cos()
                }
                InitialSpec::Lattice {
                    of,
                    scale,
                    layer_um,
                } => {
                    let l = lattice.expect("validated: a lattice IC has a lattice");
                    let b = l.bone[v] as f64;
                    scale
                        * match of {
                            LatticePart::Bone => b,
                            LatticePart::Marrow => 1.0 - b,
                            LatticePart::Surface => {
                                let layer = layer_um
                                    .or(model_layer)
                                    .expect("validated: a layer depth or a model");
                                layer * area.as_ref().expect("lattice present")[v] as f64
                            }
                            LatticePart::Vessels => {
                                l.vessels.as_ref().expect("validated: vessels configured")[v] as f64
                            }
                        }
                }
            } as f32;
        });
    }
    if let Some(m) = &sc.model {
        let ix = ModelIndex::new(&sc.species).expect("validated model fields");
        crate::lattice::surface::surface(
            &mut out,
            &grid,
            ix.bone,
            ix.surface,
            m.well_mixed(),
            m.surface_layer_um(),
        );
    }
    out
}
