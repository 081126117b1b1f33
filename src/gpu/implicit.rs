//! Kernels `implicit` (`shaders/implicit.wgsl`, conjugate gradients) and `multigrid`
//! (`shaders/multigrid.wgsl`, its V-cycle preconditioner): backward Euler on the whole 3-D
//! operator of every implicit field. CPU mirrors: `cpu/implicit.rs`, `cpu/multigrid.rs`.
//!
//! The implicit fields are solved in batches (all of them in one batch unless a level
//! array would pass the adapter's binding size): every dispatch covers every field of the
//! batch (workgroup z = the field's slot). The Krylov scalars live on the device and a
//! one-workgroup kernel per dot product adds the partial sums and decides convergence, so
//! a solve is one recorded list of dispatches with no host wait inside. The host records
//! `budget` iterations (kernels of a converged slot return at once), copies the solve
//! state to a staging buffer, and reads it at the next readback
//! ([`Implicit::status`]); a solve still short of its tolerance then goes on from where it
//! stopped ([`Implicit::resume`]) and the budget grows.

use crate::wgsl::{Members, wgsl_members};
use std::cell::Cell;

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::kernel::{bind, layout, pipelines, split_groups};
use super::layout::FieldLayout;
use super::multigrid::{
    Dispatch, LevelGroups, LevelUniform, MG_ENTRIES, level_dims, record_coarse_operators,
    record_vcycle, voxels,
};
use super::{GpuContext, compute_pass, map_read};
use crate::error::{Error, Limit, Result};
use crate::kernels::Kernel;
use crate::numerics::MAX_ITERATIONS;
use crate::sim::params::SourceRegion;
use crate::sim::setup::Setup;

/// Invocations per workgroup of the solve kernels (`WG` in their generated prelude).
const WG: u32 = Kernel::Implicit.spec().workgroup;

/// What one slot solves. Keep in sync with `SlotParams` in `shaders/shared/solve.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(crate) struct SlotParams {
    field: u32,
    rate_slot: u32,
    decay: f32,
    d_dx2: f32,
    tol2: f32,
    max_iterations: u32,
    _pad: [u32; 2],
}
const _: () = assert!(std::mem::size_of::<SlotParams>() == 32);

impl SlotParams {
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "read by the struct check (gpu::bindings tests) only"
        )
    )]
    /// Each member of `SlotParams` (`shaders/shared/solve.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(SlotParams {
        "field" => field, "rate_slot" => rate_slot, "decay" => decay, "d_dx2" => d_dx2,
        "tol2" => tol2, "max_iterations" => max_iterations,
        "_pad0" => _pad, "_pad1" => _pad + 4,
    });
}

/// The device-side state of one slot's solve. Keep in sync with `SolveState` in
/// `shaders/shared/solve.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, Pod, Zeroable)]
pub struct SolveState {
    rz: f32,
    /// Squared residual norm.
    pub rr: f32,
    /// Squared norm of the right-hand side.
    pub bb: f32,
    alpha: f32,
    beta: f32,
    pq: f32,
    /// 0 iterating, 1 converged, 2 out of iterations.
    pub done: u32,
    /// Iterations of the last solve.
    pub iterations: u32,
    /// Iterations of every solve since the solver was built.
    pub total_iterations: u32,
    /// Solves since the solver was built.
    pub solves: u32,
    /// Solves that ended short of their tolerance (a later step started first).
    pub unconverged: u32,
    _pad: [u32; 5],
}
const _: () = assert!(std::mem::size_of::<SolveState>() == 64);

impl SolveState {
    /// Each member of `SolveState` (`shaders/shared/solve.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(SolveState {
        "rz" => rz, "rr" => rr, "bb" => bb, "alpha" => alpha, "beta" => beta, "pq" => pq,
        "done" => done, "iterations" => iterations, "total_iterations" => total_iterations,
        "solves" => solves, "unconverged" => unconverged, "_pad0" => _pad,
        "_pad1" => _pad + 4, "_pad2" => _pad + 8, "_pad3" => _pad + 12, "_pad4" => _pad + 16,
    });
}

/// Entry points of `implicit.wgsl`, in pipeline order.
const CG_ENTRIES: &[&str] = &[
    "setup",
    "start",
    "matvec",
    "update",
    "dot_rz",
    "direction",
    "finish",
    "scalars_start",
    "scalars_beta",
    "scalars_alpha",
    "scalars_check",
];
const SETUP: usize = 0;
const START: usize = 1;
const MATVEC: usize = 2;
const UPDATE: usize = 3;
const DOT_RZ: usize = 4;
const DIRECTION: usize = 5;
const FINISH: usize = 6;
const SCALARS_START: usize = 7;
const SCALARS_BETA: usize = 8;
const SCALARS_ALPHA: usize = 9;
const SCALARS_CHECK: usize = 10;

/// Iterations recorded for the first step, before any solve has been read back.
const FIRST_BUDGET: u32 = 12;

/// The fields solved together, their buffers and one bind group per level.
struct Batch {
    fields: Vec<usize>,
    levels: Vec<LevelGroups>,
    groups: Vec<wgpu::BindGroup>,
    state: wgpu::Buffer,
    staging: wgpu::Buffer,
    /// The V-cycle's correction and right-hand side on every level (`mx`, `mb`).
    mx: wgpu::Buffer,
    mb: wgpu::Buffer,
    /// Voxels of all levels of one slot.
    total: u64,
}

impl Batch {
    fn dispatch<'p, 'b>(&'p self, pass: &'p mut wgpu::ComputePass<'b>) -> Dispatch<'p, 'b> {
        Dispatch::new(pass, &self.groups, &self.levels, self.fields.len() as u32)
    }
}

/// Pipelines and batches of the implicit solver.
pub struct Implicit {
    cg: Vec<wgpu::ComputePipeline>,
    mg: Vec<wgpu::ComputePipeline>,
    batches: Vec<Batch>,
    /// Iterations recorded per solve.
    budget: Cell<u32>,
    /// Field names, by index (for errors).
    names: Vec<String>,
}

impl Implicit {
    /// Builds the solver for `setup`'s implicit fields.
    #[allow(
        clippy::too_many_arguments,
        reason = "every buffer the solver binds is shared with other kernels"
    )]
    pub fn new(
        ctx: &GpuContext,
        fl: &FieldLayout,
        setup: &Setup,
        step_uniform: &wgpu::Buffer,
        transport_params: &wgpu::Buffer,
        bone: &wgpu::Buffer,
        reaction: &wgpu::Buffer,
        chunks: &[wgpu::Buffer],
    ) -> Result<Self> {
        let device = &ctx.device;
        if fl.implicit_storage_buffers() > ctx.limits.max_storage_buffers_per_shader_stage {
            return Err(Error::Resources {
                message: format!(
                    "the implicit solver needs {} storage buffers per kernel; this adapter allows {}: use solver = \"split\" or --backend cpu",
                    fl.implicit_storage_buffers(),
                    ctx.limits.max_storage_buffers_per_shader_stage
                ),
                limit: Some(Limit::count(
                    fl.implicit_storage_buffers() as u64,
                    ctx.limits.max_storage_buffers_per_shader_stage as u64,
                    "storage buffers per kernel",
                )),
            });
        }
        // Both kernels declare the bindings of shaders/shared/solve.wgsl: one layout.
        let cg_source = fl.shader_source(Kernel::Implicit, &setup.species)?;
        let mg_source = fl.shader_source(Kernel::Multigrid, &setup.species)?;
        let slots = super::bindings::slots(Kernel::Implicit, &cg_source, chunks.len())?;
        if super::bindings::slots(Kernel::Multigrid, &mg_source, chunks.len())? != slots {
            return Err(Error::Gpu(
                "kernels `implicit` and `multigrid` must declare the same bindings (shaders/shared/solve.wgsl)".into(),
            ));
        }
        let bgl = layout(device, &Kernel::Implicit.label(), &slots);
        let cg = pipelines(device, Kernel::Implicit, &cg_source, &bgl, CG_ENTRIES)?;
        let mg = pipelines(device, Kernel::Multigrid, &mg_source, &bgl, MG_ENTRIES)?;
        // A region no field owns stands in when there are none (empty bindings are invalid).
        let mut regions = setup.implicit_regions.clone();
        if regions.is_empty() {
            regions.push(SourceRegion {
                shape: 255,
                field: u32::MAX,
                ..Zeroable::zeroed()
            });
        }
        let regions = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("osteoniche.implicit.regions"),
            contents: bytemuck::cast_slice(&regions),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let dims = level_dims(setup.grid.dims());
        let total: usize = dims.iter().map(|&d| voxels(d)).sum();
        // Slots per batch: one level array (every level of every slot) within a binding.
        let max_binding = ctx
            .limits
            .max_storage_buffer_binding_size
            .min(ctx.limits.max_buffer_size);
        let per_slot = 4 * total as u64;
        let per_batch = (max_binding / per_slot.max(1)).min(setup.implicit.len() as u64) as usize;
        if per_batch == 0 {
            return Err(Error::Resources {
                message: format!(
                    "one implicit field's multigrid levels need {:.0} MiB in one buffer; this adapter binds at most {:.0} MiB: use a coarser --resolution or --backend cpu",
                    per_slot as f64 / 1048576.0,
                    max_binding as f64 / 1048576.0
                ),
                limit: Some(Limit::count(per_slot, max_binding, "bytes in one buffer")),
            });
        }
        let fine_groups = split_groups((setup.grid.len() as u32).div_ceil(WG));
        let pg = fine_groups.0 * fine_groups.1;
        let tol2 = (setup.implicit_tolerance * setup.implicit_tolerance) as f32;
        let level_uniforms: Vec<wgpu::Buffer> = (0..dims.len())
            .map(|l| {
                let d = dims[l];
                let c = dims.get(l + 1).copied().unwrap_or([0; 3]);
                let off: usize = dims[..l].iter().map(|&d| voxels(d)).sum();
                let u = LevelUniform {
                    dims: d.map(|x| x as u32),
                    off: off as u32,
                    cdims: c.map(|x| x as u32),
                    coff: (off + voxels(d)) as u32,
                    n: voxels(d) as u32,
                    cn: voxels(c) as u32,
                    total: total as u32,
                    groups_x: split_groups((voxels(d) as u32).div_ceil(WG)).0,
                    cgroups_x: split_groups((voxels(c) as u32).div_ceil(WG)).0,
                    pg,
                    _pad: [0; 2],
                };
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(&format!("osteoniche.implicit.level{l}")),
                    contents: bytemuck::bytes_of(&u),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
            })
            .collect();
        let levels = || {
            (0..dims.len())
                .map(|l| LevelGroups {
                    own: split_groups((voxels(dims[l]) as u32).div_ceil(WG)),
                    coarse: dims
                        .get(l + 1)
                        .map_or((0, 0), |&c| split_groups((voxels(c) as u32).div_ceil(WG))),
                })
                .collect()
        };
        let n = setup.grid.len() as u64;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let batches = setup
            .implicit
            .chunks(per_batch)
            .enumerate()
            .map(|(b, fields)| {
                let ns = fields.len() as u64;
                let params: Vec<SlotParams> = fields
                    .iter()
                    .map(|&f| SlotParams {
                        field: f as u32,
                        rate_slot: setup.rates[f].implicit,
                        decay: setup.species.get(f).decay_per_min as f32,
                        d_dx2: setup.transport[f].diffusion * setup.step.dt_over_dx2
                            / setup.step.dt,
                        tol2,
                        max_iterations: MAX_ITERATIONS as u32,
                        _pad: [0; 2],
                    })
                    .collect();
                let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("osteoniche.implicit.slots"),
                    contents: bytemuck::cast_slice(&params),
                    usage: wgpu::BufferUsages::STORAGE,
                });
                let states = vec![SolveState::default(); fields.len()];
                let state = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("osteoniche.implicit.state"),
                    contents: bytemuck::cast_slice(&states),
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                });
                let staging = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("osteoniche.implicit.state.staging"),
                    size: state.size(),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let work = |name: &str, len: u64| {
                    device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some(&format!("osteoniche.implicit.{b}.{name}")),
                        size: 4 * len,
                        usage: wgpu::BufferUsages::STORAGE
                            | wgpu::BufferUsages::COPY_SRC
                            | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    })
                };
                let partials = work("partials", 4 * ns * pg as u64);
                let level_arrays: Vec<wgpu::Buffer> =
                    ["kx", "ky", "kz", "mass", "bnd", "diag", "mx", "mb", "mr"]
                        .iter()
                        .map(|name| work(name, ns * total as u64))
                        .collect();
                let fine_arrays: Vec<wgpu::Buffer> = ["x", "p", "q", "rhs"]
                    .iter()
                    .map(|name| work(name, ns * n))
                    .collect();
                let groups = level_uniforms
                    .iter()
                    .map(|u| {
                        let mut buffers = vec![
                            step_uniform,
                            u,
                            transport_params,
                            &regions,
                            bone,
                            reaction,
                            &params,
                            &state,
                            &partials,
                        ];
                        buffers.extend(level_arrays.iter());
                        buffers.extend(fine_arrays.iter());
                        buffers.extend(chunks.iter());
                        bind(device, "osteoniche.implicit", &bgl, &buffers)
                    })
                    .collect();
                Batch {
                    fields: fields.to_vec(),
                    levels: levels(),
                    groups,
                    state,
                    staging,
                    mx: level_arrays[6].clone(),
                    mb: level_arrays[7].clone(),
                    total: total as u64,
                }
            })
            .collect();
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Resources {
                message: format!(
                    "the GPU could not hold the implicit solver's work arrays ({} fields, {} levels): {e}; use a coarser --resolution or --backend cpu",
                    setup.implicit.len(),
                    dims.len()
                ),
                limit: None,
            });
        }
        Ok(Implicit {
            names: setup.species.owned_names(),
            cg,
            mg,
            batches,
            budget: Cell::new(FIRST_BUDGET),
        })
    }

    /// Sets the iterations recorded per solve before the state is read back (the solver
    /// adapts it after every solve; a short budget makes every solve continue).
    pub fn set_budget(&self, iterations: u32) {
        self.budget.set(iterations.max(1));
    }

    /// Records one solve of every implicit field: set-up, coarse operators, `budget`
    /// iterations, the new fields, and the copy of the solve state for [`Implicit::status`].
    /// Returns the dispatches recorded.
    pub fn encode(&self, enc: &mut wgpu::CommandEncoder) -> u64 {
        let mut dispatches = 0;
        {
            let mut pass = compute_pass(enc, Kernel::Implicit);
            for batch in &self.batches {
                let mut d = batch.dispatch(&mut pass);
                d.fine(&self.cg[SETUP]);
                d.fine(&self.cg[START]);
                d.scalars(&self.cg[SCALARS_START]);
                record_coarse_operators(&self.mg, &mut d);
                self.iterations(&mut d, self.budget.get());
                d.fine(&self.cg[FINISH]);
                dispatches += d.count;
            }
        }
        for batch in &self.batches {
            enc.copy_buffer_to_buffer(&batch.state, 0, &batch.staging, 0, batch.state.size());
        }
        dispatches
    }

    /// Records `count` CG iterations of a batch.
    fn iterations(&self, d: &mut Dispatch<'_, '_>, count: u32) {
        for _ in 0..count {
            record_vcycle(&self.mg, d);
            d.fine(&self.cg[DOT_RZ]);
            d.scalars(&self.cg[SCALARS_BETA]);
            d.fine(&self.cg[DIRECTION]);
            d.fine(&self.cg[MATVEC]);
            d.scalars(&self.cg[SCALARS_ALPHA]);
            d.fine(&self.cg[UPDATE]);
            d.scalars(&self.cg[SCALARS_CHECK]);
        }
    }

    /// Reads the state of every slot copied at the end of the last recorded solve (one
    /// wait per batch).
    pub fn status(&self, ctx: &GpuContext) -> Result<Vec<SolveState>> {
        let mut out = Vec::new();
        for batch in &self.batches {
            let bytes = map_read(ctx, &batch.staging)?;
            out.extend_from_slice(bytemuck::cast_slice::<u8, SolveState>(&bytes));
        }
        Ok(out)
    }

    /// The staging buffers that hold the solve state after a step, for a caller that
    /// reads them together with other data.
    pub fn staging(&self) -> impl Iterator<Item = &wgpu::Buffer> {
        self.batches.iter().map(|b| &b.staging)
    }

    /// Checks the state of the last solve: a slot that ran out of recorded iterations
    /// goes on from where it stopped (one submission and wait per `budget` iterations)
    /// until it converges; a slot past `MAX_ITERATIONS` or an earlier solve that ended
    /// short is an error. Sets the budget of the next step from the iterations used.
    pub fn settle(&self, ctx: &GpuContext, mut states: Vec<SolveState>) -> Result<Vec<SolveState>> {
        loop {
            for (f, st) in self.fields().zip(&states) {
                if st.unconverged > 0 {
                    return Err(Error::Invalid(format!(
                        "implicit solve of field {f} ended short of its tolerance in {} step(s) recorded before the solver state was read back",
                        st.unconverged
                    )));
                }
                if st.done == 2 {
                    return Err(Error::NotConverged {
                        field: self.names[f].clone(),
                        iterations: MAX_ITERATIONS,
                        residual: (st.rr / st.bb).sqrt() as f64,
                    });
                }
            }
            let used = states.iter().map(|s| s.iterations).max().unwrap_or(0);
            if states.iter().all(|s| s.done != 0) {
                self.budget.set((used + 2).max(4));
                return Ok(states);
            }
            // Out of recorded iterations: go on, with twice the budget.
            let more = (2 * self.budget.get()).min(MAX_ITERATIONS as u32);
            self.budget.set(more);
            log::debug!("implicit solves continue after {used} iterations: {more} more recorded");
            self.resume(ctx, more)?;
            states = self.status(ctx)?;
        }
    }

    /// Records `count` more iterations of every batch from the kept state, the new
    /// fields and the state copy, and submits them.
    fn resume(&self, ctx: &GpuContext, count: u32) -> Result<()> {
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        let mut dispatches = 0;
        {
            let mut pass = compute_pass(&mut enc, Kernel::Implicit);
            for batch in &self.batches {
                let mut d = batch.dispatch(&mut pass);
                self.iterations(&mut d, count);
                d.fine(&self.cg[FINISH]);
                dispatches += d.count;
            }
        }
        for batch in &self.batches {
            enc.copy_buffer_to_buffer(&batch.state, 0, &batch.staging, 0, batch.state.size());
        }
        ctx.count_dispatches(dispatches);
        ctx.check_fault()?;
        ctx.submit(enc.finish());
        Ok(())
    }

    /// One V-cycle `z = B r` of every implicit field's operator, built from the current
    /// fields with the last reaction rates: what the CG loop applies each iteration, for
    /// comparing the multigrid kernels with their CPU mirror. `r` and the result hold the
    /// fields one after another in slot order. Resets the solve state (counters too).
    pub fn vcycle_once(&self, ctx: &GpuContext, n: usize, r: &[f32]) -> Result<Vec<f32>> {
        let fields: usize = self.batches.iter().map(|b| b.fields.len()).sum();
        if r.len() != fields * n {
            return Err(Error::Invalid(format!(
                "a V-cycle of {fields} fields of {n} voxels takes {} values, not {}",
                fields * n,
                r.len()
            )));
        }
        let mut out = Vec::with_capacity(r.len());
        let mut slot0 = 0;
        for batch in &self.batches {
            let ns = batch.fields.len();
            let zeros = vec![SolveState::default(); ns];
            ctx.queue
                .write_buffer(&batch.state, 0, bytemuck::cast_slice(&zeros));
            for s in 0..ns {
                let part = &r[(slot0 + s) * n..(slot0 + s + 1) * n];
                ctx.queue.write_buffer(
                    &batch.mb,
                    4 * s as u64 * batch.total,
                    bytemuck::cast_slice(part),
                );
            }
            let mut enc = ctx.device.create_command_encoder(&Default::default());
            {
                let mut pass = compute_pass(&mut enc, Kernel::Implicit);
                let mut d = batch.dispatch(&mut pass);
                d.fine(&self.cg[SETUP]);
                record_coarse_operators(&self.mg, &mut d);
                record_vcycle(&self.mg, &mut d);
            }
            let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("osteoniche.implicit.vcycle"),
                size: 4 * (ns * n) as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            for s in 0..ns {
                let (src, dst) = (4 * s as u64 * batch.total, 4 * (s * n) as u64);
                enc.copy_buffer_to_buffer(&batch.mx, src, &staging, dst, 4 * n as u64);
            }
            ctx.submit(enc.finish());
            out.extend_from_slice(bytemuck::cast_slice(&map_read(ctx, &staging)?));
            slot0 += ns;
        }
        Ok(out)
    }

    /// The implicit fields, in slot order.
    pub fn fields(&self) -> impl Iterator<Item = usize> + '_ {
        self.batches.iter().flat_map(|b| b.fields.iter().copied())
    }
}
