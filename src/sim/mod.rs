//! The simulation: state on a backend, stepped by operator splitting
//! (sources, transport, reactions), observed through small reductions.

pub mod params;
pub mod setup;
pub mod synthetic;

use serde::Serialize;

use crate::cpu::CpuBackend;
use crate::error::{Error, Result};
use crate::lattice::Lattice;
use crate::model::systemic::Systemic;
use crate::preset::Scenario;
pub use params::Stages;
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
pub trait Backend {
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
    /// Per-field statistics of the current state.
    fn stats(&mut self) -> Result<Vec<FieldStats>>;
    /// Replaces the model's parameter array (the host updates the systemic slots every
    /// step).
    fn set_model_values(&mut self, values: &[f32]) -> Result<()>;
    /// Sums over voxels of the given fields (what the systemic pools need every step).
    fn field_sums(&mut self, fields: &[usize]) -> Result<Vec<f64>> {
        let stats = self.stats()?;
        Ok(fields.iter().map(|&f| stats[f].sum).collect())
    }
}

/// Which backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU if there is one, the CPU backend otherwise.
    #[default]
    Auto,
    /// The GPU backend, software adapters included.
    Gpu,
    /// The native CPU backend.
    Cpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "gpu" => Ok(BackendChoice::Gpu),
            "cpu" => Ok(BackendChoice::Cpu),
            other => Err(format!(
                "unknown backend `{other}` (allowed: auto, gpu, cpu)"
            )),
        }
    }
}

/// Creates the backend `choice` asks for. With `Auto`, the reason for the pick is returned
/// too (shown to the user).
pub fn make_backend(setup: &Setup, choice: BackendChoice) -> Result<(Box<dyn Backend>, String)> {
    match choice {
        BackendChoice::Cpu => Ok((Box::new(CpuBackend::new(setup)?), "--backend cpu".into())),
        BackendChoice::Gpu => {
            let gpu = crate::gpu::GpuBackend::new(setup, &crate::gpu::GpuOptions::default())?;
            Ok((Box::new(gpu), "--backend gpu".into()))
        }
        BackendChoice::Auto => match crate::gpu::probe_hardware_adapter() {
            Some(name) => {
                match crate::gpu::GpuBackend::new(setup, &crate::gpu::GpuOptions::default()) {
                    Ok(gpu) => Ok((Box::new(gpu), format!("auto: hardware GPU `{name}` found"))),
                    Err(e) => Ok((
                        Box::new(CpuBackend::new(setup)?),
                        format!("auto: GPU `{name}` unusable ({e}); falling back to the CPU backend"),
                    )),
                }
            }
            None => Ok((
                Box::new(CpuBackend::new(setup)?),
                "auto: no hardware GPU adapter (software adapters are slower than native code here); using the CPU backend".into(),
            )),
        },
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
}

impl Simulation {
    /// Builds the scenario's initial state on the chosen backend.
    pub fn new(scenario: Scenario, choice: BackendChoice) -> Result<Simulation> {
        let setup = Setup::new(&scenario)?;
        check_host_memory(&setup)?;
        let (backend, reason) = make_backend(&setup, choice)?;
        Self::with_backend(scenario, setup, backend, reason)
    }

    /// Builds the scenario's initial state on a backend the caller made (tests bring their
    /// own GPU device this way).
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
        Ok(Simulation {
            scenario,
            setup,
            backend,
            lattice,
            backend_reason,
            systemic,
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
    pub fn advance(&mut self, steps: u64) -> Result<()> {
        let (Some(m), Some(sys)) = (&self.setup.model, self.systemic.as_mut()) else {
            return self.backend.advance(steps, self.setup.stages);
        };
        let n = self.setup.grid.len() as f64;
        let dt_day = self.scenario.dt_min / 1440.0;
        let mut values = m.params.values.clone();
        for _ in 0..steps {
            let sums = self.backend.field_sums(&[m.index.opn, m.index.csf2])?;
            sys.advance(&values, sums[0] / n, sums[1] / n, dt_day);
            sys.write(&mut values);
            self.backend.set_model_values(&values)?;
            self.backend.advance(1, self.setup.stages)?;
        }
        Ok(())
    }

    /// The systemic pools, when the scenario has a model.
    pub fn systemic(&self) -> Option<Systemic> {
        self.systemic
    }

    /// Restores the systemic pools (from a checkpoint).
    pub fn set_systemic(&mut self, state: Systemic) -> Result<()> {
        let Some(m) = &self.setup.model else {
            return Err(Error::Invalid(
                "this scenario has no model: no systemic pools to set".into(),
            ));
        };
        let mut values = m.params.values.clone();
        state.write(&mut values);
        self.backend.set_model_values(&values)?;
        self.systemic = Some(state);
        Ok(())
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
        let n = self.setup.grid.len();
        let all = self.backend.read_fields()?;
        Ok(all[f * n..(f + 1) * n].to_vec())
    }
}

/// Refuses grids whose fields would not fit the host's available memory.
fn check_host_memory(setup: &Setup) -> Result<()> {
    let need = setup.field_bytes();
    if let Some(avail) = available_host_memory() {
        // Fields, one staging copy for output, and the lattice (bone, vessels, surface).
        let total = need * 2 + 4 * 3 * setup.grid.len() as u64;
        if total > avail {
            let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
            let n = setup.grid.max_line();
            let scale = (avail as f64 / total as f64).cbrt();
            return Err(Error::Resources(format!(
                "this grid needs about {:.1} GiB of host memory and {:.1} GiB is available; \
                 try --resolution {}",
                gib(total),
                gib(avail),
                ((n as f64 * scale) as usize).max(1)
            )));
        }
    }
    Ok(())
}

/// `MemAvailable` from /proc/meminfo (Linux); `None` elsewhere.
fn available_host_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
