//! Kernels `sources`, `react` and `surface` (`shaders/<name>.wgsl`): per-voxel kernels that
//! bind a step uniform, read-only parameter arrays and every field chunk. They share this
//! one struct; each keeps its name.

use super::kernel::{bind, layout, pipelines, split_groups};
use super::layout::FieldLayout;
use crate::error::{Error, Result};
use crate::kernels::KernelSpec;
use crate::model::SpeciesList;

/// One per-voxel kernel with its bind group.
pub struct Voxelwise {
    pipeline: wgpu::ComputePipeline,
    group: wgpu::BindGroup,
    groups: (u32, u32),
}

impl Voxelwise {
    /// Builds `kernel` (its entry point of the same name) with its parameter arrays
    /// `params` (bindings 1.., in the order of its record's `host`; whether each is read or
    /// written comes from the shader).
    pub fn new(
        device: &wgpu::Device,
        kernel: impl AsRef<KernelSpec>,
        fl: &FieldLayout,
        species: &SpeciesList,
        step_uniform: &wgpu::Buffer,
        params: &[&wgpu::Buffer],
        chunks: &[wgpu::Buffer],
    ) -> Result<Self> {
        let kernel = kernel.as_ref();
        let first = super::bindings::first_chunk(kernel);
        if first != Some(1 + params.len() as u32) {
            return Err(Error::Gpu(format!(
                "kernel `{}` binds its chunks at {first:?}, not after {} parameter arrays",
                kernel.name,
                params.len()
            )));
        }
        let source = fl.shader_source(kernel, species)?;
        let slots = super::bindings::slots(kernel, &source, chunks.len())?;
        let label = kernel.label();
        let bgl = layout(device, &label, &slots);
        let pipeline = pipelines(device, kernel, &source, &bgl, &[kernel.name])?.remove(0);
        let mut buffers = vec![step_uniform];
        buffers.extend(params.iter().copied());
        buffers.extend(chunks.iter());
        let group = bind(device, &label, &bgl, &buffers);
        Ok(Voxelwise {
            pipeline,
            group,
            groups: split_groups((fl.grid.len() as u32).div_ceil(kernel.workgroup)),
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
