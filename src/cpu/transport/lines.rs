//! The block solver of the transport sweeps: `w` tridiagonal lines of `n` points side by
//! side in lanes (row `i` holds point `i` of every line), forward elimination and back
//! substitution in delta form, with a matrix factored once for lines that share it or
//! per-point coefficients from the bone fractions.

use super::{LineParams, harmonic, local_factor};

/// The rows of a block of lines: row `i` is point `i` of every line of the block.
pub(super) trait Rows {
    fn row(&self, i: usize) -> &[f32];
    fn row_mut(&mut self, i: usize) -> &mut [f32];
}

/// Rows `stride` apart in one slice, `w` lanes each.
pub(super) struct Strided<'a> {
    pub(super) data: &'a mut [f32],
    pub(super) stride: usize,
    pub(super) w: usize,
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
pub(super) struct BoneRows<'a> {
    pub(super) data: &'a [f32],
    pub(super) offset: usize,
    pub(super) stride: usize,
    pub(super) w: usize,
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
pub(super) struct Constant {
    k_lo: Vec<f32>,
    k_hi: Vec<f32>,
    a: Vec<f32>,
    inv: Vec<f32>,
    cp: Vec<f32>,
}

impl Constant {
    pub(super) fn new(n: usize, p: &LineParams) -> Self {
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
pub(super) struct Scratch {
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
    pub(super) lines: Vec<f32>,
    pub(super) bone: Vec<f32>,
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

pub(super) fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// Solves `w` lines of `n` points held in `rows`, in delta form:
/// `(I - theta dt A) (u' - u) = dt A u`. Rounding errors then scale with the change of a
/// step rather than with the values, which keeps f32 mass conservation at the 1e-8 level
/// over 1,000 steps. `bone` gives the bone fractions of the same points (general path).
#[inline(always)]
pub(super) fn solve<R: Rows>(
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
