//! Tests of the CPU transport sweeps.

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
