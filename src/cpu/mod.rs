//! The CPU backend: native Rust with rayon, one mirror per GPU kernel with the same name
//! (`transport`, `sources`, `react`, `reduce`, `implicit`, `multigrid`, `motility`); the
//! `surface` kernel's mirror is `lattice::surface`, which the lattice builder shares. It is a product path (on machines without a
//! hardware GPU it beats software Vulkan) and the oracle the GPU is tested against.

pub mod implicit;
pub mod motility;
pub mod multigrid;
pub mod react;
pub mod reduce;
pub mod sources;
pub mod transport;

use crate::error::{Error, Result};
use crate::sim::params::{Stages, sweep_order};
use crate::sim::plan::{Planned, plan};
use crate::sim::profile::{StageClock, StageTimes, lap};
use crate::sim::setup::Setup;
use crate::sim::{Backend, BackendInfo, Counters, FieldStats};

/// Voxels per parallel work item of the per-voxel kernels.
pub(crate) const BLOCK: usize = 4096;

/// Whether this CPU runs AVX2: the transport's and the reaction's lane loops then run a
/// copy compiled for it (the same operations, no fused multiply-add, so the same bits).
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Splits field-major storage into blocks of voxels: item `b` holds, for every field, the
/// slice of voxels `b * BLOCK ..` of that field.
pub(crate) fn voxel_blocks(fields: &mut [f32], n_vox: usize) -> Vec<Vec<&mut [f32]>> {
    let n_blocks = n_vox.div_ceil(BLOCK);
    let nf = fields.len() / n_vox;
    let mut blocks: Vec<Vec<&mut [f32]>> = (0..n_blocks).map(|_| Vec::with_capacity(nf)).collect();
    for field in fields.chunks_mut(n_vox) {
        for (b, chunk) in field.chunks_mut(BLOCK).enumerate() {
            blocks[b].push(chunk);
        }
    }
    blocks
}

/// Native multithreaded backend.
pub struct CpuBackend {
    setup: Setup,
    fields: Vec<f32>,
    step_index: u64,
    threads: usize,
    implicit_work: implicit::Work,
    scratch: Vec<f32>,
    /// Production and loss rates of the implicit fields, from the react step.
    implicit_rates: Vec<f32>,
    /// Implicit solves and their iterations so far.
    counters: Counters,
}

impl CpuBackend {
    /// A backend for `setup` with all fields zero; upload with [`Backend::write_fields`].
    pub fn new(setup: &Setup) -> Result<Self> {
        let len = setup.grid.len() * setup.species.len();
        let mut fields = Vec::new();
        fields
            .try_reserve_exact(len)
            .map_err(|_| Error::Resources {
                message: format!(
                    "cannot allocate {:.1} GiB of host memory for {} fields of {} voxels",
                    setup.field_bytes() as f64 / (1u64 << 30) as f64,
                    setup.species.len(),
                    setup.grid.len()
                ),
                limit: None,
            })?;
        fields.resize(len, 0.0);
        Ok(CpuBackend {
            setup: setup.clone(),
            fields,
            step_index: 0,
            threads: rayon::current_num_threads(),
            implicit_work: implicit::Work::default(),
            scratch: Vec::new(),
            implicit_rates: Vec::new(),
            counters: Counters::default(),
        })
    }

    /// Half a step of the supply/uptake regions.
    /// One coupled step of the given stages (the entries of [`plan`], in order), each booked
    /// to `clock` when given.
    fn step(&mut self, stages: Stages, mut clock: Option<&mut StageClock>) -> Result<()> {
        let n = self.setup.grid.len();
        let dt = self.setup.step.dt;
        for &entry in plan(&self.setup, stages).entries() {
            match entry {
                Planned::HalfSources => sources::sources(
                    &mut self.fields,
                    &self.setup.grid,
                    &self.setup.regions,
                    0.5 * dt,
                ),
                Planned::Transport => self.transport(),
                Planned::Motility => self.motility(),
                Planned::React => {
                    let len = 2 * self.setup.implicit_rate_slots() * n;
                    self.implicit_rates.resize(len, 0.0);
                    let model = self.setup.model.as_ref();
                    let rates = &self.setup.rates;
                    react::react(
                        &mut self.fields,
                        n,
                        rates,
                        model,
                        &mut self.implicit_rates,
                        dt,
                    );
                }
                Planned::NoReactionRates => self.implicit_rates.clear(),
                Planned::Implicit => self.implicit()?,
                Planned::Surface => {
                    let m = self.setup.model.as_ref().expect("planned with the model");
                    let well_mixed = m.params.well_mixed();
                    let (b, s) = (m.index.bone, m.index.surface);
                    crate::lattice::surface::surface(
                        &mut self.fields,
                        &self.setup.grid,
                        b,
                        s,
                        well_mixed,
                        m.params.surface_layer_um(),
                    );
                }
            }
            if let Some(stage) = entry.stage() {
                lap(&mut clock, stage);
            }
        }
        self.step_index += 1;
        Ok(())
    }

    /// Runs the implicit solves of one step (fields with `solver = "implicit"`).
    fn implicit(&mut self) -> Result<()> {
        let s = &self.setup;
        let n = s.grid.len();
        for &f in &s.implicit {
            let slot = s.rates[f].implicit as usize;
            let reaction = (slot > 0 && !self.implicit_rates.is_empty()).then(|| {
                let r = &self.implicit_rates[2 * (slot - 1) * n..];
                (&r[..n], &r[n..2 * n])
            });
            let it = implicit::solve(
                &mut self.fields,
                f,
                s.species.bone(),
                &s.grid,
                &s.step,
                &s.transport[f],
                s.species.get(f).decay_per_min as f32,
                &s.implicit_regions,
                reaction,
                s.implicit_tolerance,
                &mut self.implicit_work,
            )
            .map_err(|e| match e {
                Error::NotConverged {
                    iterations,
                    residual,
                    ..
                } => Error::NotConverged {
                    field: s.species.get(f).name.clone(),
                    iterations,
                    residual,
                },
                e => e,
            })?;
            log::debug!("implicit solve of field {f}: {it} iterations");
            self.counters.implicit_solves += 1;
            self.counters.implicit_iterations += it as u64;
        }
        Ok(())
    }

    /// Runs the chemotaxis pairs of one step.
    fn motility(&mut self) {
        let Some(m) = &self.setup.model else { return };
        for pair in &m.chemotaxis {
            let g = &self.setup.grid;
            motility::motility(&mut self.fields, g, m.index.bone, pair, &mut self.scratch);
        }
    }

    /// Runs the transport sweeps of one step: every swept field, each pass over all of
    /// them at once.
    fn transport(&mut self) {
        let s = &self.setup;
        let n = s.grid.len();
        let bone_index = s.species.bone();
        let order = sweep_order(self.step_index);
        let mut bone = None;
        let mut swept = Vec::new();
        for (f, values) in self.fields.chunks_mut(n).enumerate() {
            let ft = &s.transport[f];
            if Some(f) == bone_index {
                bone = Some(&*values);
            } else if ft.mobile != 0 {
                let mut params =
                    [0, 1, 2].map(|axis| transport::LineParams::new(&s.step, ft, axis));
                params[order[2]].retain = ft.retain;
                swept.push((values, params));
            }
        }
        if !swept.is_empty() {
            transport::sweeps(swept, bone, &s.grid, order);
        }
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            kind: "cpu".into(),
            device: format!("native, rayon {} threads", self.threads),
            driver: String::new(),
            software: false,
        }
    }

    fn write_fields(&mut self, data: &[f32]) -> Result<()> {
        if data.len() != self.fields.len() {
            return Err(Error::Invalid(format!(
                "field data has {} values, the simulation holds {}",
                data.len(),
                self.fields.len()
            )));
        }
        self.fields.copy_from_slice(data);
        Ok(())
    }

    fn read_fields(&mut self) -> Result<Vec<f32>> {
        Ok(self.fields.clone())
    }

    fn read_field(&mut self, f: usize) -> Result<Vec<f32>> {
        let n = self.setup.grid.len();
        Ok(self.fields[f * n..(f + 1) * n].to_vec())
    }

    fn write_field_range(&mut self, f: usize, first: usize, values: &[f32]) -> Result<()> {
        let n = self.setup.grid.len();
        crate::sim::check_range(f, first, values.len(), self.setup.species.len(), n)?;
        self.fields[f * n + first..f * n + first + values.len()].copy_from_slice(values);
        Ok(())
    }

    fn field_count(&self) -> usize {
        self.setup.species.len()
    }

    fn step_index(&self) -> u64 {
        self.step_index
    }

    fn set_step_index(&mut self, step: u64) {
        self.step_index = step;
    }

    fn advance(&mut self, steps: u64, stages: Stages) -> Result<()> {
        for _ in 0..steps {
            self.step(stages, None)?;
        }
        Ok(())
    }

    fn profile_step(&mut self) -> Result<StageTimes> {
        let mut clock = StageClock::default();
        self.step(self.setup.stages, Some(&mut clock))?;
        Ok(clock.times)
    }

    fn stats(&mut self) -> Result<Vec<FieldStats>> {
        Ok(reduce::reduce(&self.fields, self.setup.grid.len()))
    }

    fn field_sums(&mut self, fields: &[usize]) -> Result<Vec<f64>> {
        let n = self.setup.grid.len();
        Ok(fields
            .iter()
            .map(|&f| reduce::reduce(&self.fields[f * n..(f + 1) * n], n)[0].sum)
            .collect())
    }

    fn counters(&mut self) -> Result<Counters> {
        Ok(self.counters)
    }

    fn set_model_values(&mut self, values: &[f32]) -> Result<()> {
        match &mut self.setup.model {
            Some(m) if m.params.values.len() == values.len() => {
                m.params.values.copy_from_slice(values);
                Ok(())
            }
            _ => Err(Error::Invalid(
                "this simulation has no model parameters to update".into(),
            )),
        }
    }
}
