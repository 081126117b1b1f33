//! Kernel `reduce` (`shaders/reduce.wgsl`): per-field partial statistics, finished on the
//! host in a fixed order.

use crate::wgsl::{Members, wgsl_members};
use bytemuck::{Pod, Zeroable};

use wgpu::util::DeviceExt;

use super::kernel::{bind, layout, pipelines};
use super::layout::FieldLayout;
use crate::error::Result;
use crate::kernels::Kernel;
use crate::model::SpeciesList;
use crate::numerics::REDUCE_BLOCK;
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

impl Partial {
    /// Each member of `Partial` (`shaders/reduce.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(Partial {
        "sum" => sum, "min_value" => min, "max_value" => max, "nonfinite" => nonfinite,
        "negative" => negative, "_pad0" => _pad, "_pad1" => _pad + 4, "_pad2" => _pad + 8,
    });
}

/// The bind groups and staging buffer that reduce one set of fields.
struct FieldSet {
    fields: Vec<usize>,
    /// Per chunk holding some of them: its bind group and how many.
    groups: Vec<(wgpu::BindGroup, u32)>,
    /// The partials of the set's fields, one after another.
    staging: wgpu::Buffer,
}

/// The reduction pipeline, its output and one bind group per chunk.
pub struct Reduce {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    device: wgpu::Device,
    step_uniforms: Vec<wgpu::Buffer>,
    chunks: Vec<wgpu::Buffer>,
    fields_per_chunk: usize,
    /// Every field.
    all: FieldSet,
    /// Sets asked for by [`Reduce::encode_fields`], built once each.
    sets: std::cell::RefCell<Vec<FieldSet>>,
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
        let kernel = Kernel::Reduce;
        let source = fl.shader_source(kernel, species)?;
        let slots = super::bindings::slots(kernel, &source, chunks.len())?;
        let bgl = layout(device, &kernel.label(), &slots);
        let pipeline = pipelines(device, kernel, &source, &bgl, &[kernel.name()])?.remove(0);
        let blocks = (fl.grid.len() as u32).div_ceil(REDUCE_BLOCK as u32);
        let partials = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.reduce.partials"),
            size: (std::mem::size_of::<Partial>() * blocks as usize * fl.fields) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut out = Reduce {
            pipeline,
            layout: bgl,
            device: device.clone(),
            step_uniforms: step_uniforms.to_vec(),
            chunks: chunks.to_vec(),
            fields_per_chunk: fl.fields_per_chunk,
            all: FieldSet {
                fields: Vec::new(),
                groups: Vec::new(),
                staging: partials.clone(),
            },
            sets: Default::default(),
            partials,
            blocks,
            fields: fl.fields,
        };
        out.all = out.field_set(&(0..fl.fields).collect::<Vec<_>>());
        Ok(out)
    }

    /// Bind groups and a staging buffer for reducing `fields`.
    fn field_set(&self, fields: &[usize]) -> FieldSet {
        let fpc = self.fields_per_chunk;
        let groups = (0..self.chunks.len())
            .filter_map(|c| {
                let local: Vec<u32> = fields
                    .iter()
                    .filter(|&&f| f / fpc == c)
                    .map(|&f| (f % fpc) as u32)
                    .collect();
                if local.is_empty() {
                    return None;
                }
                let list = self
                    .device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("osteoniche.reduce.list"),
                        contents: bytemuck::cast_slice(&local),
                        usage: wgpu::BufferUsages::STORAGE,
                    });
                let group = bind(
                    &self.device,
                    "osteoniche.reduce",
                    &self.layout,
                    &[
                        &self.step_uniforms[c],
                        &self.chunks[c],
                        &self.partials,
                        &list,
                    ],
                );
                Some((group, local.len() as u32))
            })
            .collect();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.reduce.staging"),
            size: (self.field_bytes() * fields.len().max(1) as u64),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        FieldSet {
            fields: fields.to_vec(),
            groups,
            staging,
        }
    }

    /// Bytes of one field's partials.
    fn field_bytes(&self) -> u64 {
        (std::mem::size_of::<Partial>() * self.blocks as usize) as u64
    }

    fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, set: &FieldSet) -> u64 {
        pass.set_pipeline(&self.pipeline);
        let (x, z) = super::kernel::split_groups(self.blocks);
        for (group, count) in &set.groups {
            pass.set_bind_group(0, group, &[]);
            pass.dispatch_workgroups(x, *count, z);
        }
        set.groups.len() as u64
    }

    /// Encodes the reduction of every chunk; returns the dispatches.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) -> u64 {
        self.dispatch(pass, &self.all)
    }

    /// Encodes the reduction of `fields` alone; returns the dispatches.
    pub fn encode_fields(&self, pass: &mut wgpu::ComputePass<'_>, fields: &[usize]) -> u64 {
        let mut sets = self.sets.borrow_mut();
        if !sets.iter().any(|s| s.fields == fields) {
            let set = self.field_set(fields);
            sets.push(set);
        }
        let set = sets.iter().find(|s| s.fields == fields).expect("built");
        self.dispatch(pass, set)
    }

    /// Copies the partials of `fields` (reduced by [`Reduce::encode_fields`]) into their
    /// staging buffer, one field after another, and returns that buffer.
    pub fn stage_fields(&self, enc: &mut wgpu::CommandEncoder, fields: &[usize]) -> wgpu::Buffer {
        let sets = self.sets.borrow();
        let set = sets
            .iter()
            .find(|s| s.fields == fields)
            .expect("encode_fields first");
        let bytes = self.field_bytes();
        for (i, &f) in fields.iter().enumerate() {
            enc.copy_buffer_to_buffer(
                &self.partials,
                f as u64 * bytes,
                &set.staging,
                i as u64 * bytes,
                bytes,
            );
        }
        set.staging.clone()
    }

    /// The sums of `fields` from what [`Reduce::stage_fields`] copied: each field's
    /// partials added in order in f64.
    pub fn sums(&self, staged: &[Partial], fields: &[usize]) -> Vec<f64> {
        let b = self.blocks as usize;
        (0..fields.len())
            .map(|i| {
                staged[i * b..(i + 1) * b]
                    .iter()
                    .map(|p| p.sum as f64)
                    .sum()
            })
            .collect()
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
