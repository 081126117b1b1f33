//! Kernel `motility` (`shaders/motility.wgsl`): chemotaxis sub-steps, each a dispatch into
//! a scratch field and a copy back into the cell field.

use wgpu::util::DeviceExt;

use super::kernel::{bind, layout, pipelines, split_groups};
use super::layout::FieldLayout;
use crate::error::Result;
use crate::kernels::Kernel;
use crate::model::SpeciesList;
use crate::sim::params::Chemotaxis;

/// Invocations per workgroup (the shader's `WG`, from the kernel table).
const WG: u32 = Kernel::Motility.spec().workgroup;

/// The chemotaxis pairs of a run, each with its bind group.
pub struct Motility {
    pipeline: wgpu::ComputePipeline,
    pairs: Vec<(Chemotaxis, wgpu::BindGroup)>,
    scratch: wgpu::Buffer,
    groups: (u32, u32),
}

impl Motility {
    /// Builds the kernel and one bind group per pair.
    pub fn new(
        device: &wgpu::Device,
        fl: &FieldLayout,
        species: &SpeciesList,
        step_uniform: &wgpu::Buffer,
        pairs: &[Chemotaxis],
        chunks: &[wgpu::Buffer],
    ) -> Result<Self> {
        let kernel = Kernel::Motility;
        let source = fl.shader_source(kernel, species)?;
        let slots = super::bindings::slots(kernel, &source, chunks.len())?;
        let bgl = layout(device, &kernel.label(), &slots);
        let pipeline = pipelines(device, kernel, &source, &bgl, &[kernel.name()])?.remove(0);
        let scratch = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.motility.scratch"),
            size: 4 * fl.grid.len() as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let pairs = pairs
            .iter()
            .map(|pair| {
                let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("osteoniche.motility.pair"),
                    contents: bytemuck::bytes_of(pair),
                    usage: wgpu::BufferUsages::UNIFORM,
                });
                let mut buffers = vec![step_uniform, &uniform, &scratch];
                buffers.extend(chunks.iter());
                (*pair, bind(device, &kernel.label(), &bgl, &buffers))
            })
            .collect();
        Ok(Motility {
            pipeline,
            pairs,
            scratch,
            groups: split_groups((fl.grid.len() as u32).div_ceil(WG)),
        })
    }

    /// Encodes every sub-step of every pair; `target(f)` gives the chunk buffer and byte
    /// offset of field `f`.
    pub fn encode<'a>(
        &self,
        enc: &mut wgpu::CommandEncoder,
        target: impl Fn(usize) -> (&'a wgpu::Buffer, u64),
    ) -> u64 {
        let mut dispatches = 0;
        for (pair, group) in &self.pairs {
            let (buffer, offset) = target(pair.cell as usize);
            for _ in 0..pair.substeps {
                {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some(Kernel::Motility.name()),
                        timestamp_writes: None,
                    });
                    pass.set_pipeline(&self.pipeline);
                    pass.set_bind_group(0, group, &[]);
                    pass.dispatch_workgroups(self.groups.0, self.groups.1, 1);
                }
                dispatches += 1;
                enc.copy_buffer_to_buffer(&self.scratch, 0, buffer, offset, self.scratch.size());
            }
        }
        dispatches
    }
}
