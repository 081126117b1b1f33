//! CPU mirror of `shaders/implicit.wgsl`: backward Euler on the whole 3-D operator of one
//! field, with its decay, supply and uptake inside,
//! `(I + dt (Lambda - A)) u' = u + dt F`, solved by conjugate gradients preconditioned by
//! one geometric multigrid V-cycle (`multigrid.rs`), warm-started from `u`. The matrix is symmetric positive definite (harmonic
//! face diffusivities), its solution non-negative, and its fixed point the exact discrete
//! steady state whatever `dt`. Dot products are summed per block of voxels in f32 and the
//! blocks in f64, in a fixed order, as on the GPU.

use rayon::prelude::*;

use super::multigrid::{Coefficients, Multigrid, apply_dot};
use super::transport::{harmonic, local_factor};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::numerics::{DOT_BLOCK, MAX_ITERATIONS, RHS_FLOOR_SQ};
use crate::sim::params::{FieldTransport, SourceRegion, StepUniform};

/// Work vectors of one solve (reused between steps).
#[derive(Default)]
pub struct Work {
    lam: Vec<f32>,
    b: Vec<f32>,
    r: Vec<f32>,
    z: Vec<f32>,
    p: Vec<f32>,
    q: Vec<f32>,
    /// The operator (level 0) and its coarse levels.
    mg: Multigrid,
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

/// The implicit operator of field `f` (level 0 of `work`'s multigrid) and its right-hand
/// side `u + dt (F + fixed-face inflow)` (in `work`), from the current fields. `reaction`
/// holds the production (added to the source) and loss rate (added to Lambda) the react
/// step computed for this field, 1/min.
#[allow(
    clippy::too_many_arguments,
    reason = "the operator needs the field, its neighbours and every parameter set"
)]
pub fn assemble(
    fields: &[f32],
    f: usize,
    bone_field: Option<usize>,
    grid: &Grid,
    step: &StepUniform,
    ft: &FieldTransport,
    decay: f32,
    regions: &[SourceRegion],
    reaction: Option<(&[f32], &[f32])>,
    work: &mut Work,
) {
    let n = grid.len();
    let dt = step.dt;
    for v in [
        &mut work.lam,
        &mut work.b,
        &mut work.r,
        &mut work.z,
        &mut work.p,
        &mut work.q,
    ] {
        v.resize(n, 0.0);
    }
    work.mg.fine.resize(grid.dims());
    // Coefficients: Lambda and F from decay and the field's regions.
    let ext = grid.extent_um().map(|e| e as f32);
    let dx = grid.dx_um as f32;
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
                let w = r.weight(p, ext, fields[r.weight_field as usize * n + v]);
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
    let field = &fields[f * n..(f + 1) * n];
    let op = Operator {
        grid,
        bone: bone_field.map(|b| &fields[b * n..(b + 1) * n]),
        permeability: ft.bone_permeability,
        d_dx2: ft.diffusion * step.dt_over_dx2 / step.dt,
        ft,
    };
    // Face coefficients (times dt), the mass and fixed-face parts of the diagonal, the
    // diagonal, and b = u + dt (F + fixed-face inflow).
    let Work { mg, lam, b, .. } = &mut *work;
    let Coefficients {
        k: [kx, ky, kz],
        mass,
        bnd,
        diag,
        ..
    } = &mut mg.fine;
    let lam: &[f32] = lam;
    kx.par_iter_mut()
        .zip(ky.par_iter_mut().zip(kz.par_iter_mut()))
        .zip(diag.par_iter_mut().zip(b.par_iter_mut()))
        .zip(mass.par_iter_mut().zip(bnd.par_iter_mut()))
        .enumerate()
        .for_each(|(v, (((kx, (ky, kz)), (d, b)), (m, bd)))| {
            let (faces, kb, inflow) = op.faces(v);
            // Slots 1, 3, 5 are the +x, +y, +z faces.
            *kx = dt * faces[1].1;
            *ky = dt * faces[3].1;
            *kz = dt * faces[5].1;
            *d = 1.0 + dt * (lam[v] + kb + faces.iter().map(|f| f.1).sum::<f32>());
            *m = 1.0 + dt * lam[v];
            *bd = dt * kb;
            *b = field[v] + dt * (*b + inflow);
        });
}

impl Work {
    /// The multigrid hierarchy: level 0 is the operator [`assemble`] built.
    pub fn multigrid(&mut self) -> &mut Multigrid {
        &mut self.mg
    }

    /// The right-hand side [`assemble`] built.
    pub fn rhs(&self) -> &[f32] {
        &self.b
    }
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
    // A solve that does not converge is `Error::NotConverged` with the field's index as its
    // name; the backend, which knows the names, says which field it was.
    let n = grid.len();
    assemble(
        fields, f, bone_field, grid, step, ft, decay, regions, reaction, work,
    );
    // r = b - M x with x = u.
    let x: &mut [f32] = &mut fields[f * n..(f + 1) * n];
    super::multigrid::residual(&work.mg.fine, &work.b, x, &mut work.r);
    let b = &work.b;
    let bnorm = blocked_sum(n, |v| b[v] * b[v]).max(RHS_FLOOR_SQ).sqrt();
    let mut rr = blocked_sum(n, |v| work.r[v] * work.r[v]);
    let mut it = 0;
    if rr.sqrt() > tolerance * bnorm {
        work.mg.build();
        work.mg.cycle(&work.r, &mut work.z);
        work.p.copy_from_slice(&work.z);
    }
    let mut rz = blocked_sum(n, |v| work.r[v] * work.z[v]);
    while rr.sqrt() > tolerance * bnorm {
        if it == MAX_ITERATIONS {
            return Err(Error::NotConverged {
                field: f.to_string(),
                iterations: MAX_ITERATIONS,
                residual: rr.sqrt() / bnorm,
            });
        }
        // q = M p with the partial sums of p.q, line by line (one pass).
        let pq = apply_dot(&work.mg.fine, &work.p, &mut work.q);
        let alpha = (rz / pq) as f32;
        // x += alpha p; r -= alpha q, with the partial sums of r.r.
        let rr_new = {
            let (p, q) = (&work.p, &work.q);
            let partials: Vec<f32> = x
                .par_chunks_mut(DOT_BLOCK)
                .zip(work.r.par_chunks_mut(DOT_BLOCK))
                .enumerate()
                .map(|(blk, (xs, rs))| {
                    let mut rr = 0f32;
                    for (i, (x, r)) in xs.iter_mut().zip(rs.iter_mut()).enumerate() {
                        let v = blk * DOT_BLOCK + i;
                        *x += alpha * p[v];
                        *r -= alpha * q[v];
                        rr += *r * *r;
                    }
                    rr
                })
                .collect();
            partials.iter().map(|&p| p as f64).sum::<f64>()
        };
        rr = rr_new;
        it += 1;
        if rr.sqrt() <= tolerance * bnorm {
            break;
        }
        // z = B r (one V-cycle); beta; p = z + beta p.
        work.mg.cycle(&work.r, &mut work.z);
        let rz_new = blocked_sum(n, |v| work.r[v] * work.z[v]);
        let beta = (rz_new / rz) as f32;
        rz = rz_new;
        {
            let z = &work.z;
            work.p
                .par_iter_mut()
                .zip(z.par_iter())
                .for_each(|(p, &z)| *p = z + beta * *p);
        }
    }
    // The exact solution is non-negative; clip what the tolerance leaves below zero.
    x.par_iter_mut().for_each(|v| *v = v.max(0.0));
    Ok(it)
}
