//! The simulation: state on a backend, stepped by operator splitting
//! (sources, transport, reactions), observed through small reductions.

pub mod counters;
pub mod params;
pub mod plan;
pub mod profile;
pub mod setup;
pub mod synthetic;

pub use counters::Counters;

use serde::Serialize;

use crate::error::{Error, NumericalFault, Result};
use crate::lattice::Lattice;
use crate::model::systemic::Systemic;
use crate::pharma::Route;
use crate::pharma::dose::{DoseRecord, DoseRequest, Scheduled};
use crate::pharma::dosing::{PharmaState, Pharmacology};
use crate::preset::Scenario;
pub use params::Stages;
use profile::{Stage, StageClock, StageTimes};
pub use setup::Setup;

/// What a backend runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendInfo {
    /// `cpu` or `gpu`.
    pub kind: String,
    /// Adapter name, or the CPU description.
    pub device: String,
    /// Driver name and version, when known.
    pub driver: String,
    /// True for software GPU adapters (lavapipe, llvmpipe, WARP).
    pub software: bool,
}

impl std::fmt::Display for BackendInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}", self.kind, self.device)?;
        if !self.driver.is_empty() {
            write!(f, "; {}", self.driver)?;
        }
        write!(f, ")")
    }
}

/// Summary of one field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldStats {
    /// Sum over voxels of finite values.
    pub sum: f64,
    /// Smallest finite value (+inf when none).
    pub min: f64,
    /// Largest finite value (-inf when none).
    pub max: f64,
    /// Voxels holding NaN or infinity.
    pub nonfinite: u64,
    /// Voxels holding a negative value.
    pub negative: u64,
}

impl FieldStats {
    /// The identity of [`FieldStats::merge`].
    pub fn empty() -> Self {
        FieldStats {
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            nonfinite: 0,
            negative: 0,
        }
    }

    /// Combines two partial results.
    pub fn merge(&self, o: &FieldStats) -> FieldStats {
        FieldStats {
            sum: self.sum + o.sum,
            min: self.min.min(o.min),
            max: self.max.max(o.max),
            nonfinite: self.nonfinite + o.nonfinite,
            negative: self.negative + o.negative,
        }
    }
}

/// A compute backend holding the fields of one run.
pub trait Backend: Send {
    /// What it runs on.
    fn info(&self) -> BackendInfo;
    /// Replaces every field (field-major, `f * voxels + voxel`).
    fn write_fields(&mut self, data: &[f32]) -> Result<()>;
    /// Copies every field back (field-major).
    fn read_fields(&mut self) -> Result<Vec<f32>>;
    /// Steps taken so far (decides the sweep order of the next step).
    fn step_index(&self) -> u64;
    /// Sets the step counter (when restoring a state).
    fn set_step_index(&mut self, step: u64);
    /// Runs `steps` coupled steps of the given stages.
    fn advance(&mut self, steps: u64, stages: Stages) -> Result<()>;
    /// Runs one coupled step of the setup's stages and times each stage (the GPU backend
    /// waits for the queue after each); the state afterwards is that of one `advance`.
    fn profile_step(&mut self) -> Result<profile::StageTimes>;
    /// Per-field statistics of the current state.
    fn stats(&mut self) -> Result<Vec<FieldStats>>;
    /// Replaces the model's parameter array (the host updates the systemic slots every
    /// step).
    fn set_model_values(&mut self, values: &[f32]) -> Result<()>;
    /// Copies one field back.
    fn read_field(&mut self, f: usize) -> Result<Vec<f32>> {
        let all = self.read_fields()?;
        let n = all.len() / self.field_count();
        Ok(all[f * n..(f + 1) * n].to_vec())
    }
    /// Replaces voxels `first..first + values.len()` of field `f` and nothing else (a local
    /// dose: one range write on the GPU, not a round trip of every field).
    fn write_field_range(&mut self, f: usize, first: usize, values: &[f32]) -> Result<()>;
    /// Number of fields held.
    fn field_count(&self) -> usize;
    /// Sums over voxels of the given fields (what the systemic pools need every step).
    fn field_sums(&mut self, fields: &[usize]) -> Result<Vec<f64>> {
        let stats = self.stats()?;
        Ok(fields.iter().map(|&f| stats[f].sum).collect())
    }
    /// What the backend has done since it was built (implicit solves and iterations; on a
    /// GPU the blocking waits, submissions and dispatches).
    fn counters(&mut self) -> Result<Counters> {
        Ok(Counters::default())
    }
}

/// A running scenario.
pub struct Simulation {
    scenario: Scenario,
    setup: Setup,
    backend: Box<dyn Backend>,
    lattice: Option<Lattice>,
    backend_reason: String,
    systemic: Option<Systemic>,
    pharma: Option<Pharmacology>,
    /// The model's parameter array as last written (systemic slots, plasma drug levels).
    values: Vec<f32>,
    /// Domain sums of tissue OPN and CSF2 at the current state, when known.
    pool_sums: Option<[f64; 2]>,
}

impl Simulation {
    /// Builds the scenario's initial state on a backend the caller made (tests bring their
    /// own GPU device this way; `Simulation::new` in [`crate::launch`] chooses and makes
    /// one).
    pub fn with_backend(
        scenario: Scenario,
        setup: Setup,
        mut backend: Box<dyn Backend>,
        backend_reason: String,
    ) -> Result<Simulation> {
        let lattice = setup::lattice(&scenario)?;
        let init = setup::initial_fields(&scenario, lattice.as_ref());
        backend.write_fields(&init)?;
        let systemic = setup.model.as_ref().map(|_| Systemic::healthy());
        let pharma = setup.pharmacology.clone();
        let values = setup
            .model
            .as_ref()
            .map(|m| m.params.values.clone())
            .unwrap_or_default();
        Ok(Simulation {
            scenario,
            setup,
            backend,
            lattice,
            backend_reason,
            systemic,
            pharma,
            values,
            pool_sums: None,
        })
    }

    /// The resolved scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The backend's parameter set.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The lattice, if the scenario has one.
    pub fn lattice(&self) -> Option<&Lattice> {
        self.lattice.as_ref()
    }

    /// What the backend runs on.
    pub fn backend_info(&self) -> BackendInfo {
        self.backend.info()
    }

    /// The backend itself (benchmarks drive it stage by stage).
    pub fn backend_mut(&mut self) -> &mut dyn Backend {
        self.backend.as_mut()
    }

    /// Why this backend was chosen.
    pub fn backend_reason(&self) -> &str {
        &self.backend_reason
    }

    /// Steps taken.
    pub fn step_index(&self) -> u64 {
        self.backend.step_index()
    }

    /// Simulated time, minutes.
    pub fn time_min(&self) -> f64 {
        self.backend.step_index() as f64 * self.scenario.dt_min
    }

    /// Runs `steps` coupled steps with the preset's stages. With a model, the systemic
    /// pools advance before each step from the domain means of tissue OPN and CSF2.
    ///
    /// With drugs, each step first gives the scheduled doses whose time falls before its
    /// end, advances the systemic PK over the step (the tissue sees the step's mean plasma
    /// levels), and afterwards books what the tissue took up, returned and eliminated.
    pub fn advance(&mut self, steps: u64) -> Result<()> {
        if self.setup.model.is_none() {
            return self.backend.advance(steps, self.setup.stages);
        }
        let sum_fields = self.sum_fields();
        for _ in 0..steps {
            self.model_step(&sum_fields, None)?;
        }
        Ok(())
    }

    /// Runs one step as [`Simulation::advance`] does and times each stage: the backend's
    /// stages with a fence after each, and on the host the systemic pools and PK with the
    /// reductions they read (`Stage::Pk`).
    pub fn profile_step(&mut self) -> Result<StageTimes> {
        if self.setup.model.is_none() {
            return self.backend.profile_step();
        }
        let sum_fields = self.sum_fields();
        let mut clock = StageClock::default();
        let backend = self.model_step(&sum_fields, Some(&mut clock))?;
        let mut times = clock.times;
        times.add(&backend.expect("a profiled step times its stages"));
        Ok(times)
    }

    /// How many fields the host sums after every step (0 without a model).
    pub fn host_summed_fields(&self) -> usize {
        match self.setup.model {
            Some(_) => self.sum_fields().len(),
            None => 0,
        }
    }

    /// Fields summed after every step of a model run: the systemic pools' inputs (tissue
    /// OPN, CSF2), then the drugs' pools and ledgers.
    fn sum_fields(&self) -> Vec<usize> {
        let m = self.setup.model.as_ref().expect("a model run");
        let mut sum_fields = vec![m.index.opn, m.index.csf2];
        if let Some(p) = &self.pharma {
            sum_fields.extend(p.sum_fields());
        }
        sum_fields
    }

    /// One step of a model run; with `clock`, the host work is booked to `Stage::Pk` and
    /// the backend's step is profiled (its times returned).
    fn model_step(
        &mut self,
        sum_fields: &[usize],
        mut clock: Option<&mut StageClock>,
    ) -> Result<Option<StageTimes>> {
        let m = self.setup.model.as_ref().expect("a model run");
        let (opn, csf2) = (m.index.opn, m.index.csf2);
        let n = self.setup.grid.len() as f64;
        let dt_min = self.scenario.dt_min;
        if let Some(c) = clock.as_deref_mut() {
            c.restart();
        }
        let sums = match self.pool_sums {
            Some(s) => s,
            None => {
                let s = self.backend.field_sums(&[opn, csf2])?;
                [s[0], s[1]]
            }
        };
        let sys = self.systemic.as_mut().expect("a model run has pools");
        sys.advance(&self.values, sums[0] / n, sums[1] / n, dt_min / 1440.0);
        sys.write(&mut self.values);
        let now = self.time_min();
        if let Some(p) = self.pharma.as_mut() {
            for due in p.take_due(now + dt_min - 1e-9) {
                self.give(&due.dose, "schedule")?;
            }
            let p = self.pharma.as_mut().expect("checked");
            p.before_step(dt_min / 60.0, &mut self.values);
        }
        self.backend.set_model_values(&self.values)?;
        let backend_times = match clock.as_deref_mut() {
            Some(c) => {
                c.lap(Stage::Pk);
                let t = self.backend.profile_step()?;
                c.restart();
                Some(t)
            }
            None => {
                self.backend.advance(1, self.setup.stages)?;
                None
            }
        };
        let after = self.backend.field_sums(sum_fields)?;
        self.pool_sums = Some([after[0], after[1]]);
        if let Some(p) = self.pharma.as_mut() {
            p.after_step(&after[2..], dt_min / 60.0);
        }
        if let Some(c) = clock {
            c.lap(Stage::Pk);
        }
        Ok(backend_times)
    }

    /// Gives a dose now (at the current simulated time): the real-time path the viewer's
    /// dosing panel calls. The dose is checked first (drug of this run, route, amount,
    /// point inside the domain); a refused dose changes nothing.
    pub fn dose(&mut self, dose: &DoseRequest) -> Result<DoseRecord> {
        self.give(dose, "real-time")
    }

    /// Adds doses to the schedule; each must lie at or after the current time.
    pub fn schedule(&mut self, doses: Vec<Scheduled>) -> Result<()> {
        let now = self.time_min();
        let p = self.pharma_or_err()?;
        for d in &doses {
            if !(d.time_min.is_finite() && d.time_min >= now - 1e-9) {
                return Err(Error::Dose {
                    drug: d.dose.drug.clone(),
                    message: format!(
                        "dose of `{}` scheduled at {:.3} h: that is in the past (now {:.3} h)",
                        d.dose.drug,
                        d.time_min / 60.0,
                        now / 60.0
                    ),
                });
            }
            p.check(&d.dose, &self.setup.grid)?;
        }
        self.pharma.as_mut().expect("checked").schedule(doses);
        Ok(())
    }

    fn pharma_or_err(&self) -> Result<&Pharmacology> {
        self.pharma.as_ref().ok_or_else(|| {
            Error::Invalid(format!(
                "{}: this run has no drugs (add [pharmacology] to the preset)",
                self.scenario.name
            ))
        })
    }

    fn give(&mut self, dose: &DoseRequest, origin: &str) -> Result<DoseRecord> {
        let p = self.pharma_or_err()?;
        let i = p.check(dose, &self.setup.grid)?;
        let d = &p.drugs[i];
        let mg = dose.amount.mg(p.body_weight_kg);
        let nmol = if dose.route == Route::Local {
            let field = d.fields.carrier.unwrap_or(d.fields.free);
            let pool = if d.fields.carrier.is_some() { 2 } else { 0 };
            let want = d.drug.nmol(mg);
            let given = self.inject(field, want, dose)?;
            let s = &mut self.pharma.as_mut().expect("checked").state.drugs[i];
            s.injected += given;
            s.tissue[pool] += given;
            given
        } else {
            self.pharma
                .as_mut()
                .expect("checked")
                .give_systemic(i, dose)
        };
        let record = DoseRecord {
            time_h: self.time_min() / 60.0,
            origin: origin.to_string(),
            dose: dose.clone(),
            mg,
            nmol,
        };
        log::info!(
            "dose at {:.2} h ({origin}): {} {:.4} mg ({:.4} nmol) {}",
            record.time_h,
            dose.drug,
            mg,
            nmol,
            dose.route
        );
        self.pharma
            .as_mut()
            .expect("checked")
            .state
            .log
            .push(record.clone());
        Ok(record)
    }

    /// Adds `nmol` of drug to `field` over the marrow of a sphere of the dose's volume
    /// around its point (the nearest marrow voxel when the sphere holds no voxel centre);
    /// returns the amount the fields received (f32 rounding included).
    fn inject(&mut self, field: usize, nmol: f64, dose: &DoseRequest) -> Result<f64> {
        let (point, volume_nl) = (
            dose.point_um.expect("checked"),
            dose.volume_nl.expect("checked"),
        );
        let grid = self.setup.grid;
        let n = grid.len();
        // Only the bone fraction (where the marrow is) and the dosed field are read, and only
        // the voxels that receive drug are written back.
        let bone = match self.setup.model.as_ref() {
            Some(m) => Some(self.backend.read_field(m.index.bone)?),
            None => None,
        };
        let mut target = self.backend.read_field(field)?;
        let marrow = |v: usize| bone.as_ref().map_or(1.0, |b| (1.0 - b[v] as f64).max(0.0));
        let radius = (3.0 * volume_nl * 1e6 / (4.0 * std::f64::consts::PI)).cbrt();
        let dist2 = |v: usize| {
            let c = grid.center_of(v);
            (0..3).map(|a| (c[a] - point[a]).powi(2)).sum::<f64>()
        };
        let mut weights: Vec<(usize, f64)> = (0..n)
            .filter(|&v| dist2(v) <= radius * radius)
            .map(|v| (v, marrow(v)))
            .filter(|&(_, w)| w > 0.0)
            .collect();
        if weights.is_empty() {
            let nearest = (0..n)
                .filter(|&v| marrow(v) > 0.0)
                .min_by(|&a, &b| dist2(a).total_cmp(&dist2(b)));
            match nearest {
                Some(v) => weights.push((v, 1.0)),
                None => {
                    return Err(Error::Invalid(format!(
                        "local dose of `{}`: the domain has no marrow to inject into",
                        dose.drug
                    )));
                }
            }
        }
        let total: f64 = weights.iter().map(|w| w.1).sum();
        let voxel_l = grid.voxel_volume_um3() * 1e-15;
        let mut given = 0.0;
        let (mut lo, mut hi) = (n, 0);
        for (v, w) in weights {
            let x = &mut target[v];
            let before = *x;
            *x = (before as f64 + nmol * w / total / voxel_l) as f32;
            given += (*x as f64 - before as f64) * voxel_l;
            (lo, hi) = (lo.min(v), hi.max(v));
        }
        self.backend
            .write_field_range(field, lo, &target[lo..=hi])?;
        Ok(given)
    }

    /// The run's drugs and their state, when it has any.
    pub fn pharmacology(&self) -> Option<&Pharmacology> {
        self.pharma.as_ref()
    }

    /// Restores the drugs' state (from a checkpoint).
    pub fn set_pharma_state(&mut self, state: PharmaState) -> Result<()> {
        let p = self.pharma.as_mut().ok_or_else(|| {
            Error::Invalid("this scenario has no drugs: no drug state to set".into())
        })?;
        if state.drugs.len() != p.drugs.len() {
            return Err(Error::Invalid(format!(
                "the saved drug state has {} drugs and this run {}",
                state.drugs.len(),
                p.drugs.len()
            )));
        }
        p.state = state;
        Ok(())
    }

    /// The systemic pools, when the scenario has a model.
    pub fn systemic(&self) -> Option<Systemic> {
        self.systemic
    }

    /// Restores the systemic pools (from a checkpoint).
    pub fn set_systemic(&mut self, state: Systemic) -> Result<()> {
        if self.setup.model.is_none() {
            return Err(Error::Invalid(
                "this scenario has no model: no systemic pools to set".into(),
            ));
        }
        state.write(&mut self.values);
        self.backend.set_model_values(&self.values)?;
        self.systemic = Some(state);
        self.pool_sums = None;
        Ok(())
    }

    /// The numerical guard: for the first field of `stats` (from [`Simulation::stats`])
    /// with NaN or infinite values, the field, the count, the step, the first bad voxel and
    /// the step's parameters; `None` when every value is finite.
    pub fn numerical_fault(&mut self, stats: &[FieldStats]) -> Result<Option<NumericalFault>> {
        let Some(f) = stats.iter().position(|s| s.nonfinite > 0) else {
            return Ok(None);
        };
        let sc = self.scenario().clone();
        let n = sc.grid.len();
        let field = self.fields()?;
        let (v, value) = field[f * n..(f + 1) * n]
            .iter()
            .enumerate()
            .find(|(_, x)| !x.is_finite())
            .map(|(v, x)| (v, *x))
            .unwrap_or((0, f32::NAN));
        let sp = sc.species.get(f);
        Ok(Some(NumericalFault {
            field: sc.species.names()[f].to_string(),
            count: stats[f].nonfinite,
            step: self.step_index(),
            day: self.time_min() / 1440.0,
            voxel: sc.grid.coords(v),
            value,
            dt_min: sc.dt_min,
            diffusion_um2_min: sp.diffusion_um2_min,
            decay_per_min: sp.decay_per_min,
            theta: sc.theta,
        }))
    }

    /// Per-field statistics.
    pub fn stats(&mut self) -> Result<Vec<FieldStats>> {
        self.backend.stats()
    }

    /// Every field, field-major.
    pub fn fields(&mut self) -> Result<Vec<f32>> {
        self.backend.read_fields()
    }

    /// One field by name.
    pub fn field(&mut self, name: &str) -> Result<Vec<f32>> {
        let f = self.setup.species.index(name).ok_or_else(|| {
            Error::Invalid(format!(
                "no field `{name}` (fields: {})",
                self.setup.species.names().join(", ")
            ))
        })?;
        self.backend.read_field(f)
    }

    /// The named scalars of metrics.csv: the systemic pools, then per drug its plasma and
    /// tissue levels, exposure and mass balance.
    pub fn named_scalars(&self) -> (Vec<String>, Vec<f64>) {
        let mut names = Vec::new();
        let mut values = Vec::new();
        if let Some(s) = self.systemic() {
            for (n, v) in s.named() {
                names.push(n.to_string());
                values.push(v);
            }
        }
        if let Some(p) = self.pharmacology() {
            names.extend(p.scalar_names());
            values.extend(p.scalars());
        }
        (names, values)
    }
}

/// Refuses a write of `len` voxels from `first` into field `f` that is not inside one of
/// `fields` fields of `voxels` voxels (the backends' `write_field_range`).
pub fn check_range(f: usize, first: usize, len: usize, fields: usize, voxels: usize) -> Result<()> {
    if f >= fields || first.checked_add(len).is_none_or(|end| end > voxels) {
        return Err(Error::Invalid(format!(
            "a write of {len} voxels from voxel {first} into field {f}: the simulation holds {fields} fields of {voxels} voxels"
        )));
    }
    Ok(())
}
