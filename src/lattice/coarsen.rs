//! A lattice moved onto a coarser grid of the same box by partial volumes: each coarse
//! voxel takes the volume-weighted mean of the fine voxels it overlaps (exact box
//! overlaps, any ratio of voxel sizes), so a resolution study can give every grid the same
//! bone and the same bone volume.

use super::Lattice;
use crate::error::{Error, Result};
use crate::grid::Grid;

/// Per coarse cell along one axis: the fine cells it overlaps, each with the share of the
/// coarse cell it covers (the shares of a cell sum to 1).
fn overlaps(
    fine_n: usize,
    fine_dx: f64,
    coarse_n: usize,
    coarse_dx: f64,
) -> Vec<Vec<(usize, f64)>> {
    (0..coarse_n)
        .map(|c| {
            let (lo, hi) = (c as f64 * coarse_dx, (c + 1) as f64 * coarse_dx);
            let first = ((lo / fine_dx).floor() as usize).min(fine_n - 1);
            let mut cells: Vec<(usize, f64)> = (first..fine_n)
                .map(|f| {
                    let (a, b) = (f as f64 * fine_dx, (f + 1) as f64 * fine_dx);
                    (f, (hi.min(b) - lo.max(a)).max(0.0))
                })
                .take_while(|&(f, _)| (f as f64) * fine_dx < hi)
                .filter(|&(_, w)| w > 0.0)
                .collect();
            let covered: f64 = cells.iter().map(|&(_, w)| w).sum();
            for cell in &mut cells {
                cell.1 /= covered;
            }
            cells
        })
        .collect()
}

/// One field on `fine` averaged onto `coarse` by partial volumes (axis by axis).
fn average(values: &[f32], fine: &Grid, coarse: &Grid) -> Vec<f32> {
    let w: Vec<Vec<Vec<(usize, f64)>>> = (0..3)
        .map(|a| overlaps(fine.dims()[a], fine.dx_um, coarse.dims()[a], coarse.dx_um))
        .collect();
    let mut shape = fine.dims();
    let mut data: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    for (axis, weights) in w.iter().enumerate() {
        let mut next_shape = shape;
        next_shape[axis] = coarse.dims()[axis];
        let [nx, ny, nz] = next_shape;
        let mut next = vec![0f64; nx * ny * nz];
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    let idx = [i, j, k];
                    next[i + nx * (j + ny * k)] = weights[idx[axis]]
                        .iter()
                        .map(|&(f, share)| {
                            let mut src = idx;
                            src[axis] = f;
                            share * data[src[0] + shape[0] * (src[1] + shape[1] * src[2])]
                        })
                        .sum();
                }
            }
        }
        shape = next_shape;
        data = next;
    }
    data.into_iter().map(|v| v.clamp(0.0, 1.0) as f32).collect()
}

impl Lattice {
    /// This lattice on `grid`, a grid of no finer voxels whose box lies inside this one's
    /// (the same box at fewer voxels, as `--resolution` gives; a last voxel may reach past
    /// it by less than its own width, from rounding a non-cubic box): bone and vessel
    /// fractions by partial volumes, so the bone volume is kept up to rounding.
    pub fn coarsen(&self, grid: Grid) -> Result<Lattice> {
        let (fine, ext) = (self.grid, self.grid.extent_um());
        let want = grid.extent_um();
        if grid.dx_um < fine.dx_um * (1.0 - 1e-9) {
            return Err(Error::Invalid(format!(
                "lattice: cannot coarsen {:.2} µm voxels to finer {:.2} µm ones; build the lattice at the finest grid",
                fine.dx_um, grid.dx_um
            )));
        }
        // Rounding a non-cubic box to whole voxels can leave the last coarse voxel partly
        // outside the fine lattice: it takes the mean of its part inside. More than that
        // is a different box.
        if let Some(a) = (0..3).find(|&a| want[a] >= ext[a] + grid.dx_um * (1.0 - 1e-9)) {
            return Err(Error::Invalid(format!(
                "lattice: the coarse grid is {:.1} µm along {} but the fine lattice covers {:.1} µm",
                want[a],
                ["x", "y", "z"][a],
                ext[a]
            )));
        }
        Ok(Lattice {
            grid,
            bone: average(&self.bone, &fine, &grid),
            vessels: self.vessels.as_ref().map(|v| average(v, &fine, &grid)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fine() -> Lattice {
        let params = crate::lattice::tests::params();
        let mut l = Lattice::trabecular(Grid::cube(24, 20.0), &params, 3);
        l.vessels = Some(l.bone.iter().map(|&b| 0.5 * (1.0 - b)).collect());
        l
    }

    #[test]
    fn coarsening_keeps_the_bone_volume_at_any_ratio() {
        let f = fine();
        for n in [24, 16, 12, 9, 7] {
            let g = Grid::cube(n, 480.0 / n as f64);
            let c = f.coarsen(g).unwrap();
            assert_eq!(c.bone.len(), g.len());
            assert!(
                (c.bv_tv() - f.bv_tv()).abs() < 1e-6,
                "{n}^3: BV/TV {} from {}",
                c.bv_tv(),
                f.bv_tv()
            );
            assert!(
                (c.vessel_fraction().unwrap() - f.vessel_fraction().unwrap()).abs() < 1e-6,
                "{n}^3: vessels"
            );
        }
        assert_eq!(
            f.coarsen(f.grid).unwrap(),
            f,
            "the same grid is the identity"
        );
    }

    #[test]
    fn a_coarse_voxel_is_the_mean_of_the_fine_ones_it_covers() {
        let f = fine();
        // Halving: voxel (i, j, k) of 12^3 is the mean of the 2x2x2 block below it.
        let c = f.coarsen(Grid::cube(12, 40.0)).unwrap();
        for &(i, j, k) in &[(0, 0, 0), (5, 7, 3), (11, 11, 11)] {
            let mut s = 0.0;
            for dk in 0..2 {
                for dj in 0..2 {
                    for di in 0..2 {
                        s += f.bone[f.grid.index(2 * i + di, 2 * j + dj, 2 * k + dk)] as f64;
                    }
                }
            }
            let got = c.bone[c.grid.index(i, j, k)] as f64;
            assert!(
                (got - s / 8.0).abs() < 1e-6,
                "({i},{j},{k}): {got} vs {}",
                s / 8.0
            );
        }
        // 24 -> 9 (ratio 8/3): coarse voxel 0 covers fine voxels 0, 1 fully and 2/3 of 2.
        let c = f.coarsen(Grid::cube(9, 480.0 / 9.0)).unwrap();
        let mut expect = 0.0;
        for (fi, w) in [(0, 1.0), (1, 1.0), (2, 2.0 / 3.0)] {
            for (fj, wj) in [(0, 1.0), (1, 1.0), (2, 2.0 / 3.0)] {
                for (fk, wk) in [(0, 1.0), (1, 1.0), (2, 2.0 / 3.0)] {
                    expect += w * wj * wk * f.bone[f.grid.index(fi, fj, fk)] as f64;
                }
            }
        }
        expect /= (8.0f64 / 3.0).powi(3);
        let got = c.bone[0] as f64;
        assert!((got - expect).abs() < 1e-6, "{got} vs {expect}");
    }

    #[test]
    fn coarsening_refuses_finer_or_larger_grids() {
        let f = fine();
        let e = f.coarsen(Grid::cube(48, 10.0)).unwrap_err().to_string();
        assert!(e.contains("finer"), "{e}");
        let e = f.coarsen(Grid::cube(12, 80.0)).unwrap_err().to_string();
        assert!(e.contains("covers"), "{e}");
        // A last voxel partly outside (7 x 70 µm = 490 µm over a 480 µm lattice) is the
        // mean of its part inside: along x, fine voxels 21, 22, 23 are its 60 µm inside.
        let c = f.coarsen(Grid::new(7, 6, 6, 70.0)).unwrap();
        assert!(
            c.bone
                .iter()
                .all(|b| b.is_finite() && (0.0..=1.0).contains(b))
        );
        let mut s = 0.0;
        for (fi, wi) in [(21, 1.0), (22, 1.0), (23, 1.0)] {
            for (fj, wj) in [(0, 1.0), (1, 1.0), (2, 1.0), (3, 0.5)] {
                for (fk, wk) in [(0, 1.0), (1, 1.0), (2, 1.0), (3, 0.5)] {
                    s += wi * wj * wk * f.bone[f.grid.index(fi, fj, fk)] as f64;
                }
            }
        }
        let want = s / (3.0 * 3.5 * 3.5);
        let got = c.bone[c.grid.index(6, 0, 0)] as f64;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}
