//! Kernel `transport` (`shaders/transport.wgsl`): the per-axis implicit sweeps.

use super::kernel::{bind, layout, pipelines};
use super::layout::FieldLayout;
use crate::error::Result;
use crate::kernels::Kernel;
use crate::model::SpeciesList;

/// Invocations per workgroup (the shader's `WG`, from the kernel table).
const WG: u32 = Kernel::Transport.spec().workgroup;

/// Pipelines of the three sweeps (and their variants as a step's last, which apply the
/// fields' folded decay) and one bind group per field chunk.
pub struct Transport {
    sweeps: Vec<wgpu::ComputePipeline>,
    groups: Vec<wgpu::BindGroup>,
    chunk_fields: Vec<u32>,
    dims: [u32; 3],
    /// x lines per workgroup of the tiled x sweep, 0 when the plain one runs.
    x_tile: u32,
}

impl Transport {
    /// Builds the pipelines; `step_uniforms[c]` is chunk `c`'s uniform; `tiled_x`: the x
    /// sweep goes through workgroup memory where the grid allows.
    #[allow(clippy::too_many_arguments, reason = "the buffers the kernel binds")]
    pub fn new(
        device: &wgpu::Device,
        tiled_x: bool,
        fl: &FieldLayout,
        species: &SpeciesList,
        step_uniforms: &[wgpu::Buffer],
        params: &wgpu::Buffer,
        bone: &wgpu::Buffer,
        chunks: &[wgpu::Buffer],
    ) -> Result<Self> {
        let source = fl.shader_source(Kernel::Transport, species)?;
        let slots = super::bindings::slots(Kernel::Transport, &source, chunks.len())?;
        let bgl = layout(device, &Kernel::Transport.label(), &slots);
        let sweeps = pipelines(
            device,
            Kernel::Transport,
            &source,
            &bgl,
            &[
                "sweep_x",
                "sweep_y",
                "sweep_z",
                "sweep_x_last",
                "sweep_y_last",
                "sweep_z_last",
                "sweep_x_tiled",
                "sweep_x_tiled_last",
            ],
        )?;
        let groups = chunks
            .iter()
            .zip(step_uniforms)
            .map(|(chunk, u)| {
                bind(
                    device,
                    "osteoniche.transport",
                    &bgl,
                    &[u, params, bone, chunk],
                )
            })
            .collect();
        let g = fl.grid;
        // The tiled x sweep needs at least two lines per tile, and its workgroup count
        // (lines / tile) within one dispatch dimension.
        let tile = super::layout::x_tile_lines(g.nx);
        let max_groups = device.limits().max_compute_workgroups_per_dimension as usize;
        let x_tile = if tiled_x && tile >= 2 && (g.ny * g.nz).div_ceil(tile) <= max_groups {
            tile as u32
        } else {
            0
        };
        Ok(Transport {
            x_tile,
            sweeps,
            groups,
            chunk_fields: (0..fl.chunks())
                .map(|c| fl.chunk_fields(c) as u32)
                .collect(),
            dims: [g.nx as u32, g.ny as u32, g.nz as u32],
        })
    }

    /// x lines per workgroup of the tiled x sweep, 0 when the plain one runs.
    pub fn x_tile(&self) -> u32 {
        self.x_tile
    }

    /// Encodes the sweep along `axis` for every chunk; `last`: the step's last sweep.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, axis: usize, last: bool) -> u64 {
        let [nx, ny, nz] = self.dims;
        let lines = match axis {
            0 => ny * nz,
            1 => nx * nz,
            _ => nx * ny,
        };
        let (pipeline, groups) = if axis == 0 && self.x_tile > 0 {
            (6 + usize::from(last), lines.div_ceil(self.x_tile))
        } else {
            (axis + 3 * usize::from(last), lines.div_ceil(WG))
        };
        pass.set_pipeline(&self.sweeps[pipeline]);
        for (group, &fields) in self.groups.iter().zip(&self.chunk_fields) {
            pass.set_bind_group(0, group, &[]);
            pass.dispatch_workgroups(groups, fields, 1);
        }
        self.groups.len() as u64
    }
}
