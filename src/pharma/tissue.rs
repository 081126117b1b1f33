//! Drugs in tissue: the per-voxel exchange, binding, release and elimination of each drug's
//! pools, and its pharmacodynamic effects on the model's therapy terms. CPU mirror of
//! `shaders/shared/drugs.wgsl` (same order, same names).
//!
//! Each drug in use has up to four pools per voxel (nM, payload-equivalent for carriers):
//! free `F`, bone-bound `B`, carrier `C`, carrier anchored to bone `K`. With plasma
//! concentrations `Cp` (free) and `Cc` (carrier) held over the step (their step averages,
//! from the host's PK):
//!
//! ```text
//! F' = P v (Cp - F) - kd F - kb s F + r B + R (C + K)
//! B' = kb s F - r B
//! C' = Pc v (1 + epr T/(T + Ke)) Cc - Pc v C - kc C - R C - kl s C + r K
//! K' = kl s C - R K - r K - kc K
//! R  = R0 (1 + acid L/(L + Ka) + ros G/(G + Kr))
//! ```
//!
//! with `v` vessel density, `s` bone-surface share (capped at 1 where it scales an effect), `r` the voxel's relative bone
//! resorption rate (bound drug and anchored carriers come off the bone that is resorbed),
//! `T` tumour, `L` lactate, `G` MDSCs + immature neutrophils (the ROS makers). The step is
//! backward Euler on this linear system, solved exactly (two 2x2 blocks, `C, K` first):
//! unconditionally stable, non-negative (the matrix is an M-matrix) and conservative, so
//! the amounts that entered from plasma, went back and were eliminated locally are known
//! exactly; the kernel writes them to the drug's ledger fields for the host's mass balance.
//!
//! Pharmacodynamics: each target's effect `E = Emax c^h / (EC50^h + c^h)` at the local
//! concentration `c = F + s B` (free drug, plus bound drug where osteoclasts meet it)
//! combines with the model's constant effect as independent actions:
//! `E_total = 1 - (1 - E_model) (1 - E_drug)`.

use super::library::{MAX_TARGETS, Target};
use crate::lanes::{Real, sat};
use crate::model::parameters::{ARRAY_LEN, PARAMS};

/// Slots of one drug's block in the kernel's parameter array.
pub mod slot {
    /// Field index of free drug.
    pub const FREE: usize = 0;
    /// Field index of bone-bound drug (-1: none).
    pub const BOUND: usize = 1;
    /// Field index of carrier (-1: none).
    pub const CARRIER: usize = 2;
    /// Field index of bone-anchored carrier (-1: none).
    pub const CARRIER_BOUND: usize = 3;
    /// Ledger field: free drug that entered from plasma this step.
    pub const UPTAKE: usize = 4;
    /// Ledger field: free drug that went back to plasma this step.
    pub const RETURN: usize = 5;
    /// Ledger field: drug eliminated in tissue this step.
    pub const CLEARED: usize = 6;
    /// Ledger field: carrier that entered from plasma this step (-1: none).
    pub const CARRIER_UPTAKE: usize = 7;
    /// Ledger field: carrier that went back to plasma this step (-1: none).
    pub const CARRIER_RETURN: usize = 8;
    /// Plasma free drug over the step, nM.
    pub const PLASMA: usize = 9;
    /// Plasma carrier over the step, nM payload.
    pub const PLASMA_CARRIER: usize = 10;
    /// Free-drug exchange rate per unit vessel density, 1/min.
    pub const PERM: usize = 11;
    /// Free-drug local elimination, 1/min.
    pub const DECAY: usize = 12;
    /// Bone adsorption at s = 1, 1/min.
    pub const BIND: usize = 13;
    /// Carrier exchange rate per unit vessel density, 1/min.
    pub const PERM_CARRIER: usize = 14;
    /// EPR relative rise.
    pub const EPR: usize = 15;
    /// Tumour fraction at half the EPR rise.
    pub const EPR_K: usize = 16;
    /// Carrier clearance in tissue, 1/min.
    pub const DECAY_CARRIER: usize = 17;
    /// Payload release, 1/min.
    pub const RELEASE: usize = 18;
    /// Acid rise of release.
    pub const ACID: usize = 19;
    /// Lactate at half the acid rise, mM.
    pub const ACID_K: usize = 20;
    /// ROS rise of release.
    pub const ROS: usize = 21;
    /// MDSC + immature neutrophils at half the ROS rise.
    pub const ROS_K: usize = 22;
    /// Carrier anchoring at s = 1, 1/min.
    pub const CARRIER_BIND: usize = 23;
    /// Number of targets.
    pub const N_TARGETS: usize = 24;
    /// First target: (therapy slot, Emax, EC50 nM, Hill) each.
    pub const TARGETS: usize = 25;
    /// Length of a block.
    pub const STRIDE: usize = TARGETS + 4 * super::MAX_TARGETS;
}

/// Index of the drug count in the kernel's parameter array (after the model's own).
pub const HEADER: usize = ARRAY_LEN;
/// First drug block.
pub const BASE: usize = ARRAY_LEN + 2;

/// Number of therapy slots.
pub const NT: usize = Target::ALL.len();

/// WGSL constants of the drug blocks and the therapy array.
pub fn wgsl_constants() -> String {
    use slot::*;
    let mut s = String::from("// Generated from src/pharma/tissue.rs: do not edit.\n");
    s.push_str(&format!(
        "const NT: u32 = {NT}u;\nconst DRUG_HEADER: u32 = {HEADER}u;\nconst DRUG_BASE: u32 = {BASE}u;\n"
    ));
    let slots = [
        ("FREE", FREE),
        ("BOUND", BOUND),
        ("CARRIER", CARRIER),
        ("CARRIER_BOUND", CARRIER_BOUND),
        ("UPTAKE", UPTAKE),
        ("RETURN", RETURN),
        ("CLEARED", CLEARED),
        ("CARRIER_UPTAKE", CARRIER_UPTAKE),
        ("CARRIER_RETURN", CARRIER_RETURN),
        ("PLASMA", PLASMA),
        ("PLASMA_CARRIER", PLASMA_CARRIER),
        ("PERM", PERM),
        ("DECAY", DECAY),
        ("BIND", BIND),
        ("PERM_CARRIER", PERM_CARRIER),
        ("EPR", EPR),
        ("EPR_K", EPR_K),
        ("DECAY_CARRIER", DECAY_CARRIER),
        ("RELEASE", RELEASE),
        ("ACID", ACID),
        ("ACID_K", ACID_K),
        ("ROS", ROS),
        ("ROS_K", ROS_K),
        ("CARRIER_BIND", CARRIER_BIND),
        ("N_TARGETS", N_TARGETS),
        ("TARGETS", TARGETS),
        ("STRIDE", STRIDE),
    ];
    for (name, v) in slots {
        s.push_str(&format!("const D_{name}: u32 = {v}u;\n"));
    }
    for t in Target::ALL {
        s.push_str(&format!("const {}: u32 = {}u;\n", t.wgsl_name(), t.index()));
    }
    s
}

/// WGSL `therapy_defaults()`: the model's constant therapy effects (reads the `model`
/// binding, which only the react kernel has).
pub fn wgsl_therapy_defaults() -> String {
    let mut s = String::from("fn therapy_defaults(th: ptr<function, array<f32, NT>>) {\n");
    for t in Target::ALL {
        let param = PARAMS[t.parameter()].name.to_ascii_uppercase();
        s.push_str(&format!(
            "    (*th)[{}] = model[P_{param}];\n",
            t.wgsl_name()
        ));
    }
    s.push_str("}\n");
    s
}

/// The model's constant therapy effects (mirror of the generated `therapy_defaults()`).
#[inline(always)]
pub fn therapy_defaults<T: Real>(pv: &[f32]) -> [T; NT] {
    let mut th = [T::splat(0.0); NT];
    for t in Target::ALL {
        th[t.index()] = T::splat(pv[t.parameter()]);
    }
    th
}

/// Drugs in the array, and the first drug field (fields from there on are the drugs'
/// pools and ledgers, which the generic reaction update leaves alone).
pub fn header(pv: &[f32]) -> (usize, usize) {
    if pv.len() < BASE {
        return (0, usize::MAX);
    }
    (pv[HEADER] as usize, pv[HEADER + 1] as usize)
}

fn field(pv: &[f32], b: usize, s: usize) -> Option<usize> {
    let x = pv[b + s];
    (x >= 0.0).then_some(x as usize)
}

/// Combines every drug's local effect into `th`. Mirror of `drug_effects()`.
#[inline(always)]
pub fn drug_effects<T: Real>(u: &[T], pv: &[f32], surface: usize, th: &mut [T; NT]) {
    let (n, _) = header(pv);
    let (zero, one) = (T::splat(0.0), T::splat(1.0));
    for d in 0..n {
        let b = BASE + d * slot::STRIDE;
        let mut c = u[pv[b + slot::FREE] as usize];
        if let Some(fb) = field(pv, b, slot::BOUND) {
            c += u[surface].min(T::splat(1.0)) * u[fb];
        }
        // Where there is no drug its effect is nothing (computed in every lane, kept where
        // the drug is; skipped where no lane has it).
        let present = c.gt(zero);
        if !T::any(present) {
            continue;
        }
        for t in 0..pv[b + slot::N_TARGETS] as usize {
            let o = b + slot::TARGETS + 4 * t;
            let ratio = c / T::splat(pv[o + 2]);
            // x^1 is x: `powf` rounds exactly to it, so skipping it keeps the bits.
            let hill = pv[o + 3];
            let r = if hill == 1.0 {
                ratio
            } else {
                ratio.powf(T::splat(hill))
            };
            let e = T::splat(pv[o + 1]) * r / (one + r);
            let k = pv[o] as usize;
            th[k] = T::select(present, one - (one - th[k]) * (one - e), th[k]);
        }
    }
}

/// Where [`drug_pools`] finds the cell and factor fields it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolInputs {
    /// Vessel density.
    pub vessels: usize,
    /// Bone-surface share (surface_layer_um times the area density).
    pub surface: usize,
    /// Tumour.
    pub tumour: usize,
    /// Lactate.
    pub lactate: usize,
    /// MDSCs.
    pub mdsc: usize,
    /// Immature neutrophils.
    pub neutrophil_immature: usize,
}

impl From<&crate::model::ModelIndex> for PoolInputs {
    fn from(ix: &crate::model::ModelIndex) -> Self {
        PoolInputs {
            vessels: ix.vessels,
            surface: ix.surface,
            tumour: ix.tumour,
            lactate: ix.lactate,
            mdsc: ix.mdsc,
            neutrophil_immature: ix.neut_immature,
        }
    }
}

/// One backward-Euler step of `dt` minutes of every drug's pools at one voxel, from the
/// start values `u`, writing the new pools and this step's ledger into `next`.
/// `resorption` is the voxel's relative bone resorption rate, per day. Mirror of
/// `drug_pools()`.
#[inline(always)]
pub fn drug_pools<T: Real>(
    u: &[T],
    pv: &[f32],
    ix: &PoolInputs,
    resorption: T,
    dt: f32,
    next: &mut [T],
) {
    let (n, _) = header(pv);
    let vessel = u[ix.vessels];
    let s = u[ix.surface];
    let r = resorption / T::splat(1440.0);
    let (zero, one, dt) = (T::splat(0.0), T::splat(1.0), T::splat(dt));
    for d in 0..n {
        let b = BASE + d * slot::STRIDE;
        let q = |k: usize| T::splat(pv[b + k]);
        let ff = pv[b + slot::FREE] as usize;
        let fb = field(pv, b, slot::BOUND);
        let fc = field(pv, b, slot::CARRIER);
        let fk = field(pv, b, slot::CARRIER_BOUND);
        let get = |f: Option<usize>| f.map_or(zero, |f| u[f]);
        let pf = q(slot::PERM) * vessel;
        let uptake = pf * q(slot::PLASMA);
        let (k_fb, r_bf) = if fb.is_some() {
            (q(slot::BIND) * s, r)
        } else {
            (zero, zero)
        };
        let (mut c, mut k, mut released, mut c_uptake, mut pc) = (zero, zero, zero, zero, zero);
        if fc.is_some() {
            pc = q(slot::PERM_CARRIER) * vessel;
            let epr = one + q(slot::EPR) * sat(u[ix.tumour], q(slot::EPR_K));
            c_uptake = pc * epr * q(slot::PLASMA_CARRIER);
            let ros = u[ix.mdsc] + u[ix.neutrophil_immature];
            let rel = q(slot::RELEASE)
                * (one
                    + q(slot::ACID) * sat(u[ix.lactate], q(slot::ACID_K))
                    + q(slot::ROS) * sat(ros, q(slot::ROS_K)));
            let (k_ck, r_kc) = if fk.is_some() {
                (q(slot::CARRIER_BIND) * s, r)
            } else {
                (zero, zero)
            };
            let kc = q(slot::DECAY_CARRIER);
            let a11 = one + dt * (pc + kc + rel + k_ck);
            let a12 = -dt * r_kc;
            let a21 = -dt * k_ck;
            let a22 = one + dt * (rel + r_kc + kc);
            let rhs1 = get(fc) + dt * c_uptake;
            let rhs2 = get(fk);
            let det = a11 * a22 - a12 * a21;
            c = (rhs1 * a22 - a12 * rhs2) / det;
            k = (a11 * rhs2 - a21 * rhs1) / det;
            released = rel * (c + k);
        }
        let kd = q(slot::DECAY);
        let a11 = one + dt * (pf + kd + k_fb);
        let a12 = -dt * r_bf;
        let a21 = -dt * k_fb;
        let a22 = one + dt * r_bf;
        let rhs1 = u[ff] + dt * (uptake + released);
        let rhs2 = get(fb);
        let det = a11 * a22 - a12 * a21;
        let f = (rhs1 * a22 - a12 * rhs2) / det;
        let bound = (a11 * rhs2 - a21 * rhs1) / det;
        next[ff] = f;
        if let Some(fb) = fb {
            next[fb] = bound;
        }
        if let Some(fc) = fc {
            next[fc] = c;
        }
        if let Some(fk) = fk {
            next[fk] = k;
        }
        next[pv[b + slot::UPTAKE] as usize] = dt * uptake;
        next[pv[b + slot::RETURN] as usize] = dt * pf * f;
        next[pv[b + slot::CLEARED] as usize] = dt * (kd * f + q(slot::DECAY_CARRIER) * (c + k));
        if let Some(f) = field(pv, b, slot::CARRIER_UPTAKE) {
            next[f] = dt * c_uptake;
        }
        if let Some(f) = field(pv, b, slot::CARRIER_RETURN) {
            next[f] = dt * pc * c;
        }
    }
}
