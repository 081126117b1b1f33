//! The bone-surface indicator `s = min(1, 2 |grad b|)` (central differences in voxel units,
//! mirrored at the walls), 1 on both sides of a sharp bone-marrow interface and 0 deep in
//! bone or marrow: part of the lattice's geometry, and the CPU mirror of the `surface`
//! kernel (`shaders/surface.wgsl`), which the CPU backend runs after every reaction step
//! since remodelling moves the surface.

use rayon::prelude::*;

use crate::grid::Grid;

/// Indicator at voxel (x, y, z) from the bone field `b`.
#[inline]
pub fn indicator(b: &[f32], g: &Grid, x: usize, y: usize, z: usize) -> f32 {
    let at = |x: usize, y: usize, z: usize| b[x + g.nx * (y + g.ny * z)];
    let d = |lo: f32, hi: f32| 0.5 * (hi - lo);
    let gx = d(
        at(x.saturating_sub(1), y, z),
        at((x + 1).min(g.nx - 1), y, z),
    );
    let gy = d(
        at(x, y.saturating_sub(1), z),
        at(x, (y + 1).min(g.ny - 1), z),
    );
    let gz = d(
        at(x, y, z.saturating_sub(1)),
        at(x, y, (z + 1).min(g.nz - 1)),
    );
    (2.0 * (gx * gx + gy * gy + gz * gz).sqrt()).min(1.0)
}

/// Writes the indicator of field `bone` into field `surface` (1 everywhere when
/// `well_mixed`).
pub fn surface(fields: &mut [f32], grid: &Grid, bone: usize, surface: usize, well_mixed: bool) {
    let n = grid.len();
    let (b, s) = if bone < surface {
        let (lo, hi) = fields.split_at_mut(surface * n);
        (&lo[bone * n..(bone + 1) * n], &mut hi[..n])
    } else {
        let (lo, hi) = fields.split_at_mut(bone * n);
        (&hi[..n], &mut lo[surface * n..(surface + 1) * n])
    };
    let plane = grid.nx * grid.ny;
    s.par_chunks_mut(plane).enumerate().for_each(|(z, slab)| {
        for y in 0..grid.ny {
            for x in 0..grid.nx {
                slab[x + grid.nx * y] = if well_mixed {
                    1.0
                } else {
                    indicator(b, grid, x, y, z)
                };
            }
        }
    });
}
