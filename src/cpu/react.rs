//! CPU mirror of `shaders/react.wgsl`: per voxel, every field's production and loss from
//! `model::reactions::rates` plus, with a model, `model::biology::biology` (per day), then
//! the exponential update; with a model, the bone fraction is capped at 1. A field the
//! implicit solver advances keeps its value: its rates go to `implicit_rates` (production
//! then loss, per slot) for the solve that follows. With drugs, their local effects set the
//! therapy terms and their pools take their own step (`pharma::tissue`).
//!
//! Voxels are staged 128 at a time in a voxel-major tile: each field's run is copied in
//! and out contiguously, and the per-voxel code reads one contiguous row, instead of
//! gathering ~40 fields voxel by voxel from their own streams (that gather alone took
//! about as long as the arithmetic). The same arithmetic, so the same bits.

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
    let n_rates = rate_blocks.first().map_or(0, Vec::len);
    let ctx = Voxel {
        rates_table,
        model,
        pools,
        bone,
        first_drug,
        dt,
    };
    voxel_blocks(fields, n_vox)
        .into_par_iter()
        .zip(rate_blocks.into_par_iter())
        .for_each_init(
            || Tile::new(nf, n_rates),
            |t, (mut block, mut out)| {
                let len = block[0].len();
                for v0 in (0..len).step_by(TILE) {
                    let w = TILE.min(len - v0);
                    t.gather(&block, v0, w);
                    for v in 0..w {
                        let u = &t.u[v * nf..(v + 1) * nf];
                        let next = &mut t.next[v * nf..(v + 1) * nf];
                        let rates_out = &mut t.rates[v * n_rates..(v + 1) * n_rates];
                        voxel(u, next, rates_out, &mut t.bp, &mut t.bl, &ctx);
                    }
                    t.scatter(&mut block, &mut out, v0, w);
                }
            },
        );
}

/// What every voxel's update reads.
struct Voxel<'a> {
    rates_table: &'a [SpeciesRates],
    model: Option<&'a ModelSetup>,
    pools: Option<PoolInputs>,
    bone: Option<usize>,
    first_drug: usize,
    dt: f32,
}

/// One voxel: its fields `u` to `next`, the implicit fields' production and loss rates to
/// `rates_out`; `bp`, `bl` are scratch of one value per field.
fn voxel(
    u: &[f32],
    next: &mut [f32],
    rates_out: &mut [f32],
    bp: &mut [f32],
    bl: &mut [f32],
    c: &Voxel<'_>,
) {
    next.copy_from_slice(u);
    rates_out.fill(0.0);
    let mut resorption = 0.0;
    if let Some(m) = c.model {
        bp.fill(0.0);
        bl.fill(0.0);
        let pv = &m.params.values;
        let mut th = tissue::therapy_defaults(pv);
        tissue::drug_effects(u, pv, m.index.surface, &mut th);
        resorption = biology(u, &m.index, pv, &th, bp, bl);
    }
    for f in 0..c.first_drug {
        let (p, l) = rates(f, u, c.rates_table);
        let (p, l) = (p + bp[f] * PER_DAY, l + bl[f] * PER_DAY);
        let slot = c.rates_table[f].implicit as usize;
        if slot > 0 {
            rates_out[2 * (slot - 1)] = p;
            rates_out[2 * (slot - 1) + 1] = l;
        } else {
            let x = exp_update(u[f], p, l, c.dt);
            next[f] = if Some(f) == c.bone { x.min(1.0) } else { x };
        }
    }
    if let (Some(m), Some(ix)) = (c.model, &c.pools) {
        tissue::drug_pools(u, &m.params.values, ix, resorption, c.dt, next);
    }
}

/// Voxels per staging tile: 128 voxels of up to ~40 fields and their rates stay in L1.
const TILE: usize = 128;

/// A voxel-major copy of a few voxels of every field (`u`, `next`: voxel `v`'s fields at
/// `v * nf ..`) and of the implicit rates they produce: each field's run of the block is
/// read and written once, contiguously, instead of every field being gathered voxel by
/// voxel from its own stream.
struct Tile {
    nf: usize,
    n_rates: usize,
    u: Vec<f32>,
    next: Vec<f32>,
    rates: Vec<f32>,
    /// The model's production and loss of one voxel (scratch, one value per field).
    bp: Vec<f32>,
    bl: Vec<f32>,
}

impl Tile {
    fn new(nf: usize, n_rates: usize) -> Self {
        Tile {
            nf,
            n_rates,
            u: vec![0.0; TILE * nf],
            next: vec![0.0; TILE * nf],
            rates: vec![0.0; TILE * n_rates],
            bp: vec![0.0; nf],
            bl: vec![0.0; nf],
        }
    }

    /// Voxels `v0 .. v0 + w` of every field of `block` into `u`.
    fn gather(&mut self, block: &[&mut [f32]], v0: usize, w: usize) {
        let nf = self.nf;
        for (f, field) in block.iter().enumerate() {
            for (v, &x) in field[v0..v0 + w].iter().enumerate() {
                self.u[v * nf + f] = x;
            }
        }
    }

    /// `next` and the rates back into the block's fields and rate arrays.
    fn scatter(&self, block: &mut [&mut [f32]], out: &mut [&mut [f32]], v0: usize, w: usize) {
        let nf = self.nf;
        for (f, field) in block.iter_mut().enumerate() {
            for (v, x) in field[v0..v0 + w].iter_mut().enumerate() {
                *x = self.next[v * nf + f];
            }
        }
        let nr = self.n_rates;
        for (r, rate) in out.iter_mut().enumerate() {
            for (v, x) in rate[v0..v0 + w].iter_mut().enumerate() {
                *x = self.rates[v * nr + r];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tiled update equals the per-voxel update applied voxel by voxel to field-major
    /// data, on a grid that fills neither the last block nor the last tile, with implicit
    /// fields whose rates go out.
    #[test]
    fn tiles_give_the_voxel_by_voxel_update() {
        let (n, nf) = (super::super::BLOCK + 3 * TILE + 17, 5);
        let mut table = vec![
            SpeciesRates {
                decay: 0.02,
                growth: 0.01,
                capacity: 2.0,
                implicit: 0,
            };
            nf
        ];
        table[1].implicit = 1;
        table[3].implicit = 2;
        table[4].decay = 0.5;
        let fields: Vec<f32> = (0..n * nf)
            .map(|i| ((i * 37) % 101) as f32 * 0.01)
            .collect();
        let mut tiled = fields.clone();
        let mut rates_tiled = vec![-1.0; 4 * n];
        react(&mut tiled, n, &table, None, &mut rates_tiled, 3.0);
        let c = Voxel {
            rates_table: &table,
            model: None,
            pools: None,
            bone: None,
            first_drug: nf,
            dt: 3.0,
        };
        let (mut bp, mut bl) = (vec![0.0; nf], vec![0.0; nf]);
        for v in 0..n {
            let u: Vec<f32> = (0..nf).map(|f| fields[f * n + v]).collect();
            let mut next = vec![0.0; nf];
            let mut out = vec![0.0; 4];
            voxel(&u, &mut next, &mut out, &mut bp, &mut bl, &c);
            for f in 0..nf {
                assert_eq!(
                    tiled[f * n + v].to_bits(),
                    next[f].to_bits(),
                    "field {f} voxel {v}"
                );
            }
            for r in 0..4 {
                assert_eq!(rates_tiled[r * n + v], out[r], "rate {r} voxel {v}");
            }
        }
        // The implicit fields keep their values; the others changed.
        assert_eq!(tiled[n..2 * n], fields[n..2 * n]);
        assert_ne!(tiled[4 * n..], fields[4 * n..]);
    }
}
