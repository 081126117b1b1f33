//! Kernels `sources`, `react` and `surface` (`shaders/<name>.wgsl`): per-voxel kernels that
//! bind a step uniform, read-only parameter arrays and every field chunk. They share this
//! one struct; each keeps its name.

use super::kernel::{bind, layout, pipelines, split_groups};
use super::layout::FieldLayout;
use crate::error::{Error, Result};
use crate::model::SpeciesList;

/// Invocations per workgroup (keep in sync with `@workgroup_size` in the shaders).
const WG: u32 = 64;

/// One per-voxel kernel with its bind group.
pub struct Voxelwise {
    pipeline: wgpu::ComputePipeline,
    group: wgpu::BindGroup,
    groups: (u32, u32),
}

impl Voxelwise {
    /// Builds kernel `name` with its parameter arrays `params` (bindings 1.., in the order
    /// of [`super::bindings::host`]; whether each is read or written comes from the shader).
    pub fn new(
        device: &wgpu::Device,
        name: &str,
        fl: &FieldLayout,
        species: &SpeciesList,
        step_uniform: &wgpu::Buffer,
        params: &[&wgpu::Buffer],
        chunks: &[wgpu::Buffer],
    ) -> Result<Self> {
        let first = super::bindings::first_chunk(name);
        if first != Some(1 + params.len() as u32) {
            return Err(Error::Gpu(format!(
                "kernel `{name}` binds its chunks at {first:?}, not after {} parameter arrays",
                params.len()
            )));
        }
        let source = fl.shader_source(name, species)?;
        let slots = super::bindings::slots(name, &source, chunks.len())?;
        let label = format!("osteoniche.{name}");
        let bgl = layout(device, &label, &slots);
        let pipeline = pipelines(device, name, &source, &bgl, &[name])?.remove(0);
        let mut buffers = vec![step_uniform];
        buffers.extend(params.iter().copied());
        buffers.extend(chunks.iter());
        let group = bind(device, &label, &bgl, &buffers);
        Ok(Voxelwise {
            pipeline,
            group,
            groups: split_groups((fl.grid.len() as u32).div_ceil(WG)),
        })
    }

    /// Encodes one pass over every voxel.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) -> u64 {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group, &[]);
        pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
        1
    }
}
