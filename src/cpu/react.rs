//! CPU mirror of `shaders/react.wgsl`: per voxel, every field's production and loss from
//! `model::reactions::rates` plus, with a model, `model::biology::biology` (per day), then
//! the exponential update; with a model, the bone fraction is capped at 1. A field the
//! implicit solver advances keeps its value: its rates go to `implicit_rates` (production
//! then loss, per slot) for the solve that follows. With drugs, their local effects set the
//! therapy terms and their pools take their own step (`pharma::tissue`).

use rayon::prelude::*;

use super::voxel_blocks;
use crate::model::SpeciesRates;
use crate::model::biology::biology;
use crate::model::reactions::{exp_update, rates};
use crate::pharma::tissue::{self, PoolInputs};
use crate::sim::setup::ModelSetup;

/// Days per minute: the model's rates are per day, the step is in minutes.
pub const PER_DAY: f32 = 1.0 / 1440.0;

/// One reaction step of `dt` minutes over all voxels. `implicit_rates` holds two fields per
/// implicit slot (production, loss; 1/min).
pub fn react(
    fields: &mut [f32],
    n_vox: usize,
    rates_table: &[SpeciesRates],
    model: Option<&ModelSetup>,
    implicit_rates: &mut [f32],
    dt: f32,
) {
    let nf = rates_table.len();
    let bone = model.map(|m| m.index.bone);
    let first_drug = model.map_or(nf, |m| tissue::header(&m.params.values).1.min(nf));
    let pools = model.map(|m| PoolInputs::from(&m.index));
    let rate_blocks = if implicit_rates.is_empty() {
        (0..n_vox.div_ceil(super::BLOCK))
            .map(|_| Vec::new())
            .collect()
    } else {
        voxel_blocks(implicit_rates, n_vox)
    };
    voxel_blocks(fields, n_vox)
        .into_par_iter()
        .zip(rate_blocks.into_par_iter())
        .for_each(|(mut block, mut out)| {
            let len = block[0].len();
            let mut u = vec![0f32; nf];
            let mut next = vec![0f32; nf];
            let mut bp = vec![0f32; nf];
            let mut bl = vec![0f32; nf];
            #[allow(
                clippy::needless_range_loop,
                reason = "v indexes every field's slice of the block"
            )]
            for v in 0..len {
                for f in 0..nf {
                    u[f] = block[f][v];
                }
                let mut resorption = 0.0;
                if let Some(m) = model {
                    bp.fill(0.0);
                    bl.fill(0.0);
                    let pv = &m.params.values;
                    let mut th = tissue::therapy_defaults(pv);
                    tissue::drug_effects(&u, pv, m.index.surface, &mut th);
                    resorption = biology(&u, &m.index, pv, &th, &mut bp, &mut bl);
                }
                for f in 0..first_drug {
                    let (p, l) = rates(f, u.as_slice(), rates_table);
                    let (p, l) = (p + bp[f] * PER_DAY, l + bl[f] * PER_DAY);
                    let slot = rates_table[f].implicit as usize;
                    next[f] = if slot > 0 {
                        out[2 * (slot - 1)][v] = p;
                        out[2 * (slot - 1) + 1][v] = l;
                        u[f]
                    } else {
                        let x = exp_update(u[f], p, l, dt);
                        if Some(f) == bone { x.min(1.0) } else { x }
                    };
                }
                if let (Some(m), Some(ix)) = (model, &pools) {
                    tissue::drug_pools(&u, &m.params.values, ix, resorption, dt, &mut next);
                }
                for f in 0..nf {
                    block[f][v] = next[f];
                }
            }
        });
}
