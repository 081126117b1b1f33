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

/// The rows of a block of lines: row `i` is point `i` of every line of the block.
trait Rows {
    fn row(&self, i: usize) -> &[f32];
    fn row_mut(&mut self, i: usize) -> &mut [f32];
}

/// Rows `stride` apart in one slice, `w` lanes each.
struct Strided<'a> {
    data: &'a mut [f32],
    stride: usize,
    w: usize,
}

impl Rows for Strided<'_> {
    #[inline(always)]
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.stride..][..self.w]
    }
    #[inline(always)]
    fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.stride..][..self.w]
    }
}

impl Rows for Vec<&mut [f32]> {
    #[inline(always)]
    fn row(&self, i: usize) -> &[f32] {
        self[i]
    }
    #[inline(always)]
    fn row_mut(&mut self, i: usize) -> &mut [f32] {
        self[i]
    }
}

/// The bone fractions at the points of a block: row `i` at `offset + i * stride`.
#[derive(Clone, Copy)]
struct BoneRows<'a> {
    data: &'a [f32],
    offset: usize,
    stride: usize,
    w: usize,
}

impl BoneRows<'_> {
    #[inline(always)]
    fn row(&self, i: usize) -> &[f32] {
        &self.data[self.offset + i * self.stride..][..self.w]
    }
}

/// The tridiagonal matrix of a sweep whose diffusivity is the same everywhere, factored:
/// per point, the face coefficients below and above, the sub-diagonal, the inverse pivot
/// and the eliminated super-diagonal. The same arithmetic as the general path's with every
/// local factor 1.
#[derive(Debug, Clone, Default)]
struct Constant {
    k_lo: Vec<f32>,
    k_hi: Vec<f32>,
    a: Vec<f32>,
    inv: Vec<f32>,
    cp: Vec<f32>,
}

impl Constant {
    fn new(n: usize, p: &LineParams) -> Self {
        let (th, kappa) = (p.theta, p.kappa);
        let mut c = Constant::default();
        let mut cp_before = 0.0;
        for i in 0..n {
            let first = i == 0;
            let last = i + 1 == n;
            let k_lo = if first {
                p.low.map_or(0.0, |_| 2.0 * kappa * 1.0)
            } else {
                c.k_hi[i - 1]
            };
            let k_hi = if last {
                p.high.map_or(0.0, |_| 2.0 * kappa * 1.0)
            } else {
                kappa * harmonic(1.0, 1.0)
            };
            let a = if first { 0.0 } else { -th * k_lo };
            let sup = if last { 0.0 } else { -th * k_hi };
            let b = 1.0 + th * (k_lo + k_hi);
            let inv = 1.0 / (b - a * cp_before);
            cp_before = sup * inv;
            c.k_lo.push(k_lo);
            c.k_hi.push(k_hi);
            c.a.push(a);
            c.inv.push(inv);
            c.cp.push(cp_before);
        }
        c
    }
}

/// Per-task work space.
#[derive(Default)]
struct Scratch {
    /// Forward-eliminated right-hand sides (n x lanes).
    dp: Vec<f32>,
    /// Eliminated super-diagonals (general path, n x lanes).
    cp: Vec<f32>,
    /// Face coefficient below the current point, local factors of the current and next
    /// point (general path, one row each).
    k_lo: Vec<f32>,
    g: Vec<f32>,
    g_next: Vec<f32>,
    /// The x sweep's lines, transposed into lanes, and their bone fractions.
    lines: Vec<f32>,
    bone: Vec<f32>,
}

impl Scratch {
    fn reserve(&mut self, n: usize, w: usize, general: bool) {
        grow(&mut self.dp, n * w);
        if general {
            grow(&mut self.cp, n * w);
            for v in [&mut self.k_lo, &mut self.g, &mut self.g_next] {
                grow(v, w);
            }
        }
    }
}

fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// Solves `w` lines of `n` points held in `rows`, in delta form:
/// `(I - theta dt A) (u' - u) = dt A u`. Rounding errors then scale with the change of a
/// step rather than with the values, which keeps f32 mass conservation at the 1e-8 level
/// over 1,000 steps. `bone` gives the bone fractions of the same points (general path).
#[inline(always)]
fn solve<R: Rows>(
    rows: &mut R,
    bone: Option<BoneRows<'_>>,
    n: usize,
    w: usize,
    p: &LineParams,
    constant: Option<&Constant>,
    s: &mut Scratch,
) {
    s.reserve(n, w, constant.is_none());
    match (constant, bone) {
        (Some(c), _) => forward_constant(rows, n, w, p, c, &mut s.dp[..n * w]),
        (None, bone) => forward_general(rows, bone, n, w, p, s),
    }
    // Back substitution for the change, added to the values.
    let dp = &mut s.dp[..n * w];
    let cp_general = &s.cp;
    for i in (0..n).rev() {
        let (head, tail) = dp.split_at_mut((i + 1) * w);
        let d_row = &mut head[i * w..];
        if i + 1 < n {
            let d_next = &tail[..w];
            match constant {
                Some(c) => {
                    let cp = c.cp[i];
                    for (d, &dn) in d_row.iter_mut().zip(d_next) {
                        *d -= cp * dn;
                    }
                }
                None => {
                    let cp = &cp_general[i * w..(i + 1) * w];
                    for ((d, &c), &dn) in d_row.iter_mut().zip(cp).zip(d_next) {
                        *d -= c * dn;
                    }
                }
            }
        }
        let retain = p.retain;
        for (u, &d) in rows.row_mut(i).iter_mut().zip(d_row.iter()) {
            *u = (*u + d) * retain;
        }
    }
}

/// Forward elimination, shared matrix: only the right-hand sides are eliminated.
#[inline(always)]
fn forward_constant<R: Rows>(
    rows: &R,
    n: usize,
    w: usize,
    p: &LineParams,
    c: &Constant,
    dp: &mut [f32],
) {
    for i in 0..n {
        let (before, after) = dp.split_at_mut(i * w);
        let d_row = &mut after[..w];
        let row = rows.row(i);
        let (k_lo, k_hi, a, inv) = (c.k_lo[i], c.k_hi[i], c.a[i], c.inv[i]);
        if i == 0 || i + 1 == n {
            // Line ends: a fixed value half a voxel away, or no flux (the ghost is the
            // point itself).
            let prev = (i > 0).then(|| rows.row(i - 1));
            let next = (i + 1 < n).then(|| rows.row(i + 1));
            let d_prev = (i > 0).then(|| &before[(i - 1) * w..]);
            for l in 0..w {
                let u = row[l];
                let lo = prev.map_or(p.low.unwrap_or(u), |r| r[l]);
                let hi = next.map_or(p.high.unwrap_or(u), |r| r[l]);
                let rhs = k_hi * (hi - u) - k_lo * (u - lo);
                let dpb = d_prev.map_or(0.0, |r| r[l]);
                d_row[l] = (rhs - a * dpb) * inv;
            }
            continue;
        }
        let prev = rows.row(i - 1);
        let next = rows.row(i + 1);
        let d_prev = &before[(i - 1) * w..];
        for ((((d, &u), &lo), &hi), &dpb) in
            d_row.iter_mut().zip(row).zip(prev).zip(next).zip(d_prev)
        {
            let rhs = k_hi * (hi - u) - k_lo * (u - lo);
            *d = (rhs - a * dpb) * inv;
        }
    }
}

/// Forward elimination with per-point coefficients from the bone fractions.
#[inline(always)]
fn forward_general<R: Rows>(
    rows: &R,
    bone: Option<BoneRows<'_>>,
    n: usize,
    w: usize,
    p: &LineParams,
    s: &mut Scratch,
) {
    let (th, kappa, perm) = (p.theta, p.kappa, p.bone_permeability);
    let factors = |i: usize, out: &mut [f32]| match bone {
        Some(b) => {
            for (g, &bv) in out.iter_mut().zip(b.row(i)) {
                *g = local_factor(bv, perm);
            }
        }
        None => out.fill(1.0),
    };
    let Scratch {
        dp,
        cp,
        k_lo,
        g,
        g_next,
        ..
    } = s;
    let (mut g, mut g_next, k_lo) = (&mut g[..w], &mut g_next[..w], &mut k_lo[..w]);
    factors(0, g);
    for i in 0..n {
        let first = i == 0;
        let last = i + 1 == n;
        if !last {
            factors(i + 1, g_next);
        }
        let (dp_before, dp_after) = dp.split_at_mut(i * w);
        let (cp_before, cp_after) = cp.split_at_mut(i * w);
        let (d_row, c_row) = (&mut dp_after[..w], &mut cp_after[..w]);
        let row = rows.row(i);
        if first || last {
            let prev = (!first).then(|| rows.row(i - 1));
            let next = (!last).then(|| rows.row(i + 1));
            let prev_dc = (!first).then(|| (&dp_before[(i - 1) * w..], &cp_before[(i - 1) * w..]));
            for l in 0..w {
                let u = row[l];
                let gi = g[l];
                let (klo, lo) = match prev {
                    Some(r) => (k_lo[l], r[l]),
                    None => match p.low {
                        Some(v) => (2.0 * kappa * gi, v),
                        None => (0.0, u),
                    },
                };
                let (khi, hi) = match next {
                    Some(r) => (kappa * harmonic(gi, g_next[l]), r[l]),
                    None => match p.high {
                        Some(v) => (2.0 * kappa * gi, v),
                        None => (0.0, u),
                    },
                };
                let rhs = khi * (hi - u) - klo * (u - lo);
                let (a, dpb, cpb) = match prev_dc {
                    Some((d, c)) => (-th * klo, d[l], c[l]),
                    None => (0.0, 0.0, 0.0),
                };
                let sup = if last { 0.0 } else { -th * khi };
                let b = 1.0 + th * (klo + khi);
                let inv = 1.0 / (b - a * cpb);
                c_row[l] = sup * inv;
                k_lo[l] = khi;
                d_row[l] = (rhs - a * dpb) * inv;
            }
        } else {
            let prev = rows.row(i - 1);
            let next = rows.row(i + 1);
            let (d_prev, c_prev) = (&dp_before[(i - 1) * w..], &cp_before[(i - 1) * w..]);
            for l in 0..w {
                let u = row[l];
                let klo = k_lo[l];
                let khi = kappa * harmonic(g[l], g_next[l]);
                let rhs = khi * (next[l] - u) - klo * (u - prev[l]);
                let a = -th * klo;
                let b = 1.0 + th * (klo + khi);
                let inv = 1.0 / (b - a * c_prev[l]);
                c_row[l] = -th * khi * inv;
                k_lo[l] = khi;
                d_row[l] = (rhs - a * d_prev[l]) * inv;
            }
        }
        std::mem::swap(&mut g, &mut g_next);
    }
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
        .for_each_init(Scratch::default, |s, (f, t, mut rows)| {
            let (p, constant) = (&work[f].params[2], work[f].constant[2].as_ref());
            let width = rows[0].len();
            let b = bone.filter(|_| constant.is_none()).map(|data| BoneRows {
                data,
                offset: t * w,
                stride: slab,
                w: width,
            });
            kernels.tile(&mut rows, b, grid.nz, width, p, constant, s);
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
            let b = bone.map(|b| &b[k * slab..(k + 1) * slab]);
            let field = &work[f];
            kernels.plane(plane, b, grid, axes, &field.params, &field.constant, s);
        });
}

/// One field of a transport step: the parameters of its three sweeps and, for the sweeps
/// whose matrix is the same on every line, that matrix factored.
struct Field {
    params: [LineParams; 3],
    constant: [Option<Constant>; 3],
}

/// The sweeps of one plane, or of one z tile, compiled for AVX2 when the CPU has it: the
/// lane loops then run eight lines per instruction instead of four. The same operations in
/// the same order (no fused multiply-add), so the same bits as the baseline build.
#[derive(Clone, Copy)]
struct Kernels {
    avx2: bool,
}

impl Kernels {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        Kernels { avx2 }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "forwards plane_sweeps' arguments"
    )]
    fn plane(
        self,
        plane: &mut [f32],
        bone: Option<&[f32]>,
        grid: &Grid,
        axes: &[usize],
        params: &[LineParams; 3],
        constant: &[Option<Constant>; 3],
        s: &mut Scratch,
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2.
            unsafe { plane_avx2(plane, bone, grid, axes, params, constant, s) };
            return;
        }
        plane_sweeps(plane, bone, grid, axes, params, constant, s);
    }

    #[allow(clippy::too_many_arguments, reason = "forwards solve's arguments")]
    fn tile(
        self,
        rows: &mut Vec<&mut [f32]>,
        bone: Option<BoneRows<'_>>,
        n: usize,
        w: usize,
        p: &LineParams,
        constant: Option<&Constant>,
        s: &mut Scratch,
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2.
            unsafe { tile_avx2(rows, bone, n, w, p, constant, s) };
            return;
        }
        solve(rows, bone, n, w, p, constant, s);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(
    clippy::too_many_arguments,
    reason = "forwards plane_sweeps' arguments"
)]
fn plane_avx2(
    plane: &mut [f32],
    bone: Option<&[f32]>,
    grid: &Grid,
    axes: &[usize],
    params: &[LineParams; 3],
    constant: &[Option<Constant>; 3],
    s: &mut Scratch,
) {
    plane_sweeps(plane, bone, grid, axes, params, constant, s);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments, reason = "forwards solve's arguments")]
fn tile_avx2(
    rows: &mut Vec<&mut [f32]>,
    bone: Option<BoneRows<'_>>,
    n: usize,
    w: usize,
    p: &LineParams,
    constant: Option<&Constant>,
    s: &mut Scratch,
) {
    solve(rows, bone, n, w, p, constant, s);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(nx: usize, ny: usize, nz: usize) -> Grid {
        Grid {
            nx,
            ny,
            nz,
            dx_um: 20.0,
        }
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|v| 0.05 + ((v * 7919 + seed * 104_729) % 1000) as f32 * 1e-3)
            .collect()
    }

    fn params(permeability: f32, theta: f32) -> [LineParams; 3] {
        let p = |kappa: f32, low, high| LineParams {
            kappa,
            bone_permeability: permeability,
            theta,
            low,
            high,
            retain: 1.0,
        };
        [
            p(3.0, Some(1.0), None),
            p(0.7, None, None),
            p(12.0, None, Some(0.25)),
        ]
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// The plane-fused sweeps of two fields give the bits of one sweep per axis in turn,
    /// on both orders, with constant and bone-dependent coefficients, on odd and flat
    /// grids.
    #[test]
    fn fused_sweeps_equal_one_sweep_per_axis() {
        for g in [grid(9, 7, 5), grid(16, 3, 11), grid(5, 6, 1), grid(1, 4, 6)] {
            let n = g.len();
            let bone: Vec<f32> = values(n, 3).iter().map(|&b| (b - 0.3).max(0.0)).collect();
            for (perm, theta) in [(1.0, 1.0), (0.2, 1.0), (0.2, 0.5), (0.0, 1.0)] {
                for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
                    let mut ps = params(perm, theta);
                    ps[order[2]].retain = 0.99;
                    let mut fused = values(2 * n, 1);
                    let (a, b) = fused.split_at_mut(n);
                    let mut other = ps;
                    other[0].kappa = 0.1;
                    sweeps(vec![(a, ps), (b, other)], Some(&bone), &g, order);
                    let mut single = values(2 * n, 1);
                    let (a, b) = single.split_at_mut(n);
                    for axis in order {
                        sweep(a, Some(&bone), &g, axis, &ps[axis]);
                        sweep(b, Some(&bone), &g, axis, &other[axis]);
                    }
                    assert_eq!(
                        bits(&fused),
                        bits(&single),
                        "{g:?} {perm} {theta} {order:?}"
                    );
                }
            }
        }
    }

    /// The factored constant-coefficient path gives the general path's bits: no bone
    /// against bone that is everywhere 0 (local factors 1, but per-point coefficients).
    #[test]
    fn the_factored_path_equals_the_general_path() {
        let g = grid(13, 8, 9);
        let n = g.len();
        let zero = vec![0.0; n];
        for theta in [1.0, 0.5] {
            let ps = params(0.5, theta);
            assert!(!is_constant(Some(&zero), &ps[0]));
            let mut general = values(n, 2);
            sweeps(vec![(&mut general, ps)], Some(&zero), &g, [0, 1, 2]);
            let mut factored = values(n, 2);
            sweeps(vec![(&mut factored, ps)], None, &g, [0, 1, 2]);
            assert_eq!(bits(&general), bits(&factored), "theta {theta}");
        }
    }

    /// The AVX2 build of the kernels gives the baseline build's bits (where the CPU has
    /// AVX2; elsewhere there is only the baseline).
    #[test]
    fn avx2_kernels_give_the_baseline_bits() {
        if !Kernels::detect().avx2 {
            eprintln!("SKIPPED avx2_kernels_give_the_baseline_bits: this CPU has no AVX2");
            return;
        }
        let g = grid(37, 21, 19);
        let n = g.len();
        let bone: Vec<f32> = values(n, 6).iter().map(|&b| (b - 0.4).max(0.0)).collect();
        for perm in [1.0, 0.2] {
            for order in [[0, 1, 2], [2, 1, 0]] {
                let mut ps = params(perm, 1.0);
                ps[order[2]].retain = 0.97;
                let run = |avx2| {
                    let mut v = values(n, 7);
                    sweeps_using(Kernels { avx2 }, vec![(&mut v, ps)], Some(&bone), &g, order);
                    bits(&v)
                };
                assert_eq!(run(true), run(false), "{perm} {order:?}");
            }
        }
    }

    /// One backward-Euler sweep solves its tridiagonal system: the residual of
    /// `(1 + 2k) u'_i - k u'_(i-1) - k u'_(i+1) = u_i` (no-flux ends, bone-dependent faces)
    /// in f64 is at rounding level.
    #[test]
    fn a_sweep_solves_its_line_systems() {
        let g = grid(6, 5, 17);
        let n = g.len();
        let bone: Vec<f32> = values(n, 5)
            .iter()
            .map(|&b| (b - 0.5).max(0.0) * 2.0)
            .collect();
        let p = LineParams {
            kappa: 4.0,
            bone_permeability: 0.1,
            theta: 1.0,
            low: None,
            high: None,
            retain: 1.0,
        };
        let before = values(n, 4);
        let mut after = before.clone();
        sweep(&mut after, Some(&bone), &g, 2, &p);
        let slab = g.nx * g.ny;
        let gf = |v: usize| local_factor(bone[v], p.bone_permeability) as f64;
        for line in 0..slab {
            for k in 0..g.nz {
                let v = line + k * slab;
                let mut lhs = after[v] as f64;
                for (w, inside) in [(v.wrapping_sub(slab), k > 0), (v + slab, k + 1 < g.nz)] {
                    if inside {
                        let face = p.kappa as f64 * harmonic(gf(v) as f32, gf(w) as f32) as f64;
                        lhs += face * (after[v] as f64 - after[w] as f64);
                    }
                }
                let r = lhs - before[v] as f64;
                assert!(r.abs() < 2e-5, "line {line} point {k}: residual {r}");
            }
        }
    }
}
