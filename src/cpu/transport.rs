//! CPU mirror of `shaders/transport.wgsl`: one implicit theta-scheme sweep per axis, a
//! tridiagonal (Thomas) solve per grid line, lines solved side by side in lanes so the inner
//! loops vectorise. Same arithmetic as the shader, line for line.

use rayon::prelude::*;

use crate::grid::Grid;
use crate::sim::params::{FieldTransport, StepUniform};

/// Parameters of the lines of one sweep of one field.
#[derive(Debug, Clone, Copy)]
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
}

impl LineParams {
    /// Parameters of field `ft` along `axis`.
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
        }
    }
}

/// Per-task work space.
#[derive(Default)]
pub struct Scratch {
    rows: Vec<f32>,
    g: Vec<f32>,
    cp: Vec<f32>,
    dp: Vec<f32>,
    prev_old: Vec<f32>,
    prev_cp: Vec<f32>,
    prev_k: Vec<f32>,
}

impl Scratch {
    fn reserve(&mut self, n: usize, lanes: usize) {
        for v in [&mut self.rows, &mut self.g, &mut self.cp, &mut self.dp] {
            v.resize(n * lanes, 0.0);
        }
        for v in [&mut self.prev_old, &mut self.prev_cp, &mut self.prev_k] {
            v.resize(lanes, 0.0);
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

/// Solves `lanes` independent lines of length `n` held row-major in `rows`
/// (`rows[i * lanes + l]` is point `i` of line `l`); `g` holds each point's local
/// diffusivity factor in the same layout. The result replaces `rows`.
///
/// The system is solved in delta form, `(I - theta dt A) (u' - u) = dt A u`: rounding
/// errors then scale with the change of a step rather than with the values, which keeps
/// f32 mass conservation at the 1e-7 level per step.
#[allow(
    clippy::too_many_arguments,
    reason = "the scratch rows are borrowed separately for the optimiser"
)]
fn solve_lines(
    rows: &mut [f32],
    g: &[f32],
    cp: &mut [f32],
    dp: &mut [f32],
    prev: (&mut [f32], &mut [f32], &mut [f32]),
    n: usize,
    lanes: usize,
    p: &LineParams,
) {
    let (prev_old, prev_cp, prev_k) = prev;
    let th = p.theta;
    for i in 0..n {
        let last = i + 1 == n;
        let row = &rows[i * lanes..(i + 1) * lanes];
        let next: &[f32] = if last {
            &[]
        } else {
            &rows[(i + 1) * lanes..(i + 2) * lanes]
        };
        let g_row = &g[i * lanes..(i + 1) * lanes];
        let g_next = if last {
            &g[..0]
        } else {
            &g[(i + 1) * lanes..(i + 2) * lanes]
        };
        let (dp_before_rows, dp_rest) = dp.split_at_mut(i * lanes);
        let dp_row = &mut dp_rest[..lanes];
        let dp_prev: &[f32] = if i == 0 {
            &[]
        } else {
            &dp_before_rows[(i - 1) * lanes..]
        };
        let cp_row = &mut cp[i * lanes..(i + 1) * lanes];
        for l in 0..lanes {
            let u = row[l];
            let gi = g_row[l];
            // Face coefficients below and above point i (boundary faces: 0 for no-flux,
            // 2 kappa g for a fixed value half a voxel away).
            let (k_lo, ghost_lo) = if i == 0 {
                match p.low {
                    Some(v) => (2.0 * p.kappa * gi, v),
                    None => (0.0, u),
                }
            } else {
                (prev_k[l], prev_old[l])
            };
            let (k_hi, ghost_hi) = if last {
                match p.high {
                    Some(v) => (2.0 * p.kappa * gi, v),
                    None => (0.0, u),
                }
            } else {
                (p.kappa * harmonic(gi, g_next[l]), next[l])
            };
            let rhs = k_hi * (ghost_hi - u) - k_lo * (u - ghost_lo);
            let (a, dp_before) = if i == 0 {
                (0.0, 0.0)
            } else {
                (-th * k_lo, dp_prev[l])
            };
            let c = if last { 0.0 } else { -th * k_hi };
            let b = 1.0 + th * (k_lo + k_hi);
            let inv = 1.0 / (b - a * prev_cp[l]);
            let cpi = c * inv;
            cp_row[l] = cpi;
            prev_cp[l] = cpi;
            prev_old[l] = u;
            prev_k[l] = k_hi;
            dp_row[l] = (rhs - a * dp_before) * inv;
        }
    }
    // Back substitution for the change, added to the values.
    for i in (0..n).rev() {
        let (dp_head, dp_tail) = dp.split_at_mut((i + 1) * lanes);
        let dp_row = &mut dp_head[i * lanes..];
        let row = &mut rows[i * lanes..(i + 1) * lanes];
        if i + 1 < n {
            let cp_row = &cp[i * lanes..(i + 1) * lanes];
            for l in 0..lanes {
                dp_row[l] -= cp_row[l] * dp_tail[l];
            }
        }
        for l in 0..lanes {
            row[l] += dp_row[l];
        }
    }
}

/// Fills `g` with local factors from `bone` rows (or 1 without bone).
fn factors(g: &mut [f32], bone: Option<&[f32]>, permeability: f32) {
    match bone {
        Some(b) => {
            for (gv, &bv) in g.iter_mut().zip(b) {
                *gv = local_factor(bv, permeability);
            }
        }
        None => g.fill(1.0),
    }
}

/// Lines per block in the x sweep (lines are transposed into lanes).
const X_LANES: usize = 16;

/// One sweep of `field` along `axis` (0 x, 1 y, 2 z). `bone` is the bone field, if any.
pub fn sweep(field: &mut [f32], bone: Option<&[f32]>, grid: &Grid, axis: usize, p: &LineParams) {
    let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz);
    let slab = nx * ny;
    match axis {
        0 => field.par_chunks_mut(slab).enumerate().for_each_init(
            Scratch::default,
            |s, (k, plane)| {
                let mut j0 = 0;
                while j0 < ny {
                    let lanes = X_LANES.min(ny - j0);
                    s.reserve(nx, lanes);
                    for l in 0..lanes {
                        let line = &plane[(j0 + l) * nx..(j0 + l + 1) * nx];
                        for (i, &v) in line.iter().enumerate() {
                            s.rows[i * lanes + l] = v;
                        }
                        if let Some(b) = bone {
                            let bl = &b[k * slab + (j0 + l) * nx..][..nx];
                            for (i, &bv) in bl.iter().enumerate() {
                                s.g[i * lanes + l] = local_factor(bv, p.bone_permeability);
                            }
                        }
                    }
                    if bone.is_none() {
                        s.g.fill(1.0);
                    }
                    solve_block(s, nx, lanes, p);
                    for l in 0..lanes {
                        let line = &mut plane[(j0 + l) * nx..(j0 + l + 1) * nx];
                        for (i, v) in line.iter_mut().enumerate() {
                            *v = s.rows[i * lanes + l];
                        }
                    }
                    j0 += lanes;
                }
            },
        ),
        1 => field.par_chunks_mut(slab).enumerate().for_each_init(
            Scratch::default,
            |s, (k, plane)| {
                s.reserve(ny, nx);
                factors(
                    &mut s.g,
                    bone.map(|b| &b[k * slab..(k + 1) * slab]),
                    p.bone_permeability,
                );
                let Scratch {
                    g,
                    cp,
                    dp,
                    prev_old,
                    prev_cp,
                    prev_k,
                    ..
                } = s;
                prev_old.fill(0.0);
                prev_cp.fill(0.0);
                prev_k.fill(0.0);
                solve_lines(plane, g, cp, dp, (prev_old, prev_cp, prev_k), ny, nx, p);
            },
        ),
        _ => {
            // Lines along z: gather the (x, z) plane of each y, solve, scatter back.
            let mut per_y: Vec<Vec<&mut [f32]>> = (0..ny).map(|_| Vec::with_capacity(nz)).collect();
            for plane in field.chunks_mut(slab) {
                for (j, row) in plane.chunks_mut(nx).enumerate() {
                    per_y[j].push(row);
                }
            }
            per_y
                .into_par_iter()
                .enumerate()
                .for_each_init(Scratch::default, |s, (j, mut rows)| {
                    s.reserve(nz, nx);
                    for (k, row) in rows.iter().enumerate() {
                        s.rows[k * nx..(k + 1) * nx].copy_from_slice(row);
                        match bone {
                            Some(b) => {
                                let br = &b[k * slab + j * nx..][..nx];
                                for (gv, &bv) in s.g[k * nx..(k + 1) * nx].iter_mut().zip(br) {
                                    *gv = local_factor(bv, p.bone_permeability);
                                }
                            }
                            None => s.g[k * nx..(k + 1) * nx].fill(1.0),
                        }
                    }
                    solve_block(s, nz, nx, p);
                    for (k, row) in rows.iter_mut().enumerate() {
                        row.copy_from_slice(&s.rows[k * nx..(k + 1) * nx]);
                    }
                })
        }
    }
}

fn solve_block(s: &mut Scratch, n: usize, lanes: usize, p: &LineParams) {
    let Scratch {
        rows,
        g,
        cp,
        dp,
        prev_old,
        prev_cp,
        prev_k,
    } = s;
    prev_old.fill(0.0);
    prev_cp.fill(0.0);
    prev_k.fill(0.0);
    solve_lines(
        &mut rows[..n * lanes],
        &g[..n * lanes],
        &mut cp[..n * lanes],
        &mut dp[..n * lanes],
        (
            &mut prev_old[..lanes],
            &mut prev_cp[..lanes],
            &mut prev_k[..lanes],
        ),
        n,
        lanes,
        p,
    );
}
