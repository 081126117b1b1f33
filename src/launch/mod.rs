//! Building a simulation on a backend: which backend to run on ([`BackendChoice`]),
//! creating it ([`make_backend`]) and [`Simulation::new`], which checks the host's memory,
//! creates the backend and writes the initial state; [`restart`] rebuilds one from a
//! checkpoint. This layer sits above `sim` and both backends (`cpu`, `gpu`), which know
//! nothing of each other or of it.

pub mod restart;

use serde::Serialize;

use crate::cpu::CpuBackend;
use crate::error::{Error, Limit, Result};
use crate::preset::Scenario;
use crate::sim::{Backend, Setup, Simulation};

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

impl Simulation {
    /// Builds the scenario's initial state on the chosen backend.
    pub fn new(scenario: Scenario, choice: BackendChoice) -> Result<Simulation> {
        let setup = Setup::new(&scenario)?;
        check_host_memory(&setup)?;
        let (backend, reason) = make_backend(&setup, choice)?;
        Simulation::with_backend(scenario, setup, backend, reason)
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
            return Err(Error::Resources {
                message: format!(
                    "this grid needs about {:.1} GiB of host memory and {:.1} GiB is available; \
                 try --resolution {}",
                    gib(total),
                    gib(avail),
                    ((n as f64 * scale) as usize).max(1)
                ),
                limit: Some(Limit::count(total, avail, "bytes of host memory")),
            });
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
