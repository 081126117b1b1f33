//! Numbers of one voxel, or of eight at once.
//!
//! The per-voxel model (`model::biology`, `model::reactions`, `pharma::tissue`) is written
//! once over [`Real`]: `f32` is one voxel, [`F32x8`] eight neighbouring voxels, lane by lane
//! the same IEEE operations in the same order (no fused multiply-add), so a lane gives the
//! bits the voxel alone gives. A branch on a voxel's values becomes [`Real::select`]: both
//! sides are computed and one is kept. The CPU's reaction stage runs the model eight voxels
//! at a time (`cpu::react`); tests compare it with the voxel-by-voxel update.
//!
//! [`Real::exp`] and [`Real::powf`] are this module's [`exp`] and [`powf`]: branch-free so
//! that they vectorise, evaluated in f64 (relative error below 1e-13) and rounded to f32
//! once. That is the correctly rounded result except within ~1e-13 of a rounding boundary,
//! so they agree with the platform's `expf`/`powf` in all but rare last-bit cases (tests).

#![allow(
    clippy::needless_range_loop,
    reason = "a lane loop indexes its inputs and output in step: the form the compiler maps to one vector instruction"
)]

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// A scalar `f32` or eight lanes of them: what the per-voxel model is computed in.
pub trait Real:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// The result of a comparison, one truth value per lane.
    type Mask: Copy;
    /// Every lane `x`.
    fn splat(x: f32) -> Self;
    /// Lane-wise `f32::max`.
    fn max(self, other: Self) -> Self;
    /// Lane-wise `f32::min`.
    fn min(self, other: Self) -> Self;
    /// Lane-wise `self > other`.
    fn gt(self, other: Self) -> Self::Mask;
    /// Lane-wise `self == other`.
    fn equals(self, other: Self) -> Self::Mask;
    /// `a` where `mask` holds, else `b`.
    fn select(mask: Self::Mask, a: Self, b: Self) -> Self;
    /// Whether `mask` holds in any lane (to skip work no lane keeps).
    fn any(mask: Self::Mask) -> bool;
    /// Whether `mask` holds in every lane.
    fn all(mask: Self::Mask) -> bool;
    /// Lane-wise [`exp`].
    fn exp(self) -> Self;
    /// Lane-wise [`powf`].
    fn powf(self, y: Self) -> Self;
}

impl Real for f32 {
    type Mask = bool;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f32::max(self, other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        f32::min(self, other)
    }
    #[inline(always)]
    fn gt(self, other: Self) -> bool {
        self > other
    }
    #[inline(always)]
    fn equals(self, other: Self) -> bool {
        self == other
    }
    #[inline(always)]
    fn select(mask: bool, a: Self, b: Self) -> Self {
        if mask { a } else { b }
    }
    #[inline(always)]
    fn any(mask: bool) -> bool {
        mask
    }
    #[inline(always)]
    fn all(mask: bool) -> bool {
        mask
    }
    #[inline(always)]
    fn exp(self) -> Self {
        exp(self)
    }
    #[inline(always)]
    fn powf(self, y: Self) -> Self {
        powf(self, y)
    }
}

/// Lanes per [`F32x8`].
pub const LANES: usize = 8;

/// Eight `f32` lanes. Each operation is a loop over the lanes, which the compiler turns into
/// one vector instruction (two on a 128-bit build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(32))]
pub struct F32x8(pub [f32; LANES]);

impl F32x8 {
    /// The first `min(8, s.len())` values of `s`, the other lanes 0.
    #[inline(always)]
    pub fn load(s: &[f32]) -> Self {
        let mut r = [0.0; LANES];
        let n = s.len().min(LANES);
        r[..n].copy_from_slice(&s[..n]);
        F32x8(r)
    }

    /// The first `min(8, s.len())` lanes into `s`.
    #[inline(always)]
    pub fn store(self, s: &mut [f32]) {
        let n = s.len().min(LANES);
        s[..n].copy_from_slice(&self.0[..n]);
    }

    #[inline(always)]
    fn map(self, f: impl Fn(f32) -> f32) -> Self {
        let mut r = [0.0; LANES];
        for i in 0..LANES {
            r[i] = f(self.0[i]);
        }
        F32x8(r)
    }

    #[inline(always)]
    fn zip(self, o: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        let mut r = [0.0; LANES];
        for i in 0..LANES {
            r[i] = f(self.0[i], o.0[i]);
        }
        F32x8(r)
    }

    #[inline(always)]
    fn compare(self, o: Self, f: impl Fn(f32, f32) -> bool) -> Mask8 {
        let mut r = [0u32; LANES];
        for i in 0..LANES {
            r[i] = if f(self.0[i], o.0[i]) { u32::MAX } else { 0 };
        }
        Mask8(r)
    }
}

/// Per-lane truth values of an [`F32x8`] comparison: all bits set or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask8([u32; LANES]);

macro_rules! lane_op {
    ($trait:ident, $method:ident, $op:tt) => {
        impl $trait for F32x8 {
            type Output = F32x8;
            #[inline(always)]
            fn $method(self, o: F32x8) -> F32x8 {
                self.zip(o, |a, b| a $op b)
            }
        }
    };
}
lane_op!(Add, add, +);
lane_op!(Sub, sub, -);
lane_op!(Mul, mul, *);
lane_op!(Div, div, /);

impl Neg for F32x8 {
    type Output = F32x8;
    #[inline(always)]
    fn neg(self) -> F32x8 {
        self.map(|a| -a)
    }
}

impl AddAssign for F32x8 {
    #[inline(always)]
    fn add_assign(&mut self, o: F32x8) {
        *self = *self + o;
    }
}

impl Real for F32x8 {
    type Mask = Mask8;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        F32x8([x; LANES])
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.zip(o, f32::max)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.zip(o, f32::min)
    }
    #[inline(always)]
    fn gt(self, o: Self) -> Mask8 {
        self.compare(o, |a, b| a > b)
    }
    #[inline(always)]
    fn equals(self, o: Self) -> Mask8 {
        self.compare(o, |a, b| a == b)
    }
    #[inline(always)]
    fn select(m: Mask8, a: Self, b: Self) -> Self {
        let mut r = [0.0; LANES];
        for i in 0..LANES {
            r[i] = f32::from_bits((a.0[i].to_bits() & m.0[i]) | (b.0[i].to_bits() & !m.0[i]));
        }
        F32x8(r)
    }
    #[inline(always)]
    fn any(m: Mask8) -> bool {
        m.0.iter().fold(0, |a, &b| a | b) != 0
    }
    #[inline(always)]
    fn all(m: Mask8) -> bool {
        m.0.iter().fold(u32::MAX, |a, &b| a & b) == u32::MAX
    }
    #[inline(always)]
    fn exp(self) -> Self {
        self.map(exp)
    }
    #[inline(always)]
    fn powf(self, y: Self) -> Self {
        self.zip(y, powf)
    }
}

/// Saturating response `x / (x + k)`.
#[inline(always)]
pub fn sat<T: Real>(x: T, k: T) -> T {
    x / (x + k)
}

/// `a` where `c`, else `b`, for scalars (if-converted by the compiler, so it vectorises).
#[inline(always)]
fn pick(c: bool, a: f64, b: f64) -> f64 {
    if c { a } else { b }
}

/// 1.5 * 2^52: adding it rounds an f64 below 2^51 in magnitude to an integer, which its low
/// bits then hold.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 in two parts, 0.693147180369... and 1.9082149292705877e-10 (the first with 32
/// trailing zero bits, so `n * LN2_HI` is exact).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// Exponents beyond which an f32 result is 0 (e^-104 is below half the smallest subnormal)
/// or infinite (e^89 is above `f32::MAX`).
const EXP_LO: f64 = -104.0;
const EXP_HI: f64 = 89.0;

/// e^z for z in [EXP_LO, EXP_HI]: z = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor
/// series to r^11 (remainder < 7e-15), times 2^n built in the exponent bits.
#[inline(always)]
fn exp_f64(z: f64) -> f64 {
    let t = z * std::f64::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = (z - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 39_916_800.0;
    for k in (1..=10).rev() {
        p = p * r + INV_FACTORIAL[k];
    }
    let p = p * r + 1.0;
    let scale = f64::from_bits(t.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(1023) << 52);
    p * scale
}

/// 1/k! for k = 0..=10.
const INV_FACTORIAL: [f64; 11] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
];

/// ln x for finite x > 0: x = 2^e m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s) with
/// s = (m - 1)/(m + 1), |s| < 0.172, by its series to s^15 (remainder < 4e-14 relative).
#[inline(always)]
fn ln_f64(x: f64) -> f64 {
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = x.to_bits();
    let m = f64::from_bits((bits & MANTISSA) | 1.0f64.to_bits());
    let big = m > std::f64::consts::SQRT_2;
    let m = pick(big, m * 0.5, m);
    // The exponent field as an f64 without an integer conversion (none is vectorised).
    let field = f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52)) - 4_503_599_627_370_496.0;
    let e = field - pick(big, 1022.0, 1023.0);
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let mut p = 1.0 / 15.0;
    for k in (0..7).rev() {
        p = p * s2 + 1.0 / (2 * k + 1) as f64;
    }
    e * LN2_HI + (e * LN2_LO + 2.0 * s * p)
}

/// e^x in f32: NaN for NaN, 0 below about -103.97, infinite above about 88.72.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let z = (x as f64).clamp(EXP_LO, EXP_HI);
    let r = exp_f64(z) as f32;
    if x.is_nan() { x } else { r }
}

/// x^y in f32 for x >= 0 (NaN for x < 0 or NaN arguments, except x^0 = 1): e^(y ln x) in
/// f64; 0^y is 0 for y > 0 and infinite for y < 0; infinite x gives infinity for y > 0, 0
/// for y < 0.
#[inline(always)]
pub fn powf(x: f32, y: f32) -> f32 {
    let (xd, yd) = (x as f64, y as f64);
    let finite = xd > 0.0 && xd < f64::INFINITY;
    let l = ln_f64(pick(finite, xd, 1.0));
    let z = (yd * l).clamp(EXP_LO, EXP_HI);
    let mut r = exp_f64(z);
    // The edges: zero and infinite bases, then NaN, then y = 0.
    let edge = pick(yd > 0.0, 0.0, f64::INFINITY);
    r = pick(xd == 0.0, edge, r);
    r = pick(xd == f64::INFINITY, pick(yd > 0.0, f64::INFINITY, 0.0), r);
    r = pick(xd < 0.0 || xd.is_nan() || yd.is_nan(), f64::NAN, r);
    r = pick(yd == 0.0, 1.0, r);
    r as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values spread over every exponent and mantissa of `lo..hi` (a multiplicative walk).
    fn spread(lo: f32, hi: f32, n: usize) -> impl Iterator<Item = f32> {
        let step = (hi as f64 / lo as f64).powf(1.0 / n as f64);
        (0..=n)
            .map(move |i| (lo as f64 * step.powi(i as i32) * (1.0 + 1e-3 * (i % 7) as f64)) as f32)
    }

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    /// `exp` is the f64 exponential rounded to f32 everywhere on a dense sweep (mismatches
    /// only by double rounding: at most 1 ulp, and rare), and matches libm's `expf` as
    /// closely.
    #[test]
    fn exp_is_correctly_rounded_but_rarely() {
        let (mut off_f64, mut off_libm, mut n) = (0, 0, 0);
        for x in spread(1e-8, 103.9, 200_000).flat_map(|x| [x, -x]) {
            let want = (x as f64).exp() as f32;
            let got = exp(x);
            assert!(ulps(got, want) <= 1, "exp({x}) = {got}, f64 gives {want}");
            off_f64 += usize::from(got != want);
            assert!(
                ulps(got, x.exp()) <= 1,
                "exp({x}) = {got}, libm gives {}",
                x.exp()
            );
            off_libm += usize::from(got != x.exp());
            n += 1;
        }
        assert!(
            off_f64 * 100_000 <= n,
            "{off_f64} of {n} not correctly rounded"
        );
        // glibc's expf is not correctly rounded everywhere (about 1 in 3,500 here).
        assert!(off_libm * 1_000 <= n, "{off_libm} of {n} differ from libm");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(-200.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        // Into the subnormals.
        assert_eq!(exp(-100.0), (-100f64).exp() as f32);
        assert!(exp(-100.0) > 0.0);
    }

    /// `powf` against the f64 power rounded to f32 over bases 1e-30..1e30 and the
    /// exponents the model uses (Komarova's -0.5..1, Hill coefficients to 4), and its edges.
    #[test]
    fn powf_is_correctly_rounded_but_rarely() {
        let (mut off, mut n) = (0, 0);
        for x in spread(1e-30, 1e30, 20_000) {
            for y in [-0.5f32, 0.1, 0.3333333, 0.5, 1.0, 1.3, 2.0, 2.7, 4.0] {
                let want = (x as f64).powf(y as f64) as f32;
                let got = powf(x, y);
                if want.is_finite() && want > 0.0 {
                    assert!(
                        ulps(got, want) <= 1,
                        "powf({x}, {y}) = {got}, f64 gives {want}"
                    );
                } else {
                    assert_eq!(got, want, "powf({x}, {y})");
                }
                off += usize::from(got != want);
                n += 1;
            }
            // Exact for y = 1 (callers skip it there).
            assert_eq!(powf(x, 1.0), x);
        }
        assert!(off * 100_000 <= n, "{off} of {n} not correctly rounded");
        assert_eq!(powf(1.0, 3.7), 1.0);
        assert_eq!(powf(0.0, 2.0), 0.0);
        assert_eq!(powf(0.0, -0.5), f32::INFINITY);
        assert_eq!(powf(0.0, 0.0), 1.0);
        assert_eq!(powf(5.0, 0.0), 1.0);
        assert_eq!(powf(f32::INFINITY, 0.5), f32::INFINITY);
        assert_eq!(powf(f32::INFINITY, -0.5), 0.0);
        assert_eq!(powf(1e-45, 0.5), (1e-45f32 as f64).powf(0.5) as f32);
        assert!(powf(-2.0, 0.5).is_nan());
        assert!(powf(f32::NAN, 2.0).is_nan());
    }

    /// Every lane of every `F32x8` operation gives the bits of the scalar operation.
    #[test]
    fn lanes_give_the_scalar_bits() {
        let a: Vec<f32> = spread(1e-6, 1e6, 63).collect();
        let b: Vec<f32> = spread(1e-3, 50.0, 63).map(|x| x - 0.2).collect();
        for (ca, cb) in a.chunks(LANES).zip(b.chunks(LANES)) {
            let (va, vb) = (F32x8::load(ca), F32x8::load(cb));
            let m = va.gt(vb);
            let lanes = [
                va + vb,
                va - vb,
                va * vb,
                va / vb,
                -va,
                va.max(vb),
                va.min(vb),
                F32x8::select(m, va, vb),
                F32x8::select(va.equals(vb), va, vb),
                F32x8::splat(if F32x8::any(m) { 1.0 } else { 0.0 }),
                F32x8::splat(if F32x8::all(m) { 1.0 } else { 0.0 }),
                (-vb).exp(),
                va.powf(vb),
                sat(va, vb),
            ];
            for l in 0..LANES {
                let (x, y) = (ca[l], cb[l]);
                let scalar = [
                    x + y,
                    x - y,
                    x * y,
                    x / y,
                    -x,
                    x.max(y),
                    x.min(y),
                    f32::select(x > y, x, y),
                    f32::select(x == y, x, y),
                    if (0..LANES).any(|k| ca[k] > cb[k]) {
                        1.0
                    } else {
                        0.0
                    },
                    if (0..LANES).all(|k| ca[k] > cb[k]) {
                        1.0
                    } else {
                        0.0
                    },
                    exp(-y),
                    powf(x, y),
                    sat(x, y),
                ];
                for (k, (v, s)) in lanes.iter().zip(scalar).enumerate() {
                    assert_eq!(v.0[l].to_bits(), s.to_bits(), "op {k} lane {l}: {x}, {y}");
                }
            }
        }
        let mut out = [9.0; 3];
        F32x8::splat(2.0).store(&mut out);
        assert_eq!(out, [2.0; 3]);
        assert_eq!(
            F32x8::load(&[1.0, 2.0]).0,
            [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
    }
}
