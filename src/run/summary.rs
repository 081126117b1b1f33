//! summary.json: what a folder run was (the resolved preset with its model and drug
//! library text, seed, grid, backend, lattice, versions, the command line), how it ended
//! (finished, or interrupted with the checkpoint to resume from), and its final state.

use std::path::{Path, PathBuf};

use super::Run;

/// How a folder run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It reached the preset's end.
    Finished,
    /// The stop flag was raised; the state was saved at `checkpoint` (none for a run on a
    /// given lattice, which cannot be checkpointed).
    Interrupted {
        /// The checkpoint to resume from.
        checkpoint: Option<PathBuf>,
    },
}

impl Ending {
    /// `finished` or `interrupted` (summary.json's `status`).
    pub fn status(&self) -> &'static str {
        match self {
            Ending::Finished => "finished",
            Ending::Interrupted { .. } => "interrupted",
        }
    }
}

/// The versions of what produced a run.
pub fn versions() -> serde_json::Value {
    serde_json::json!({
        "osteoniche": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("OSTEONICHE_GIT_COMMIT"),
        "rustc": env!("OSTEONICHE_RUSTC"),
        "wgpu": "30.0",
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    })
}

/// The summary of `run` (continued from the checkpoint `resumed_from`, if any), ended as
/// `ending`, `stepped` steps in `wall` seconds; `lattice` is the lattice as built
/// (parameters and morphometrics).
pub(super) fn summary(
    run: &Run,
    resumed_from: Option<&Path>,
    lattice: Option<serde_json::Value>,
    ending: &Ending,
    wall: f64,
    stepped: u64,
) -> serde_json::Value {
    let sim = run.sim();
    let scenario = sim.scenario();
    let preset = run.preset();
    let names = scenario.species.owned_names();
    let resume = match ending {
        Ending::Interrupted {
            checkpoint: Some(ck),
        } => Some(format!("osteoniche resume {}", ck.display())),
        _ => None,
    };
    serde_json::json!({
        "status": ending.status(),
        "resume_command": resume,
        "preset": preset.file,
        "preset_file": preset.origin,
        "preset_toml": preset.to_toml(),
        "seed": scenario.seed,
        "grid": scenario.grid,
        "dt_min": scenario.dt_min,
        "steps": scenario.steps,
        "step_reached": sim.step_index(),
        "simulated_days": sim.time_min() / 1440.0,
        "backend": sim.backend_info(),
        "backend_reason": sim.backend_reason(),
        "lattice": lattice,
        "model": preset.model.as_ref().map(|m| serde_json::json!({
            "file": m.origin,
            "toml": m.text,
            "mechanisms_off": preset.file.model.as_ref().map(|s| {
                s.mechanisms.iter().filter(|(_, on)| !**on).map(|(k, _)| k.clone()).collect::<Vec<_>>()
            }),
            "systemic_final": sim.systemic(),
        })),
        "pharmacology": sim.pharmacology().map(|p| serde_json::json!({
            "library": preset.library.as_ref().map(|l| l.origin.clone()),
            "library_toml": preset.library.as_ref().map(|l| l.text.clone()),
            "body_weight_kg": p.body_weight_kg,
            "doses": p.state.log,
            "drugs": p.drugs.iter().enumerate().map(|(i, d)| serde_json::json!({
                "name": d.drug.name,
                "balance_nmol": p.balance(i),
                "mass_balance_error": p.balance(i).relative_error(),
                "auc_plasma_nM_h": p.state.drugs[i].auc_plasma,
                "auc_tissue_nM_h": p.state.drugs[i].auc_tissue,
            })).collect::<Vec<_>>(),
        })),
        "resumed_from": resumed_from.map(|p| p.display().to_string()),
        "versions": versions(),
        "command": std::env::args().collect::<Vec<_>>(),
        "resolution": run.resolution(),
        "wall_time_s": wall,
        "steps_per_s": stepped as f64 / wall.max(1e-9),
        "final": names.iter().zip(run.last_stats()).map(|(n, s)| (n.clone(), serde_json::to_value(s).expect("stats serialise"))).collect::<serde_json::Map<_, _>>(),
    })
}
