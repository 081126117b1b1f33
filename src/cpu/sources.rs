//! CPU mirror of `shaders/sources.wgsl`: BioFVM-style bulk supply and uptake,
//! `du/dt = S (target - u) - U u`, integrated implicitly per voxel (unconditionally stable
//! and non-negative), regions applied in order.

use rayon::prelude::*;

use super::voxel_blocks;
use crate::grid::Grid;
use crate::sim::params::SourceRegion;

/// One source step of `dt` minutes.
pub fn sources(fields: &mut [f32], grid: &Grid, regions: &[SourceRegion], dt: f32) {
    if regions.is_empty() {
        return;
    }
    let n = grid.len();
    let ext = grid.extent_um().map(|e| e as f32);
    let dx = grid.dx_um as f32;
    let blocks = voxel_blocks(fields, n);
    let block_len = super::BLOCK;
    blocks
        .into_par_iter()
        .enumerate()
        .for_each(|(bi, mut block)| {
            let len = block[0].len();
            #[allow(
                clippy::needless_range_loop,
                reason = "v indexes every field's slice of the block"
            )]
            for v in 0..len {
                let idx = bi * block_len + v;
                let [i, j, k] = grid.coords(idx);
                let p = [
                    (i as f32 + 0.5) * dx,
                    (j as f32 + 0.5) * dx,
                    (k as f32 + 0.5) * dx,
                ];
                for r in regions {
                    let w = r.weight(p, ext, block[r.weight_field as usize][v]);
                    if w <= 0.0 {
                        continue;
                    }
                    let s = w * r.supply;
                    let up = w * r.uptake;
                    let u = &mut block[r.field as usize][v];
                    *u = (*u + dt * s * r.target) / (1.0 + dt * (s + up));
                }
            }
        });
}
