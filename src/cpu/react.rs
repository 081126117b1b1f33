//! CPU mirror of `shaders/react.wgsl`: per voxel, every field's production and loss from
//! `model::reactions::rates`, then the exponential update.

use rayon::prelude::*;

use super::voxel_blocks;
use crate::model::SpeciesRates;
use crate::model::reactions::{exp_update, rates};

/// One reaction step of `dt` minutes over all voxels.
pub fn react(fields: &mut [f32], n_vox: usize, rates_table: &[SpeciesRates], dt: f32) {
    let nf = rates_table.len();
    voxel_blocks(fields, n_vox)
        .into_par_iter()
        .for_each(|mut block| {
            let len = block[0].len();
            let mut u = vec![0f32; nf];
            let mut next = vec![0f32; nf];
            #[allow(
                clippy::needless_range_loop,
                reason = "v indexes every field's slice of the block"
            )]
            for v in 0..len {
                for f in 0..nf {
                    u[f] = block[f][v];
                }
                for f in 0..nf {
                    let (p, l) = rates(f, u.as_slice(), rates_table);
                    next[f] = exp_update(u[f], p, l, dt);
                }
                for f in 0..nf {
                    block[f][v] = next[f];
                }
            }
        });
}
