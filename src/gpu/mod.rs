//! The GPU backend: wgpu compute, one WGSL file per kernel under `shaders/`, one host module
//! per kernel here (`voxelwise` for the three voxel-wise ones). Pipelines are compiled once
//! per run (the grid and species list are baked into the generated prelude); a step is the
//! list of dispatches in [`GpuBackend::encode_step`]; the `Backend` trait is implemented in
//! `backend.rs`.

mod backend;
pub mod bindings;
pub mod context;
pub mod implicit;
pub mod kernel;
pub mod layout;
pub mod motility;
mod multigrid;
mod recorder;
pub mod reduce;
pub mod transport;
pub mod voxelwise;

use wgpu::util::DeviceExt;

pub use context::{
    GpuContext, GpuOptions, TrafficCounts, XSweep, probe_hardware_adapter, quiet_headless_probing,
};
use context::{is_software, map_read};
pub use layout::FieldLayout;

use crate::error::{Error, Limit, Result};
use crate::kernels::Kernel;
use crate::sim::params::{Stages, StepUniform, sweep_order};
use crate::sim::plan::{Planned, plan};
use crate::sim::setup::Setup;
use recorder::Recorder;

/// Steps encoded into one submission.
const STEPS_PER_SUBMIT: u64 = 8;

/// wgpu compute backend.
pub struct GpuBackend {
    ctx: GpuContext,
    setup: Setup,
    layout: FieldLayout,
    chunks: Vec<wgpu::Buffer>,
    bone_copy: Option<wgpu::Buffer>,
    transport: transport::Transport,
    sources: Option<voxelwise::Voxelwise>,
    react: voxelwise::Voxelwise,
    reduce: reduce::Reduce,
    implicit: Option<implicit::Implicit>,
    implicit_rates: wgpu::Buffer,
    model_params: wgpu::Buffer,
    surface: Option<voxelwise::Voxelwise>,
    motility: Option<motility::Motility>,
    step_index: u64,
    /// An implicit solve was recorded and its state not yet read back.
    pending: std::cell::Cell<bool>,
    /// The solve state read back last (one per implicit field, slot order).
    solve_states: std::cell::RefCell<Vec<implicit::SolveState>>,
}

impl GpuBackend {
    /// x lines per workgroup of the transport's tiled x sweep, 0 when the plain one runs
    /// (see [`XSweep`]).
    pub fn x_sweep_tile(&self) -> u32 {
        self.transport.x_tile()
    }

    /// Opens an adapter per `options` and builds the backend.
    pub fn new(setup: &Setup, options: &GpuOptions) -> Result<Self> {
        Self::with_context(GpuContext::new(options)?, setup)
    }

    /// Builds the backend on a device the caller opened.
    pub fn with_context(ctx: GpuContext, setup: &Setup) -> Result<Self> {
        let device = &ctx.device;
        let fl = FieldLayout::new(setup.grid, setup.species.len(), &ctx.limits)?;
        let n = setup.grid.len() as u64;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let chunks: Vec<wgpu::Buffer> = (0..fl.chunks())
            .map(|c| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("osteoniche.fields.chunk{c}")),
                    size: 4 * n * fl.chunk_fields(c) as u64,
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let bone_copy = setup.species.bone().map(|_| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("osteoniche.bone"),
                size: 4 * n,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Resources {
                message: format!(
                    "the GPU could not hold {:.1} GiB of fields: {e}; use a coarser --resolution or --backend cpu",
                    setup.field_bytes() as f64 / (1u64 << 30) as f64
                ),
                limit: None,
            });
        }
        let init = |label: &str, contents: &[u8], usage| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
        };
        let step_uniforms: Vec<wgpu::Buffer> = (0..fl.chunks())
            .map(|c| {
                let u = StepUniform {
                    field_base: (c * fl.fields_per_chunk) as u32,
                    chunk_fields: fl.chunk_fields(c) as u32,
                    ..setup.step
                };
                init(
                    "osteoniche.step",
                    bytemuck::bytes_of(&u),
                    wgpu::BufferUsages::UNIFORM,
                )
            })
            .collect();
        let storage = wgpu::BufferUsages::STORAGE;
        let transport_params = init(
            "osteoniche.transport.params",
            bytemuck::cast_slice(&setup.transport),
            storage,
        );
        let rates = init(
            "osteoniche.react.params",
            bytemuck::cast_slice(&setup.rates),
            storage,
        );
        let dummy = init("osteoniche.empty", &[0u8; 64], storage);
        let model_values: Vec<f32> = match &setup.model {
            Some(m) => m.params.values.clone(),
            None => vec![0.0; 16],
        };
        let slots = setup.implicit_rate_slots() as u64;
        // The react step hands every implicit field's production and loss rates to the
        // solver in one binding.
        let max_binding = ctx
            .limits
            .max_storage_buffer_binding_size
            .min(ctx.limits.max_buffer_size);
        if 8 * slots * n > max_binding {
            let fit = ((max_binding / (8 * slots)) as f64).cbrt() as usize;
            return Err(Error::Resources {
                message: format!(
                    "the reaction rates of {slots} implicit fields on {}x{}x{} voxels need {:.1} MiB in one buffer, but this adapter binds at most {:.1} MiB; use --resolution {fit} or smaller, or --backend cpu",
                    setup.grid.nx,
                    setup.grid.ny,
                    setup.grid.nz,
                    (8 * slots * n) as f64 / 1048576.0,
                    max_binding as f64 / 1048576.0
                ),
                limit: Some(Limit::count(
                    8 * slots * n,
                    max_binding,
                    "bytes in one buffer",
                )),
            });
        }
        let implicit_rates = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.implicit.rates"),
            size: (8 * slots * n).max(64),
            usage: storage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let model_params = init(
            "osteoniche.model.params",
            bytemuck::cast_slice(&model_values),
            storage | wgpu::BufferUsages::COPY_DST,
        );
        let bone_binding = bone_copy.as_ref().unwrap_or(&dummy);
        let tiled_x = match ctx.x_sweep {
            XSweep::Auto => !is_software(&ctx.info),
            XSweep::Tiled => true,
            XSweep::Plain => false,
        };
        let transport = transport::Transport::new(
            device,
            tiled_x,
            &fl,
            &setup.species,
            &step_uniforms,
            &transport_params,
            bone_binding,
            &chunks,
        )?;
        let sources = if setup.regions.is_empty() {
            None
        } else {
            let regions = init(
                "osteoniche.sources.params",
                bytemuck::cast_slice(&setup.regions),
                storage,
            );
            let half = StepUniform {
                dt: 0.5 * setup.step.dt,
                ..setup.step
            };
            let half_step = init(
                "osteoniche.sources.step",
                bytemuck::bytes_of(&half),
                wgpu::BufferUsages::UNIFORM,
            );
            Some(voxelwise::Voxelwise::new(
                device,
                Kernel::Sources,
                &fl,
                &setup.species,
                &half_step,
                &[&regions],
                &chunks,
            )?)
        };
        let react = voxelwise::Voxelwise::new(
            device,
            Kernel::React,
            &fl,
            &setup.species,
            &step_uniforms[0],
            &[&rates, &model_params, &implicit_rates],
            &chunks,
        )?;
        let (surface, motility) = match &setup.model {
            None => (None, None),
            Some(m) => {
                let surface = voxelwise::Voxelwise::new(
                    device,
                    Kernel::Surface,
                    &fl,
                    &setup.species,
                    &step_uniforms[0],
                    &[&model_params],
                    &chunks,
                )?;
                let motility = if m.chemotaxis.is_empty() {
                    None
                } else {
                    Some(motility::Motility::new(
                        device,
                        &fl,
                        &setup.species,
                        &step_uniforms[0],
                        &m.chemotaxis,
                        &chunks,
                    )?)
                };
                (Some(surface), motility)
            }
        };
        let reduce = reduce::Reduce::new(device, &fl, &setup.species, &step_uniforms, &chunks)?;
        let implicit = if setup.implicit.is_empty() {
            None
        } else {
            Some(implicit::Implicit::new(
                &ctx,
                &fl,
                setup,
                &step_uniforms[0],
                &transport_params,
                bone_binding,
                &implicit_rates,
                &chunks,
            )?)
        };
        Ok(GpuBackend {
            ctx,
            setup: setup.clone(),
            layout: fl,
            chunks,
            bone_copy,
            transport,
            sources,
            react,
            reduce,
            implicit,
            implicit_rates,
            model_params,
            surface,
            motility,
            step_index: 0,
            pending: std::cell::Cell::new(false),
            solve_states: std::cell::RefCell::new(Vec::new()),
        })
    }

    /// The field placement in buffers.
    pub fn layout(&self) -> &FieldLayout {
        &self.layout
    }

    /// Sets the iterations the next implicit solve records before its state is read back
    /// (see [`implicit::Implicit::set_budget`]); without implicit fields, nothing.
    pub fn set_implicit_budget(&mut self, iterations: u32) {
        if let Some(imp) = &self.implicit {
            imp.set_budget(iterations);
        }
    }

    /// One multigrid V-cycle of every implicit field's current operator (see
    /// [`implicit::Implicit::vcycle_once`]): for comparing the kernels with their CPU mirror.
    pub fn implicit_vcycle(&mut self, r: &[f32]) -> Result<Vec<f32>> {
        self.settle()?;
        let imp = self
            .implicit
            .as_ref()
            .ok_or_else(|| Error::Invalid("this simulation has no implicit fields".into()))?;
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        self.copy_bone(&mut enc);
        self.ctx.submit(enc.finish());
        imp.vcycle_once(&self.ctx, self.setup.grid.len(), r)
    }

    /// Records one coupled step: the entries of [`plan`], in order, each a named pass of
    /// its kernel (the implicit solves recorded whole: no host wait inside).
    fn record_step(&self, rec: &mut Recorder<'_>, step: u64, stages: Stages) -> Result<()> {
        for &entry in plan(&self.setup, stages).entries() {
            let Some(stage) = entry.stage() else {
                // No reaction rates for the implicit solves of this step.
                rec.enc().clear_buffer(&self.implicit_rates, 0, None);
                continue;
            };
            if entry == Planned::Implicit && self.pending.get() {
                // The previous solve's state must be read (and, if short, continued)
                // before this one overwrites it.
                rec.flush()?;
                self.settle()?;
            }
            rec.begin(stage);
            let dispatches = self.record_entry(rec.enc(), entry, step)?;
            self.ctx.count_dispatches(dispatches);
            rec.end(stage)?;
        }
        Ok(())
    }

    /// Records one entry of the plan into `enc`; returns its dispatches.
    fn record_entry(
        &self,
        enc: &mut wgpu::CommandEncoder,
        entry: Planned,
        step: u64,
    ) -> Result<u64> {
        let missing = |k: Kernel| Error::Gpu(format!("kernel `{k}` planned but not built"));
        Ok(match entry {
            Planned::HalfSources => {
                let sources = self
                    .sources
                    .as_ref()
                    .ok_or_else(|| missing(Kernel::Sources))?;
                sources.encode(&mut compute_pass(enc, Kernel::Sources))
            }
            Planned::Transport => {
                self.copy_bone(enc);
                let mut pass = compute_pass(enc, Kernel::Transport);
                let order = sweep_order(step);
                let mut dispatches = 0;
                for (i, &axis) in order.iter().enumerate() {
                    let last = i + 1 == order.len();
                    dispatches += self.transport.encode(&mut pass, axis, last);
                }
                dispatches
            }
            Planned::Motility => {
                let motility = self
                    .motility
                    .as_ref()
                    .ok_or_else(|| missing(Kernel::Motility))?;
                motility.encode(enc, |f| {
                    let (chunk, offset) = self.locate(f);
                    (&self.chunks[chunk], offset)
                })
            }
            Planned::React => self.react.encode(&mut compute_pass(enc, Kernel::React)),
            Planned::NoReactionRates => 0,
            Planned::Implicit => {
                let imp = self
                    .implicit
                    .as_ref()
                    .ok_or_else(|| missing(Kernel::Implicit))?;
                let dispatches = imp.encode(enc);
                self.pending.set(true);
                dispatches
            }
            Planned::Surface => {
                let surface = self
                    .surface
                    .as_ref()
                    .ok_or_else(|| missing(Kernel::Surface))?;
                surface.encode(&mut compute_pass(enc, Kernel::Surface))
            }
        })
    }

    /// Copies the bone field into the buffer the transport and implicit kernels read it
    /// from (they cannot bind a chunk that they also write).
    fn copy_bone(&self, enc: &mut wgpu::CommandEncoder) {
        if let (Some(b), Some(copy)) = (self.setup.species.bone(), &self.bone_copy) {
            let (chunk, offset) = self.locate(b);
            let bytes = 4 * self.setup.grid.len() as u64;
            enc.copy_buffer_to_buffer(&self.chunks[chunk], offset, copy, 0, bytes);
        }
    }

    /// Chunk and byte offset of field `f`.
    fn locate(&self, f: usize) -> (usize, u64) {
        let fpc = self.layout.fields_per_chunk;
        (f / fpc, 4 * ((f % fpc) * self.setup.grid.len()) as u64)
    }

    /// Reads the state of the last recorded implicit solve, if not read yet, and lets the
    /// solver continue one that ran out of recorded iterations.
    fn settle(&self) -> Result<()> {
        if let Some(imp) = &self.implicit
            && self.pending.get()
        {
            let states = imp.status(&self.ctx)?;
            self.settle_states(imp, states)?;
        }
        Ok(())
    }

    /// [`GpuBackend::settle`] with the state already read.
    fn settle_states(
        &self,
        imp: &implicit::Implicit,
        states: Vec<implicit::SolveState>,
    ) -> Result<()> {
        self.pending.set(false);
        let states = imp.settle(&self.ctx, states)?;
        *self.solve_states.borrow_mut() = states;
        Ok(())
    }
}

fn compute_pass(enc: &mut wgpu::CommandEncoder, kernel: Kernel) -> wgpu::ComputePass<'_> {
    enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some(kernel.name()),
        timestamp_writes: None,
    })
}
