//! Kernel `reduce` (`shaders/reduce.wgsl`): per-field partial statistics, finished on the
//! host in a fixed order.

use bytemuck::{Pod, Zeroable};

use super::kernel::{Slot, bind, layout, pipelines};
use super::layout::FieldLayout;
use crate::cpu::reduce::REDUCE_BLOCK;
use crate::error::Result;
use crate::model::SpeciesList;
use crate::sim::FieldStats;

/// One workgroup's result. Keep in sync with `Partial` in `shaders/reduce.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Partial {
    sum: f32,
    min: f32,
    max: f32,
    nonfinite: u32,
    negative: u32,
    _pad: [u32; 3],
}
const _: () = assert!(std::mem::size_of::<Partial>() == 32);

/// The reduction pipeline, its output and one bind group per chunk.
pub struct Reduce {
    pipeline: wgpu::ComputePipeline,
    groups: Vec<wgpu::BindGroup>,
    chunk_fields: Vec<u32>,
    /// Partials of every field, `field * blocks + block`.
    pub partials: wgpu::Buffer,
    blocks: u32,
    fields: usize,
}

impl Reduce {
    /// Builds the pipeline and the partials buffer.
    pub fn new(
        device: &wgpu::Device,
        fl: &FieldLayout,
        species: &SpeciesList,
        step_uniforms: &[wgpu::Buffer],
        chunks: &[wgpu::Buffer],
    ) -> Result<Self> {
        let bgl = layout(
            device,
            "osteoniche.reduce",
            &[Slot::Uniform, Slot::Read, Slot::ReadWrite],
        );
        let source = fl.shader_source("reduce", species)?;
        let pipeline = pipelines(device, "reduce", &source, &bgl, &["reduce"])?.remove(0);
        let blocks = (fl.grid.len() as u32).div_ceil(REDUCE_BLOCK as u32);
        let partials = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.reduce.partials"),
            size: (std::mem::size_of::<Partial>() * blocks as usize * fl.fields) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let groups = chunks
            .iter()
            .zip(step_uniforms)
            .map(|(chunk, u)| bind(device, "osteoniche.reduce", &bgl, &[u, chunk, &partials]))
            .collect();
        Ok(Reduce {
            pipeline,
            groups,
            chunk_fields: (0..fl.chunks())
                .map(|c| fl.chunk_fields(c) as u32)
                .collect(),
            partials,
            blocks,
            fields: fl.fields,
        })
    }

    /// Encodes the reduction of every chunk.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        let (x, z) = if self.blocks <= 65535 {
            (self.blocks, 1)
        } else {
            (65535, self.blocks.div_ceil(65535))
        };
        for (group, &fields) in self.groups.iter().zip(&self.chunk_fields) {
            pass.set_bind_group(0, group, &[]);
            pass.dispatch_workgroups(x, fields, z);
        }
    }

    /// Finishes the statistics from the partials read back.
    pub fn finish(&self, partials: &[Partial]) -> Vec<FieldStats> {
        (0..self.fields)
            .map(|f| {
                partials[f * self.blocks as usize..(f + 1) * self.blocks as usize]
                    .iter()
                    .fold(FieldStats::empty(), |acc, p| {
                        let has = p.min <= p.max;
                        acc.merge(&FieldStats {
                            sum: p.sum as f64,
                            min: if has { p.min as f64 } else { f64::INFINITY },
                            max: if has { p.max as f64 } else { f64::NEG_INFINITY },
                            nonfinite: p.nonfinite as u64,
                            negative: p.negative as u64,
                        })
                    })
            })
            .collect()
    }
}
