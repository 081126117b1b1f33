//! Kernel `implicit` (`shaders/implicit.wgsl`): backward Euler on the whole 3-D operator of
//! a field, by Jacobi-preconditioned conjugate gradients. The host adds the workgroup
//! partial sums in order (in f64) and sets alpha and beta between dispatches, exactly as
//! the CPU mirror does.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::kernel::{Slot, bind, layout, pipelines, split_groups};
use super::layout::FieldLayout;
use super::{GpuContext, compute_pass, map_read};
use crate::cpu::implicit::MAX_ITERATIONS;
use crate::error::{Error, Result};
use crate::sim::params::SourceRegion;
use crate::sim::setup::Setup;

/// Invocations per workgroup (keep in sync with `WG` in the shader).
const WG: u32 = 256;

/// Per-solve parameters. Keep in sync with `Implicit` in `shaders/implicit.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    field: u32,
    groups_x: u32,
    slot: u32,
    _pad: u32,
    decay: f32,
    alpha: f32,
    beta: f32,
    d_dx2: f32,
}
const _: () = assert!(std::mem::size_of::<Params>() == 32);

/// Pipelines, work buffers and the bind group of the implicit solver.
pub struct Implicit {
    stages: Vec<wgpu::ComputePipeline>,
    group: wgpu::BindGroup,
    params: wgpu::Buffer,
    partials: wgpu::Buffer,
    readback: wgpu::Buffer,
    groups: (u32, u32),
    n_groups: usize,
}

const SETUP: usize = 0;
const RESIDUAL: usize = 1;
const MATVEC: usize = 2;
const UPDATE: usize = 3;
const DIRECTION: usize = 4;
const FINISH: usize = 5;

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
            return Err(Error::Resources(format!(
                "the implicit solver needs {} storage buffers per kernel; this adapter allows {}: use solver = \"split\" or --backend cpu",
                fl.implicit_storage_buffers(),
                ctx.limits.max_storage_buffers_per_shader_stage
            )));
        }
        let n = setup.grid.len() as u64;
        let n_groups = (n as u32).div_ceil(WG);
        let groups = split_groups(n_groups);
        let mut slots = vec![
            Slot::Uniform,
            Slot::Uniform,
            Slot::Read,
            Slot::Read,
            Slot::Read,
        ];
        slots.extend([Slot::ReadWrite; 8]);
        slots.push(Slot::Read);
        slots.extend(chunks.iter().map(|_| Slot::ReadWrite));
        let bgl = layout(device, "osteoniche.implicit", &slots);
        let source = fl.shader_source("implicit", &setup.species)?;
        let stages = pipelines(
            device,
            "implicit",
            &source,
            &bgl,
            &[
                "setup",
                "residual",
                "matvec",
                "update",
                "direction",
                "finish",
            ],
        )?;
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.implicit.params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
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
        let work = |name: &str| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(&format!("osteoniche.implicit.{name}")),
                size: 4 * n,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        };
        let (lam, rhs, x, r, p, q) = (
            work("lam"),
            work("rhs"),
            work("x"),
            work("r"),
            work("p"),
            work("q"),
        );
        let diag = work("diag");
        let partial_bytes = 16 * (groups.0 as u64 * groups.1 as u64);
        let partials = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.implicit.partials"),
            size: partial_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.implicit.readback"),
            size: partial_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut buffers = vec![step_uniform, &params, transport_params, &regions, bone];
        buffers.extend([&lam, &rhs, &x, &r, &p, &q, &partials, &diag, reaction]);
        buffers.extend(chunks.iter());
        let group = bind(device, "osteoniche.implicit", &bgl, &buffers);
        Ok(Implicit {
            stages,
            group,
            params,
            partials,
            readback,
            groups,
            n_groups: n_groups as usize,
        })
    }

    /// Runs `stages` in one submission; with `sum`, returns the partials added in order.
    fn run(&self, ctx: &GpuContext, stages: &[usize], sum: bool) -> Result<[f64; 4]> {
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = compute_pass(&mut enc, "implicit");
            pass.set_bind_group(0, &self.group, &[]);
            for &s in stages {
                pass.set_pipeline(&self.stages[s]);
                pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
            }
        }
        if sum {
            enc.copy_buffer_to_buffer(&self.partials, 0, &self.readback, 0, self.partials.size());
        }
        ctx.check_fault()?;
        ctx.queue.submit([enc.finish()]);
        if !sum {
            return Ok([0.0; 4]);
        }
        let bytes = map_read(&ctx.device, &self.readback)?;
        ctx.check_fault()?;
        let parts: &[[f32; 4]] = bytemuck::cast_slice(&bytes);
        let mut total = [0f64; 4];
        for part in &parts[..self.n_groups] {
            for (t, &v) in total.iter_mut().zip(part) {
                *t += v as f64;
            }
        }
        Ok(total)
    }

    /// Advances field `field` by one implicit step; returns the iterations used. `slot` is
    /// 1 + the field's slot in the react step's rate buffer, or 0 for none.
    pub fn solve(
        &self,
        ctx: &GpuContext,
        field: usize,
        slot: u32,
        decay: f32,
        d_dx2: f32,
        tolerance: f64,
    ) -> Result<usize> {
        let mut params = Params {
            field: field as u32,
            groups_x: self.groups.0,
            slot,
            _pad: 0,
            decay,
            alpha: 0.0,
            beta: 0.0,
            d_dx2,
        };
        ctx.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        let [mut rz, mut rr, bb, _] = self.run(ctx, &[SETUP, RESIDUAL], true)?;
        let bnorm = bb.sqrt().max(1e-30);
        let mut it = 0;
        // q = M p; after the first iteration the new direction goes in the same submission.
        let mut to_q: &[usize] = &[MATVEC];
        while rr.sqrt() > tolerance * bnorm {
            if it == MAX_ITERATIONS {
                return Err(Error::Invalid(format!(
                    "implicit solve of field {field} did not converge in {MAX_ITERATIONS} iterations (relative residual {:.2e})",
                    rr.sqrt() / bnorm
                )));
            }
            let [pq, ..] = self.run(ctx, to_q, true)?;
            params.alpha = (rz / pq) as f32;
            ctx.queue
                .write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
            let [rz_new, rr_new, ..] = self.run(ctx, &[UPDATE], true)?;
            rr = rr_new;
            params.beta = (rz_new / rz) as f32;
            rz = rz_new;
            ctx.queue
                .write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
            to_q = &[DIRECTION, MATVEC];
            it += 1;
        }
        self.run(ctx, &[FINISH], false)?;
        Ok(it)
    }
}
