//! CPU mirror of `shaders/implicit.wgsl`: backward Euler on the whole 3-D operator of one
//! field, with its decay, supply and uptake inside,
//! `(I + dt (Lambda - A)) u' = u + dt F`, solved by Jacobi-preconditioned conjugate
//! gradients warm-started from `u`. The matrix is symmetric positive definite (harmonic
//! face diffusivities), its solution non-negative, and its fixed point the exact discrete
//! steady state whatever `dt`. Dot products are summed per block of voxels in f32 and the
//! blocks in f64, in a fixed order, as on the GPU.

use rayon::prelude::*;

use super::transport::{harmonic, local_factor};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::sim::params::{FieldTransport, SourceRegion, StepUniform};

/// Voxels per partial sum (the GPU's workgroup).
pub const DOT_BLOCK: usize = 256;
/// Relative residual at which the solve stops, unless the preset sets
/// `time.implicit_tolerance`.
pub const TOLERANCE: f64 = 1e-5;
/// Iterations after which a solve that has not converged is an error.
pub const MAX_ITERATIONS: usize = 1000;

/// Work vectors of one solve (reused between steps).
#[derive(Default)]
pub struct Work {
    lam: Vec<f32>,
    b: Vec<f32>,
    r: Vec<f32>,
    p: Vec<f32>,
    q: Vec<f32>,
    /// dt times the coefficient of the face towards +x, +y, +z (0 at the box).
    k: [Vec<f32>; 3],
    diag: Vec<f32>,
}

/// `(M x)_v` from the precomputed faces: `diag x_v - sum_faces dt k x_neighbour`.
#[inline]
fn stencil(grid: &Grid, k: &[Vec<f32>; 3], diag: &[f32], x: &[f32], v: usize) -> f32 {
    let stride = [1, grid.nx, grid.nx * grid.ny];
    let c = [
        v % grid.nx,
        (v / grid.nx) % grid.ny,
        v / (grid.nx * grid.ny),
    ];
    let n = [grid.nx, grid.ny, grid.nz];
    let mut s = diag[v] * x[v];
    for a in 0..3 {
        if c[a] + 1 < n[a] {
            s -= k[a][v] * x[v + stride[a]];
        }
        if c[a] > 0 {
            s -= k[a][v - stride[a]] * x[v - stride[a]];
        }
    }
    s
}

/// `q = M p` along grid line `line` (the x-line at y = line % ny, z = line / ny), written
/// into `q` (that line's slice); returns the line's partial sum of `p.q`.
#[inline]
fn matvec_line(
    grid: &Grid,
    k: &[Vec<f32>; 3],
    diag: &[f32],
    p: &[f32],
    line: usize,
    q: &mut [f32],
) -> f32 {
    let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz);
    let (y, z) = (line % ny, line / ny);
    let plane = nx * ny;
    let base = line * nx;
    let mut dot = 0f32;
    for (i, out) in q.iter_mut().enumerate() {
        let v = base + i;
        let mut s = diag[v] * p[v];
        if i + 1 < nx {
            s -= k[0][v] * p[v + 1];
        }
        if i > 0 {
            s -= k[0][v - 1] * p[v - 1];
        }
        if y + 1 < ny {
            s -= k[1][v] * p[v + nx];
        }
        if y > 0 {
            s -= k[1][v - nx] * p[v - nx];
        }
        if z + 1 < nz {
            s -= k[2][v] * p[v + plane];
        }
        if z > 0 {
            s -= k[2][v - plane] * p[v - plane];
        }
        *out = s;
        dot += p[v] * s;
    }
    dot
}

/// Everything the operator needs about the field and the grid.
struct Operator<'a> {
    grid: &'a Grid,
    bone: Option<&'a [f32]>,
    permeability: f32,
    /// D / dx^2, 1/min.
    d_dx2: f32,
    ft: &'a FieldTransport,
}

impl Operator<'_> {
    fn g(&self, v: usize) -> f32 {
        self.bone
            .map_or(1.0, |b| local_factor(b[v], self.permeability))
    }

    /// Face coefficients (1/min) of voxel `v` to its six neighbours (0 where there is none)
    /// and its fixed-face coefficient and inflow (`sum kappa_b`, `sum kappa_b g_b`).
    fn faces(&self, v: usize) -> ([(usize, f32); 6], f32, f32) {
        let g = self.grid;
        let c = g.coords(v);
        let n = [g.nx, g.ny, g.nz];
        let stride = [1, g.nx, g.nx * g.ny];
        let gv = self.g(v);
        let mut out = [(v, 0.0f32); 6];
        let (mut kb, mut inflow) = (0.0f32, 0.0f32);
        for a in 0..3 {
            for side in 0..2 {
                let slot = 2 * a + side;
                let inside = if side == 0 { c[a] > 0 } else { c[a] + 1 < n[a] };
                if inside {
                    let w = if side == 0 {
                        v - stride[a]
                    } else {
                        v + stride[a]
                    };
                    out[slot] = (w, self.d_dx2 * harmonic(gv, self.g(w)));
                } else if self.ft.dirichlet_mask >> slot & 1 == 1 {
                    let k = 2.0 * self.d_dx2 * gv;
                    kb += k;
                    inflow += k * self.ft.dirichlet[slot];
                }
            }
        }
        (out, kb, inflow)
    }
}

/// Sum over blocks of `DOT_BLOCK` voxels of f32 partial sums, blocks added in f64 in order.
fn blocked_sum(n: usize, term: impl Fn(usize) -> f32 + Sync) -> f64 {
    let partials: Vec<f32> = (0..n.div_ceil(DOT_BLOCK))
        .into_par_iter()
        .map(|b| {
            (b * DOT_BLOCK..((b + 1) * DOT_BLOCK).min(n))
                .map(&term)
                .sum::<f32>()
        })
        .collect();
    partials.iter().map(|&p| p as f64).sum()
}

/// Advances field `f` of `fields` by one implicit step; returns the iterations used.
/// `reaction` holds the production (added to the source) and loss rate (added to Lambda)
/// the react step computed for this field, 1/min.
#[allow(
    clippy::too_many_arguments,
    reason = "the solve needs the field, its neighbours and every parameter set"
)]
pub fn solve(
    fields: &mut [f32],
    f: usize,
    bone_field: Option<usize>,
    grid: &Grid,
    step: &StepUniform,
    ft: &FieldTransport,
    decay: f32,
    regions: &[SourceRegion],
    reaction: Option<(&[f32], &[f32])>,
    tolerance: f64,
    work: &mut Work,
) -> Result<usize> {
    let n = grid.len();
    let dt = step.dt;
    for v in [
        &mut work.lam,
        &mut work.b,
        &mut work.r,
        &mut work.p,
        &mut work.q,
        &mut work.diag,
    ] {
        v.resize(n, 0.0);
    }
    for v in &mut work.k {
        v.resize(n, 0.0);
    }
    // Coefficients: Lambda and F from decay and the field's regions (read before writing).
    let ext = grid.extent_um().map(|e| e as f32);
    let dx = grid.dx_um as f32;
    {
        let all: &[f32] = fields;
        work.lam
            .par_iter_mut()
            .zip(work.b.par_iter_mut())
            .enumerate()
            .for_each(|(v, (lam, b))| {
                let [i, j, k] = grid.coords(v);
                let p = [
                    (i as f32 + 0.5) * dx,
                    (j as f32 + 0.5) * dx,
                    (k as f32 + 0.5) * dx,
                ];
                let mut l = decay;
                let mut supply = 0.0f32;
                for r in regions.iter().filter(|r| r.field as usize == f) {
                    let w = r.weight(p, ext, all[r.weight_field as usize * n + v]);
                    if w > 0.0 {
                        l += w * (r.supply + r.uptake);
                        supply += w * r.supply * r.target;
                    }
                }
                if let Some((prod, loss)) = reaction {
                    l += loss[v];
                    supply += prod[v];
                }
                *lam = l;
                *b = supply;
            });
    }
    let (field, bone) = super::split_field(fields, n, f, bone_field);
    let op = Operator {
        grid,
        bone,
        permeability: ft.bone_permeability,
        d_dx2: ft.diffusion * step.dt_over_dx2 / step.dt,
        ft,
    };
    // Face coefficients (times dt), the diagonal and the fixed-face inflow (added to the
    // source part of b), once per solve.
    {
        let Work {
            k, diag, lam, b, ..
        } = &mut *work;
        let [kx, ky, kz] = k;
        let lam: &[f32] = lam;
        kx.par_iter_mut()
            .zip(ky.par_iter_mut().zip(kz.par_iter_mut()))
            .zip(diag.par_iter_mut().zip(b.par_iter_mut()))
            .enumerate()
            .for_each(|(v, ((kx, (ky, kz)), (d, b)))| {
                let (faces, kb, inflow) = op.faces(v);
                // Slots 1, 3, 5 are the +x, +y, +z faces.
                *kx = dt * faces[1].1;
                *ky = dt * faces[3].1;
                *kz = dt * faces[5].1;
                *d = 1.0 + dt * (lam[v] + kb + faces.iter().map(|f| f.1).sum::<f32>());
                *b += inflow;
            });
    }
    let (kf, diag) = (&work.k, &work.diag);
    // b = u + dt (F + fixed-face inflow); r = b - M x with x = u; p = r / diag.
    let x: &mut [f32] = field;
    {
        let xs: &[f32] = x;
        let (b, r, p) = (&mut work.b, &mut work.r, &mut work.p);
        b.par_iter_mut()
            .zip(r.par_iter_mut().zip(p.par_iter_mut()))
            .enumerate()
            .for_each(|(v, (b, (r, p)))| {
                *b = xs[v] + dt * *b;
                *r = *b - stencil(grid, kf, diag, xs, v);
                *p = *r / diag[v];
            });
    }
    let b = &work.b;
    let bnorm = blocked_sum(n, |v| b[v] * b[v]).sqrt().max(1e-30);
    let mut rz = blocked_sum(n, |v| work.r[v] * work.p[v]);
    let mut rr = blocked_sum(n, |v| work.r[v] * work.r[v]);
    let mut it = 0;
    while rr.sqrt() > tolerance * bnorm {
        if it == MAX_ITERATIONS {
            return Err(Error::Invalid(format!(
                "implicit solve of field {f} did not converge in {MAX_ITERATIONS} iterations (relative residual {:.2e})",
                rr.sqrt() / bnorm
            )));
        }
        // q = M p with the partial sums of p.q, line by line (one pass).
        let pq: f64 = {
            let p = &work.p;
            let partials: Vec<f32> = work
                .q
                .par_chunks_mut(grid.nx)
                .enumerate()
                .map(|(line, qs)| matvec_line(grid, kf, diag, p, line, qs))
                .collect();
            partials.iter().map(|&s| s as f64).sum()
        };
        let alpha = (rz / pq) as f32;
        // x += alpha p; r -= alpha q, with the partial sums of r.r / diag and r.r.
        let (rz_new, rr_new) = {
            let (p, q) = (&work.p, &work.q);
            let partials: Vec<(f32, f32)> = x
                .par_chunks_mut(DOT_BLOCK)
                .zip(work.r.par_chunks_mut(DOT_BLOCK))
                .enumerate()
                .map(|(blk, (xs, rs))| {
                    let (mut rz, mut rr) = (0f32, 0f32);
                    for (i, (x, r)) in xs.iter_mut().zip(rs.iter_mut()).enumerate() {
                        let v = blk * DOT_BLOCK + i;
                        *x += alpha * p[v];
                        *r -= alpha * q[v];
                        rz += *r * *r / diag[v];
                        rr += *r * *r;
                    }
                    (rz, rr)
                })
                .collect();
            partials
                .iter()
                .fold((0f64, 0f64), |(a, b), &(c, d)| (a + c as f64, b + d as f64))
        };
        rr = rr_new;
        let beta = (rz_new / rz) as f32;
        rz = rz_new;
        // p = z + beta p
        {
            let r = &work.r;
            work.p
                .par_iter_mut()
                .enumerate()
                .for_each(|(v, p)| *p = r[v] / diag[v] + beta * *p);
        }
        it += 1;
    }
    // The exact solution is non-negative; clip what the tolerance leaves below zero.
    x.par_iter_mut().for_each(|v| *v = v.max(0.0));
    Ok(it)
}
