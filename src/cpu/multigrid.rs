//! CPU mirror of `shaders/multigrid.wgsl`: the geometric multigrid V-cycle that
//! preconditions the implicit solves (`implicit.rs`). Kernels, same names as the shader's
//! entry points: `coarsen` (coarse operator), `finish_diagonal` (`diagonal`), `smooth`
//! (one colour of red-black Gauss-Seidel: `smooth_red`, `smooth_black`), `presmooth` (the
//! first colour from zero), `residual`, `restrict_residual` and `prolong`; the coarsest
//! level's sweeps are `coarse_solve` in the shader.
//!
//! - Grids: each coarse level halves every axis longer than one voxel, rounding up (a
//!   coarse cell of an odd axis may have one child), down to at most [`COARSEST`](crate::numerics::COARSEST) voxels
//!   on every axis.
//! - Coarse operators by rediscretisation, not Galerkin products: a coarse cell's mass
//!   (`1 + dt Lambda`, the decay, uptake and the react step's loss) is the sum of its
//!   children's; the conductance of a coarse face is the sum of the fine faces crossing it
//!   divided by the distance between the two coarse centres in fine voxels, and a fixed-value
//!   face's half that of its fine faces. This keeps the harmonic face diffusivities of bone
//!   and the box's Dirichlet faces on every level, costs one pass over the fine
//!   coefficients, and gives an M-matrix (symmetric, positive definite) on every level.
//!   The Galerkin product with the piecewise-linear transfers below would couple 27
//!   neighbours instead of 7 (about three times the coarse work and storage); it was not
//!   tried, since two to three iterations per solve leave little to gain.
//! - Transfers: cell-centred linear interpolation along each axis (weights 3/4 and 1/4;
//!   the nearest coarse cell alone at the box edge, where the field is flat for no-flux),
//!   and restriction by its exact transpose, so that the V-cycle is symmetric and CG may use
//!   it. Linear prolongation with its transpose meets the order rule (2 + 2 > 2) that
//!   piecewise-constant transfers miss, so the convergence barely depends on the grid
//!   (on the default preset: 2.0 to 3.2 iterations per solve from 32^3 to 128^3).
//! - Smoother: red-black Gauss-Seidel (needs no global synchronisation, two half sweeps
//!   per sweep); red then black before the coarse correction and black then red after it,
//!   so that the cycle is symmetric. The coarsest level is solved by [`COARSE_SWEEPS`]
//!   such symmetric pairs.
//!
//! Operators are stored in "sum form": a row of level `l` is the sum of the rows of its
//! fine children, so the identity of level 0 becomes the voxel count of a coarse cell.
//! Restriction sums (it is the transpose of an interpolation whose weights add to one).

use rayon::prelude::*;

use crate::numerics::{COARSE_SWEEPS, coarse_dims, coarsens};

/// The operator of one level.
#[derive(Default, Clone)]
pub struct Coefficients {
    /// Voxels along x, y, z.
    pub dims: [usize; 3],
    /// dt times the conductance of the face towards +x, +y, +z (0 at the box edge).
    pub k: [Vec<f32>; 3],
    /// Mass part of the diagonal (1 + dt Lambda on level 0, summed over children above).
    pub mass: Vec<f32>,
    /// dt times the conductance of the fixed-value faces of the voxel.
    pub bnd: Vec<f32>,
    /// Diagonal: mass + bnd + the six face conductances.
    pub diag: Vec<f32>,
}

impl Coefficients {
    /// Voxels on this level.
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// True for an empty level.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resizes every array to `dims`.
    pub fn resize(&mut self, dims: [usize; 3]) {
        self.dims = dims;
        let n = self.len();
        for v in self
            .k
            .iter_mut()
            .chain([&mut self.mass, &mut self.bnd, &mut self.diag])
        {
            v.resize(n, 0.0);
        }
    }

    /// `A x` along grid line `line` (the x-line at y = line % ny, z = line / ny) into
    /// `out`: contiguous slices per neighbour direction, so the loops vectorise.
    #[inline]
    fn apply_line(&self, x: &[f32], line: usize, out: &mut [f32]) {
        let [nx, ny, nz] = self.dims;
        let plane = nx * ny;
        let (j, l) = (line % ny, line / ny);
        let o = line * nx;
        let range = |start: usize| start..start + nx;
        let xc = &x[range(o)];
        let diag = &self.diag[range(o)];
        for ((out, &d), &xv) in out.iter_mut().zip(diag).zip(xc) {
            *out = d * xv;
        }
        // The y and z faces of the whole line exist or not together.
        let mut face = |k: &[f32], xn: &[f32]| {
            for ((out, &k), &xn) in out.iter_mut().zip(k).zip(xn) {
                *out -= k * xn;
            }
        };
        if j + 1 < ny {
            face(&self.k[1][range(o)], &x[range(o + nx)]);
        }
        if j > 0 {
            face(&self.k[1][range(o - nx)], &x[range(o - nx)]);
        }
        if l + 1 < nz {
            face(&self.k[2][range(o)], &x[range(o + plane)]);
        }
        if l > 0 {
            face(&self.k[2][range(o - plane)], &x[range(o - plane)]);
        }
        // Faces along the line.
        let kx = &self.k[0][range(o)];
        for i in 0..nx - 1 {
            out[i] -= kx[i] * xc[i + 1];
            out[i + 1] -= kx[i] * xc[i];
        }
    }
}

/// Fine children of coarse cell `c` along an axis of `nf` fine voxels: first child, count.
#[inline(always)]
fn children(c: usize, nf: usize) -> (usize, usize) {
    (2 * c, (nf - 2 * c).min(2))
}

/// The two coarse cells that interpolate fine cell `i` along an axis (`nf` fine, `nc`
/// coarse voxels), and the weight of the second: linear between the coarse centres, the
/// nearest centre alone beyond the first or last. Distances in fine voxels.
#[inline(always)]
pub fn interp(i: usize, nf: usize, nc: usize) -> (usize, usize, f32) {
    let centre = |c: usize| {
        let (first, count) = children(c, nf);
        first as f32 + 0.5 * count as f32
    };
    let x = i as f32 + 0.5;
    let p = i / 2;
    let cp = centre(p);
    if x < cp && p > 0 {
        let lo = centre(p - 1);
        (p - 1, p, (x - lo) / (cp - lo))
    } else if x > cp && p + 1 < nc {
        let hi = centre(p + 1);
        (p, p + 1, (x - cp) / (hi - cp))
    } else {
        (p, p, 0.0)
    }
}

/// Weight of coarse cell `c` in the interpolation of fine cell `i`.
#[inline(always)]
pub fn weight(i: usize, c: usize, nf: usize, nc: usize) -> f32 {
    let (lo, hi, w) = interp(i, nf, nc);
    let mut out = 0.0;
    if lo == c {
        out += 1.0 - w;
    }
    if hi == c {
        out += w;
    }
    out
}

/// Coordinates of voxel `v` on a level of `dims`.
#[inline(always)]
fn coords(v: usize, dims: [usize; 3]) -> [usize; 3] {
    [
        v % dims[0],
        (v / dims[0]) % dims[1],
        v / (dims[0] * dims[1]),
    ]
}

/// The coarse operator of `fine` into `coarse` (resized to the coarse dimensions).
pub fn coarsen(fine: &Coefficients, coarse: &mut Coefficients) {
    let fd = fine.dims;
    let cd = coarse_dims(fd);
    coarse.resize(cd);
    let fidx = |i: usize, j: usize, l: usize| i + fd[0] * (j + fd[1] * l);
    let Coefficients {
        k: [kx, ky, kz],
        mass,
        bnd,
        ..
    } = coarse;
    kx.par_iter_mut()
        .zip(ky.par_iter_mut().zip(kz.par_iter_mut()))
        .zip(mass.par_iter_mut().zip(bnd.par_iter_mut()))
        .enumerate()
        .for_each(|(v, ((kx, (ky, kz)), (m, b)))| {
            let c = coords(v, cd);
            let ch = [0, 1, 2].map(|a| children(c[a], fd[a]));
            let (mut sm, mut sb) = (0f32, 0f32);
            for l in ch[2].0..ch[2].0 + ch[2].1 {
                for j in ch[1].0..ch[1].0 + ch[1].1 {
                    for i in ch[0].0..ch[0].0 + ch[0].1 {
                        let w = fidx(i, j, l);
                        sm += fine.mass[w];
                        sb += fine.bnd[w];
                    }
                }
            }
            *m = sm;
            *b = 0.5 * sb;
            // Faces towards +axis: the fine faces between the last child of this cell and
            // the first of the next, over the children of the other two axes.
            let mut out = [0f32; 3];
            for (a, out) in out.iter_mut().enumerate() {
                if c[a] + 1 >= cd[a] {
                    continue;
                }
                let next = children(c[a] + 1, fd[a]);
                let (b1, b2) = ((a + 1) % 3, (a + 2) % 3);
                let mut s = 0f32;
                for q in ch[b2].0..ch[b2].0 + ch[b2].1 {
                    for p in ch[b1].0..ch[b1].0 + ch[b1].1 {
                        let mut f = [0usize; 3];
                        f[a] = ch[a].0 + ch[a].1 - 1;
                        f[b1] = p;
                        f[b2] = q;
                        s += fine.k[a][fidx(f[0], f[1], f[2])];
                    }
                }
                // Over the centre-to-centre distance in fine voxels (2 for two full cells).
                *out = s * 2.0 / (ch[a].1 + next.1) as f32;
            }
            [*kx, *ky, *kz] = out;
        });
    finish_diagonal(coarse);
}

/// `diag = mass + bnd + the six face conductances`.
pub fn finish_diagonal(c: &mut Coefficients) {
    let dims = c.dims;
    let [nx, ny, _] = dims;
    let Coefficients {
        k, mass, bnd, diag, ..
    } = c;
    let k: &[Vec<f32>; 3] = k;
    each(diag, |v, d| {
        let [i, j, l] = coords(v, dims);
        let mut s = mass[v] + bnd[v] + k[0][v] + k[1][v] + k[2][v];
        if i > 0 {
            s += k[0][v - 1];
        }
        if j > 0 {
            s += k[1][v - nx];
        }
        if l > 0 {
            s += k[2][v - nx * ny];
        }
        *d = s;
    });
}

/// A pointer shared by the tasks of one colour of a red-black sweep.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: see `smooth`: within one colour each voxel is written by one task and no task
// reads a voxel of the colour being written.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// One colour of red-black Gauss-Seidel on `x` for `A x = b`: every voxel with
/// `(i + j + l) % 2 == colour` takes `(b + sum of k x_neighbour) / diag`.
pub fn smooth(c: &Coefficients, b: &[f32], x: &mut [f32], colour: usize) {
    let [nx, ny, nz] = c.dims;
    let plane = nx * ny;
    let n = c.len();
    assert!(x.len() == n && b.len() == n);
    let ptr = Shared(x.as_mut_ptr());
    each_line(n, nx, move |line| {
        let ptr = ptr;
        let (j, l) = (line % ny, line / ny);
        // SAFETY: the tasks write only voxels of `colour` on their own line and read only
        // voxels of the other colour (every neighbour of a voxel has the other colour), so
        // no voxel is written by two tasks or read while it is written.
        let x = unsafe { std::slice::from_raw_parts_mut(ptr.0, n) };
        let o = line * nx;
        let (yp, ym, zp, zm) = (j + 1 < ny, j > 0, l + 1 < nz, l > 0);
        let [kx, ky, kz] = &c.k;
        for i in ((colour + j + l) % 2..nx).step_by(2) {
            let v = o + i;
            let mut s = b[v];
            if i + 1 < nx {
                s += kx[v] * x[v + 1];
            }
            if i > 0 {
                s += kx[v - 1] * x[v - 1];
            }
            if yp {
                s += ky[v] * x[v + nx];
            }
            if ym {
                s += ky[v - nx] * x[v - nx];
            }
            if zp {
                s += kz[v] * x[v + plane];
            }
            if zm {
                s += kz[v - plane] * x[v - plane];
            }
            x[v] = s / c.diag[v];
        }
    });
}

/// `r = b - A x`.
pub fn residual(c: &Coefficients, b: &[f32], x: &[f32], r: &mut [f32]) {
    let nx = c.dims[0];
    each_chunk(r, nx, |line, rs| {
        c.apply_line(x, line, rs);
        for (r, &b) in rs.iter_mut().zip(&b[line * nx..(line + 1) * nx]) {
            *r = b - *r;
        }
    });
}

/// `A x` at every voxel into `out`; returns `x . A x` (partial sums per grid line in f32,
/// added in f64 in order).
pub fn apply_dot(c: &Coefficients, x: &[f32], out: &mut [f32]) -> f64 {
    let nx = c.dims[0];
    let partials: Vec<f32> = out
        .par_chunks_mut(nx)
        .enumerate()
        .map(|(line, os)| {
            c.apply_line(x, line, os);
            os.iter()
                .zip(&x[line * nx..(line + 1) * nx])
                .map(|(o, x)| o * x)
                .sum::<f32>()
        })
        .collect();
    partials.iter().map(|&p| p as f64).sum()
}

/// The transfer weights of one axis between a fine and a coarse level.
#[derive(Default, Clone)]
pub struct AxisTransfer {
    /// Per fine cell: the two coarse cells that interpolate it and the second's weight.
    up: Vec<(usize, usize, f32)>,
    /// Per coarse cell: the first fine cell it restricts from and the weights of up to
    /// four consecutive fine cells (the transpose of `up`).
    down: Vec<(usize, [f32; 4])>,
}

impl AxisTransfer {
    /// The tables of an axis of `nf` fine voxels.
    pub fn new(nf: usize) -> Self {
        let nc = nf.div_ceil(2);
        let up = (0..nf).map(|i| interp(i, nf, nc)).collect();
        let down = (0..nc)
            .map(|c| {
                let first = (2 * c).saturating_sub(1);
                let mut w = [0f32; 4];
                for (t, w) in w.iter_mut().enumerate() {
                    if first + t < nf {
                        *w = weight(first + t, c, nf, nc);
                    }
                }
                (first, w)
            })
            .collect();
        AxisTransfer { up, down }
    }
}

/// The transfer tables between a level and the next coarser one.
pub type Transfer = [AxisTransfer; 3];

/// The tables for a fine level of `dims`.
pub fn transfer(dims: [usize; 3]) -> Transfer {
    dims.map(AxisTransfer::new)
}

/// Levels of fewer voxels than this run on one thread (a parallel loop costs more than
/// the work there).
const PARALLEL_MIN: usize = 8192;

/// Runs `f(index, item)` over `items`, in parallel only where they are many.
fn each<T: Send>(items: &mut [T], f: impl Fn(usize, &mut T) + Sync + Send) {
    if items.len() >= PARALLEL_MIN {
        items.par_iter_mut().enumerate().for_each(|(v, t)| f(v, t));
    } else {
        items.iter_mut().enumerate().for_each(|(v, t)| f(v, t));
    }
}

/// Runs `f(line, values of that line)` over the grid lines of `items`.
fn each_chunk(items: &mut [f32], nx: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if items.len() >= PARALLEL_MIN {
        items
            .par_chunks_mut(nx)
            .enumerate()
            .for_each(|(l, c)| f(l, c));
    } else {
        items.chunks_mut(nx).enumerate().for_each(|(l, c)| f(l, c));
    }
}

/// Runs `f(line)` over the grid lines of a level of `n` voxels, `nx` per line.
fn each_line(n: usize, nx: usize, f: impl Fn(usize) + Sync + Send) {
    if n >= PARALLEL_MIN {
        (0..n / nx).into_par_iter().for_each(f);
    } else {
        (0..n / nx).for_each(f);
    }
}

/// Coarse right-hand side from the fine residual: the transpose of [`prolong`].
pub fn restrict_residual(
    t: &Transfer,
    fine_dims: [usize; 3],
    r: &[f32],
    cd: [usize; 3],
    b: &mut [f32],
) {
    let fd = fine_dims;
    each_chunk(b, cd[0], |line, out| {
        let (cj, cl) = (line % cd[1], line / cd[1]);
        let ((fj, wj), (fl, wl)) = (t[1].down[cj], t[2].down[cl]);
        for (ci, out) in out.iter_mut().enumerate() {
            let (fi, wi) = t[0].down[ci];
            let mut s = 0f32;
            for (dl, &wl) in wl.iter().enumerate() {
                if wl == 0.0 {
                    continue;
                }
                for (dj, &wj) in wj.iter().enumerate() {
                    if wj == 0.0 {
                        continue;
                    }
                    let row = fi + fd[0] * (fj + dj + fd[1] * (fl + dl));
                    let mut sum = 0f32;
                    for (di, &w) in wi.iter().enumerate() {
                        if w != 0.0 {
                            sum += w * r[row + di];
                        }
                    }
                    s += wl * wj * sum;
                }
            }
            *out = s;
        }
    });
}

/// `x += P e`: the coarse correction `e` interpolated onto the fine level.
pub fn prolong(t: &Transfer, cd: [usize; 3], e: &[f32], fine_dims: [usize; 3], x: &mut [f32]) {
    let fd = fine_dims;
    each_chunk(x, fd[0], |line, xs| {
        let (j, l) = (line % fd[1], line / fd[1]);
        let (ty, tz) = (t[1].up[j], t[2].up[l]);
        // The four coarse lines this fine line interpolates from, with their weights.
        let rows = [
            (ty.0, tz.0, (1.0 - ty.2) * (1.0 - tz.2)),
            (ty.1, tz.0, ty.2 * (1.0 - tz.2)),
            (ty.0, tz.1, (1.0 - ty.2) * tz.2),
            (ty.1, tz.1, ty.2 * tz.2),
        ]
        .map(|(cj, cl, w)| (cd[0] * (cj + cd[1] * cl), w));
        for (i, out) in xs.iter_mut().enumerate() {
            let tx = t[0].up[i];
            let mut s = 0f32;
            for &(row, w) in &rows {
                s += w * ((1.0 - tx.2) * e[row + tx.0] + tx.2 * e[row + tx.1]);
            }
            *out += s;
        }
    });
}

/// The first half sweep from a zero correction: red voxels `b / diag`, black voxels 0
/// (what [`smooth`] of colour 0 gives from `x = 0`).
pub fn presmooth(c: &Coefficients, b: &[f32], x: &mut [f32]) {
    let [nx, ny, _] = c.dims;
    each_chunk(x, nx, |line, xs| {
        let (j, l) = (line % ny, line / ny);
        for (i, out) in xs.iter_mut().enumerate() {
            let v = line * nx + i;
            *out = if (i + j + l) % 2 == 0 {
                b[v] / c.diag[v]
            } else {
                0.0
            };
        }
    });
}

/// One coarse level: its operator and the vectors of a cycle.
#[derive(Default)]
struct Level {
    c: Coefficients,
    /// Transfers between the level above and this one.
    t: Transfer,
    x: Vec<f32>,
    b: Vec<f32>,
    r: Vec<f32>,
}

/// The level hierarchy of one implicit field: level 0's operator (filled by the caller),
/// the coarse levels built from it by [`Multigrid::build`].
#[derive(Default)]
pub struct Multigrid {
    /// Level 0, the implicit operator itself.
    pub fine: Coefficients,
    coarse: Vec<Level>,
    /// Level 0's residual inside a cycle.
    res: Vec<f32>,
}

impl Multigrid {
    /// Number of levels, level 0 included.
    pub fn levels(&self) -> usize {
        1 + self.coarse.len()
    }

    /// Builds the coarse levels from [`Multigrid::fine`].
    pub fn build(&mut self) {
        let mut dims = self.fine.dims;
        let mut count = 0;
        while coarsens(dims) {
            dims = coarse_dims(dims);
            count += 1;
        }
        self.coarse.resize_with(count, Level::default);
        self.res.resize(self.fine.len(), 0.0);
        for l in 0..count {
            let (done, rest) = self.coarse.split_at_mut(l);
            let fine = done.last().map_or(&self.fine, |lv| &lv.c);
            let level = &mut rest[0];
            if level.t[0].up.len() != fine.dims[0]
                || level.t[1].up.len() != fine.dims[1]
                || level.t[2].up.len() != fine.dims[2]
            {
                level.t = transfer(fine.dims);
            }
            coarsen(fine, &mut level.c);
            let n = level.c.len();
            for v in [&mut level.x, &mut level.b, &mut level.r] {
                v.resize(n, 0.0);
            }
        }
    }

    /// `z = B r`, one V-cycle from `z = 0` (B is symmetric positive definite).
    pub fn cycle(&mut self, r: &[f32], z: &mut [f32]) {
        let Multigrid { fine, coarse, res } = self;
        vcycle(fine, r, z, res, coarse);
    }
}

/// One V-cycle on the level of `c`, with `levels` below it.
fn vcycle(c: &Coefficients, b: &[f32], x: &mut [f32], res: &mut [f32], levels: &mut [Level]) {
    let Some((next, below)) = levels.split_first_mut() else {
        x.fill(0.0);
        for _ in 0..COARSE_SWEEPS {
            smooth(c, b, x, 0);
            smooth(c, b, x, 1);
        }
        for _ in 0..COARSE_SWEEPS {
            smooth(c, b, x, 1);
            smooth(c, b, x, 0);
        }
        return;
    };
    presmooth(c, b, x);
    smooth(c, b, x, 1);
    residual(c, b, x, res);
    restrict_residual(&next.t, c.dims, res, next.c.dims, &mut next.b);
    vcycle(&next.c, &next.b, &mut next.x, &mut next.r, below);
    prolong(&next.t, next.c.dims, &next.x, c.dims, x);
    smooth(c, b, x, 1);
    smooth(c, b, x, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_weights_add_to_one_and_transpose() {
        for nf in [1usize, 2, 3, 5, 8, 9, 17] {
            let nc = nf.div_ceil(2);
            for i in 0..nf {
                let total: f32 = (0..nc).map(|c| weight(i, c, nf, nc)).sum();
                assert!((total - 1.0).abs() < 1e-6, "nf {nf} i {i}: {total}");
            }
        }
        // Interior weights of an even axis are 3/4 and 1/4.
        assert_eq!(interp(4, 16, 8), (1, 2, 0.75));
        assert_eq!(interp(5, 16, 8), (2, 3, 0.25));
        // Flat at the edges.
        assert_eq!(interp(0, 16, 8), (0, 0, 0.0));
        assert_eq!(interp(15, 16, 8), (7, 7, 0.0));
    }

    #[test]
    fn restrict_is_the_transpose_of_prolong() {
        let fd = [7, 6, 5];
        let cd = coarse_dims(fd);
        let (nf, nc) = (fd.iter().product::<usize>(), cd.iter().product::<usize>());
        let r: Vec<f32> = (0..nf).map(|v| ((v * 37) % 11) as f32 - 5.0).collect();
        let e: Vec<f32> = (0..nc).map(|v| ((v * 13) % 7) as f32 - 3.0).collect();
        let t = transfer(fd);
        let mut pe = vec![0.0; nf];
        prolong(&t, cd, &e, fd, &mut pe);
        let mut rr = vec![0.0; nc];
        restrict_residual(&t, fd, &r, cd, &mut rr);
        let lhs: f64 = r.iter().zip(&pe).map(|(a, b)| (a * b) as f64).sum();
        let rhs: f64 = rr.iter().zip(&e).map(|(a, b)| (a * b) as f64).sum();
        assert!(
            (lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }
}
