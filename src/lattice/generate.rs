//! Procedural trabecular bone, controlled by the morphometric parameters bone researchers
//! use: BV/TV, trabecular thickness Tb.Th, degree of anisotropy along a preferred axis, and
//! the plate-versus-rod character; optional cortical shell on chosen faces.
//!
//! Construction: trabecular plates are thickened zero sets of a band-limited Gaussian random
//! field `g` (a sum of plane waves of one wavelength, random directions and phases; seeded),
//! rods are thickened intersection curves of two such fields. A voxel's distance to the
//! plate (rod) mid-surface is estimated as `|g| / |grad g|` (the first-order distance to a
//! level set), and bone fills the voxel in proportion to how much of it lies within
//! Tb.Th / 2 (partial volume across one voxel). Tb.Th is thus set directly; BV/TV is then
//! hit by choosing the wavelength (the density of plates and rods) by bisection on a fixed
//! sample of points. A slowly varying selector field decides where plates and where rods
//! sit (`plate_fraction`). Anisotropy stretches the fields along the axis. All randomness
//! comes from the seed, so a seed gives the same lattice on every machine.

use rayon::prelude::*;

use super::SplitMix64;
use crate::grid::Grid;

/// An outer face of the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Face {
    /// x = 0
    XMin,
    /// x = Lx
    XMax,
    /// y = 0
    YMin,
    /// y = Ly
    YMax,
    /// z = 0
    ZMin,
    /// z = Lz
    ZMax,
}

/// Controls of the procedural generator.
#[derive(Debug, Clone, PartialEq)]
pub struct TrabecularParams {
    /// Bone volume fraction of the trabecular region, 0 < BV/TV < 1.
    pub bv_tv: f64,
    /// Mean trabecular thickness, µm.
    pub tb_th_um: f64,
    /// Degree of anisotropy (>= 1): structures are stretched this much along `axis`.
    pub anisotropy: f64,
    /// Preferred axis (0 x, 1 y, 2 z).
    pub axis: usize,
    /// Share of the volume where trabeculae are plates (the rest are rods), 0..=1.
    pub plate_fraction: f64,
    /// Faces carrying a cortical shell, and its thickness in µm.
    pub cortical: Vec<(Face, f64)>,
}

/// Plane waves of one random field.
struct Field {
    waves: Vec<([f64; 3], f64)>,
}

const WAVES: usize = 24;

impl Field {
    fn new(rng: &mut SplitMix64, anisotropy: f64, axis: usize) -> Field {
        let waves = (0..WAVES)
            .map(|_| {
                // Uniform direction on the sphere, wavenumber jittered by +-15 %.
                let z = 2.0 * rng.next_f64() - 1.0;
                let phi = std::f64::consts::TAU * rng.next_f64();
                let s = (1.0 - z * z).sqrt();
                let mut k = [s * phi.cos(), s * phi.sin(), z];
                let scale = 1.0 + 0.3 * (rng.next_f64() - 0.5);
                for c in &mut k {
                    *c *= scale;
                }
                // Stretch along the axis: the field varies slower there.
                k[axis] /= anisotropy;
                (k, std::f64::consts::TAU * rng.next_f64())
            })
            .collect();
        Field { waves }
    }

    /// Value and gradient at `p` for wavenumber scale `k0` (rad/µm).
    #[inline]
    fn eval(&self, p: [f64; 3], k0: f64) -> (f64, [f64; 3]) {
        let mut v = 0.0;
        let mut g = [0.0; 3];
        for (k, phase) in &self.waves {
            let arg = k0 * (k[0] * p[0] + k[1] * p[1] + k[2] * p[2]) + phase;
            let (s, c) = arg.sin_cos();
            v += c;
            for a in 0..3 {
                g[a] -= k0 * k[a] * s;
            }
        }
        (v, g)
    }
}

fn norm(g: [f64; 3]) -> f64 {
    (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt().max(1e-30)
}

struct Generator {
    plate: Field,
    rod_a: Field,
    rod_b: Field,
    selector: Field,
    params: TrabecularParams,
}

impl Generator {
    /// Bone fraction of a cube of edge `dx` centred at `p`, for wavenumber scale `k0`.
    fn fraction(&self, p: [f64; 3], k0: f64, threshold: f64, dx: f64) -> f64 {
        let r = 0.5 * self.params.tb_th_um;
        // Plates where the slow selector field is below its threshold, rods above, both in
        // a band between so that the two kinds join (wavelength 3x the trabecular one).
        let (m, _) = self.selector.eval(p, k0 / 3.0);
        let mut f: f64 = 0.0;
        if m < threshold + SELECTOR_BAND {
            let (g, dg) = self.plate.eval(p, k0);
            f = f.max(ramp(r - g.abs() / norm(dg), dx));
        }
        if m > threshold - SELECTOR_BAND {
            // Distance to the curve where both fields vanish: exact for two planes meeting
            // at any angle (|n1 x n2|^2 d^2 = a^2 + b^2 - 2 a b cos).
            let (a, ga) = self.rod_a.eval(p, k0);
            let (b, gb) = self.rod_b.eval(p, k0);
            let (na, nb) = (norm(ga), norm(gb));
            let (da, db) = (a / na, b / nb);
            let cos = (ga[0] * gb[0] + ga[1] * gb[1] + ga[2] * gb[2]) / (na * nb);
            let sin2 = (1.0 - cos * cos).max(0.05);
            let d2 = ((da * da + db * db - 2.0 * da * db * cos) / sin2).max(0.0);
            f = f.max(ramp(r - d2.sqrt(), dx));
        }
        f
    }
}

/// Half-width of the band of selector values where plates and rods overlap.
const SELECTOR_BAND: f64 = 0.5;

/// Share of a voxel of edge `dx` inside, given the signed distance `s` (µm, > 0 inside) of
/// its centre from the surface: a linear ramp across one voxel.
fn ramp(s: f64, dx: f64) -> f64 {
    (0.5 + s / dx).clamp(0.0, 1.0)
}

/// Points where BV/TV is estimated during calibration.
const CALIBRATION_POINTS: usize = 40_000;

/// Generates the bone fraction of `grid` (see the module docs).
pub fn trabecular(grid: Grid, params: &TrabecularParams, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed ^ 0x7ab3_c0de);
    let (a, axis) = (params.anisotropy.max(1.0), params.axis.min(2));
    let plate = Field::new(&mut rng, a, axis);
    let rod_a = Field::new(&mut rng, a, axis);
    let rod_b = Field::new(&mut rng, a, axis);
    let selector = Field::new(&mut rng, 1.0, axis);
    let ext = grid.extent_um();
    let points = CALIBRATION_POINTS.min(4 * grid.len()).max(2_000);
    let samples: Vec<[f64; 3]> = (0..points)
        .map(|_| {
            [
                rng.next_f64() * ext[0],
                rng.next_f64() * ext[1],
                rng.next_f64() * ext[2],
            ]
        })
        .collect();
    let generator = Generator {
        plate,
        rod_a,
        rod_b,
        selector,
        params: params.clone(),
    };
    // Selector threshold at a wavenumber scale: the plate_fraction quantile of the selector
    // over the sample points, so that plates fill that share of the volume.
    let threshold_at = |k0: f64| {
        if params.plate_fraction >= 1.0 {
            return f64::INFINITY;
        }
        if params.plate_fraction <= 0.0 {
            return f64::NEG_INFINITY;
        }
        let mut sel: Vec<f64> = samples
            .iter()
            .map(|&p| generator.selector.eval(p, k0 / 3.0).0)
            .collect();
        let q = (params.plate_fraction * (sel.len() - 1) as f64) as usize;
        *sel.select_nth_unstable_by(q, f64::total_cmp).1
    };
    let dx = grid.dx_um;
    // Values in parallel, summed in order: the same lattice whatever the thread count.
    let bv_at = |k0: f64| {
        let t = threshold_at(k0);
        let values: Vec<f64> = samples
            .par_iter()
            .map(|&p| generator.fraction(p, k0, t, dx))
            .collect();
        values.iter().sum::<f64>() / samples.len() as f64
    };
    // BV/TV grows with the wavenumber (more plates per volume): bisect on log k0.
    let (mut lo, mut hi) = (1e-4f64, 1.0f64);
    for _ in 0..24 {
        let mid = (lo * hi).sqrt();
        if bv_at(mid) < params.bv_tv {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k0 = (lo * hi).sqrt();
    let threshold = threshold_at(k0);
    let mut bone: Vec<f32> = (0..grid.len())
        .into_par_iter()
        .map(|v| generator.fraction(grid.center_of(v), k0, threshold, dx) as f32)
        .collect();
    for &(face, thickness) in &params.cortical {
        add_cortex(&grid, &mut bone, face, thickness);
    }
    bone
}

/// Fills a shell of `thickness` µm along `face` with bone (partial volume at its edge).
fn add_cortex(grid: &Grid, bone: &mut [f32], face: Face, thickness: f64) {
    let ext = grid.extent_um();
    bone.par_iter_mut().enumerate().for_each(|(v, b)| {
        let p = grid.center_of(v);
        let depth = match face {
            Face::XMin => p[0],
            Face::XMax => ext[0] - p[0],
            Face::YMin => p[1],
            Face::YMax => ext[1] - p[1],
            Face::ZMin => p[2],
            Face::ZMax => ext[2] - p[2],
        };
        let f = ramp(thickness - depth, grid.dx_um) as f32;
        *b = b.max(f);
    });
}
