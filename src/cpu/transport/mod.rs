//! CPU mirror of `shaders/transport.wgsl`: one implicit theta-scheme sweep per axis, a
//! tridiagonal (Thomas) solve per grid line. Same arithmetic as the shader, line for line;
//! the layout is the CPU's own:
//!
//! - Lines are solved side by side in lanes (row `i` of a block holds point `i` of every
//!   line), so every inner loop runs over contiguous lanes and vectorises.
//! - The x and y sweeps of one z-plane run back to back while the plane is in cache, and
//!   the z sweep works in place on tiles of whole x rows, so one step reads and writes each
//!   field twice from memory, not three times, and copies nothing but the plane the x
//!   sweep transposes (in cache).
//! - A field whose diffusivity does not depend on bone (no bone field, or a bone
//!   permeability of one) has the same tridiagonal matrix on every line of a sweep: it is
//!   factored once per sweep and the lines only carry their right-hand sides, as BioFVM's
//!   constant-coefficient solver does. The arithmetic per lane is the general path's with
//!   the factors 1, so both give the same bits.
//! - A field whose only reaction is linear decay (see `Setup`) is multiplied by its
//!   per-step retention as the last sweep writes it back, instead of in a separate pass.

use rayon::prelude::*;

use crate::grid::Grid;
use crate::sim::params::{FieldTransport, StepUniform};
use lines::{BoneRows, Constant, Scratch, Strided, grow, solve};

mod lines;
#[cfg(test)]
mod tests;

/// Parameters of the lines of one sweep of one field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineParams {
    /// dt D / dx^2 in free marrow.
    pub kappa: f32,
    /// Diffusivity share kept inside bone.
    pub bone_permeability: f32,
    /// Implicitness.
    pub theta: f32,
    /// Fixed value at the low end of each line, if any.
    pub low: Option<f32>,
    /// Fixed value at the high end of each line, if any.
    pub high: Option<f32>,
    /// Factor every value is multiplied by as the sweep writes it (the field's per-step
    /// decay on its last sweep, else 1).
    pub retain: f32,
}

impl LineParams {
    /// Parameters of field `ft` along `axis` (retention 1).
    pub fn new(step: &StepUniform, ft: &FieldTransport, axis: usize) -> Self {
        let face = |side: usize| {
            let bit = 2 * axis + side;
            (ft.dirichlet_mask >> bit & 1 == 1).then_some(ft.dirichlet[bit])
        };
        LineParams {
            kappa: step.dt_over_dx2 * ft.diffusion,
            bone_permeability: ft.bone_permeability,
            theta: step.theta,
            low: face(0),
            high: face(1),
            retain: 1.0,
        }
    }
}

/// Harmonic mean of two local diffusivity factors (0 when both are 0).
#[inline(always)]
pub fn harmonic(a: f32, b: f32) -> f32 {
    let s = a + b;
    if s > 0.0 { 2.0 * a * b / s } else { 0.0 }
}

/// Local diffusivity factor of a voxel with bone fraction `b`.
#[inline(always)]
pub fn local_factor(b: f32, permeability: f32) -> f32 {
    1.0 - b * (1.0 - permeability)
}

/// The sweeps of one plane along `axes` (x = 0 and y = 1 only), in order.
#[inline(always)]
fn plane_sweeps(
    plane: &mut [f32],
    bone: Option<&[f32]>,
    grid: &Grid,
    axes: &[usize],
    params: &[LineParams; 3],
    constant: &[Option<Constant>; 3],
    s: &mut Scratch,
) {
    let (nx, ny) = (grid.nx, grid.ny);
    for &axis in axes {
        let p = &params[axis];
        let c = constant[axis].as_ref();
        if axis == 1 {
            let mut rows = Strided {
                data: &mut *plane,
                stride: nx,
                w: nx,
            };
            let b = bone.map(|data| BoneRows {
                data,
                offset: 0,
                stride: nx,
                w: nx,
            });
            solve(&mut rows, b, ny, nx, p, c, s);
            continue;
        }
        // Lines along x: the plane transposed, so its ny lines lie side by side in lanes.
        let mut lines = std::mem::take(&mut s.lines);
        let mut bone_t = std::mem::take(&mut s.bone);
        grow(&mut lines, nx * ny);
        transpose(plane, &mut lines, ny, nx);
        let b = match (bone, c) {
            (Some(bone), None) => {
                grow(&mut bone_t, nx * ny);
                transpose(bone, &mut bone_t, ny, nx);
                Some(BoneRows {
                    data: &bone_t,
                    offset: 0,
                    stride: ny,
                    w: ny,
                })
            }
            _ => None,
        };
        let mut rows = Strided {
            data: &mut lines,
            stride: ny,
            w: ny,
        };
        solve(&mut rows, b, nx, ny, p, c, s);
        transpose(&lines, plane, nx, ny);
        s.lines = lines;
        s.bone = bone_t;
    }
}

/// `src` of `rows` x `cols` (row-major) into `dst` as `cols` x `rows`, in 8 x 8 tiles so
/// both sides stay in cache.
#[inline(always)]
fn transpose(src: &[f32], dst: &mut [f32], rows: usize, cols: usize) {
    const T: usize = 8;
    let (src, dst) = (&src[..rows * cols], &mut dst[..rows * cols]);
    for r0 in (0..rows).step_by(T) {
        let r1 = (r0 + T).min(rows);
        for c0 in (0..cols).step_by(T) {
            let c1 = (c0 + T).min(cols);
            for r in r0..r1 {
                let line = &src[r * cols + c0..r * cols + c1];
                for (c, &v) in (c0..c1).zip(line) {
                    dst[c * rows + r] = v;
                }
            }
        }
    }
}

/// Voxels of a z-sweep tile: whole x rows, about 64 KiB of eliminated right-hand sides,
/// and at least four tiles per thread.
fn z_tile(grid: &Grid) -> usize {
    let slab = grid.nx * grid.ny;
    let by_cache = (16384 / grid.nz).max(16);
    let by_threads = slab.div_ceil(4 * rayon::current_num_threads()).max(16);
    let w = by_cache.min(by_threads);
    // Whole x rows when a row fits, so a tile is one contiguous range per plane.
    if w >= grid.nx {
        w / grid.nx * grid.nx
    } else {
        w.next_multiple_of(16).min(slab)
    }
}

/// The z sweep of every field of `work`, in place on tiles of each plane, all tiles of all
/// fields in one parallel loop.
fn z_sweeps(
    kernels: Kernels,
    values: &mut [&mut [f32]],
    work: &[Field],
    bone: Option<&[f32]>,
    grid: &Grid,
) {
    let slab = grid.nx * grid.ny;
    let w = z_tile(grid);
    let n_tiles = slab.div_ceil(w);
    let mut tiles: Vec<(usize, usize, Vec<&mut [f32]>)> = Vec::with_capacity(work.len() * n_tiles);
    for (f, field) in values.iter_mut().enumerate() {
        let first = tiles.len();
        tiles.extend((0..n_tiles).map(|t| (f, t, Vec::with_capacity(grid.nz))));
        for plane in field.chunks_mut(slab) {
            for (t, part) in plane.chunks_mut(w).enumerate() {
                tiles[first + t].2.push(part);
            }
        }
    }
    tiles
        .into_par_iter()
        .for_each_init(Scratch::default, |s, (f, t, rows)| {
            let field = &work[f];
            let bone = bone
                .filter(|_| field.constant[2].is_none())
                .map(|data| BoneRows {
                    data,
                    offset: t * w,
                    stride: slab,
                    w: rows[0].len(),
                });
            kernels.run(Job::Tile { rows, bone, field }, grid, s);
        });
}

/// The x and/or y sweeps (`axes`, in order) of every field of `work`, plane by plane, all
/// planes of all fields in one parallel loop.
fn plane_passes(
    kernels: Kernels,
    values: &mut [&mut [f32]],
    work: &[Field],
    bone: Option<&[f32]>,
    grid: &Grid,
    axes: &[usize],
) {
    let slab = grid.nx * grid.ny;
    let mut planes: Vec<(usize, usize, &mut [f32])> = Vec::with_capacity(work.len() * grid.nz);
    for (f, field) in values.iter_mut().enumerate() {
        planes.extend(field.chunks_mut(slab).enumerate().map(|(k, p)| (f, k, p)));
    }
    planes
        .into_par_iter()
        .for_each_init(Scratch::default, |s, (f, k, plane)| {
            let bone = bone.map(|b| &b[k * slab..(k + 1) * slab]);
            let job = Job::Plane {
                plane,
                bone,
                axes,
                field: &work[f],
            };
            kernels.run(job, grid, s);
        });
}

/// One field of a transport step: the parameters of its three sweeps and, for the sweeps
/// whose matrix is the same on every line, that matrix factored.
struct Field {
    params: [LineParams; 3],
    constant: [Option<Constant>; 3],
}

/// The jobs of a pass (the sweeps of one plane, or of one z tile), compiled for AVX2 when the CPU has it: the
/// lane loops then run eight lines per instruction instead of four. The same operations in
/// the same order (no fused multiply-add), so the same bits as the baseline build.
#[derive(Clone, Copy)]
struct Kernels {
    avx2: bool,
}

impl Kernels {
    fn detect() -> Self {
        Kernels {
            avx2: super::has_avx2(),
        }
    }

    /// Runs `job` with work space `s`.
    fn run(self, job: Job<'_, '_>, grid: &Grid, s: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2.
            unsafe { run_avx2(job, grid, s) };
            return;
        }
        run(job, grid, s);
    }
}

/// One parallel work item of a transport pass.
enum Job<'a, 'b> {
    /// The x and/or y sweeps (`axes`, in order) of one z-plane of a field.
    Plane {
        plane: &'a mut [f32],
        bone: Option<&'b [f32]>,
        axes: &'b [usize],
        field: &'b Field,
    },
    /// The z sweep of one tile of whole x rows (`rows`, one per plane) of a field.
    Tile {
        rows: Vec<&'a mut [f32]>,
        bone: Option<BoneRows<'b>>,
        field: &'b Field,
    },
}

#[inline(always)]
fn run(job: Job<'_, '_>, grid: &Grid, s: &mut Scratch) {
    match job {
        Job::Plane {
            plane,
            bone,
            axes,
            field,
        } => plane_sweeps(plane, bone, grid, axes, &field.params, &field.constant, s),
        Job::Tile {
            mut rows,
            bone,
            field,
        } => {
            let width = rows[0].len();
            let constant = field.constant[2].as_ref();
            solve(
                &mut rows,
                bone,
                grid.nz,
                width,
                &field.params[2],
                constant,
                s,
            );
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_avx2(job: Job<'_, '_>, grid: &Grid, s: &mut Scratch) {
    run(job, grid, s);
}

/// Whether a sweep's matrix is the same on every line.
fn is_constant(bone: Option<&[f32]>, p: &LineParams) -> bool {
    bone.is_none() || p.bone_permeability == 1.0
}

/// The three sweeps of each field of `fields` in the order `order` (axis 0 x, 1 y, 2 z),
/// with its `params[axis]` for each; `bone` is the bone field, if any. Consecutive x and y
/// sweeps run plane by plane; each pass covers every field in one parallel loop.
pub fn sweeps(
    fields: Vec<(&mut [f32], [LineParams; 3])>,
    bone: Option<&[f32]>,
    grid: &Grid,
    order: [usize; 3],
) {
    sweeps_using(Kernels::detect(), fields, bone, grid, order);
}

fn sweeps_using(
    kernels: Kernels,
    fields: Vec<(&mut [f32], [LineParams; 3])>,
    bone: Option<&[f32]>,
    grid: &Grid,
    order: [usize; 3],
) {
    let len = [grid.nx, grid.ny, grid.nz];
    let (mut values, work): (Vec<&mut [f32]>, Vec<Field>) = fields
        .into_iter()
        .map(|(values, params)| {
            let field = Field {
                params,
                constant: std::array::from_fn(|axis| {
                    is_constant(bone, &params[axis])
                        .then(|| Constant::new(len[axis], &params[axis]))
                }),
            };
            (values, field)
        })
        .unzip();
    let mut i = 0;
    while i < 3 {
        if order[i] == 2 {
            z_sweeps(kernels, &mut values, &work, bone, grid);
            i += 1;
            continue;
        }
        let start = i;
        while i < 3 && order[i] != 2 {
            i += 1;
        }
        plane_passes(kernels, &mut values, &work, bone, grid, &order[start..i]);
    }
}

/// One sweep of `field` along `axis` alone (what [`sweeps`] does for each axis in turn).
pub fn sweep(field: &mut [f32], bone: Option<&[f32]>, grid: &Grid, axis: usize, p: &LineParams) {
    let n = [grid.nx, grid.ny, grid.nz][axis];
    let mut constant: [Option<Constant>; 3] = [None, None, None];
    constant[axis] = is_constant(bone, p).then(|| Constant::new(n, p));
    let work = [Field {
        params: [*p; 3],
        constant,
    }];
    match axis {
        2 => z_sweeps(Kernels::detect(), &mut [field], &work, bone, grid),
        _ => plane_passes(Kernels::detect(), &mut [field], &work, bone, grid, &[axis]),
    }
}
