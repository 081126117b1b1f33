//! Plain-data parameters of one step, shared by both backends and uploaded as-is to the GPU.
//! Keep in sync with `shaders/shared/params.wgsl`: the sizes are asserted at compile time and
//! checked against naga's layout of the shaders (`gpu::bindings` tests).

use crate::wgsl::{Members, wgsl_members};
use bytemuck::{Pod, Zeroable};

/// Grid and step constants. Keep in sync with `Step` in `shaders/shared/params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct StepUniform {
    /// Voxels along x.
    pub nx: u32,
    /// Voxels along y.
    pub ny: u32,
    /// Voxels along z.
    pub nz: u32,
    /// Number of fields.
    pub nf: u32,
    /// Voxels in the grid.
    pub n_vox: u32,
    /// First field of the buffer chunk a transport dispatch works on.
    pub field_base: u32,
    /// Number of source regions.
    pub n_regions: u32,
    /// Fields held by the chunk (transport) or 0.
    pub chunk_fields: u32,
    /// Coupled step, min.
    pub dt: f32,
    /// dt / dx^2, min/µm^2.
    pub dt_over_dx2: f32,
    /// Implicitness of the per-axis transport solve (1 or 0.5).
    pub theta: f32,
    /// Voxel edge, µm.
    pub dx: f32,
}
const _: () = assert!(std::mem::size_of::<StepUniform>() == 48);

impl StepUniform {
    /// Each member of `Step` (`shaders/shared/params.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(StepUniform {
        "nx" => nx, "ny" => ny, "nz" => nz, "nf" => nf, "n_vox" => n_vox,
        "field_base" => field_base, "n_regions" => n_regions, "chunk_fields" => chunk_fields,
        "dt" => dt, "dt_over_dx2" => dt_over_dx2, "theta" => theta, "dx" => dx,
    });
}

/// Transport parameters of one field. Keep in sync with `FieldTransport` in
/// `shaders/shared/params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct FieldTransport {
    /// Diffusion coefficient in free marrow, µm^2/min.
    pub diffusion: f32,
    /// Share of it kept inside fully mineralised bone, 0..1.
    pub bone_permeability: f32,
    /// Bit `2*axis + side` set when that face holds a fixed value (side 0: min, 1: max).
    pub dirichlet_mask: u32,
    /// 1 when the transport step moves this field.
    pub mobile: u32,
    /// Fixed face values, in mask bit order.
    pub dirichlet: [f32; 6],
    /// Factor the last transport sweep of a step multiplies the field by: its linear decay
    /// over one step, `exp(-decay dt)`, when that is the field's only reaction (the react
    /// step then skips it, see `Setup`), else 1.
    pub retain: f32,
    /// Padding.
    pub _pad: f32,
}
const _: () = assert!(std::mem::size_of::<FieldTransport>() == 48);

impl FieldTransport {
    /// Each member of `FieldTransport` (`shaders/shared/params.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(FieldTransport {
        "diffusion" => diffusion, "bone_permeability" => bone_permeability,
        "dirichlet_mask" => dirichlet_mask, "mobile" => mobile,
        "dirichlet_lo" => dirichlet, "dirichlet_hi" => dirichlet + 16,
        "retain" => retain, "pad" => _pad,
    });
}

/// Region shapes, as `SourceRegion::shape` codes.
pub mod shape {
    /// Every voxel.
    pub const EVERYWHERE: u32 = 0;
    /// Axis-aligned box: `a.xyz` min, `b.xyz` max.
    pub const BOX: u32 = 1;
    /// Sphere: `a.xyz` centre, `a.w` radius.
    pub const SPHERE: u32 = 2;
    /// Strip along the outer faces: `a.x` width.
    pub const SHELL: u32 = 3;
    /// Everywhere, rates scaled by field `weight_field`.
    pub const FIELD: u32 = 4;
}

/// One supply/uptake region. Keep in sync with `SourceRegion` in
/// `shaders/shared/params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct SourceRegion {
    /// Shape code (see [`shape`]).
    pub shape: u32,
    /// Field acted on.
    pub field: u32,
    /// Weighting field for [`shape::FIELD`].
    pub weight_field: u32,
    /// Padding.
    pub _pad0: u32,
    /// Supply rate, 1/min.
    pub supply: f32,
    /// Supply saturation value.
    pub target: f32,
    /// Uptake rate, 1/min.
    pub uptake: f32,
    /// Padding.
    pub _pad1: f32,
    /// Shape data (see [`shape`]).
    pub a: [f32; 4],
    /// Shape data (see [`shape`]).
    pub b: [f32; 4],
}
const _: () = assert!(std::mem::size_of::<SourceRegion>() == 64);

impl SourceRegion {
    /// Each member of `SourceRegion` (`shaders/shared/params.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(SourceRegion {
        "shape" => shape, "field" => field, "weight_field" => weight_field, "_pad0" => _pad0,
        "supply" => supply, "target_value" => target, "uptake" => uptake, "_pad1" => _pad1,
        "a" => a, "b" => b,
    });
}

impl SourceRegion {
    /// Weight of the region at voxel centre `p` (µm) of a grid of extent `ext` (µm): 1 or 0
    /// for geometric shapes, the weighting field's value `w` for [`shape::FIELD`].
    /// CPU mirror of `region_weight` in `shaders/shared/regions.wgsl`.
    #[inline]
    pub fn weight(&self, p: [f32; 3], ext: [f32; 3], w: f32) -> f32 {
        let inside = match self.shape {
            shape::EVERYWHERE => true,
            shape::BOX => (0..3).all(|a| p[a] >= self.a[a] && p[a] <= self.b[a]),
            shape::SPHERE => {
                let d2: f32 = (0..3).map(|a| (p[a] - self.a[a]).powi(2)).sum();
                d2 <= self.a[3] * self.a[3]
            }
            shape::SHELL => (0..3).any(|a| p[a] < self.a[0] || ext[a] - p[a] < self.a[0]),
            shape::FIELD => return w,
            _ => false,
        };
        if inside { 1.0 } else { 0.0 }
    }
}

/// Which operator-splitting stages a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    /// Supply/uptake regions.
    pub sources: bool,
    /// Transport sweeps.
    pub transport: bool,
    /// Per-voxel reactions.
    pub reactions: bool,
}

impl Stages {
    /// Every stage.
    pub const ALL: Stages = Stages {
        sources: true,
        transport: true,
        reactions: true,
    };
    /// Transport alone (what `bench` times as "transport").
    pub const TRANSPORT: Stages = Stages {
        sources: false,
        transport: true,
        reactions: false,
    };
}

/// Axis order of the transport sweeps for step number `step`: x, y, z on even steps and
/// z, y, x on odd ones, so that the splitting error of non-commuting (bone-dependent)
/// operators cancels to leading order over each pair of steps.
pub fn sweep_order(step: u64) -> [usize; 3] {
    if step.is_multiple_of(2) {
        [0, 1, 2]
    } else {
        [2, 1, 0]
    }
}

/// One chemotaxis pair: a cell field drifting up an attractant's gradient. Keep in sync
/// with `Chemotaxis` in `shaders/motility.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct Chemotaxis {
    /// The moving cell field.
    pub cell: u32,
    /// The attractant field.
    pub attractant: u32,
    /// Sub-steps per coupled step (keeps every voxel's outflow below its content).
    pub substeps: u32,
    /// Padding.
    pub _pad: u32,
    /// Chemotactic sensitivity, µm^2/min per nM.
    pub chi: f32,
    /// Saturation speed, µm/min.
    pub vmax: f32,
    /// Sub-step, min.
    pub dt_sub: f32,
    /// Voxel edge, µm.
    pub dx: f32,
}
const _: () = assert!(std::mem::size_of::<Chemotaxis>() == 32);

impl Chemotaxis {
    /// Each member of `Chemotaxis` (`shaders/motility.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(Chemotaxis {
        "cell" => cell, "attractant" => attractant, "substeps" => substeps, "pad" => _pad,
        "chi" => chi, "vmax" => vmax, "dt_sub" => dt_sub, "dx" => dx,
    });
}

impl Chemotaxis {
    /// Drift speed across a face, µm/min, from the attractant difference `da` (nM) over one
    /// voxel: `chi * grad` saturating at `vmax` (`v = vmax g / (vmax + |g|)`). CPU mirror of
    /// `face_speed` in `shaders/motility.wgsl`.
    #[inline]
    pub fn face_speed(&self, da: f32) -> f32 {
        let g = self.chi * da / self.dx;
        self.vmax * g / (self.vmax + g.abs())
    }
}
