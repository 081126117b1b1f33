//! The lattice view: bone as a lit surface, a field as a volume and on slice planes, drawn
//! by ray marching (`shaders/view.wgsl`) into any colour target. No windowing or UI
//! types: the viewer shell, and an offscreen test, drive it the same way.

use bytemuck::{Pod, Zeroable};

use super::camera::{Frame, V3, along, hit_box};
use super::colormap::{Colormap, Transfer};

/// What to draw and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewSettings {
    /// Colour map of the field.
    pub colormap: Colormap,
    /// Volume opacity scale, 0..1.
    pub opacity: f32,
    /// Transfer exponent: opacity grows as value^gamma (>1 hides low values).
    pub gamma: f32,
    /// Draw the field as a volume in the marrow.
    pub volume: bool,
    /// Draw the bone surface.
    pub surface: bool,
    /// Slice planes: enabled, and position as a fraction of the box along x, y, z.
    pub slices: [(bool, f32); 3],
    /// Background, linear RGB.
    pub background: [f32; 3],
    /// Fraction of the window's resolution the view is ray-marched at (1: full; software
    /// adapters draw faster at 0.5 and the view is scaled up).
    pub render_scale: f32,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            colormap: Colormap::Viridis,
            opacity: 0.35,
            gamma: 1.5,
            volume: true,
            surface: true,
            slices: [(false, 0.5), (false, 0.5), (true, 0.5)],
            background: [0.012, 0.014, 0.02],
            render_scale: 1.0,
        }
    }
}

/// Bone colour (ivory), linear RGB.
const BONE: [f32; 3] = [0.85, 0.78, 0.62];

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Uniform {
    eye: [f32; 3],
    tan_half: f32,
    forward: [f32; 3],
    aspect: f32,
    right: [f32; 3],
    opacity: f32,
    up: [f32; 3],
    gamma: f32,
    extent: [f32; 3],
    steps: f32,
    slices: [f32; 3],
    flags: u32,
    viewport: [f32; 4],
    bone_color: [f32; 4],
    background: [f32; 4],
    cmap: [[f32; 4]; 9],
}

/// GPU resources of the lattice view.
pub struct VolumeRenderer {
    pipeline: wgpu::RenderPipeline,
    uniform: wgpu::Buffer,
    field: wgpu::Texture,
    bone: wgpu::Texture,
    group: wgpu::BindGroup,
    dims: [u32; 3],
    /// The target stores what it is given (not an sRGB format): encode in the shader.
    encode_srgb: bool,
}

/// The lattice view's shader source.
pub const VIEW_WGSL: &str = concat!(
    include_str!("../../shaders/shared/fullscreen.wgsl"),
    include_str!("../../shaders/view.wgsl")
);

/// The scaler's shader source.
pub const BLIT_WGSL: &str = concat!(
    include_str!("../../shaders/shared/fullscreen.wgsl"),
    include_str!("../../shaders/blit.wgsl")
);

/// A bilinear, clamped sampler.
fn linear_sampler(device: &wgpu::Device) -> wgpu::Sampler {
    device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some("osteoniche.linear"),
        mag_filter: wgpu::FilterMode::Linear,
        min_filter: wgpu::FilterMode::Linear,
        ..Default::default()
    })
}

/// A pipeline drawing one full-screen triangle (`vs_main` of shaders/shared/fullscreen.wgsl)
/// with the shader's `fs_main` into targets of `format`.
fn fullscreen_pipeline(
    device: &wgpu::Device,
    shader: &wgpu::ShaderModule,
    layout: &wgpu::BindGroupLayout,
    format: wgpu::TextureFormat,
    label: &str,
) -> wgpu::RenderPipeline {
    let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(&pl),
        vertex: wgpu::VertexState {
            module: shader,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        fragment: Some(wgpu::FragmentState {
            module: shader,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(format.into())],
        }),
        primitive: Default::default(),
        depth_stencil: None,
        multisample: Default::default(),
        multiview_mask: None,
        cache: None,
    })
}

/// Box extent of a grid: its edges over the longest.
pub fn extent(dims: [usize; 3]) -> V3 {
    let m = *dims.iter().max().expect("three axes") as f32;
    dims.map(|d| d as f32 / m)
}

impl VolumeRenderer {
    /// A renderer for fields of shape `dims` drawing into targets of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat, dims: [usize; 3]) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("osteoniche.view"),
            source: wgpu::ShaderSource::Wgsl(VIEW_WGSL.into()),
        });
        let tex = |label| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width: dims[0] as u32,
                    height: dims[1] as u32,
                    depth_or_array_layers: dims[2] as u32,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D3,
                format: wgpu::TextureFormat::R8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        };
        let field = tex("osteoniche.view.field");
        let bone = tex("osteoniche.view.bone");
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.view.uniform"),
            size: std::mem::size_of::<Uniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sampler = linear_sampler(device);
        let texture_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D3,
                multisampled: false,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("osteoniche.view"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                texture_entry(1),
                texture_entry(2),
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let view = |t: &wgpu::Texture| t.create_view(&Default::default());
        let (fv, bv) = (view(&field), view(&bone));
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("osteoniche.view"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&fv),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&bv),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::Sampler(&sampler),
                },
            ],
        });
        let pipeline = fullscreen_pipeline(device, &shader, &layout, format, "osteoniche.view");
        VolumeRenderer {
            pipeline,
            uniform,
            field,
            bone,
            group,
            dims: dims.map(|d| d as u32),
            encode_srgb: !format.is_srgb(),
        }
    }

    fn write(&self, queue: &wgpu::Queue, texture: &wgpu::Texture, data: &[u8]) {
        let [w, h, d] = self.dims;
        queue.write_texture(
            texture.as_image_copy(),
            data,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(w),
                rows_per_image: Some(h),
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: d,
            },
        );
    }

    /// Uploads the drawn field, mapped to 0..1 by `transfer`.
    pub fn set_field(&self, queue: &wgpu::Queue, data: &[f32], transfer: &Transfer) {
        let bytes: Vec<u8> = data
            .iter()
            .map(|&v| (transfer.apply(v) * 255.0).round() as u8)
            .collect();
        self.write(queue, &self.field, &bytes);
    }

    /// Uploads the bone volume fraction.
    pub fn set_bone(&self, queue: &wgpu::Queue, bone: &[f32]) {
        let bytes: Vec<u8> = bone
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        self.write(queue, &self.bone, &bytes);
    }

    /// Records the draw of the view into `pass`, filling `viewport` (x, y, w, h in target
    /// pixels) and the background elsewhere.
    pub fn draw(
        &self,
        queue: &wgpu::Queue,
        pass: &mut wgpu::RenderPass<'_>,
        frame: &Frame,
        settings: &ViewSettings,
        viewport: [f32; 4],
    ) {
        let mut flags = 0u32;
        if settings.volume {
            flags |= 1;
        }
        if settings.surface {
            flags |= 2;
        }
        if self.encode_srgb {
            flags |= 32;
        }
        for (a, (on, _)) in settings.slices.iter().enumerate() {
            if *on {
                flags |= 4 << a;
            }
        }
        let dims = self.dims.map(|d| d as usize);
        let u = Uniform {
            eye: frame.eye,
            tan_half: frame.tan_half,
            forward: frame.forward,
            aspect: viewport[2] / viewport[3].max(1.0),
            right: frame.right,
            opacity: settings.opacity,
            up: frame.up,
            gamma: settings.gamma,
            extent: extent(dims),
            steps: (2.0 * *dims.iter().max().expect("axes") as f32).max(64.0),
            slices: settings.slices.map(|(_, p)| p),
            flags,
            viewport,
            bone_color: [BONE[0], BONE[1], BONE[2], 1.0],
            background: [
                settings.background[0],
                settings.background[1],
                settings.background[2],
                1.0,
            ],
            cmap: settings.colormap.linear_samples(),
        };
        queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&u));
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// The view ray-marched offscreen at a fraction of the window's resolution, then scaled
/// into its rectangle (`shaders/blit.wgsl`).
pub struct ScaledView {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniform: wgpu::Buffer,
    sampler: wgpu::Sampler,
    format: wgpu::TextureFormat,
    target: Option<(wgpu::TextureView, wgpu::BindGroup, [u32; 2])>,
}

impl ScaledView {
    /// A scaler drawing into targets of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("osteoniche.blit"),
            source: wgpu::ShaderSource::Wgsl(BLIT_WGSL.into()),
        });
        let entry = |binding, ty| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty,
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("osteoniche.blit"),
            entries: &[
                entry(
                    0,
                    wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                ),
                entry(
                    1,
                    wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                ),
                entry(
                    2,
                    wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                ),
            ],
        });
        let pipeline = fullscreen_pipeline(device, &shader, &layout, format, "osteoniche.blit");
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.blit"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sampler = linear_sampler(device);
        ScaledView {
            pipeline,
            layout,
            uniform,
            sampler,
            format,
            target: None,
        }
    }

    /// Ray-marches the view into the offscreen image (its own pass in `enc`), at
    /// `scale` times the size of `viewport`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the draw's inputs, each used once"
    )]
    pub fn render(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        enc: &mut wgpu::CommandEncoder,
        volume: &VolumeRenderer,
        frame: &Frame,
        settings: &ViewSettings,
        viewport: [f32; 4],
        scale: f32,
    ) {
        let size = [
            ((viewport[2] * scale).round() as u32).max(1),
            ((viewport[3] * scale).round() as u32).max(1),
        ];
        if self.target.as_ref().is_none_or(|t| t.2 != size) {
            let texture = device.create_texture(&wgpu::TextureDescriptor {
                label: Some("osteoniche.view.scaled"),
                size: wgpu::Extent3d {
                    width: size[0],
                    height: size[1],
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: self.format,
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                    | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            });
            let view = texture.create_view(&Default::default());
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("osteoniche.blit"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: self.uniform.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(&view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::Sampler(&self.sampler),
                    },
                ],
            });
            self.target = Some((view, group, size));
        }
        let (view, ..) = self.target.as_ref().expect("just made");
        let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("osteoniche.view.scaled"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        let local = [0.0, 0.0, size[0] as f32, size[1] as f32];
        volume.draw(queue, &mut pass, frame, settings, local);
    }

    /// Draws the offscreen image into `viewport` of the pass's target.
    pub fn composite(
        &self,
        queue: &wgpu::Queue,
        pass: &mut wgpu::RenderPass<'_>,
        viewport: [f32; 4],
    ) {
        let Some((_, group, _)) = &self.target else {
            return;
        };
        queue.write_buffer(&self.uniform, 0, bytemuck::cast_slice(&viewport));
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, group, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// Where a ray through the view first meets what is drawn there: the bone surface (the
/// 0.5 level of `bone`, nearest-voxel samples) or a shown slice plane. Returns the point
/// in voxel units (`[0, n]` per axis). The CPU mirror of the shader's march, for placing
/// local injections by clicking.
pub fn pick(
    frame: &Frame,
    ndc: [f32; 2],
    aspect: f32,
    bone: &[f32],
    dims: [usize; 3],
    settings: &ViewSettings,
) -> Option<V3> {
    let e = extent(dims);
    let d = frame.ray(ndc, aspect);
    let (t0, t1) = hit_box(frame.eye, d, e)?;
    let mut t_slice = t1;
    for (a, (on, pos)) in settings.slices.iter().enumerate() {
        if *on {
            let t = (pos * e[a] - frame.eye[a]) / d[a];
            if t > t0 && t < t_slice {
                t_slice = t;
            }
        }
    }
    let nmax = *dims.iter().max().expect("axes") as f32;
    let voxel = |p: V3| p.map(|c| c * nmax);
    let dt = 0.25 / nmax;
    let mut t = t0;
    while t < t_slice {
        let v = voxel(along(frame.eye, d, t));
        let idx = v.map(|c| c.floor().max(0.0) as usize);
        if settings.surface && idx.iter().zip(dims).all(|(i, n)| *i < n) {
            let b = bone[idx[0] + dims[0] * (idx[1] + dims[1] * idx[2])];
            if b >= 0.5 {
                return Some(v);
            }
        }
        t += dt;
    }
    (t_slice < t1).then(|| voxel(along(frame.eye, d, t_slice)))
}

/// Reads an RGBA8 texture (`COPY_SRC`) back as tightly packed rows; BGRA is swapped to
/// RGBA.
pub fn read_rgba(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
) -> crate::Result<Vec<u8>> {
    let fail = |what: String| crate::Error::Gpu(format!("reading the image back failed: {what}"));
    let (w, h) = (texture.width(), texture.height());
    let row =
        (4 * w).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("osteoniche.screenshot"),
        size: (row * h) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    enc.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(row),
                rows_per_image: Some(h),
            },
        },
        texture.size(),
    );
    queue.submit([enc.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| fail(e.to_string()))?;
    rx.recv()
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::with_capacity((4 * w * h) as usize);
    {
        let view = buffer
            .get_mapped_range(..)
            .map_err(|e| fail(e.to_string()))?;
        for y in 0..h {
            let start = (y * row) as usize;
            out.extend_from_slice(&view[start..start + 4 * w as usize]);
        }
    }
    buffer.unmap();
    let bgra = matches!(
        texture.format(),
        wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
    );
    if bgra {
        out.chunks_exact_mut(4).for_each(|p| p.swap(0, 2));
    }
    Ok(out)
}
