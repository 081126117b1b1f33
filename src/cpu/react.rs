//! CPU mirror of `shaders/react.wgsl`: per voxel, every field's production and loss from
//! `model::reactions::rates` plus, with a model, `model::biology::biology` (per day), then
//! the exponential update; with a model, the bone fraction is capped at 1. A field the
//! implicit solver advances keeps its value: its rates go to `implicit_rates` (production
//! then loss, per slot) for the solve that follows. With drugs, their local effects set the
//! therapy terms and their pools take their own step (`pharma::tissue`).
//!
//! Voxels are staged 128 at a time in a tile (each field's run copied in and out
//! contiguously, instead of ~40 fields gathered voxel by voxel from their own streams) and
//! updated eight at a time, one voxel per lane of [`F32x8`]: the per-voxel code is written
//! once over [`Real`], so each lane gives the bits of the voxel alone. The lane loops are
//! compiled for AVX2 too and chosen at run time (no fused multiply-add: the same bits).

use rayon::prelude::*;

use super::{has_avx2, voxel_blocks};
use crate::lanes::{F32x8, LANES, Real};
use crate::model::SpeciesRates;
use crate::model::biology::biology;
use crate::model::reactions::{exp_update, rates};
use crate::pharma::tissue::{self, PoolInputs};
use crate::sim::setup::ModelSetup;

use crate::model::reactions::PER_DAY;

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
    let avx2 = has_avx2();
    voxel_blocks(fields, n_vox)
        .into_par_iter()
        .zip(rate_blocks.into_par_iter())
        .for_each_init(
            || Tile::new(nf, n_rates),
            |t, (mut block, mut out)| {
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: `avx2` is set only when the CPU reports AVX2.
                    unsafe { react_block_avx2(t, &mut block, &mut out, &ctx) };
                    return;
                }
                let _ = avx2;
                react_block(t, &mut block, &mut out, &ctx);
            },
        );
}

/// One block of voxels (`block`: its run of every field; `out`: of every implicit rate),
/// tile by tile.
#[inline(always)]
fn react_block(t: &mut Tile, block: &mut [&mut [f32]], out: &mut [&mut [f32]], c: &Voxel<'_>) {
    let len = block[0].len();
    let (nf, nr) = (t.nf, t.n_rates);
    for v0 in (0..len).step_by(TILE) {
        let w = TILE.min(len - v0);
        t.gather(block, v0, w);
        for g in 0..w.div_ceil(LANES) {
            let u = &t.u[g * nf..(g + 1) * nf];
            let next = &mut t.next[g * nf..(g + 1) * nf];
            let rates_out = &mut t.rates[g * nr..(g + 1) * nr];
            voxel(u, next, rates_out, &mut t.bp, &mut t.bl, c);
        }
        t.scatter(block, out, v0, w);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn react_block_avx2(t: &mut Tile, block: &mut [&mut [f32]], out: &mut [&mut [f32]], c: &Voxel<'_>) {
    react_block(t, block, out, c);
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

/// One voxel (or one per lane): its fields `u` to `next`, the implicit fields' production
/// and loss rates to `rates_out`; `bp`, `bl` are scratch of one value per field.
#[inline(always)]
fn voxel<T: Real>(
    u: &[T],
    next: &mut [T],
    rates_out: &mut [T],
    bp: &mut [T],
    bl: &mut [T],
    c: &Voxel<'_>,
) {
    let zero = T::splat(0.0);
    next.copy_from_slice(u);
    rates_out.fill(zero);
    let mut resorption = zero;
    if let Some(m) = c.model {
        bp.fill(zero);
        bl.fill(zero);
        let pv = &m.params.values;
        let mut th = tissue::therapy_defaults(pv);
        tissue::drug_effects(u, pv, m.index.surface, &mut th);
        resorption = biology(u, &m.index, pv, &th, bp, bl);
    }
    let per_day = T::splat(PER_DAY);
    for f in 0..c.first_drug {
        let (p, l) = rates(f, u, c.rates_table);
        let (p, l) = (p + bp[f] * per_day, l + bl[f] * per_day);
        let slot = c.rates_table[f].implicit as usize;
        if slot > 0 {
            rates_out[2 * (slot - 1)] = p;
            rates_out[2 * (slot - 1) + 1] = l;
        } else {
            let x = exp_update(u[f], p, l, c.dt);
            next[f] = if Some(f) == c.bone {
                x.min(T::splat(1.0))
            } else {
                x
            };
        }
    }
    if let (Some(m), Some(ix)) = (c.model, &c.pools) {
        tissue::drug_pools(u, &m.params.values, ix, resorption, c.dt, next);
    }
}

/// Voxels per staging tile: 128 voxels of up to ~40 fields and their rates stay in L1.
const TILE: usize = 128;

/// A copy of a few voxels of every field (`u`, `next`: lane group `g`'s fields at
/// `g * nf ..`, one [`F32x8`] each) and of the implicit rates they produce: each field's run
/// of the block is read and written once, contiguously. Lanes past the block's end hold 0;
/// what they compute is not written back.
struct Tile {
    nf: usize,
    n_rates: usize,
    u: Vec<F32x8>,
    next: Vec<F32x8>,
    rates: Vec<F32x8>,
    /// The model's production and loss of one lane group (scratch, one value per field).
    bp: Vec<F32x8>,
    bl: Vec<F32x8>,
}

impl Tile {
    fn new(nf: usize, n_rates: usize) -> Self {
        let zero = F32x8::splat(0.0);
        let groups = TILE / LANES;
        Tile {
            nf,
            n_rates,
            u: vec![zero; groups * nf],
            next: vec![zero; groups * nf],
            rates: vec![zero; groups * n_rates],
            bp: vec![zero; nf],
            bl: vec![zero; nf],
        }
    }

    /// Voxels `v0 .. v0 + w` of every field of `block` into `u`.
    #[inline(always)]
    fn gather(&mut self, block: &[&mut [f32]], v0: usize, w: usize) {
        let nf = self.nf;
        for (f, field) in block.iter().enumerate() {
            for (g, run) in field[v0..v0 + w].chunks(LANES).enumerate() {
                self.u[g * nf + f] = F32x8::load(run);
            }
        }
    }

    /// `next` and the rates back into the block's fields and rate arrays.
    #[inline(always)]
    fn scatter(&self, block: &mut [&mut [f32]], out: &mut [&mut [f32]], v0: usize, w: usize) {
        let nf = self.nf;
        for (f, field) in block.iter_mut().enumerate() {
            for (g, run) in field[v0..v0 + w].chunks_mut(LANES).enumerate() {
                self.next[g * nf + f].store(run);
            }
        }
        let nr = self.n_rates;
        for (r, rate) in out.iter_mut().enumerate() {
            for (g, run) in rate[v0..v0 + w].chunks_mut(LANES).enumerate() {
                self.rates[g * nr + r].store(run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the model and drugs, each lane of the eight-voxel update gives the bits of the
    /// voxel-by-voxel update: random fields (surface 0 in a third of the voxels, so both
    /// sides of the surface terms run; drugs absent in some) and plasma drug over the step,
    /// so that every pool moves. Two therapy presets: bound drug, carriers and anchored
    /// carriers, several targets each.
    #[test]
    fn lanes_give_the_voxel_by_voxel_model_update() {
        use crate::pharma::tissue::{BASE, slot};
        for name in ["breast-nc-bone-targeted", "breast-zoledronate-parpi"] {
            let path = format!("{}/presets/therapy/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let preset = crate::preset::Preset::load(path.as_ref()).expect("preset");
            let setup = crate::sim::setup::Setup::new(&preset.scenario(Some(8), None).unwrap())
                .expect("setup");
            let mut model = setup.model.clone().expect("a model");
            let pv = &mut model.params.values;
            let (drugs, first_drug) = tissue::header(pv);
            assert!(drugs > 0, "{name} doses a drug");
            for d in 0..drugs {
                pv[BASE + d * slot::STRIDE + slot::PLASMA] = 40.0;
                pv[BASE + d * slot::STRIDE + slot::PLASMA_CARRIER] = 25.0;
            }
            let nf = setup.rates.len();
            let n = 3 * TILE + 13;
            let n_rates = 2 * setup.implicit_rate_slots();
            let mut x = 0x2545_f491_u32;
            let mut next_random = move || {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as f32 / u32::MAX as f32
            };
            let mut fields: Vec<f32> = (0..n * nf).map(|_| next_random()).collect();
            let ix = model.index;
            for v in 0..n {
                let r = next_random();
                fields[ix.surface * n + v] = if r < 0.33 { 0.0 } else { r };
                fields[ix.bone * n + v] *= 0.5;
                if v % 5 == 0 {
                    for f in first_drug..nf {
                        fields[f * n + v] = 0.0;
                    }
                }
            }
            let mut lanes = fields.clone();
            let mut rates_lanes = vec![-1.0; n_rates * n];
            let dt = setup.step.dt;
            react(
                &mut lanes,
                n,
                &setup.rates,
                Some(&model),
                &mut rates_lanes,
                dt,
            );
            let c = Voxel {
                rates_table: &setup.rates,
                model: Some(&model),
                pools: Some(PoolInputs::from(&model.index)),
                bone: Some(ix.bone),
                first_drug,
                dt,
            };
            let (mut bp, mut bl) = (vec![0.0; nf], vec![0.0; nf]);
            for v in 0..n {
                let u: Vec<f32> = (0..nf).map(|f| fields[f * n + v]).collect();
                let mut next = vec![0.0; nf];
                let mut out = vec![0.0; n_rates];
                voxel(&u, &mut next, &mut out, &mut bp, &mut bl, &c);
                for f in 0..nf {
                    assert_eq!(
                        lanes[f * n + v].to_bits(),
                        next[f].to_bits(),
                        "{name}: field {} voxel {v}",
                        setup.species.get(f).name
                    );
                }
                for r in 0..n_rates {
                    assert_eq!(rates_lanes[r * n + v].to_bits(), out[r].to_bits());
                }
            }
            // The drugs' pools moved.
            assert_ne!(lanes[first_drug * n..], fields[first_drug * n..]);
        }
    }

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
