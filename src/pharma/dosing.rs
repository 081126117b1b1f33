//! The host side of every drug in a run: its fields, its systemic PK (free drug and
//! carrier), giving doses ([`super::dose`]) and the schedule, the exchange with tissue read
//! back from the kernel's ledger, the dosing log and the mass balance.

use serde::{Deserialize, Serialize};

use super::dose::{DoseRecord, DoseRequest, Scheduled};
use super::library::{Drug, Route};
use super::pk::{Compartments, PkState};
use super::tissue::{self, slot};
use crate::grid::Grid;
use crate::model::{Species, SpeciesKind};

/// Field indices of one drug's pools and ledgers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrugFields {
    /// Free drug.
    pub free: usize,
    /// Bone-bound drug.
    pub bound: Option<usize>,
    /// Carrier.
    pub carrier: Option<usize>,
    /// Bone-anchored carrier.
    pub carrier_bound: Option<usize>,
    /// Ledger: from plasma this step.
    pub uptake: usize,
    /// Ledger: back to plasma this step.
    pub ret: usize,
    /// Ledger: eliminated in tissue this step.
    pub cleared: usize,
    /// Ledger: carrier from plasma this step.
    pub carrier_uptake: Option<usize>,
    /// Ledger: carrier back to plasma this step.
    pub carrier_return: Option<usize>,
}

impl DrugFields {
    /// The pools (amount-carrying fields), free first.
    pub fn pools(&self) -> Vec<usize> {
        [
            Some(self.free),
            self.bound,
            self.carrier,
            self.carrier_bound,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Pools then ledgers: the order [`Pharmacology::sum_fields`] reads them.
    fn all(&self) -> [Option<usize>; 9] {
        [
            Some(self.free),
            self.bound,
            self.carrier,
            self.carrier_bound,
            Some(self.uptake),
            Some(self.ret),
            Some(self.cleared),
            self.carrier_uptake,
            self.carrier_return,
        ]
    }
}

/// The fields a drug adds, named after it, starting at field `first`.
pub fn drug_species(drug: &Drug, first: usize) -> (Vec<Species>, DrugFields) {
    let mut out = Vec::new();
    let mut add = |suffix: &str, what: &str, d: f64, perm: f64| {
        let name = if suffix.is_empty() {
            drug.name.clone()
        } else {
            format!("{}_{suffix}", drug.name)
        };
        out.push(Species {
            name,
            kind: SpeciesKind::Drug,
            unit: what.to_string(),
            diffusion_um2_min: d,
            decay_per_min: 0.0,
            bone_permeability: perm,
            growth_per_min: 0.0,
            capacity: 1.0,
            solver: crate::model::Solver::Split,
        });
        first + out.len() - 1
    };
    let t = drug.tissue;
    let free = add("", "nM", t.diffusion_um2_min, t.bone_permeability);
    let bound = drug
        .bone_binding_per_h
        .map(|_| add("bound", "nM", 0.0, 1.0));
    let carrier = drug
        .carrier
        .map(|c| add("carrier", "nM payload", c.diffusion_um2_min, 0.0));
    let carrier_bound = drug
        .carrier
        .filter(|c| c.bone_binding_per_h > 0.0)
        .map(|_| add("carrier_bound", "nM payload", 0.0, 1.0));
    let uptake = add("uptake", "nM per step", 0.0, 1.0);
    let ret = add("return", "nM per step", 0.0, 1.0);
    let cleared = add("cleared", "nM per step", 0.0, 1.0);
    let carrier_uptake = drug
        .carrier
        .map(|_| add("carrier_uptake", "nM payload per step", 0.0, 1.0));
    let carrier_return = drug
        .carrier
        .map(|_| add("carrier_return", "nM payload per step", 0.0, 1.0));
    (
        out,
        DrugFields {
            free,
            bound,
            carrier,
            carrier_bound,
            uptake,
            ret,
            cleared,
            carrier_uptake,
            carrier_return,
        },
    )
}

/// A drug of the run with its fields and its compartments for the run's body weight.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugInUse {
    /// The library entry.
    pub drug: Drug,
    /// Its fields.
    pub fields: DrugFields,
    /// Free-drug compartments.
    pub pk: Compartments,
    /// Carrier compartments (the carrier's own clearance plus release in plasma).
    pub carrier_pk: Option<Compartments>,
}

impl DrugInUse {
    /// Builds the compartments for `kg`.
    pub fn new(drug: Drug, fields: DrugFields, kg: f64) -> Self {
        let pk = drug.pk.for_weight(kg);
        let carrier_pk = drug.carrier.map(|c| {
            let mut p = c.pk.for_weight(kg);
            // Release in plasma leaves the carrier like a clearance; the host moves it to
            // the free drug (Pharmacology::before_step).
            p.clearance_l_h += c.plasma_release_per_h * p.central_l;
            p
        });
        DrugInUse {
            drug,
            fields,
            pk,
            carrier_pk,
        }
    }

    /// Writes this drug's block (everything but the plasma concentrations) into the
    /// kernel's parameter array at `b`.
    pub fn write_block(&self, values: &mut [f32], b: usize) {
        let f = &self.fields;
        let idx = |x: Option<usize>| x.map_or(-1.0, |i| i as f32);
        let per_min = |per_h: f64| (per_h / 60.0) as f32;
        let v = &mut values[b..b + slot::STRIDE];
        v.fill(0.0);
        v[slot::FREE] = f.free as f32;
        v[slot::BOUND] = idx(f.bound);
        v[slot::CARRIER] = idx(f.carrier);
        v[slot::CARRIER_BOUND] = idx(f.carrier_bound);
        v[slot::UPTAKE] = f.uptake as f32;
        v[slot::RETURN] = f.ret as f32;
        v[slot::CLEARED] = f.cleared as f32;
        v[slot::CARRIER_UPTAKE] = idx(f.carrier_uptake);
        v[slot::CARRIER_RETURN] = idx(f.carrier_return);
        let t = self.drug.tissue;
        v[slot::PERM] = per_min(t.permeability_per_h);
        v[slot::DECAY] = per_min(t.decay_per_h);
        v[slot::BIND] = per_min(self.drug.bone_binding_per_h.unwrap_or(0.0));
        if let Some(c) = self.drug.carrier {
            v[slot::PERM_CARRIER] = per_min(c.permeability_per_h);
            v[slot::EPR] = c.epr_boost as f32;
            v[slot::EPR_K] = c.epr_tumour_k as f32;
            v[slot::DECAY_CARRIER] = per_min(c.decay_per_h);
            v[slot::RELEASE] = per_min(c.release_per_h);
            v[slot::ACID] = c.acid_boost as f32;
            v[slot::ACID_K] = c.acid_k_mm as f32;
            v[slot::ROS] = c.ros_boost as f32;
            v[slot::ROS_K] = c.ros_k as f32;
            v[slot::CARRIER_BIND] = per_min(c.bone_binding_per_h);
        }
        v[slot::N_TARGETS] = self.drug.effects.len() as f32;
        for (i, e) in self.drug.effects.iter().enumerate() {
            let o = slot::TARGETS + 4 * i;
            v[o] = e.target.index() as f32;
            v[o + 1] = e.emax as f32;
            v[o + 2] = e.ec50_nm as f32;
            v[o + 3] = e.hill as f32;
        }
    }
}

/// The running state of one drug (saved in checkpoints).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DrugState {
    /// Free drug in the body.
    pub free: PkState,
    /// Carrier in the body.
    pub carrier: Option<PkState>,
    /// Payload released from carriers in plasma, nmol.
    pub released_in_plasma: f64,
    /// Free drug that entered the domain from plasma, nmol.
    pub tissue_uptake: f64,
    /// Free drug that went back to plasma, nmol.
    pub tissue_return: f64,
    /// Carrier that entered the domain from plasma, nmol payload.
    pub carrier_uptake: f64,
    /// Carrier that went back to plasma, nmol payload.
    pub carrier_return: f64,
    /// Drug eliminated in the domain, nmol.
    pub tissue_cleared: f64,
    /// Given by local injection, nmol.
    pub injected: f64,
    /// Plasma free-drug concentration over the last step, nM.
    pub plasma_nm: f64,
    /// Plasma carrier concentration over the last step, nM payload.
    pub plasma_carrier_nm: f64,
    /// Area under the plasma free + carrier concentration curve, nM h.
    pub auc_plasma: f64,
    /// Area under the domain's mean drug concentration (all pools), nM h.
    pub auc_tissue: f64,
    /// Amounts in the domain's pools at the last read, nmol (free, bound, carrier,
    /// anchored carrier).
    pub tissue: [f64; 4],
}

/// Where one drug's mass is, nmol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Balance {
    /// Everything given.
    pub administered: f64,
    /// Central compartments (free and carrier).
    pub plasma: f64,
    /// Depot, peripheral and deep compartments (free and carrier).
    pub peripheral: f64,
    /// Free drug in the domain.
    pub tissue_free: f64,
    /// Carrier payload in the domain (mobile and anchored).
    pub tissue_carrier: f64,
    /// Bone-bound drug in the domain.
    pub bone_bound: f64,
    /// Eliminated (body clearance, unabsorbed, carrier clearance, local elimination).
    pub eliminated: f64,
}

impl Balance {
    /// |administered - everything accounted| / administered (0 before any dose).
    pub fn relative_error(&self) -> f64 {
        let found = self.plasma
            + self.peripheral
            + self.tissue_free
            + self.tissue_carrier
            + self.bone_bound
            + self.eliminated;
        if self.administered > 0.0 {
            (self.administered - found).abs() / self.administered
        } else {
            found.abs()
        }
    }
}

/// Everything the host keeps for the drugs of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Pharmacology {
    /// The drugs, in block order.
    pub drugs: Vec<DrugInUse>,
    /// Body weight, kg.
    pub body_weight_kg: f64,
    /// Litres per voxel.
    pub voxel_l: f64,
    /// Voxels in the domain.
    pub voxels: f64,
    /// Running state (checkpointed).
    pub state: PharmaState,
}

/// The checkpointed part of [`Pharmacology`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PharmaState {
    /// One per drug, in block order.
    pub drugs: Vec<DrugState>,
    /// Doses still to come, in time order.
    pub pending: Vec<Scheduled>,
    /// Every dose given.
    pub log: Vec<DoseRecord>,
}

impl Pharmacology {
    /// The drugs' state before any dose, with the schedule.
    pub fn new(
        drugs: Vec<DrugInUse>,
        body_weight_kg: f64,
        grid: &Grid,
        mut pending: Vec<Scheduled>,
    ) -> Self {
        pending.sort_by(|a, b| a.time_min.total_cmp(&b.time_min));
        let state = PharmaState {
            drugs: drugs
                .iter()
                .map(|d| DrugState {
                    carrier: d.carrier_pk.map(|_| PkState::default()),
                    ..Default::default()
                })
                .collect(),
            pending,
            log: Vec::new(),
        };
        Pharmacology {
            drugs,
            body_weight_kg,
            voxel_l: grid.voxel_volume_um3() * 1e-15,
            voxels: grid.len() as f64,
            state,
        }
    }

    /// Position of drug `name` among the run's drugs.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.drugs.iter().position(|d| d.drug.name == name)
    }

    /// Checks a dose against the run (its drug is loaded) and against the drug, the body
    /// and the domain ([`DoseRequest::check`]); returns the drug's position.
    pub fn check(&self, dose: &DoseRequest, grid: &Grid) -> crate::Result<usize> {
        let Some(i) = self.position(&dose.drug) else {
            let names: Vec<&str> = self.drugs.iter().map(|d| d.drug.name.as_str()).collect();
            return Err(crate::Error::Dose {
                drug: dose.drug.clone(),
                message: format!(
                    "drug `{}` is not loaded in this run (loaded: {}); add it to [pharmacology] drugs",
                    dose.drug,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            });
        };
        dose.check(&self.drugs[i].drug, self.body_weight_kg, grid)
            .map_err(|message| crate::Error::Dose {
                drug: dose.drug.clone(),
                message,
            })?;
        Ok(i)
    }

    /// Writes every block and the header into the kernel's parameter array (which must be
    /// long enough: [`Pharmacology::array_len`]).
    pub fn write_blocks(&self, values: &mut [f32], first_drug_field: usize) {
        values[tissue::HEADER] = self.drugs.len() as f32;
        values[tissue::HEADER + 1] = first_drug_field as f32;
        for (i, d) in self.drugs.iter().enumerate() {
            d.write_block(values, tissue::BASE + i * slot::STRIDE);
        }
        self.write_plasma(values);
    }

    /// Length of the kernel's parameter array with these drugs.
    pub fn array_len(&self) -> usize {
        tissue::BASE + self.drugs.len() * slot::STRIDE
    }

    fn write_plasma(&self, values: &mut [f32]) {
        for (i, s) in self.state.drugs.iter().enumerate() {
            let b = tissue::BASE + i * slot::STRIDE;
            values[b + slot::PLASMA] = s.plasma_nm as f32;
            values[b + slot::PLASMA_CARRIER] = s.plasma_carrier_nm as f32;
        }
    }

    /// Doses of the schedule due before `until_min` (taken off the schedule).
    pub fn take_due(&mut self, until_min: f64) -> Vec<Scheduled> {
        let n = self
            .state
            .pending
            .iter()
            .take_while(|s| s.time_min < until_min)
            .count();
        self.state.pending.drain(..n).collect()
    }

    /// Adds doses to the schedule (kept in time order).
    pub fn schedule(&mut self, doses: Vec<Scheduled>) {
        self.state.pending.extend(doses);
        self.state
            .pending
            .sort_by(|a, b| a.time_min.total_cmp(&b.time_min));
    }

    /// Gives a systemic dose (every route but `local`, which `Simulation` puts into the
    /// fields) of drug `i`; returns nmol.
    pub(crate) fn give_systemic(&mut self, i: usize, dose: &DoseRequest) -> f64 {
        let d = &self.drugs[i];
        let nmol = d.drug.nmol(dose.amount.mg(self.body_weight_kg));
        let s = &mut self.state.drugs[i];
        let (state, pk) = match (&mut s.carrier, d.carrier_pk) {
            (Some(c), Some(p)) => (c, p),
            _ => (&mut s.free, d.pk),
        };
        match dose.route {
            Route::IvBolus => state.bolus(nmol),
            Route::IvInfusion => state.infuse(nmol, dose.duration_h.unwrap_or(1.0)),
            Route::Subcutaneous | Route::Oral => state.absorb(&pk, nmol),
            Route::Local => unreachable!("local doses go into the fields"),
        }
        nmol
    }

    /// Advances the systemic PK over a step of `dt_h` and writes the step's mean plasma
    /// concentrations into the kernel's array.
    pub fn before_step(&mut self, dt_h: f64, values: &mut [f32]) {
        for (d, s) in self.drugs.iter().zip(self.state.drugs.iter_mut()) {
            let auc0 = s.free.central_auc;
            let mut carrier_nm = 0.0;
            if let (Some(c), Some(p), Some(carrier)) =
                (&mut s.carrier, d.carrier_pk, d.drug.carrier)
            {
                let cauc0 = c.central_auc;
                c.advance(&p, dt_h);
                let cauc = c.central_auc - cauc0;
                carrier_nm = cauc / dt_h / p.central_l;
                // What left the carriers by release in plasma joins the free drug.
                let released = carrier.plasma_release_per_h * cauc;
                c.eliminated -= released;
                s.released_in_plasma += released;
                s.free.central += released;
            }
            s.free.advance(&d.pk, dt_h);
            let free_nm = (s.free.central_auc - auc0) / dt_h / d.pk.central_l;
            s.plasma_nm = free_nm;
            s.plasma_carrier_nm = carrier_nm;
            s.auc_plasma += (free_nm + carrier_nm) * dt_h;
        }
        self.write_plasma(values);
    }

    /// The fields whose sums [`Pharmacology::after_step`] takes, in its order.
    pub fn sum_fields(&self) -> Vec<usize> {
        self.drugs
            .iter()
            .flat_map(|d| d.fields.all().into_iter().flatten())
            .collect()
    }

    /// Books the step's exchange from the ledger sums (the order of
    /// [`Pharmacology::sum_fields`]) and records the domain's pools.
    pub fn after_step(&mut self, sums: &[f64], dt_h: f64) {
        let mut k = 0;
        for (d, s) in self.drugs.iter().zip(self.state.drugs.iter_mut()) {
            let mut take = |present: bool| {
                if present {
                    k += 1;
                    sums[k - 1] * self.voxel_l
                } else {
                    0.0
                }
            };
            let f = &d.fields;
            let pools = [
                take(true),
                take(f.bound.is_some()),
                take(f.carrier.is_some()),
                take(f.carrier_bound.is_some()),
            ];
            let uptake = take(true);
            let ret = take(true);
            let cleared = take(true);
            let c_uptake = take(f.carrier_uptake.is_some());
            let c_return = take(f.carrier_return.is_some());
            s.free.central += ret - uptake;
            s.tissue_uptake += uptake;
            s.tissue_return += ret;
            s.tissue_cleared += cleared;
            if let Some(c) = &mut s.carrier {
                c.central += c_return - c_uptake;
            }
            s.carrier_uptake += c_uptake;
            s.carrier_return += c_return;
            s.tissue = pools;
            let total: f64 = pools.iter().sum();
            s.auc_tissue += total / (self.voxel_l * self.voxels) * dt_h;
        }
    }

    /// Where drug `i`'s mass is now.
    pub fn balance(&self, i: usize) -> Balance {
        let s = &self.state.drugs[i];
        let mut b = Balance {
            administered: s.free.administered + s.injected,
            plasma: s.free.central,
            peripheral: s.free.depot + s.free.peripheral + s.free.deep,
            tissue_free: s.tissue[0],
            tissue_carrier: s.tissue[2] + s.tissue[3],
            bone_bound: s.tissue[1],
            eliminated: s.free.eliminated + s.free.unabsorbed + s.tissue_cleared,
        };
        if let Some(c) = &s.carrier {
            b.administered += c.administered;
            b.plasma += c.central;
            b.peripheral += c.depot + c.peripheral + c.deep;
            b.eliminated += c.eliminated + c.unabsorbed;
        }
        b
    }

    /// Names of the scalar columns [`Pharmacology::scalars`] gives, per drug.
    pub fn scalar_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in &self.drugs {
            let n = &d.drug.name;
            for c in [
                "plasma_nM",
                "plasma_carrier_nM",
                "tissue_nM",
                "bone_bound_nmol",
                "administered_nmol",
                "eliminated_nmol",
                "auc_plasma_nM_h",
                "auc_tissue_nM_h",
                "mass_balance_error",
            ] {
                out.push(format!("{n}_{c}"));
            }
        }
        out
    }

    /// Per-drug scalars for metrics.csv (the order of [`Pharmacology::scalar_names`]).
    pub fn scalars(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for (i, s) in self.state.drugs.iter().enumerate() {
            let b = self.balance(i);
            let domain_l = self.voxel_l * self.voxels;
            out.extend([
                s.plasma_nm,
                s.plasma_carrier_nm,
                s.tissue.iter().sum::<f64>() / domain_l,
                b.bone_bound,
                b.administered,
                b.eliminated,
                s.auc_plasma,
                s.auc_tissue,
                b.relative_error(),
            ]);
        }
        out
    }
}
