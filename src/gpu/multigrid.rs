//! Host side of `shaders/multigrid.wgsl` (CPU mirror `cpu/multigrid.rs`): the level
//! hierarchy as the kernels see it (one uniform per level), dispatch sizes, and the
//! recording of the coarse operators and of one V-cycle for a batch of implicit fields.
//! The conjugate gradients around it are in `implicit.rs`.

use crate::wgsl::{Members, wgsl_members};
use bytemuck::{Pod, Zeroable};

use crate::numerics::{coarse_dims, coarsens};

/// One level as a dispatch sees it. Keep in sync with `Level` in
/// `shaders/shared/solve.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(super) struct LevelUniform {
    pub dims: [u32; 3],
    pub off: u32,
    pub cdims: [u32; 3],
    pub coff: u32,
    pub n: u32,
    pub cn: u32,
    pub total: u32,
    pub groups_x: u32,
    pub cgroups_x: u32,
    pub pg: u32,
    pub _pad: [u32; 2],
}
const _: () = assert!(std::mem::size_of::<LevelUniform>() == 64);

impl LevelUniform {
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "read by the struct check (gpu::bindings tests) only"
        )
    )]
    /// Each member of `Level` (`shaders/shared/solve.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(LevelUniform {
        "nx" => dims, "ny" => dims + 4, "nz" => dims + 8, "off" => off,
        "cnx" => cdims, "cny" => cdims + 4, "cnz" => cdims + 8, "coff" => coff,
        "n" => n, "cn" => cn, "total" => total, "groups_x" => groups_x,
        "cgroups_x" => cgroups_x, "pg" => pg, "_pad0" => _pad, "_pad1" => _pad + 4,
    });
}

/// Entry points of `multigrid.wgsl`, in pipeline order.
pub(super) const MG_ENTRIES: &[&str] = &[
    "coarsen",
    "diagonal",
    "presmooth",
    "smooth_red",
    "smooth_black",
    "residual",
    "restrict_residual",
    "prolong",
    "coarse_solve",
];
const COARSEN: usize = 0;
const DIAGONAL: usize = 1;
const PRESMOOTH: usize = 2;
const SMOOTH_RED: usize = 3;
const SMOOTH_BLACK: usize = 4;
const RESIDUAL: usize = 5;
const RESTRICT: usize = 6;
const PROLONG: usize = 7;
const COARSE_SOLVE: usize = 8;

/// Dispatch sizes of one level.
pub(super) struct LevelGroups {
    /// Over this level's voxels.
    pub own: (u32, u32),
    /// Over the next coarser level's voxels.
    pub coarse: (u32, u32),
}

/// Dimensions of every level of a grid of `dims`, finest first.
pub(super) fn level_dims(dims: [usize; 3]) -> Vec<[usize; 3]> {
    let mut out = vec![dims];
    while coarsens(*out.last().expect("one level")) {
        out.push(coarse_dims(*out.last().expect("one level")));
    }
    out
}

/// Voxels of a level of `d`.
pub(super) fn voxels(d: [usize; 3]) -> usize {
    d[0] * d[1] * d[2]
}

/// Records one V-cycle, `z = B r` on level 0 (as `cpu::multigrid::vcycle`); `mg` holds
/// the pipelines of [`MG_ENTRIES`].
pub(super) fn record_vcycle(mg: &[wgpu::ComputePipeline], d: &mut Dispatch<'_, '_>) {
    let last = d.levels.len() - 1;
    for l in 0..last {
        d.level(l, &mg[PRESMOOTH]);
        d.level(l, &mg[SMOOTH_BLACK]);
        d.level(l, &mg[RESIDUAL]);
        d.coarse(l, &mg[RESTRICT]);
    }
    d.one(last, &mg[COARSE_SOLVE]);
    for l in (0..last).rev() {
        d.level(l, &mg[PROLONG]);
        d.level(l, &mg[SMOOTH_BLACK]);
        d.level(l, &mg[SMOOTH_RED]);
    }
}

/// Records the coarse operators of every level from level 0's.
pub(super) fn record_coarse_operators(mg: &[wgpu::ComputePipeline], d: &mut Dispatch<'_, '_>) {
    for l in 0..d.levels.len() - 1 {
        d.coarse(l, &mg[COARSEN]);
        d.level(l + 1, &mg[DIAGONAL]);
    }
}

/// Dispatches of one batch into a pass (every slot of the batch at once), counted.
pub(super) struct Dispatch<'p, 'b> {
    pass: &'p mut wgpu::ComputePass<'b>,
    /// One bind group per level.
    groups: &'p [wgpu::BindGroup],
    levels: &'p [LevelGroups],
    slots: u32,
    /// Dispatches recorded.
    pub count: u64,
}

impl<'p, 'b> Dispatch<'p, 'b> {
    /// Dispatches into `pass` with one bind group per level.
    pub fn new(
        pass: &'p mut wgpu::ComputePass<'b>,
        groups: &'p [wgpu::BindGroup],
        levels: &'p [LevelGroups],
        slots: u32,
    ) -> Self {
        Dispatch {
            pass,
            groups,
            levels,
            slots,
            count: 0,
        }
    }

    /// Over level `l`'s voxels.
    pub fn level(&mut self, l: usize, pipeline: &wgpu::ComputePipeline) {
        let (x, y) = self.levels[l].own;
        self.run(l, pipeline, x, y);
    }

    /// Over the voxels of the level below `l`, with `l`'s uniform.
    pub fn coarse(&mut self, l: usize, pipeline: &wgpu::ComputePipeline) {
        let (x, y) = self.levels[l].coarse;
        self.run(l, pipeline, x, y);
    }

    /// Over the grid.
    pub fn fine(&mut self, pipeline: &wgpu::ComputePipeline) {
        self.level(0, pipeline);
    }

    /// One workgroup per slot on level `l`.
    pub fn one(&mut self, l: usize, pipeline: &wgpu::ComputePipeline) {
        self.run(l, pipeline, 1, 1);
    }

    /// One workgroup per slot, for the scalar kernels.
    pub fn scalars(&mut self, pipeline: &wgpu::ComputePipeline) {
        self.one(0, pipeline);
    }

    fn run(&mut self, l: usize, pipeline: &wgpu::ComputePipeline, x: u32, y: u32) {
        self.pass.set_pipeline(pipeline);
        self.pass.set_bind_group(0, &self.groups[l], &[]);
        self.pass.dispatch_workgroups(x, y, self.slots);
        self.count += 1;
    }
}
