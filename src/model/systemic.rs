//! Systemic pools beside the grid (issue: plasma OPN [5], circulating immune cells): a
//! three-variable ODE advanced by the host once per step from domain means, coupled to the
//! tissue through the vessel terms of the reaction kernel (`X_*` slots).
//!
//! - plasma OPN `P` (nM): `dP/dt = opn_plasma_input * mean(tissue OPN) - opn_plasma_clearance * P`;
//! - circulating TCF1+ CD8 precursors `C` (1 = healthy):
//!   `dC/dt = cd8_pool_turnover * (1 / (1 + M11 * opn_recruitment_block * P / (P + opn_k)) - C)`;
//! - circulating myeloid cells `M` (1 = healthy):
//!   `dM/dt = myeloid_pool_turnover * (1 + M4 * csf2_myelopoiesis * c / (c + csf2_k) - M)`,
//!   `c` the mean tissue CSF2.
//!
//! Each relaxes exactly over a step with its inputs frozen (exponential update), so the
//! pools stay non-negative at any step. Consumption of the pools by the domain is left out:
//! a 2.5 mm region is a negligible share of the body's marrow.

use serde::{Deserialize, Serialize};

use super::parameters::{Slot, p, switch_index};

/// The systemic state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Systemic {
    /// Plasma OPN, nM.
    pub plasma_opn: f64,
    /// Circulating TCF1+ CD8 precursors, relative to health.
    pub cd8_pool: f64,
    /// Circulating myeloid cells, relative to health.
    pub myeloid_pool: f64,
}

/// `x` relaxed towards `target` at `rate` over `dt`, exactly.
fn relax(x: f64, target: f64, rate: f64, dt: f64) -> f64 {
    target + (x - target) * (-rate * dt).exp()
}

impl Systemic {
    /// The tumour-free state: no plasma OPN, pools at 1.
    pub fn healthy() -> Self {
        Systemic {
            plasma_opn: 0.0,
            cd8_pool: 1.0,
            myeloid_pool: 1.0,
        }
    }

    /// Advances by `dt_day` days given the domain means of tissue OPN and CSF2 (nM).
    pub fn advance(&mut self, pv: &[f32], mean_opn: f64, mean_csf2: f64, dt_day: f64) {
        let q = |i: usize| pv[i] as f64;
        let sw = |k: usize| pv[switch_index(k)] as f64;
        let input = q(p::OPN_PLASMA_INPUT) * mean_opn;
        let clearance = q(p::OPN_PLASMA_CLEARANCE);
        self.plasma_opn = if clearance > 0.0 {
            relax(self.plasma_opn, input / clearance, clearance, dt_day)
        } else {
            self.plasma_opn + input * dt_day
        };
        let opn = self.plasma_opn;
        let block = sw(11) * q(p::OPN_RECRUITMENT_BLOCK) * opn / (opn + q(p::OPN_K));
        self.cd8_pool = relax(
            self.cd8_pool,
            1.0 / (1.0 + block),
            q(p::CD8_POOL_TURNOVER),
            dt_day,
        );
        let csf2 = mean_csf2.max(0.0);
        let boost = sw(4) * q(p::CSF2_MYELOPOIESIS) * csf2 / (csf2 + q(p::CSF2_K));
        self.myeloid_pool = relax(
            self.myeloid_pool,
            1.0 + boost,
            q(p::MYELOID_POOL_TURNOVER),
            dt_day,
        );
    }

    /// Writes the pools into the kernel's parameter array.
    pub fn write(&self, values: &mut [f32]) {
        values[Slot::PlasmaOpn.index()] = self.plasma_opn as f32;
        values[Slot::Cd8Pool.index()] = self.cd8_pool as f32;
        values[Slot::MyeloidPool.index()] = self.myeloid_pool as f32;
    }

    /// The pools as named values (for metrics).
    pub fn named(&self) -> [(&'static str, f64); 3] {
        [
            ("plasma_opn_nM", self.plasma_opn),
            ("cd8_pool", self.cd8_pool),
            ("myeloid_pool", self.myeloid_pool),
        ]
    }
}
