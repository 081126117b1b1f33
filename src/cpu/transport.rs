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
    k: Vec<f32>,
}

impl Scratch {
    fn reserve(&mut self, n: usize, lanes: usize) {
        for v in [
            &mut self.rows,
            &mut self.g,
            &mut self.cp,
            &mut self.dp,
            &mut self.k,
        ] {
            v.resize(n * lanes, 0.0);
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
/// f32 mass conservation at the 1e-8 level over 1,000 steps. `k` receives each point's
/// upper face coefficient.
fn solve_lines(
    rows: &mut [f32],
    g: &[f32],
    (cp, dp, k): (&mut [f32], &mut [f32], &mut [f32]),
    n: usize,
    lanes: usize,
    p: &LineParams,
) {
    let w = lanes;
    if n == 1 {
        forward_row::<true, true>(rows, g, cp, dp, k, 0, w, p);
    } else {
        forward_row::<true, false>(rows, g, cp, dp, k, 0, w, p);
        for i in 1..n - 1 {
            forward_row::<false, false>(rows, g, cp, dp, k, i, w, p);
        }
        forward_row::<false, true>(rows, g, cp, dp, k, n - 1, w, p);
    }
    // Back substitution for the change, added to the values.
    for i in (0..n).rev() {
        let (dp_head, dp_tail) = dp.split_at_mut((i + 1) * w);
        let dp_row = &mut dp_head[i * w..];
        let row = &mut rows[i * w..(i + 1) * w];
        if i + 1 < n {
            let cp_row = &cp[i * w..(i + 1) * w];
            for ((d, &c), &d_next) in dp_row.iter_mut().zip(cp_row).zip(&dp_tail[..w]) {
                *d -= c * d_next;
            }
        }
        for (u, &d) in row.iter_mut().zip(dp_row.iter()) {
            *u += d;
        }
    }
}

/// Forward elimination of point `i` of every lane; `FIRST` and `LAST` mark the line ends
/// (compile-time, so the interior loop has no branches and vectorises).
#[allow(
    clippy::too_many_arguments,
    reason = "scratch rows are passed apart so they can be borrowed apart"
)]
#[inline(always)]
fn forward_row<const FIRST: bool, const LAST: bool>(
    rows: &[f32],
    g: &[f32],
    cp: &mut [f32],
    dp: &mut [f32],
    k: &mut [f32],
    i: usize,
    w: usize,
    p: &LineParams,
) {
    let th = p.theta;
    let kappa = p.kappa;
    let row = &rows[i * w..(i + 1) * w];
    let g_row = &g[i * w..(i + 1) * w];
    let (next, g_next) = if LAST {
        (row, g_row)
    } else {
        (
            &rows[(i + 1) * w..(i + 2) * w],
            &g[(i + 1) * w..(i + 2) * w],
        )
    };
    let prev = if FIRST {
        row
    } else {
        &rows[(i - 1) * w..i * w]
    };
    // Rows i-1 (read) and i (written) of the scratch arrays, borrowed apart.
    let (cp_before, cp_after) = cp.split_at_mut(i * w);
    let (dp_before_rows, dp_after) = dp.split_at_mut(i * w);
    let (k_before, k_after) = k.split_at_mut(i * w);
    let (cp_row, dp_row, k_row) = (&mut cp_after[..w], &mut dp_after[..w], &mut k_after[..w]);
    let (prev_cp, prev_dp, prev_k): (&[f32], &[f32], &[f32]) = if FIRST {
        (row, row, row)
    } else {
        (
            &cp_before[(i - 1) * w..],
            &dp_before_rows[(i - 1) * w..],
            &k_before[(i - 1) * w..],
        )
    };
    for l in 0..w {
        let u = row[l];
        let gi = g_row[l];
        // Face coefficients below and above point i (boundary faces: 0 for no-flux,
        // 2 kappa g for a fixed value half a voxel away).
        let (k_lo, ghost_lo) = if FIRST {
            match p.low {
                Some(v) => (2.0 * kappa * gi, v),
                None => (0.0, u),
            }
        } else {
            (prev_k[l], prev[l])
        };
        let (k_hi, ghost_hi) = if LAST {
            match p.high {
                Some(v) => (2.0 * kappa * gi, v),
                None => (0.0, u),
            }
        } else {
            (kappa * harmonic(gi, g_next[l]), next[l])
        };
        let rhs = k_hi * (ghost_hi - u) - k_lo * (u - ghost_lo);
        let (a, dp_before, cp_before) = if FIRST {
            (0.0, 0.0, 0.0)
        } else {
            (-th * k_lo, prev_dp[l], prev_cp[l])
        };
        let c = if LAST { 0.0 } else { -th * k_hi };
        let b = 1.0 + th * (k_lo + k_hi);
        let inv = 1.0 / (b - a * cp_before);
        cp_row[l] = c * inv;
        k_row[l] = k_hi;
        dp_row[l] = (rhs - a * dp_before) * inv;
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
const X_LANES: usize = 32;

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
                let Scratch { g, cp, dp, k, .. } = s;
                solve_lines(plane, g, (cp, dp, k), ny, nx, p);
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
    let len = n * lanes;
    let Scratch { rows, g, cp, dp, k } = s;
    solve_lines(
        &mut rows[..len],
        &g[..len],
        (&mut cp[..len], &mut dp[..len], &mut k[..len]),
        n,
        lanes,
        p,
    );
}
