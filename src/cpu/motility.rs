//! CPU mirror of `shaders/motility.wgsl`: chemotaxis as first-order upwind drift of a cell
//! field up an attractant's gradient, confined to marrow. The face speed saturates at
//! `vmax`; sub-steps keep `6 vmax dt_sub / dx <= 1`, so no voxel sends out more than it
//! holds (positivity), and each face flux leaves one voxel and enters the other
//! (conservation). A face into bone is closed in proportion to the bone fraction:
//! `passability = min(1 - b_i, 1 - b_j)`.

use rayon::prelude::*;

use crate::grid::Grid;
use crate::sim::params::Chemotaxis;

/// Runs every sub-step of one pair; `scratch` holds one field.
pub fn motility(
    fields: &mut [f32],
    grid: &Grid,
    bone: usize,
    pair: &Chemotaxis,
    scratch: &mut Vec<f32>,
) {
    let n = grid.len();
    scratch.resize(n, 0.0);
    let cell = pair.cell as usize;
    for _ in 0..pair.substeps {
        {
            let c = &fields[cell * n..(cell + 1) * n];
            let a = &fields[pair.attractant as usize * n..][..n];
            let b = &fields[bone * n..(bone + 1) * n];
            let plane = grid.nx * grid.ny;
            scratch
                .par_chunks_mut(plane)
                .enumerate()
                .for_each(|(z, slab)| {
                    for y in 0..grid.ny {
                        for x in 0..grid.nx {
                            slab[x + grid.nx * y] = updated(c, a, b, grid, pair, x, y, z);
                        }
                    }
                });
        }
        fields[cell * n..(cell + 1) * n].copy_from_slice(scratch);
    }
}

/// The cell value at (x, y, z) after one sub-step.
#[allow(
    clippy::too_many_arguments,
    reason = "mirror of the shader's per-voxel function"
)]
#[inline]
fn updated(
    c: &[f32],
    a: &[f32],
    b: &[f32],
    g: &Grid,
    pair: &Chemotaxis,
    x: usize,
    y: usize,
    z: usize,
) -> f32 {
    let i = x + g.nx * (y + g.ny * z);
    let mut net = 0.0f32;
    let mut face = |j: usize| {
        let v = pair.face_speed(a[j] - a[i]);
        let pass = (1.0 - b[i]).min(1.0 - b[j]).max(0.0);
        let flux = if v > 0.0 { v * c[i] } else { v * c[j] };
        net -= flux * pass;
    };
    if x > 0 {
        face(i - 1);
    }
    if x + 1 < g.nx {
        face(i + 1);
    }
    if y > 0 {
        face(i - g.nx);
    }
    if y + 1 < g.ny {
        face(i + g.nx);
    }
    if z > 0 {
        face(i - g.nx * g.ny);
    }
    if z + 1 < g.nz {
        face(i + g.nx * g.ny);
    }
    (c[i] + pair.dt_sub / pair.dx * net).max(0.0)
}
