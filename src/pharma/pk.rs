//! Systemic pharmacokinetics: a linear compartment model per drug, in amounts (nmol), with
//! an absorption depot (subcutaneous, oral), a central (plasma) compartment, up to two
//! peripheral compartments and elimination. Concentrations are amount / volume, nmol/L =
//! nM. Time in hours.
//!
//! ```text
//! depot'      = -ka depot                                   (+ F x dose, sc or oral)
//! central'    =  ka depot - (CL + Q2 + Q3)/V1 central + Q2/V2 p2 + Q3/V3 p3 + infusion
//! p2'         =  Q2/V1 central - Q2/V2 p2
//! p3'         =  Q3/V1 central - Q3/V3 p3
//! eliminated' =  CL/V1 central
//! ```
//!
//! The step integrates this exactly enough for any dose schedule: classical RK4 with
//! sub-steps no longer than 1 % of the fastest time constant, split at infusion ends (RK4
//! keeps the linear invariant `sum of amounts = administered` to rounding).

use serde::{Deserialize, Serialize};

/// Compartment parameters of one drug.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Compartments {
    /// Central (plasma) volume V1, L.
    pub central_l: f64,
    /// Elimination clearance CL, L/h.
    pub clearance_l_h: f64,
    /// First peripheral volume V2, L (0: none).
    pub peripheral_l: f64,
    /// Inter-compartmental clearance to the first peripheral compartment Q2, L/h.
    pub peripheral_l_h: f64,
    /// Second (deep) peripheral volume V3, L (0: none).
    pub deep_l: f64,
    /// Inter-compartmental clearance to the deep compartment Q3, L/h.
    pub deep_l_h: f64,
    /// Absorption rate constant ka from the depot, 1/h (subcutaneous and oral routes).
    pub absorption_per_h: f64,
    /// Fraction of a subcutaneous or oral dose that reaches the depot, 0..1.
    pub bioavailability: f64,
}

impl Compartments {
    /// The fastest rate constant of the system, 1/h (sets the sub-step).
    fn fastest_rate(&self) -> f64 {
        let mut r = (self.clearance_l_h + self.peripheral_l_h + self.deep_l_h) / self.central_l;
        if self.peripheral_l > 0.0 {
            r = r.max(self.peripheral_l_h / self.peripheral_l);
        }
        if self.deep_l > 0.0 {
            r = r.max(self.deep_l_h / self.deep_l);
        }
        r.max(self.absorption_per_h)
    }
}

/// An infusion in progress: rate (nmol/h) until a time (h).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Infusion {
    /// Rate, nmol/h.
    pub rate: f64,
    /// End, h of simulated time.
    pub until_h: f64,
}

/// Amounts in each compartment, nmol, and the running bookkeeping.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PkState {
    /// Absorption depot.
    pub depot: f64,
    /// Central (plasma).
    pub central: f64,
    /// First peripheral.
    pub peripheral: f64,
    /// Deep peripheral.
    pub deep: f64,
    /// Eliminated from the body.
    pub eliminated: f64,
    /// Not absorbed (1 - F of subcutaneous and oral doses).
    pub unabsorbed: f64,
    /// Administered so far (every route).
    pub administered: f64,
    /// Infusions running.
    pub infusions: Vec<Infusion>,
    /// Simulated time, h.
    pub time_h: f64,
    /// Area under the central amount curve, nmol h (divide by V1 for the plasma AUC).
    #[serde(default)]
    pub central_auc: f64,
}

type Amounts = [f64; 6];

fn derivatives(p: &Compartments, x: &Amounts, infusion: f64) -> Amounts {
    let [depot, c, p2, p3, _, _] = *x;
    let k10 = p.clearance_l_h / p.central_l;
    let to2 = if p.peripheral_l > 0.0 {
        p.peripheral_l_h
    } else {
        0.0
    };
    let to3 = if p.deep_l > 0.0 { p.deep_l_h } else { 0.0 };
    let back2 = if p.peripheral_l > 0.0 {
        to2 / p.peripheral_l * p2
    } else {
        0.0
    };
    let back3 = if p.deep_l > 0.0 {
        to3 / p.deep_l * p3
    } else {
        0.0
    };
    let absorbed = p.absorption_per_h * depot;
    [
        -absorbed,
        absorbed - (k10 + (to2 + to3) / p.central_l) * c + back2 + back3 + infusion,
        to2 / p.central_l * c - back2,
        to3 / p.central_l * c - back3,
        k10 * c,
        c,
    ]
}

impl PkState {
    /// Plasma concentration, nM.
    pub fn concentration(&self, p: &Compartments) -> f64 {
        self.central / p.central_l
    }

    /// Amount still in the body, nmol.
    pub fn in_body(&self) -> f64 {
        self.depot + self.central + self.peripheral + self.deep
    }

    /// An intravenous bolus of `amount` nmol.
    pub fn bolus(&mut self, amount: f64) {
        self.central += amount;
        self.administered += amount;
    }

    /// An intravenous infusion of `amount` nmol over `hours`.
    pub fn infuse(&mut self, amount: f64, hours: f64) {
        self.infusions.push(Infusion {
            rate: amount / hours,
            until_h: self.time_h + hours,
        });
    }

    /// A subcutaneous or oral dose of `amount` nmol: the bioavailable part enters the depot.
    pub fn absorb(&mut self, p: &Compartments, amount: f64) {
        self.depot += p.bioavailability * amount;
        self.unabsorbed += (1.0 - p.bioavailability) * amount;
        self.administered += amount;
    }

    /// Advances by `dt_h` hours.
    pub fn advance(&mut self, p: &Compartments, dt_h: f64) {
        let end = self.time_h + dt_h;
        let max_sub = 0.01 / p.fastest_rate().max(1e-12);
        while self.time_h < end {
            // The next time the infusion rate changes, or the end of the step.
            let next = self
                .infusions
                .iter()
                .map(|i| i.until_h)
                .filter(|&t| t > self.time_h)
                .fold(end, f64::min);
            let span = next - self.time_h;
            let rate: f64 = self
                .infusions
                .iter()
                .filter(|i| i.until_h > self.time_h)
                .map(|i| i.rate)
                .sum();
            let n = (span / max_sub).ceil().max(1.0) as usize;
            let h = span / n as f64;
            let mut x = [
                self.depot,
                self.central,
                self.peripheral,
                self.deep,
                self.eliminated,
                self.central_auc,
            ];
            for _ in 0..n {
                let add = |a: &Amounts, k: &Amounts, c: f64| {
                    let mut o = *a;
                    for i in 0..6 {
                        o[i] += c * k[i];
                    }
                    o
                };
                let k1 = derivatives(p, &x, rate);
                let k2 = derivatives(p, &add(&x, &k1, h / 2.0), rate);
                let k3 = derivatives(p, &add(&x, &k2, h / 2.0), rate);
                let k4 = derivatives(p, &add(&x, &k3, h), rate);
                for i in 0..6 {
                    x[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
                }
            }
            self.administered += rate * span;
            [
                self.depot,
                self.central,
                self.peripheral,
                self.deep,
                self.eliminated,
                self.central_auc,
            ] = x;
            self.time_h = next;
            self.infusions.retain(|i| i.until_h > self.time_h);
        }
    }
}
