//! What every kernel struct shares: bind group layouts from the slots reflected from the
//! shader ([`super::bindings`]), bind groups, and pipeline creation with shader errors
//! turned into [`Error::Gpu`].

use crate::error::{Error, Result};
use crate::kernels::KernelSpec;

/// How a binding is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// A bind group layout with bindings `0..slots.len()` of the given kinds (as
/// [`super::bindings::slots`] reflects them from the kernel's shader).
pub fn layout(device: &wgpu::Device, label: &str, slots: &[Slot]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
        .iter()
        .enumerate()
        .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
            binding: i as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match slot {
                    Slot::Uniform => wgpu::BufferBindingType::Uniform,
                    Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Slot::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

/// A bind group binding `buffers` whole, in order.
pub fn bind(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: b.as_entire_binding(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

/// Compiles `source` and builds one pipeline per entry point, failing with the shader
/// compiler's message instead of panicking.
pub fn pipelines(
    device: &wgpu::Device,
    kernel: impl AsRef<KernelSpec>,
    source: &str,
    layout: &wgpu::BindGroupLayout,
    entries: &[&str],
) -> Result<Vec<wgpu::ComputePipeline>> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let kernel = kernel.as_ref();
    let label = kernel.label();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(&label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(&label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    let out = entries
        .iter()
        .map(|entry| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&format!("{label}.{entry}")),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        })
        .collect();
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(Error::Gpu(format!(
            "kernel `{}` failed to build: {e}",
            kernel.name
        )));
    }
    Ok(out)
}

/// Most workgroups along one dispatch dimension that every adapter allows (`MAX_GROUPS`
/// in WGSL).
pub const MAX_GROUPS: u32 = 65535;

/// Workgroup counts for `groups` workgroups of a 1-D kernel, split over x and y so neither
/// exceeds [`MAX_GROUPS`] (the shaders rebuild the index as `x + MAX_GROUPS * WG * y`).
pub fn split_groups(groups: u32) -> (u32, u32) {
    if groups <= MAX_GROUPS {
        (groups.max(1), 1)
    } else {
        (MAX_GROUPS, groups.div_ceil(MAX_GROUPS))
    }
}
